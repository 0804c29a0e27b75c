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
// A new kind touches one new package, one template and one registration line:
//
//  1. A package under authn/ (say authn/emailcode) with a Type constant, a Settings struct decoded from
//     storage.Connection.Settings (reject unknown or invalid settings in the factory: that is what the
//     management API answers 400 with), and a Factory, New(rec storage.Connection, deps authn.Deps)
//     (authn.Connection, error), returning a type that implements Connection and one of FormConnection,
//     RedirectConnection or PostBindingConnection. Keep secrets (upstream client secrets) encrypted in
//     Settings through deps; never log them.
//  2. A template for its step of the sign-in flow (FormConnection renders Fields; the redirect and POST kinds
//     need at most an interstitial page).
//  3. One line where the server builds its registry (server.NewConnectionRegistry):
//     reg.Register(emailcode.Type, emailcode.New).
//
// Only types with a registered kind can be created through the management API (POST /api/v2/connections).
// There is no package-level registry and no init() registration: two servers in one test binary keep
// independent registries.
package authn
