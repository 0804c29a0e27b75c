// Package server is Authio's composition root. Server wires the domain services — the directory (package
// directory), the OAuth composition (oauth), sign-in flows and browser sessions (authn), the sign-in pipeline over
// connections (authn/signin), keys and secrets (keys) — over one storage and one cache, and embeds them, so the
// router can hand each handler package the narrow interfaces it declares. What stays here is what spans them:
// tenant resolution and administration, the HTTP middleware, the in-process cache (server/memo) with the commit
// hook and the announcements across replicas that keep it correct (and the health monitor that says when
// announcements may be missed), and the listeners.
package server
