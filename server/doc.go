// Package server holds Authio's services between the HTTP handlers and storage: tenant resolution, the
// per-tenant fosite provider with its context-aware configuration, signing-key management, sign-in and
// browser sessions, the cache (Redis or in-process) and the HTTP listeners. Handlers call it; it calls storage.
package server
