// Package authn defines what a connection — one way to sign in to a tenant — is to the rest of Authio, and
// the registry that turns a stored connection (storage.Connection) into a working one.
//
// A connection kind is one of three shapes, after how the browser proves who it is:
//
//   - FormConnection: the user fills in fields on our page and the kind checks them (password; email code).
//   - RedirectConnection: the browser goes to an upstream provider and comes back to our callback with a
//     result (upstream OIDC, social logins).
//   - PostBindingConnection: the browser POSTs a form to the provider, which POSTs its answer back (SAML).
//
// Each kind also implements Connection, which says which stored record it was opened from. What a kind proves
// is an Identity: for a local kind (password) the user it checked; for an upstream kind the provider's subject
// and claims, which the caller links to a user through storage.Identities.
//
// # Adding a sign-in method
//
// A new kind touches one new package, one template and one registration line (docs/connections.md has the
// long version):
//
//  1. A package under authn/ (say authn/emailcode) with a Type constant, a Settings struct decoded from
//     storage.Connection.Settings (reject unknown or invalid settings in the factory: that is what the
//     management API answers 400 with), and a Factory, New(rec storage.Connection, deps authn.Deps)
//     (authn.Connection, error), returning a type that implements Connection and one of FormConnection,
//     RedirectConnection or PostBindingConnection. Optional: Displayed (the name on its button), AccountNamer
//     (a form kind whose form names an account, so throttling counts per account), Templated (its own
//     template), Ceremony (a form kind whose browser first gets options from the server, as WebAuthn's
//     challenge, at POST /login/{connection}/begin), Enrollable (a kind offered to new accounts after sign-up). Keep secrets (upstream client secrets) encrypted in Settings through deps; never log them.
//  2. A template, templates/connections/<name>.html, returned by Template(): it renders the kind's part of
//     the sign-in page with a templates.Connection (its Page gives the CSRF field and the flow id). Without
//     one, a form kind's Fields render as a generic form and a redirect or POST kind gets a "Continue with
//     <display name>" button.
//  3. One line where the server builds its registry (signin.NewRegistry, authn/signin/connections.go):
//     reg.Register(emailcode.Type, emailcode.New). Tests register test-only kinds on a running server's
//     Server.Connections the same way.
//
// The sign-in pipeline (handlers/login with authn/signin) does the rest for every kind: the sign-in page
// lists the tenant's enabled connections; POST /login (field "connection") runs a form kind,
// GET /login/{connection}/start and GET /login/callback a redirect kind (the flow id is the state, the flow
// records the connection, the flow cookie binds the browser), POST /login/{connection}/start and POST
// /login/callback/post a POST-binding kind (the flow id comes back in PostStateField, the request id is
// the server's FlowRequestID). Each attempt is throttled, audited (signin.succeeded / signin.failed with the
// connection's name and strategy), refused for blocked users and disabled connections; an upstream identity
// becomes a user through signin.ResolveIdentity (link by subject; a first sign-in needs a verified email, and
// joins the user with that very mailbox only when that user's email is verified too, else creates one); then the
// session starts (amr: a form kind's Identity.AMR, "fed" for upstream kinds) and the flow resumes at
// /authorize/resume.
//
// Only types with a registered kind can be created through the management API (POST /api/v2/connections).
// There is no package-level registry and no init() registration: two servers in one test binary keep
// independent registries.
package authn
