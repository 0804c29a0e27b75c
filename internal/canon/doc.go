// Package canon turns the spellings people and clients type into the one form Authio stores, compares and
// prints: host names (the Host header that picks a tenant and its issuer, and the domains operators add) and
// email addresses (which key users).
// It is a leaf: it imports nothing of Authio, so storage, config and server can all use the same rules.
package canon
