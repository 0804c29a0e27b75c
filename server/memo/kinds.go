package memo

import (
	"time"

	"github.com/authio/authio/storage"
)

// Kind is a kind of cached entry. Every kind is listed in kinds below, with the tables its values are read from:
// that list is the whole contract between the cache and storage's change reports (storage.Store.OnCommit).
type Kind uint8

// The kinds of entries, each named in kinds.
const (
	Tenant         Kind = iota // tenant id → its stored record (settings, signing algorithm, sign-up)
	Host                       // host name → the record and JWKS of the tenant answering on it (global; PutBound on its Tenant and PublicKeys)
	UnknownHost                // host name → no tenant answers on it (global)
	SigningKey                 // the tenant's active signing key, decrypted and parsed
	PublicKeys                 // the tenant's published public keys, parsed, and its JWKS document (bytes)
	VerifiedToken              // hash of a JWT → the token, its signature checked against PublicKeys
	Client                     // client id → the fosite client (client authentication on every token request)
	Origins                    // the web origins registered by the tenant's clients (CORS)
	ResourceServer             // audience → the tenant's resource server, or none
	ClientGrants               // machine client id + audiences → its roles and permissions
	Discovery                  // kind of document + signing algorithm → its serialized template (global)
	Upstream                   // upstream connection id + discovery URL → its provider's metadata and key set
	numKinds
)

// Source is a table a kind's values are read from. A committed change to it, by one of Ops (every operation when
// nil), invalidates the kind: for the changing tenant, or for every tenant when the kind is global or the change
// named no tenant.
type Source struct {
	Table string
	Ops   []string
}

// kindInfo describes one kind.
type kindInfo struct {
	name string
	// global kinds are not keyed by a tenant (a host name is looked up before any tenant is known); their
	// entries carry the tenant in their value.
	global bool
	// maxAge, when set, bounds an entry's life below the safety TTL.
	maxAge  time.Duration
	sources []Source
}

// kinds is the one list of what the cache holds and what invalidates it.
var kinds = [numKinds]kindInfo{
	Tenant: {name: "tenant", sources: []Source{{Table: "tenants"}}},
	// A new domain never changes where a known host points; a removed one (or a removed tenant) does.
	Host: {name: "host", global: true, sources: []Source{
		{Table: "tenant_domains", Ops: []string{storage.OpUpdate, storage.OpDelete}},
		{Table: "tenants", Ops: []string{storage.OpDelete}}}},
	// An unknown host is remembered briefly whatever happens: a domain added by a process that cannot announce
	// it (the CLI without Redis) is served within maxAge.
	UnknownHost: {name: "unknown_host", global: true, maxAge: 5 * time.Second, sources: []Source{
		{Table: "tenant_domains", Ops: []string{storage.OpCreate, storage.OpUpdate}}}},
	SigningKey:    {name: "signing_key", sources: []Source{{Table: "signing_keys"}}},
	PublicKeys:    {name: "public_keys", sources: []Source{{Table: "signing_keys"}}},
	VerifiedToken: {name: "verified_token", sources: []Source{{Table: "signing_keys"}}},
	Client:        {name: "client", sources: []Source{{Table: "clients"}}},
	Origins:       {name: "origins", sources: []Source{{Table: "clients"}}},
	// The Management API's built-in resource server is not stored; every other one is.
	ResourceServer: {name: "resource_server", sources: []Source{{Table: "resource_servers"}}},
	// A client's grants are its roles' (role_assignments), their permissions (role_permissions) on the
	// audiences' resource servers, which may go away with their permissions (resource_servers).
	ClientGrants: {name: "client_grants", sources: []Source{{Table: "roles"}, {Table: "role_permissions"},
		{Table: "role_assignments"}, {Table: "resource_servers"}}},
	// A template is a function of its key alone (kind and algorithm): it never needs invalidating, and it is
	// every tenant's (each fills in its own base URL).
	Discovery: {name: "discovery", global: true},
	// An upstream provider's discovery document and key set (authn/oidc), per tenant and connection id: a
	// connection changed or removed drops them (a new one has an id of its own); the key set refreshes itself
	// when a token names a key it lacks.
	Upstream: {name: "upstream", maxAge: time.Hour, sources: []Source{
		{Table: "connections", Ops: []string{storage.OpUpdate, storage.OpDelete}}}},
}

// String is the kind's name, as in metrics.
func (k Kind) String() string {
	if k < numKinds {
		return kinds[k].name
	}
	return "unknown"
}

// Kinds returns every kind.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Sources returns the tables k's values are read from.
func (k Kind) Sources() []Source { return kinds[k].sources }

// Tables lists every table some kind is read from: the tables whose changes the cache must hear of.
func Tables() []string {
	seen := map[string]bool{}
	var out []string
	for _, ki := range kinds {
		for _, s := range ki.sources {
			if !seen[s.Table] {
				seen[s.Table] = true
				out = append(out, s.Table)
			}
		}
	}
	return out
}

// KindSet is a set of kinds.
type KindSet uint32

// Of returns the set of ks.
func Of(ks ...Kind) KindSet {
	var s KindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s.
func (s KindSet) Has(k Kind) bool { return s&(1<<k) != 0 }

// Invalidation drops every entry of Kinds of one tenant, or of every tenant when Tenant is "". Entries of global
// kinds are dropped whatever the tenant.
type Invalidation struct {
	Tenant string
	Kinds  KindSet
}

// ForChanges returns the invalidations committed changes call for: each change invalidates the kinds read from
// its table, for its tenant (or every tenant when the change named none). One invalidation per tenant.
func ForChanges(changes []storage.Change) []Invalidation {
	byTenant := map[string]KindSet{}
	var order []string
	for _, c := range changes {
		var set KindSet
		for k, ki := range kinds {
			for _, s := range ki.sources {
				if s.Table == c.Table && (s.Ops == nil || contains(s.Ops, c.Op)) {
					set |= 1 << k
				}
			}
		}
		if set == 0 {
			continue
		}
		if _, ok := byTenant[c.Tenant]; !ok {
			order = append(order, c.Tenant)
		}
		byTenant[c.Tenant] |= set
	}
	out := make([]Invalidation, 0, len(order))
	for _, t := range order {
		out = append(out, Invalidation{Tenant: t, Kinds: byTenant[t]})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
