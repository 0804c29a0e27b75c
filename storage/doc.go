// Package storage holds Authio's persistent state: tenants and their domains, signing keys, clients, users,
// browser sessions and the OAuth 2.0 request records fosite needs. One gorm-backed Store serves both SQLite
// (the embedded default) and PostgreSQL; every tenant-owned query is scoped by the tenant carried in the context.
package storage
