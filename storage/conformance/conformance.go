// Package conformance is the behaviour every storage backend must show, written once and run against each
// database we support (SQLite always, Postgres when one is configured). It includes a tenant-isolation
// section: a context for one tenant never reads, changes or deletes another tenant's rows.
package conformance

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/storage"
)

// RunTests runs the suite. newStore returns a migrated Store; it may hand out the same Store to every test
// (a shared Postgres schema, say), because each test creates its own uniquely named tenants and never
// assumes the database is otherwise empty.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Storage)
	}{
		{"Migrate", testMigrate},
		{"NoTenant", testNoTenant},
		{"Tenants", testTenants},
		{"Keys", testKeys},
		{"Clients", testClients},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"FositeRecords", testFositeRecords},
		{"AuthorizeCode", testAuthorizeCode},
		{"RefreshTokenRotation", testRefreshTokenRotation},
		{"ClientAssertionJWT", testClientAssertionJWT},
		{"Transactions", testTransactions},
		{"WriteTogether", testWriteTogether},
		{"ReadTx", testReadTx},
		{"DeleteExpired", testDeleteExpired},
		{"TenantIsolation", testTenantIsolation},
		{"Organizations", testOrganizations},
		{"Memberships", testMemberships},
		{"ResourceServers", testResourceServers},
		{"Roles", testRoles},
		{"ClientOrganizations", testClientOrganizations},
		{"APIKeys", testAPIKeys},
		{"Audit", testAudit},
		{"OrgNoTenant", testOrgNoTenant},
		{"OrgTenantIsolation", testOrgTenantIsolation},
		{"Meta", testMeta},
		{"SingleUse", testSingleUse},
		{"NoLostUpdates", testNoLostUpdates},
		{"Connections", testConnections},
		{"Flows", testFlows},
		{"Passkeys", testPasskeys},
		{"Account", testAccount},
		{"RevokeUserTokens", testRevokeUserTokens},
		{"UserTickets", testUserTickets},
		{"OneTimeSecrets", testOneTimeSecrets},
		{"KeyPool", testKeyPool},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// Callers hand the store times in whatever location they have. The suite deliberately uses two different
// non-UTC zones, one for "now" and one for stored instants, so a backend that compares times as text in the
// caller's zone (SQLite keeps them as strings) is caught.
var (
	eastZone = time.FixedZone("UTC+5", 5*60*60)
	westZone = time.FixedZone("UTC-7", -7*60*60)
)

// now is the current instant in eastZone, truncated to the microsecond Postgres keeps.
func now() time.Time { return time.Now().Truncate(time.Microsecond).In(eastZone) }

// at is now()+d in westZone.
func at(d time.Duration) time.Time { return now().Add(d).In(westZone) }

func rnd(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// ---- fixtures ----

func newTenant(t *testing.T, s storage.Storage) (storage.Tenant, context.Context) {
	t.Helper()
	id := rnd(t)
	tn := storage.Tenant{
		ID:         "ten_" + id,
		Slug:       "conf-" + id,
		Name:       "Conformance " + id,
		SigningAlg: "RS256",
		CreatedAt:  now(),
		UpdatedAt:  now(),
	}
	mustNil(t, "CreateTenant", s.CreateTenant(context.Background(), tn, []string{id + ".conformance.test"}))
	return tn, storage.WithTenant(context.Background(), tn.ID)
}

func newClient(t *testing.T, s storage.Storage, ctx context.Context) storage.Client {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	c := storage.Client{
		ID:                     "cli_" + rnd(t),
		TenantID:               tid,
		Name:                   "App",
		Type:                   storage.ClientConfidential,
		SecretHash:             "secret-hash",
		RedirectURIs:           storage.StringList{"https://app.test/callback"},
		PostLogoutRedirectURIs: storage.StringList{"https://app.test/"},
		GrantTypes:             storage.StringList{"authorization_code", "refresh_token"},
		Scopes:                 storage.StringList{"openid", "offline_access", "profile"},
		Audiences:              storage.StringList{"https://api.test"},
		WebOrigins:             storage.StringList{"https://app.test"},
		CreatedAt:              now(),
		UpdatedAt:              now(),
	}
	mustNil(t, "CreateClient", s.CreateClient(ctx, c))
	return c
}

func newUser(t *testing.T, s storage.Storage, ctx context.Context) storage.User {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	u := storage.User{
		ID:            "usr_" + rnd(t),
		TenantID:      tid,
		Email:         "user-" + rnd(t) + "@example.test",
		EmailVerified: true,
		Name:          "Alice",
		PasswordHash:  "$argon2id$hash",
		CreatedAt:     now(),
		UpdatedAt:     now(),
	}
	mustNil(t, "CreateUser", s.CreateUser(ctx, u))
	return u
}

func newSession(t *testing.T, s storage.Storage, ctx context.Context, userID string, expiresAt time.Time) storage.LoginSession {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	ls := storage.LoginSession{
		ID:         "ses_" + rnd(t),
		TenantID:   tid,
		UserID:     userID,
		CookieHash: rnd(t) + rnd(t),
		AuthTime:   at(-time.Minute),
		AMR:        storage.StringList{"pwd", "otp"},
		ExpiresAt:  expiresAt,
		CreatedAt:  now(),
	}
	mustNil(t, "CreateSession", s.CreateSession(ctx, ls))
	return ls
}

func newKey(t *testing.T, id string, active bool, created time.Duration, expiresAt *time.Time) storage.SigningKey {
	t.Helper()
	return storage.SigningKey{
		ID:         id,
		Alg:        "RS256",
		PrivateKey: []byte("encrypted-private-key-" + id),
		PublicJWK:  `{"kty":"RSA","kid":"` + id + `"}`,
		Active:     active,
		CreatedAt:  now().Add(created),
		ExpiresAt:  expiresAt,
	}
}

// newRequest is a fosite request for client c carrying a fully populated OpenID Connect session. Times are UTC
// without a monotonic reading, so the session survives a JSON round trip unchanged and compares with DeepEqual.
func newRequest(t *testing.T, c storage.Client) *fosite.Request {
	t.Helper()
	n := time.Now().UTC().Truncate(time.Second)
	return &fosite.Request{
		ID:                "req_" + rnd(t),
		RequestedAt:       n,
		Client:            &storage.FositeClient{Client: c},
		RequestedScope:    fosite.Arguments{"openid", "offline_access", "profile"},
		GrantedScope:      fosite.Arguments{"openid", "offline_access"},
		RequestedAudience: fosite.Arguments{"https://api.test"},
		GrantedAudience:   fosite.Arguments{"https://api.test"},
		Form:              url.Values{"redirect_uri": {"https://app.test/callback"}, "state": {"st-" + rnd(t)}},
		Session: &openid.DefaultSession{
			Claims: &jwt.IDTokenClaims{
				JTI:                             "jti-" + rnd(t),
				Issuer:                          "https://login.example.test",
				Subject:                         "usr_1",
				Audience:                        []string{c.ID},
				Nonce:                           "nonce-" + rnd(t),
				ExpiresAt:                       n.Add(time.Hour),
				IssuedAt:                        n,
				RequestedAt:                     n,
				AuthTime:                        n.Add(-time.Minute),
				AuthenticationMethodsReferences: []string{"pwd"},
				Extra:                           map[string]any{"email": "alice@example.test", "email_verified": true, "level": 1.5},
			},
			Headers: &jwt.Headers{Extra: map[string]any{"kid": "key-1"}},
			ExpiresAt: map[fosite.TokenType]time.Time{
				fosite.AuthorizeCode: n.Add(10 * time.Minute),
				fosite.AccessToken:   n.Add(time.Hour),
				fosite.RefreshToken:  n.Add(30 * 24 * time.Hour),
			},
			Username: "alice@example.test",
			Subject:  "usr_1",
		},
	}
}

// withExpiry returns a copy of r with its own session whose tt expiry is exp (zero: no expiry).
func withExpiry(r *fosite.Request, tt fosite.TokenType, exp time.Time) *fosite.Request {
	cp := *r
	sess := *r.Session.(*openid.DefaultSession)
	sess.ExpiresAt = map[fosite.TokenType]time.Time{}
	if !exp.IsZero() {
		sess.ExpiresAt[tt] = exp
	}
	cp.Session = &sess
	return &cp
}

func newSessionTarget() fosite.Session { return &openid.DefaultSession{} }

// getOIDC reads an OpenID Connect record. Its contract differs from the other records': the session that comes
// back is the caller's (the token request's, already up to date), not the one stored at /authorize. getOIDC
// hands in want's session and checks that exactly that session is returned.
func getOIDC(s storage.Storage, ctx context.Context, sig string, want fosite.Requester) (fosite.Requester, error) {
	caller := &fosite.Request{Session: want.GetSession()}
	got, err := s.GetOpenIDConnectSession(ctx, sig, caller)
	if err == nil && got.GetSession() != caller.Session {
		return nil, errors.New("GetOpenIDConnectSession did not return the caller's session")
	}
	return got, err
}

// assertRequest checks that got is want after a trip through the store, session included.
func assertRequest(t *testing.T, want *fosite.Request, got fosite.Requester) {
	t.Helper()
	if got == nil {
		t.Fatal("got nil request")
	}
	if got.GetID() != want.ID {
		t.Errorf("request id = %q, want %q", got.GetID(), want.ID)
	}
	if !got.GetRequestedAt().Equal(want.RequestedAt) {
		t.Errorf("requested at = %v, want %v", got.GetRequestedAt(), want.RequestedAt)
	}
	if got.GetClient() == nil || got.GetClient().GetID() != want.Client.GetID() {
		t.Errorf("client = %v, want %q", got.GetClient(), want.Client.GetID())
	}
	for _, f := range []struct {
		name      string
		got, want fosite.Arguments
	}{
		{"requested scope", got.GetRequestedScopes(), want.RequestedScope},
		{"granted scope", got.GetGrantedScopes(), want.GrantedScope},
		{"requested audience", got.GetRequestedAudience(), want.RequestedAudience},
		{"granted audience", got.GetGrantedAudience(), want.GrantedAudience},
	} {
		if !slices.Equal(f.got, f.want) {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if !reflect.DeepEqual(got.GetRequestForm(), want.Form) {
		t.Errorf("form = %v, want %v", got.GetRequestForm(), want.Form)
	}
	if !reflect.DeepEqual(got.GetSession(), want.Session) {
		t.Errorf("session = %#v, want %#v", got.GetSession(), want.Session)
	}
}

// ---- normalisation: what a backend may legitimately change on the way through ----

func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(normTime(*t))
}

func normList(l storage.StringList) storage.StringList {
	if len(l) == 0 {
		return storage.StringList{}
	}
	return l
}

func normTenant(t storage.Tenant) storage.Tenant {
	t.CreatedAt, t.UpdatedAt = normTime(t.CreatedAt), normTime(t.UpdatedAt)
	return t
}

func normClient(c storage.Client) storage.Client {
	c.CreatedAt, c.UpdatedAt = normTime(c.CreatedAt), normTime(c.UpdatedAt)
	c.RedirectURIs = normList(c.RedirectURIs)
	c.PostLogoutRedirectURIs = normList(c.PostLogoutRedirectURIs)
	c.GrantTypes = normList(c.GrantTypes)
	c.Scopes = normList(c.Scopes)
	c.Audiences = normList(c.Audiences)
	c.WebOrigins = normList(c.WebOrigins)
	c.AllowedOrigins = normList(c.AllowedOrigins)
	return c
}

func normUser(u storage.User) storage.User {
	u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
	u.UserMetadata, u.AppMetadata = normMap(u.UserMetadata), normMap(u.AppMetadata)
	return u
}

func normSession(s storage.LoginSession) storage.LoginSession {
	s.AuthTime, s.ExpiresAt, s.CreatedAt = normTime(s.AuthTime), normTime(s.ExpiresAt), normTime(s.CreatedAt)
	s.AMR = normList(s.AMR)
	return s
}

func normKey(k storage.SigningKey) storage.SigningKey {
	k.CreatedAt = normTime(k.CreatedAt)
	k.RetiredAt, k.ExpiresAt = normTimePtr(k.RetiredAt), normTimePtr(k.ExpiresAt)
	return k
}

func assertEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// ---- tests ----

func testMigrate(t *testing.T, s storage.Storage) {
	for i := range 2 {
		applied, err := s.Migrate(context.Background())
		mustNil(t, "Migrate", err)
		if len(applied) != 0 {
			t.Fatalf("Migrate call %d on a migrated store applied %v, want nothing", i+1, applied)
		}
	}
}

// testNoTenant calls every tenant-owned method without a tenant. Each must refuse with ErrNoTenant rather
// than run unscoped; the seeded tenant's rows, which an unscoped query would reach, must be untouched.
func testNoTenant(t *testing.T, s storage.Storage) {
	d := seed(t, s)
	other := newRequest(t, d.client)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"AddKey", func(ctx context.Context) error {
			return s.AddKey(ctx, newKey(t, "key_"+rnd(t), true, 0, nil), at(time.Hour))
		}},
		{"ListKeys", func(ctx context.Context) error { _, err := s.ListKeys(ctx, now()); return err }},
		{"CreateClient", func(ctx context.Context) error {
			return s.CreateClient(ctx, storage.Client{ID: "cli_" + rnd(t), TenantID: d.tenant.ID, Name: "x", Type: storage.ClientPublic})
		}},
		{"GetClientByID", func(ctx context.Context) error { _, err := s.GetClientByID(ctx, d.client.ID); return err }},
		{"ListClients", func(ctx context.Context) error { _, err := s.ListClients(ctx); return err }},
		{"ListClientPage", func(ctx context.Context) error { _, _, err := s.ListClientPage(ctx, storage.Page{}); return err }},
		{"UpdateClient", func(ctx context.Context) error {
			return s.UpdateClient(ctx, d.client.ID, func(c storage.Client) (storage.Client, error) { c.Name = "changed"; return c, nil })
		}},
		{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, d.client.ID) }},
		{"CreateUser", func(ctx context.Context) error {
			return s.CreateUser(ctx, storage.User{ID: "usr_" + rnd(t), TenantID: d.tenant.ID, Email: rnd(t) + "@example.test"})
		}},
		{"GetUser", func(ctx context.Context) error { _, err := s.GetUser(ctx, d.user.ID); return err }},
		{"GetUserByEmail", func(ctx context.Context) error { _, err := s.GetUserByEmail(ctx, d.user.Email); return err }},
		{"UpdateUser", func(ctx context.Context) error {
			return s.UpdateUser(ctx, d.user.ID, func(u storage.User) (storage.User, error) { u.Name = "changed"; return u, nil })
		}},
		{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, d.user.ID) }},
		{"CreateSession", func(ctx context.Context) error {
			return s.CreateSession(ctx, storage.LoginSession{ID: "ses_" + rnd(t), TenantID: d.tenant.ID, UserID: d.user.ID,
				CookieHash: rnd(t), AuthTime: now(), ExpiresAt: at(time.Hour)})
		}},
		{"SessionByCookieHash", func(ctx context.Context) error {
			_, err := s.SessionByCookieHash(ctx, d.session.CookieHash, now())
			return err
		}},
		{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, d.session.ID) }},
		{"GetClient", func(ctx context.Context) error { _, err := s.GetClient(ctx, d.client.ID); return err }},
		{"ClientAssertionJWTValid", func(ctx context.Context) error { return s.ClientAssertionJWTValid(ctx, d.jti) }},
		{"SetClientAssertionJWT", func(ctx context.Context) error {
			return s.SetClientAssertionJWT(ctx, "jti-"+rnd(t), at(time.Hour))
		}},
		{"CreateAuthorizeCodeSession", func(ctx context.Context) error {
			return s.CreateAuthorizeCodeSession(ctx, "sig-"+rnd(t), other)
		}},
		{"GetAuthorizeCodeSession", func(ctx context.Context) error {
			_, err := s.GetAuthorizeCodeSession(ctx, d.code, newSessionTarget())
			return err
		}},
		{"InvalidateAuthorizeCodeSession", func(ctx context.Context) error { return s.InvalidateAuthorizeCodeSession(ctx, d.code) }},
		{"CreateAccessTokenSession", func(ctx context.Context) error {
			return s.CreateAccessTokenSession(ctx, "sig-"+rnd(t), other)
		}},
		{"GetAccessTokenSession", func(ctx context.Context) error {
			_, err := s.GetAccessTokenSession(ctx, d.access, newSessionTarget())
			return err
		}},
		{"DeleteAccessTokenSession", func(ctx context.Context) error { return s.DeleteAccessTokenSession(ctx, d.access) }},
		{"CreateRefreshTokenSession", func(ctx context.Context) error {
			return s.CreateRefreshTokenSession(ctx, "sig-"+rnd(t), "", other)
		}},
		{"GetRefreshTokenSession", func(ctx context.Context) error {
			_, err := s.GetRefreshTokenSession(ctx, d.refresh, newSessionTarget())
			return err
		}},
		{"DeleteRefreshTokenSession", func(ctx context.Context) error { return s.DeleteRefreshTokenSession(ctx, d.refresh) }},
		{"RotateRefreshToken", func(ctx context.Context) error { return s.RotateRefreshToken(ctx, d.req.ID, d.refresh) }},
		{"RevokeRefreshToken", func(ctx context.Context) error { return s.RevokeRefreshToken(ctx, d.req.ID) }},
		{"RevokeAccessToken", func(ctx context.Context) error { return s.RevokeAccessToken(ctx, d.req.ID) }},
		{"CreatePKCERequestSession", func(ctx context.Context) error {
			return s.CreatePKCERequestSession(ctx, "sig-"+rnd(t), other)
		}},
		{"GetPKCERequestSession", func(ctx context.Context) error {
			_, err := s.GetPKCERequestSession(ctx, d.pkce, newSessionTarget())
			return err
		}},
		{"DeletePKCERequestSession", func(ctx context.Context) error { return s.DeletePKCERequestSession(ctx, d.pkce) }},
		{"CreateOpenIDConnectSession", func(ctx context.Context) error {
			return s.CreateOpenIDConnectSession(ctx, "sig-"+rnd(t), other)
		}},
		{"GetOpenIDConnectSession", func(ctx context.Context) error {
			_, err := s.GetOpenIDConnectSession(ctx, d.oidc, &fosite.Request{Session: newSessionTarget()})
			return err
		}},
		{"DeleteOpenIDConnectSession", func(ctx context.Context) error { return s.DeleteOpenIDConnectSession(ctx, d.oidc) }},
	}
	contexts := []struct {
		name string
		ctx  context.Context
	}{
		{"no tenant", context.Background()},
		{"empty tenant", storage.WithTenant(context.Background(), "")},
	}
	for _, c := range contexts {
		for _, tc := range calls {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				wantErr(t, tc.name, tc.call(c.ctx), storage.ErrNoTenant)
			})
		}
	}
	d.assertIntact(t, s)
	clients, err := s.ListClients(d.ctx)
	mustNil(t, "ListClients", err)
	if len(clients) != 1 {
		t.Errorf("tenant has %d clients after tenantless CreateClient, want 1", len(clients))
	}
}

func testTenants(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	id := rnd(t)
	t1 := storage.Tenant{ID: "ten_" + id, Slug: "conf-" + id, Name: "One", SigningAlg: "ES256", SignupEnabled: true,
		AccessTokenTTL: 600, RefreshTokenTTL: 86400, IDTokenTTL: 300, CreatedAt: now(), UpdatedAt: now()}
	domain := id + ".conformance.test"
	mustNil(t, "CreateTenant", s.CreateTenant(ctx, t1, []string{"Login." + domain, domain}))

	t.Run("lookups", func(t *testing.T) {
		tests := []struct {
			name    string
			get     func() (storage.Tenant, error)
			wantErr error
		}{
			{"by id", func() (storage.Tenant, error) { return s.GetTenant(ctx, t1.ID) }, nil},
			{"by slug", func() (storage.Tenant, error) { return s.GetTenant(ctx, t1.Slug) }, nil},
			{"unknown id", func() (storage.Tenant, error) { return s.GetTenant(ctx, "ten_"+rnd(t)) }, storage.ErrNotFound},
			{"unknown slug", func() (storage.Tenant, error) { return s.GetTenant(ctx, "conf-"+rnd(t)) }, storage.ErrNotFound},
			{"by domain", func() (storage.Tenant, error) { return s.TenantByDomain(ctx, domain) }, nil},
			{"by domain stored lower-cased", func() (storage.Tenant, error) { return s.TenantByDomain(ctx, "login."+domain) }, nil},
			{"by domain in upper case", func() (storage.Tenant, error) { return s.TenantByDomain(ctx, "LOGIN."+domain) }, nil},
			{"unknown domain", func() (storage.Tenant, error) { return s.TenantByDomain(ctx, "nope."+domain) }, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				wantErr(t, "lookup", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "tenant", normTenant(got), normTenant(t1))
				}
			})
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		tests := []struct {
			name    string
			tenant  storage.Tenant
			domains []string
		}{
			{"same id", storage.Tenant{ID: t1.ID, Slug: "conf-" + rnd(t), Name: "x"}, []string{rnd(t) + ".conformance.test"}},
			{"same slug", storage.Tenant{ID: "ten_" + rnd(t), Slug: t1.Slug, Name: "x"}, []string{rnd(t) + ".conformance.test"}},
			{"same domain", storage.Tenant{ID: "ten_" + rnd(t), Slug: "conf-" + rnd(t), Name: "x"}, []string{domain}},
			{"same domain other case", storage.Tenant{ID: "ten_" + rnd(t), Slug: "conf-" + rnd(t), Name: "x"},
				[]string{rnd(t) + ".conformance.test", "LOGIN." + domain}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "CreateTenant", s.CreateTenant(ctx, tc.tenant, tc.domains), storage.ErrAlreadyExists)
				// Nothing of a refused tenant may remain: it is created with its domains or not at all.
				if tc.tenant.ID != t1.ID {
					_, err := s.GetTenant(ctx, tc.tenant.ID)
					wantErr(t, "GetTenant after refused create", err, storage.ErrNotFound)
				}
				if _, err := s.TenantByDomain(ctx, tc.domains[0]); tc.domains[0] != domain && !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("domain %q of a refused tenant resolves: %v", tc.domains[0], err)
				}
			})
		}
	})

	t.Run("domains", func(t *testing.T) {
		t2, _ := newTenant(t, s)
		extra := rnd(t) + ".conformance.test"
		tests := []struct {
			name     string
			tenantID string
			domain   string
			wantErr  error
		}{
			{"new domain", t1.ID, "ID." + extra, nil},
			{"taken by the same tenant", t1.ID, domain, storage.ErrAlreadyExists},
			{"taken by another tenant", t2.ID, "Login." + domain, storage.ErrAlreadyExists},
			{"unknown tenant", "ten_" + rnd(t), rnd(t) + ".conformance.test", storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "AddDomain", s.AddDomain(ctx, tc.tenantID, tc.domain), tc.wantErr)
			})
		}
		got, err := s.TenantByDomain(ctx, "id."+extra)
		mustNil(t, "TenantByDomain", err)
		if got.ID != t1.ID {
			t.Fatalf("added domain resolves to %q, want %q", got.ID, t1.ID)
		}
		ds, err := s.ListDomains(ctx, t1.ID)
		mustNil(t, "ListDomains", err)
		slices.Sort(ds)
		assertEqual(t, "domains", ds, []string{domain, "id." + extra, "login." + domain})
		ds, err = s.ListDomains(ctx, "ten_"+rnd(t))
		mustNil(t, "ListDomains unknown tenant", err)
		if len(ds) != 0 {
			t.Fatalf("unknown tenant has domains %v", ds)
		}

		removals := []struct {
			name     string
			tenantID string
			domain   string
			wantErr  error
		}{
			{"a domain of the tenant, by slug and in another case", t1.Slug, "ID." + extra, nil},
			{"again", t1.ID, "id." + extra, storage.ErrNotFound},
			{"never added", t1.ID, rnd(t) + ".conformance.test", storage.ErrNotFound},
			{"unknown tenant", "ten_" + rnd(t), "login." + domain, storage.ErrNotFound},
		}
		for _, tc := range removals {
			t.Run("remove "+tc.name, func(t *testing.T) {
				wantErr(t, "RemoveDomain", s.RemoveDomain(ctx, tc.tenantID, tc.domain), tc.wantErr)
			})
		}
		_, err = s.TenantByDomain(ctx, "id."+extra)
		wantErr(t, "TenantByDomain of a removed domain", err, storage.ErrNotFound)
		ds, err = s.ListDomains(ctx, t1.ID)
		mustNil(t, "ListDomains", err)
		slices.Sort(ds)
		assertEqual(t, "domains after the removal", ds, []string{domain, "login." + domain})
	})

	t.Run("update", func(t *testing.T) {
		tn, _ := newTenant(t, s)
		before := time.Now().Add(-time.Second)
		err := s.UpdateTenant(ctx, tn.Slug, func(old storage.Tenant) (storage.Tenant, error) {
			assertEqual(t, "fn received", normTenant(old), normTenant(tn))
			old.ID, old.Slug, old.CreatedAt = "ten_"+rnd(t), "conf-"+rnd(t), at(-100*time.Hour)
			old.Name, old.SignupEnabled, old.AccessTokenTTL = "Renamed", true, 900
			return old, nil
		})
		mustNil(t, "UpdateTenant", err)
		got, err := s.GetTenant(ctx, tn.ID)
		mustNil(t, "GetTenant", err)
		if got.Slug != tn.Slug || !got.CreatedAt.Equal(tn.CreatedAt) || got.UpdatedAt.Before(before) {
			t.Fatalf("update changed identity or kept UpdatedAt: %+v", got)
		}
		if got.Name != "Renamed" || !got.SignupEnabled || got.AccessTokenTTL != 900 || got.SigningAlg != tn.SigningAlg {
			t.Fatalf("updated tenant = %+v", got)
		}

		boom := errors.New("boom")
		err = s.UpdateTenant(ctx, tn.ID, func(old storage.Tenant) (storage.Tenant, error) {
			old.Name = "never stored"
			return old, boom
		})
		wantErr(t, "UpdateTenant with failing fn", err, boom)
		again, err := s.GetTenant(ctx, tn.ID)
		mustNil(t, "GetTenant", err)
		assertEqual(t, "tenant after failed update", normTenant(again), normTenant(got))

		err = s.UpdateTenant(ctx, "ten_"+rnd(t), func(old storage.Tenant) (storage.Tenant, error) {
			t.Error("fn called for an unknown tenant")
			return old, nil
		})
		wantErr(t, "UpdateTenant unknown", err, storage.ErrNotFound)
	})

	t.Run("list", func(t *testing.T) {
		ts, err := s.ListTenants(ctx)
		mustNil(t, "ListTenants", err)
		i := slices.IndexFunc(ts, func(x storage.Tenant) bool { return x.ID == t1.ID })
		if i < 0 {
			t.Fatalf("ListTenants does not include %s", t1.ID)
		}
		assertEqual(t, "listed tenant", normTenant(ts[i]), normTenant(t1))
	})
}

func testKeys(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	retire1 := at(time.Hour)
	k1 := newKey(t, "key1_"+rnd(t), true, -4*time.Hour, nil)
	k2 := newKey(t, "key2_"+rnd(t), true, -3*time.Hour, nil)
	k3 := newKey(t, "key3_"+rnd(t), false, -2*time.Hour, ptr(at(2*time.Hour))) // published ahead of use
	k4 := newKey(t, "key4_"+rnd(t), true, -time.Hour, nil)
	k5 := newKey(t, "key5_"+rnd(t), false, -30*time.Minute, ptr(at(-time.Second))) // already expired
	// A tenant id in the value is ignored: the context decides.
	k1.TenantID = "ten_" + rnd(t)

	steps := []struct {
		name        string
		key         storage.SigningKey
		retireUntil time.Time
		want        []string // ListKeys at now(), newest first
	}{
		{"first active key", k1, at(time.Minute), []string{k1.ID}},
		{"second active key retires the first until retireUntil", k2, retire1, []string{k2.ID, k1.ID}},
		{"inactive key retires nothing", k3, at(time.Minute), []string{k3.ID, k2.ID, k1.ID}},
		{"retireUntil in the past unpublishes the retired key", k4, at(-time.Minute), []string{k4.ID, k3.ID, k1.ID}},
		{"expired inactive key is not listed", k5, at(time.Minute), []string{k4.ID, k3.ID, k1.ID}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mustNil(t, "AddKey", s.AddKey(ctx, st.key, st.retireUntil))
			ks, err := s.ListKeys(ctx, now())
			mustNil(t, "ListKeys", err)
			var ids []string
			for _, k := range ks {
				ids = append(ids, k.ID)
			}
			assertEqual(t, "listed keys", ids, st.want)
		})
	}

	t.Run("retired key fields", func(t *testing.T) {
		ks, err := s.ListKeys(ctx, now())
		mustNil(t, "ListKeys", err)
		byID := map[string]storage.SigningKey{}
		for _, k := range ks {
			byID[k.ID] = k
		}
		got := byID[k1.ID]
		if got.Active || got.RetiredAt == nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(retire1) {
			t.Fatalf("retired key: active=%v retired_at=%v expires_at=%v, want inactive, retired, expiring %v",
				got.Active, got.RetiredAt, got.ExpiresAt, retire1)
		}
		want := k4
		want.TenantID = tn.ID
		assertEqual(t, "active key", normKey(byID[k4.ID]), normKey(want))
		if byID[k3.ID].Active || byID[k3.ID].RetiredAt != nil {
			t.Fatalf("inactive key was touched by rotation: %+v", byID[k3.ID])
		}
	})

	t.Run("duplicate id leaves the active key in place", func(t *testing.T) {
		dup := newKey(t, k4.ID, true, 0, nil)
		wantErr(t, "AddKey", s.AddKey(ctx, dup, at(time.Hour)), storage.ErrAlreadyExists)
		ks, err := s.ListKeys(ctx, now())
		mustNil(t, "ListKeys", err)
		if len(ks) == 0 || ks[0].ID != k4.ID || !ks[0].Active {
			t.Fatalf("after a refused AddKey the active key is %+v, want %s still active", ks, k4.ID)
		}
	})

	t.Run("concurrent rotations leave one active key", func(t *testing.T) {
		_, rctx := newTenant(t, s)
		const n = 8
		for round := range 3 {
			ok, err := race(s, rctx, n, false, nil, func(ctx context.Context) error {
				return s.AddKey(ctx, newKey(t, "key_"+rnd(t), true, 0, nil), at(time.Hour))
			})
			if err != nil || ok != n {
				t.Fatalf("round %d: %d of %d concurrent AddKey calls succeeded (%v)", round, ok, n, err)
			}
			ks, err := s.ListKeys(rctx, now())
			mustNil(t, "ListKeys", err)
			active := 0
			for _, k := range ks {
				if k.Active {
					active++
				}
			}
			if active != 1 || len(ks) != n*(round+1) {
				t.Fatalf("round %d: %d active of %d listed keys, want 1 active of %d", round, active, len(ks), n*(round+1))
			}
		}
	})

	t.Run("later now drops expired keys", func(t *testing.T) {
		ks, err := s.ListKeys(ctx, now().Add(2*time.Hour+time.Minute))
		mustNil(t, "ListKeys", err)
		if len(ks) != 1 || ks[0].ID != k4.ID {
			t.Fatalf("ListKeys two hours on = %+v, want only %s", ks, k4.ID)
		}
	})
}

func testClients(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	c1 := newClient(t, s, ctx)
	c2 := storage.Client{ID: "cli_" + rnd(t), TenantID: "ten_" + rnd(t), Name: "SPA", Type: storage.ClientPublic,
		RedirectURIs: storage.StringList{"http://localhost:3000/cb"}, AppType: "spa", TokenEndpointAuthMethod: "none",
		AllowedOrigins: storage.StringList{"https://a.test", "https://b.test"}, OrganizationRequireBehavior: "no_prompt",
		CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateClient", s.CreateClient(ctx, c2))
	c2.TenantID = tn.ID // the context decides the tenant, not the value

	t.Run("get", func(t *testing.T) {
		for _, want := range []storage.Client{c1, c2} {
			got, err := s.GetClientByID(ctx, want.ID)
			mustNil(t, "GetClientByID", err)
			assertEqual(t, "client", normClient(got), normClient(want))
		}
		_, err := s.GetClientByID(ctx, "cli_"+rnd(t))
		wantErr(t, "GetClientByID unknown", err, storage.ErrNotFound)
	})

	t.Run("fosite client", func(t *testing.T) {
		fc, err := s.GetClient(ctx, c1.ID)
		mustNil(t, "GetClient", err)
		if fc.GetID() != c1.ID || string(fc.GetHashedSecret()) != c1.SecretHash || fc.IsPublic() ||
			!slices.Equal(fc.GetRedirectURIs(), c1.RedirectURIs) || !fc.GetGrantTypes().Has("refresh_token") ||
			!fc.GetScopes().Has("openid") {
			t.Fatalf("GetClient = %+v, want %+v", fc, c1)
		}
		_, err = s.GetClient(ctx, "cli_"+rnd(t))
		wantErr(t, "GetClient unknown", err, fosite.ErrNotFound)
	})

	t.Run("list", func(t *testing.T) {
		cs, err := s.ListClients(ctx)
		mustNil(t, "ListClients", err)
		slices.SortFunc(cs, func(a, b storage.Client) int { return cmp.Compare(a.ID, b.ID) })
		want := []storage.Client{normClient(c1), normClient(c2)}
		slices.SortFunc(want, func(a, b storage.Client) int { return cmp.Compare(a.ID, b.ID) })
		for i := range cs {
			cs[i] = normClient(cs[i])
		}
		assertEqual(t, "clients", cs, want)
	})

	t.Run("list pages", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		cs := make([]storage.Client, 5)
		for _, i := range creationOrder {
			c := storage.Client{ID: "cli_" + rnd(t), Name: strconv.Itoa(i), Type: storage.ClientPublic, CreatedAt: ago(i), UpdatedAt: ago(i)}
			mustNil(t, "CreateClient", s.CreateClient(ctx, c))
			cs[i] = c
		}
		testPages(t, idsOf(cs, func(c storage.Client) string { return c.ID }), func(p storage.Page) ([]string, int64, error) {
			got, n, err := s.ListClientPage(ctx, p)
			return idsOf(got, func(c storage.Client) string { return c.ID }), n, err
		})
	})

	t.Run("duplicate id", func(t *testing.T) {
		dup := c1
		dup.Name = "other"
		wantErr(t, "CreateClient", s.CreateClient(ctx, dup), storage.ErrAlreadyExists)
	})

	t.Run("string lists", func(t *testing.T) {
		tests := []struct {
			name string
			list storage.StringList
		}{
			{"nil", nil},
			{"empty", storage.StringList{}},
			{"one", storage.StringList{"https://a.test/cb"}},
			{"several", storage.StringList{"https://a.test/cb", "https://b.test/cb?x=1&y=2", "com.example.app:/oauth"}},
			{"awkward characters", storage.StringList{`quote " and \ backslash`, "comma, semicolon;", "ünïcødé ✓", ""}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := storage.Client{ID: "cli_" + rnd(t), Name: tc.name, Type: storage.ClientPublic, RedirectURIs: tc.list,
					GrantTypes: tc.list, Scopes: tc.list, Audiences: tc.list, WebOrigins: tc.list, PostLogoutRedirectURIs: tc.list}
				mustNil(t, "CreateClient", s.CreateClient(ctx, c))
				got, err := s.GetClientByID(ctx, c.ID)
				mustNil(t, "GetClientByID", err)
				want := normList(tc.list)
				for _, l := range []storage.StringList{got.RedirectURIs, got.PostLogoutRedirectURIs, got.GrantTypes,
					got.Scopes, got.Audiences, got.WebOrigins} {
					assertEqual(t, "list", normList(l), want)
				}
			})
		}
	})

	t.Run("update", func(t *testing.T) {
		// Warm fosite's client cache so a stale entry after the update would show.
		_, err := s.GetClient(ctx, c1.ID)
		mustNil(t, "GetClient", err)
		before := time.Now().Add(-time.Second)
		var seen storage.Client
		err = s.UpdateClient(ctx, c1.ID, func(old storage.Client) (storage.Client, error) {
			seen = old
			old.ID = "cli_" + rnd(t)
			old.TenantID = "ten_" + rnd(t)
			old.CreatedAt = at(-100 * time.Hour)
			old.Name = "Renamed"
			old.RedirectURIs = storage.StringList{"https://app.test/new", "https://app.test/other"}
			old.Scopes = nil
			return old, nil
		})
		mustNil(t, "UpdateClient", err)
		assertEqual(t, "fn received", normClient(seen), normClient(c1))
		got, err := s.GetClientByID(ctx, c1.ID)
		mustNil(t, "GetClientByID", err)
		if got.ID != c1.ID || got.TenantID != tn.ID || !got.CreatedAt.Equal(c1.CreatedAt) {
			t.Fatalf("update changed identity: id=%q tenant=%q created=%v", got.ID, got.TenantID, got.CreatedAt)
		}
		if got.Name != "Renamed" || !slices.Equal(got.RedirectURIs, storage.StringList{"https://app.test/new", "https://app.test/other"}) ||
			len(got.Scopes) != 0 || got.SecretHash != c1.SecretHash {
			t.Fatalf("updated client = %+v", got)
		}
		if got.UpdatedAt.Before(before) {
			t.Fatalf("UpdatedAt = %v, want after %v", got.UpdatedAt, before)
		}
		fc, err := s.GetClient(ctx, c1.ID)
		mustNil(t, "GetClient", err)
		if !slices.Equal(fc.GetRedirectURIs(), got.RedirectURIs) {
			t.Fatalf("GetClient after update returns stale redirect URIs %v", fc.GetRedirectURIs())
		}
		c1 = got
	})

	t.Run("update failing fn changes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.UpdateClient(ctx, c1.ID, func(old storage.Client) (storage.Client, error) {
			old.Name = "never stored"
			return old, boom
		})
		wantErr(t, "UpdateClient", err, boom)
		got, err := s.GetClientByID(ctx, c1.ID)
		mustNil(t, "GetClientByID", err)
		assertEqual(t, "client", normClient(got), normClient(c1))
	})

	t.Run("update unknown", func(t *testing.T) {
		err := s.UpdateClient(ctx, "cli_"+rnd(t), func(old storage.Client) (storage.Client, error) {
			t.Error("fn called for an unknown client")
			return old, nil
		})
		wantErr(t, "UpdateClient", err, storage.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		mustNil(t, "DeleteClient", s.DeleteClient(ctx, c2.ID))
		_, err := s.GetClientByID(ctx, c2.ID)
		wantErr(t, "GetClientByID after delete", err, storage.ErrNotFound)
		_, err = s.GetClient(ctx, c2.ID)
		wantErr(t, "GetClient after delete", err, fosite.ErrNotFound)
		wantErr(t, "DeleteClient again", s.DeleteClient(ctx, c2.ID), storage.ErrNotFound)
		_, err = s.GetClientByID(ctx, c1.ID)
		mustNil(t, "GetClientByID of the other client", err)
	})
}

func testUsers(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	local := "alice-" + rnd(t)
	u := storage.User{ID: "usr_" + rnd(t), TenantID: "ten_" + rnd(t), Email: " " + local + "@Example.TEST ", Name: "Alice",
		PasswordHash: "$argon2id$x", UserMetadata: storage.JSONMap{"theme": "dark", "sizes": []any{1.0, "two"}},
		AppMetadata: storage.JSONMap{"plan": "pro", "limits": map[string]any{"seats": 5.0, "quote": `"é\`}},
		CreatedAt:   now(), UpdatedAt: now()}
	mustNil(t, "CreateUser", s.CreateUser(ctx, u))
	u.TenantID, u.Email = tn.ID, local+"@example.test"
	other := newUser(t, s, ctx)

	t.Run("list", func(t *testing.T) {
		all, n, err := s.ListUsers(ctx, storage.Page{})
		mustNil(t, "ListUsers", err)
		if n != 2 || len(all) != 2 || all[0].ID != u.ID || all[1].ID != other.ID {
			t.Fatalf("ListUsers = %+v (total %d), want %s then %s", all, n, u.ID, other.ID)
		}
		assertEqual(t, "listed user", normUser(all[0]), normUser(u))
		page, n, err := s.ListUsers(ctx, storage.Page{Offset: 1, Limit: 5})
		mustNil(t, "ListUsers page", err)
		if n != 2 || len(page) != 1 || page[0].ID != other.ID {
			t.Fatalf("ListUsers offset 1 = %+v (total %d), want only %s", page, n, other.ID)
		}
	})

	t.Run("lookups", func(t *testing.T) {
		tests := []struct {
			name    string
			get     func() (storage.User, error)
			want    storage.User
			wantErr error
		}{
			{"by id", func() (storage.User, error) { return s.GetUser(ctx, u.ID) }, u, nil},
			{"by email", func() (storage.User, error) { return s.GetUserByEmail(ctx, u.Email) }, u, nil},
			{"by email in another case", func() (storage.User, error) { return s.GetUserByEmail(ctx, "  "+local+"@EXAMPLE.test") }, u, nil},
			{"unknown id", func() (storage.User, error) { return s.GetUser(ctx, "usr_"+rnd(t)) }, storage.User{}, storage.ErrNotFound},
			{"unknown email", func() (storage.User, error) { return s.GetUserByEmail(ctx, rnd(t)+"@example.test") }, storage.User{}, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				wantErr(t, "lookup", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "user", normUser(got), normUser(tc.want))
				}
			})
		}
	})

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name    string
			ctx     context.Context
			user    storage.User
			wantErr error
		}{
			{"same email", ctx, storage.User{ID: "usr_" + rnd(t), Email: u.Email}, storage.ErrAlreadyExists},
			{"same email other case", ctx, storage.User{ID: "usr_" + rnd(t), Email: local + "@EXAMPLE.TEST"}, storage.ErrAlreadyExists},
			{"same id", ctx, storage.User{ID: u.ID, Email: rnd(t) + "@example.test"}, storage.ErrAlreadyExists},
			{"same email in another tenant", ctxB, storage.User{ID: "usr_" + rnd(t), Email: u.Email}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "CreateUser", s.CreateUser(tc.ctx, tc.user), tc.wantErr)
			})
		}
		got, err := s.GetUserByEmail(ctxB, u.Email)
		mustNil(t, "GetUserByEmail in the other tenant", err)
		if got.ID == u.ID {
			t.Fatalf("other tenant's lookup found the first tenant's user")
		}
		got, err = s.GetUserByEmail(ctx, u.Email)
		mustNil(t, "GetUserByEmail", err)
		assertEqual(t, "user", normUser(got), normUser(u))
	})

	t.Run("update", func(t *testing.T) {
		var seen storage.User
		err := s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			seen = old
			old.ID, old.TenantID, old.CreatedAt = "usr_"+rnd(t), "ten_"+rnd(t), at(-100*time.Hour)
			old.Name, old.Email, old.EmailVerified = "Alice B", "Alice.B-"+local+"@Example.test", true
			old.UserMetadata, old.AppMetadata = storage.JSONMap{"theme": "light"}, nil
			return old, nil
		})
		mustNil(t, "UpdateUser", err)
		assertEqual(t, "fn received", normUser(seen), normUser(u))
		got, err := s.GetUserByEmail(ctx, "alice.b-"+local+"@example.test")
		mustNil(t, "GetUserByEmail new email", err)
		if got.ID != u.ID || got.TenantID != tn.ID || !got.CreatedAt.Equal(u.CreatedAt) || got.Name != "Alice B" ||
			!got.EmailVerified || got.Email != "alice.b-"+local+"@example.test" ||
			len(got.UserMetadata) != 1 || got.UserMetadata["theme"] != "light" || len(got.AppMetadata) != 0 {
			t.Fatalf("updated user = %+v", got)
		}
		_, err = s.GetUserByEmail(ctx, u.Email)
		wantErr(t, "GetUserByEmail old email", err, storage.ErrNotFound)
		u = got
	})

	t.Run("update to a taken email", func(t *testing.T) {
		err := s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			old.Email = "  " + other.Email
			return old, nil
		})
		wantErr(t, "UpdateUser", err, storage.ErrAlreadyExists)
		got, err := s.GetUser(ctx, u.ID)
		mustNil(t, "GetUser", err)
		assertEqual(t, "user", normUser(got), normUser(u))
	})

	t.Run("update unknown", func(t *testing.T) {
		err := s.UpdateUser(ctx, "usr_"+rnd(t), func(old storage.User) (storage.User, error) {
			t.Error("fn called for an unknown user")
			return old, nil
		})
		wantErr(t, "UpdateUser", err, storage.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		ls := newSession(t, s, ctx, u.ID, at(time.Hour))
		keep := newSession(t, s, ctx, other.ID, at(time.Hour))
		mustNil(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
		_, err := s.GetUser(ctx, u.ID)
		wantErr(t, "GetUser after delete", err, storage.ErrNotFound)
		_, err = s.SessionByCookieHash(ctx, ls.CookieHash, now())
		wantErr(t, "deleted user's session", err, storage.ErrNotFound)
		_, err = s.SessionByCookieHash(ctx, keep.CookieHash, now())
		mustNil(t, "other user's session", err)
		wantErr(t, "DeleteUser again", s.DeleteUser(ctx, u.ID), storage.ErrNotFound)
		_, err = s.GetUser(ctx, other.ID)
		mustNil(t, "GetUser of the other user", err)
	})
}

func testSessions(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	u := newUser(t, s, ctx)
	live := newSession(t, s, ctx, u.ID, at(time.Hour))
	expired := newSession(t, s, ctx, u.ID, at(-time.Second))
	edge := newSession(t, s, ctx, u.ID, at(time.Hour))
	live.TenantID = tn.ID

	tests := []struct {
		name    string
		hash    string
		now     time.Time
		want    storage.LoginSession
		wantErr error
	}{
		{"live", live.CookieHash, now(), live, nil},
		{"expired", expired.CookieHash, now(), storage.LoginSession{}, storage.ErrNotFound},
		{"expires exactly now", edge.CookieHash, edge.ExpiresAt, storage.LoginSession{}, storage.ErrNotFound},
		{"just before expiry", edge.CookieHash, edge.ExpiresAt.Add(-time.Millisecond), edge, nil},
		{"unknown", rnd(t), now(), storage.LoginSession{}, storage.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SessionByCookieHash(ctx, tc.hash, tc.now.In(eastZone))
			wantErr(t, "SessionByCookieHash", err, tc.wantErr)
			if tc.wantErr == nil {
				assertEqual(t, "session", normSession(got), normSession(tc.want))
			}
		})
	}

	t.Run("duplicate id", func(t *testing.T) {
		dup := live
		dup.CookieHash = rnd(t)
		wantErr(t, "CreateSession", s.CreateSession(ctx, dup), storage.ErrAlreadyExists)
	})

	t.Run("delete", func(t *testing.T) {
		mustNil(t, "DeleteSession", s.DeleteSession(ctx, live.ID))
		_, err := s.SessionByCookieHash(ctx, live.CookieHash, now())
		wantErr(t, "SessionByCookieHash after delete", err, storage.ErrNotFound)
		_, err = s.SessionByCookieHash(ctx, edge.CookieHash, now())
		mustNil(t, "other session", err)
	})

	t.Run("delete a user's sessions", func(t *testing.T) {
		other := newUser(t, s, ctx)
		kept := newSession(t, s, ctx, other.ID, at(time.Hour))
		second := newSession(t, s, ctx, u.ID, at(time.Hour))
		mustNil(t, "DeleteUserSessions", s.DeleteUserSessions(ctx, u.ID))
		for _, gone := range []storage.LoginSession{edge, second} {
			_, err := s.SessionByCookieHash(ctx, gone.CookieHash, now())
			wantErr(t, "the user's session after DeleteUserSessions", err, storage.ErrNotFound)
		}
		_, err := s.SessionByCookieHash(ctx, kept.CookieHash, now())
		mustNil(t, "another user's session", err)
	})
}

// testFositeRecords stores one request as every kind of record under the same signature: each kind is its
// own namespace, reads back the whole request, and deletes only itself.
func testFositeRecords(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	c := newClient(t, s, ctx)
	req := newRequest(t, c)
	sig := "sig-" + rnd(t)

	kinds := []struct {
		name   string
		create func(ctx context.Context, sig string, r fosite.Requester) error
		get    func(ctx context.Context, sig string) (fosite.Requester, error)
		del    func(ctx context.Context, sig string) error
	}{
		{"AuthorizeCode", s.CreateAuthorizeCodeSession,
			func(ctx context.Context, sig string) (fosite.Requester, error) {
				return s.GetAuthorizeCodeSession(ctx, sig, newSessionTarget())
			}, nil},
		{"AccessToken", s.CreateAccessTokenSession,
			func(ctx context.Context, sig string) (fosite.Requester, error) {
				return s.GetAccessTokenSession(ctx, sig, newSessionTarget())
			}, s.DeleteAccessTokenSession},
		{"RefreshToken",
			func(ctx context.Context, sig string, r fosite.Requester) error {
				return s.CreateRefreshTokenSession(ctx, sig, "access-"+sig, r)
			},
			func(ctx context.Context, sig string) (fosite.Requester, error) {
				return s.GetRefreshTokenSession(ctx, sig, newSessionTarget())
			}, s.DeleteRefreshTokenSession},
		{"PKCE", s.CreatePKCERequestSession,
			func(ctx context.Context, sig string) (fosite.Requester, error) {
				return s.GetPKCERequestSession(ctx, sig, newSessionTarget())
			}, s.DeletePKCERequestSession},
		{"OpenIDConnect", s.CreateOpenIDConnectSession,
			func(ctx context.Context, sig string) (fosite.Requester, error) {
				return getOIDC(s, ctx, sig, req)
			}, s.DeleteOpenIDConnectSession},
	}
	for _, k := range kinds {
		mustNil(t, "create "+k.name, k.create(ctx, sig, req))
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			got, err := k.get(ctx, sig)
			mustNil(t, "get", err)
			assertRequest(t, req, got)

			_, err = k.get(ctx, "sig-"+rnd(t))
			wantErr(t, "get unknown", err, fosite.ErrNotFound)

			if k.del == nil {
				return
			}
			mustNil(t, "delete", k.del(ctx, sig))
			_, err = k.get(ctx, sig)
			wantErr(t, "get after delete", err, fosite.ErrNotFound)
		})
	}
	// Every delete above removed only its own kind: the authorize code, which has none, is still there.
	got, err := s.GetAuthorizeCodeSession(ctx, sig, newSessionTarget())
	mustNil(t, "GetAuthorizeCodeSession after other kinds were deleted", err)
	assertRequest(t, req, got)
}

func testAuthorizeCode(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	c := newClient(t, s, ctx)
	req := newRequest(t, c)
	code, other := "code-"+rnd(t), "code-"+rnd(t)
	mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, req))
	mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, other, req))

	mustNil(t, "InvalidateAuthorizeCodeSession", s.InvalidateAuthorizeCodeSession(ctx, code))
	// fosite needs the request of a used code to revoke the tokens issued with it.
	got, err := s.GetAuthorizeCodeSession(ctx, code, newSessionTarget())
	wantErr(t, "GetAuthorizeCodeSession after invalidate", err, fosite.ErrInvalidatedAuthorizeCode)
	assertRequest(t, req, got)

	got, err = s.GetAuthorizeCodeSession(ctx, other, newSessionTarget())
	mustNil(t, "GetAuthorizeCodeSession of another code", err)
	assertRequest(t, req, got)
}

func testRefreshTokenRotation(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	c := newClient(t, s, ctx)
	grant, otherGrant := newRequest(t, c), newRequest(t, c)
	rt1, at1, atOther := "rt-"+rnd(t), "at-"+rnd(t), "at-"+rnd(t)
	mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, rt1, at1, grant))
	mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, at1, grant))
	mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, atOther, otherGrant))

	getAccess := func(sig string) error { _, err := s.GetAccessTokenSession(ctx, sig, newSessionTarget()); return err }
	getRefresh := func(sig string) error { _, err := s.GetRefreshTokenSession(ctx, sig, newSessionTarget()); return err }

	t.Run("rotate", func(t *testing.T) {
		mustNil(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, grant.ID, rt1))
		// A replayed refresh token must be recognisable as such: the request comes back with ErrInactiveToken.
		got, err := s.GetRefreshTokenSession(ctx, rt1, newSessionTarget())
		wantErr(t, "GetRefreshTokenSession of the rotated token", err, fosite.ErrInactiveToken)
		assertRequest(t, grant, got)
		wantErr(t, "access token of the rotated grant", getAccess(at1), fosite.ErrNotFound)
		mustNil(t, "access token of another grant", getAccess(atOther))
	})

	rt2, at2 := "rt-"+rnd(t), "at-"+rnd(t)
	t.Run("new token in the family", func(t *testing.T) {
		mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, rt2, at2, grant))
		mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, at2, grant))
		mustNil(t, "GetRefreshTokenSession", getRefresh(rt2))
	})

	t.Run("revoke refresh family", func(t *testing.T) {
		otherRT := "rt-" + rnd(t)
		mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, otherRT, atOther, otherGrant))
		mustNil(t, "RevokeRefreshToken", s.RevokeRefreshToken(ctx, grant.ID))
		wantErr(t, "rotated token", getRefresh(rt1), fosite.ErrNotFound)
		wantErr(t, "current token", getRefresh(rt2), fosite.ErrNotFound)
		mustNil(t, "refresh token of another grant", getRefresh(otherRT))
		// Revoking a family revokes the access tokens issued with it too.
		wantErr(t, "access token of the same grant", getAccess(at2), fosite.ErrNotFound)
		mustNil(t, "access token of another grant", getAccess(atOther))
	})

	t.Run("revoke access tokens", func(t *testing.T) {
		at3 := "at-" + rnd(t)
		mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, at3, grant))
		mustNil(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, grant.ID))
		wantErr(t, "access token", getAccess(at2), fosite.ErrNotFound)
		wantErr(t, "second access token", getAccess(at3), fosite.ErrNotFound)
		mustNil(t, "access token of another grant", getAccess(atOther))
	})
}

func testClientAssertionJWT(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	known, expired := "jti-"+rnd(t), "jti-"+rnd(t)
	mustNil(t, "SetClientAssertionJWT", s.SetClientAssertionJWT(ctx, known, at(time.Hour)))
	mustNil(t, "SetClientAssertionJWT", s.SetClientAssertionJWT(ctx, expired, at(-time.Minute)))

	tests := []struct {
		name string
		jti  string
		want error
	}{
		{"known", known, fosite.ErrJTIKnown},
		{"expired", expired, nil},
		{"unknown", "jti-" + rnd(t), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "ClientAssertionJWTValid", s.ClientAssertionJWTValid(ctx, tc.jti), tc.want)
		})
	}
	t.Run("set twice", func(t *testing.T) {
		wantErr(t, "SetClientAssertionJWT", s.SetClientAssertionJWT(ctx, known, at(time.Hour)), fosite.ErrJTIKnown)
	})
}

func testTransactions(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	c := newClient(t, s, ctx)
	tests := []struct {
		name   string
		commit bool
	}{
		{"commit", true},
		{"rollback", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, c)
			sig, code := "at-"+rnd(t), "code-"+rnd(t)
			mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, req))
			_, err := s.GetClient(ctx, c.ID) // warm the client cache with the committed client
			mustNil(t, "GetClient", err)
			before, err := s.GetClientByID(ctx, c.ID)
			mustNil(t, "GetClientByID", err)

			txCtx, err := s.BeginTX(ctx)
			mustNil(t, "BeginTX", err)
			done := false
			defer func() {
				if !done {
					_ = s.Rollback(txCtx)
				}
			}()
			// What fosite's token endpoint does in one transaction, plus a client update.
			mustNil(t, "InvalidateAuthorizeCodeSession", s.InvalidateAuthorizeCodeSession(txCtx, code))
			mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(txCtx, sig, req))
			mustNil(t, "UpdateClient", s.UpdateClient(txCtx, c.ID, func(old storage.Client) (storage.Client, error) {
				old.Name = "renamed in " + tc.name
				return old, nil
			}))
			got, err := s.GetAccessTokenSession(txCtx, sig, newSessionTarget())
			mustNil(t, "GetAccessTokenSession inside the transaction", err)
			assertRequest(t, req, got)
			fc, err := s.GetClient(txCtx, c.ID)
			mustNil(t, "GetClient inside the transaction", err)
			if fc.(*storage.FositeClient).Name != "renamed in "+tc.name {
				t.Fatalf("inside the transaction GetClient = %q, want the update", fc.(*storage.FositeClient).Name)
			}

			if tc.commit {
				mustNil(t, "Commit", s.Commit(txCtx))
			} else {
				mustNil(t, "Rollback", s.Rollback(txCtx))
			}
			done = true

			_, err = s.GetAccessTokenSession(ctx, sig, newSessionTarget())
			_, codeErr := s.GetAuthorizeCodeSession(ctx, code, newSessionTarget())
			cl, clErr := s.GetClientByID(ctx, c.ID)
			mustNil(t, "GetClientByID", clErr)
			fc, fcErr := s.GetClient(ctx, c.ID)
			mustNil(t, "GetClient", fcErr)
			if tc.commit {
				mustNil(t, "GetAccessTokenSession after commit", err)
				wantErr(t, "GetAuthorizeCodeSession after commit", codeErr, fosite.ErrInvalidatedAuthorizeCode)
				if cl.Name != "renamed in commit" || fc.(*storage.FositeClient).Name != cl.Name {
					t.Fatalf("after commit client name = %q (fosite %q), want the update", cl.Name, fc.(*storage.FositeClient).Name)
				}
				return
			}
			wantErr(t, "GetAccessTokenSession after rollback", err, fosite.ErrNotFound)
			mustNil(t, "GetAuthorizeCodeSession after rollback", codeErr)
			assertEqual(t, "client after rollback", normClient(cl), normClient(before))
			if name := fc.(*storage.FositeClient).Name; name != before.Name {
				t.Fatalf("after rollback GetClient returns name %q, want %q", name, before.Name)
			}
		})
	}
}

func testDeleteExpired(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	c := newClient(t, s, ctx)
	u := newUser(t, s, ctx)
	base := newRequest(t, c)
	expiredAT, liveAT, code := "at-"+rnd(t), "at-"+rnd(t), "code-"+rnd(t)
	mustNil(t, "create expired", s.CreateAccessTokenSession(ctx, expiredAT, withExpiry(base, fosite.AccessToken, at(-time.Hour))))
	mustNil(t, "create live", s.CreateAccessTokenSession(ctx, liveAT, withExpiry(base, fosite.AccessToken, at(time.Hour))))
	mustNil(t, "create code without expiry", s.CreateAuthorizeCodeSession(ctx, code, withExpiry(base, fosite.AuthorizeCode, time.Time{})))
	expiredSes := newSession(t, s, ctx, u.ID, at(-time.Hour))
	liveSes := newSession(t, s, ctx, u.ID, at(time.Hour))

	n, err := s.DeleteExpired(context.Background(), now())
	mustNil(t, "DeleteExpired", err)
	// Not tenant-scoped, so on a shared database other tests' rows may be counted too.
	if n < 2 {
		t.Fatalf("DeleteExpired removed %d rows, want at least 2", n)
	}

	_, err = s.GetAccessTokenSession(ctx, expiredAT, newSessionTarget())
	wantErr(t, "expired access token", err, fosite.ErrNotFound)
	_, err = s.GetAccessTokenSession(ctx, liveAT, newSessionTarget())
	mustNil(t, "live access token", err)
	_, err = s.GetAuthorizeCodeSession(ctx, code, newSessionTarget())
	mustNil(t, "code without expiry", err)
	_, err = s.SessionByCookieHash(ctx, liveSes.CookieHash, now())
	mustNil(t, "live session", err)
	// The expired session's row is gone: its id can be used again.
	reused := expiredSes
	reused.ExpiresAt = at(time.Hour)
	mustNil(t, "CreateSession reusing the deleted session's id", s.CreateSession(ctx, reused))
}

// seeded is a tenant holding one row of every kind, and the means to check that none of them changed.
type seeded struct {
	tenant                            storage.Tenant
	ctx                               context.Context
	client                            storage.Client
	user                              storage.User
	session                           storage.LoginSession
	key                               storage.SigningKey
	req                               *fosite.Request
	code, access, refresh, pkce, oidc string
	jti                               string
}

func seed(t *testing.T, s storage.Storage) *seeded {
	t.Helper()
	d := &seeded{}
	d.tenant, d.ctx = newTenant(t, s)
	d.client = newClient(t, s, d.ctx)
	d.user = newUser(t, s, d.ctx)
	d.session = newSession(t, s, d.ctx, d.user.ID, at(time.Hour))
	d.key = newKey(t, "key_"+rnd(t), true, 0, nil)
	d.key.TenantID = d.tenant.ID
	mustNil(t, "AddKey", s.AddKey(d.ctx, d.key, at(time.Hour)))
	d.req = newRequest(t, d.client)
	d.code, d.access, d.refresh, d.pkce, d.oidc = "code-"+rnd(t), "at-"+rnd(t), "rt-"+rnd(t), "pkce-"+rnd(t), "oidc-"+rnd(t)
	mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(d.ctx, d.code, d.req))
	mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(d.ctx, d.access, d.req))
	mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(d.ctx, d.refresh, d.access, d.req))
	mustNil(t, "CreatePKCERequestSession", s.CreatePKCERequestSession(d.ctx, d.pkce, d.req))
	mustNil(t, "CreateOpenIDConnectSession", s.CreateOpenIDConnectSession(d.ctx, d.oidc, d.req))
	d.jti = "jti-" + rnd(t)
	mustNil(t, "SetClientAssertionJWT", s.SetClientAssertionJWT(d.ctx, d.jti, at(time.Hour)))
	return d
}

func (d *seeded) assertIntact(t *testing.T, s storage.Storage) {
	t.Helper()
	ctx := d.ctx
	c, err := s.GetClientByID(ctx, d.client.ID)
	mustNil(t, "seeded client", err)
	assertEqual(t, "seeded client", normClient(c), normClient(d.client))
	fc, err := s.GetClient(ctx, d.client.ID)
	mustNil(t, "seeded fosite client", err)
	assertEqual(t, "seeded fosite client", normClient(fc.(*storage.FositeClient).Client), normClient(d.client))
	u, err := s.GetUser(ctx, d.user.ID)
	mustNil(t, "seeded user", err)
	assertEqual(t, "seeded user", normUser(u), normUser(d.user))
	ls, err := s.SessionByCookieHash(ctx, d.session.CookieHash, now())
	mustNil(t, "seeded session", err)
	assertEqual(t, "seeded session", normSession(ls), normSession(d.session))
	ks, err := s.ListKeys(ctx, now())
	mustNil(t, "seeded keys", err)
	if len(ks) != 1 {
		t.Fatalf("seeded tenant has keys %+v, want only %s", ks, d.key.ID)
	}
	assertEqual(t, "seeded key", normKey(ks[0]), normKey(d.key))

	records := []struct {
		name string
		get  func() (fosite.Requester, error)
	}{
		{"authorize code", func() (fosite.Requester, error) {
			return s.GetAuthorizeCodeSession(ctx, d.code, newSessionTarget())
		}},
		{"access token", func() (fosite.Requester, error) { return s.GetAccessTokenSession(ctx, d.access, newSessionTarget()) }},
		{"refresh token", func() (fosite.Requester, error) {
			return s.GetRefreshTokenSession(ctx, d.refresh, newSessionTarget())
		}},
		{"pkce", func() (fosite.Requester, error) { return s.GetPKCERequestSession(ctx, d.pkce, newSessionTarget()) }},
		{"oidc", func() (fosite.Requester, error) {
			return getOIDC(s, ctx, d.oidc, d.req)
		}},
	}
	for _, r := range records {
		got, err := r.get()
		mustNil(t, "seeded "+r.name, err)
		assertRequest(t, d.req, got)
	}
	wantErr(t, "seeded jti", s.ClientAssertionJWTValid(ctx, d.jti), fosite.ErrJTIKnown)
}

// testTenantIsolation gives tenant A one row of every kind, then works as tenant B with A's ids, emails,
// cookie hashes, signatures and request ids. B must see none of them and change none of them.
func testTenantIsolation(t *testing.T, s storage.Storage) {
	a := seed(t, s)
	b := seed(t, s)
	ctxB := b.ctx
	// A's client is in the fosite client cache: the cache must be per tenant too.
	_, err := s.GetClient(a.ctx, a.client.ID)
	mustNil(t, "GetClient as A", err)

	reads := []struct {
		name    string
		read    func() error
		wantErr error
	}{
		{"GetClientByID", func() error { _, err := s.GetClientByID(ctxB, a.client.ID); return err }, storage.ErrNotFound},
		{"GetClient", func() error { _, err := s.GetClient(ctxB, a.client.ID); return err }, fosite.ErrNotFound},
		{"GetUser", func() error { _, err := s.GetUser(ctxB, a.user.ID); return err }, storage.ErrNotFound},
		{"GetUserByEmail", func() error { _, err := s.GetUserByEmail(ctxB, a.user.Email); return err }, storage.ErrNotFound},
		{"SessionByCookieHash", func() error {
			_, err := s.SessionByCookieHash(ctxB, a.session.CookieHash, now())
			return err
		}, storage.ErrNotFound},
		{"GetAuthorizeCodeSession", func() error {
			_, err := s.GetAuthorizeCodeSession(ctxB, a.code, newSessionTarget())
			return err
		}, fosite.ErrNotFound},
		{"GetAccessTokenSession", func() error {
			_, err := s.GetAccessTokenSession(ctxB, a.access, newSessionTarget())
			return err
		}, fosite.ErrNotFound},
		{"GetRefreshTokenSession", func() error {
			_, err := s.GetRefreshTokenSession(ctxB, a.refresh, newSessionTarget())
			return err
		}, fosite.ErrNotFound},
		{"GetPKCERequestSession", func() error {
			_, err := s.GetPKCERequestSession(ctxB, a.pkce, newSessionTarget())
			return err
		}, fosite.ErrNotFound},
		{"GetOpenIDConnectSession", func() error {
			_, err := s.GetOpenIDConnectSession(ctxB, a.oidc, &fosite.Request{Session: newSessionTarget()})
			return err
		}, fosite.ErrNotFound},
		{"ClientAssertionJWTValid", func() error { return s.ClientAssertionJWTValid(ctxB, a.jti) }, nil},
	}
	for _, tc := range reads {
		t.Run("read/"+tc.name, func(t *testing.T) {
			wantErr(t, tc.name, tc.read(), tc.wantErr)
		})
	}

	t.Run("list", func(t *testing.T) {
		cs, err := s.ListClients(ctxB)
		mustNil(t, "ListClients", err)
		if len(cs) != 1 || cs[0].ID != b.client.ID {
			t.Fatalf("ListClients as B = %+v, want only %s", cs, b.client.ID)
		}
		page, total, err := s.ListClientPage(ctxB, storage.Page{Limit: 10})
		mustNil(t, "ListClientPage", err)
		if len(page) != 1 || total != 1 || page[0].ID != b.client.ID {
			t.Fatalf("ListClientPage as B = %+v (total %d), want only %s", page, total, b.client.ID)
		}
		us, n, err := s.ListUsers(ctxB, storage.Page{})
		mustNil(t, "ListUsers", err)
		if len(us) != 1 || n != 1 || us[0].ID != b.user.ID {
			t.Fatalf("ListUsers as B = %+v (total %d), want only %s", us, n, b.user.ID)
		}
		ks, err := s.ListKeys(ctxB, now())
		mustNil(t, "ListKeys", err)
		if len(ks) != 1 || ks[0].ID != b.key.ID {
			t.Fatalf("ListKeys as B = %+v, want only %s", ks, b.key.ID)
		}
	})

	// Domains are looked up by host, not by the tenant in ctx; what isolates them is that a domain names one
	// tenant only: B can neither list A's domains as its own nor take one over.
	t.Run("domains", func(t *testing.T) {
		aDomains, err := s.ListDomains(context.Background(), a.tenant.ID)
		mustNil(t, "ListDomains of A", err)
		if len(aDomains) != 1 {
			t.Fatalf("A has domains %v, want one", aDomains)
		}
		bDomains, err := s.ListDomains(context.Background(), b.tenant.ID)
		mustNil(t, "ListDomains of B", err)
		if slices.Contains(bDomains, aDomains[0]) || len(bDomains) != 1 {
			t.Fatalf("B's domains %v, want one of B's own (A has %v)", bDomains, aDomains)
		}
		wantErr(t, "AddDomain of A's domain to B", s.AddDomain(context.Background(), b.tenant.ID, aDomains[0]), storage.ErrAlreadyExists)
		wantErr(t, "RemoveDomain of A's domain as B", s.RemoveDomain(context.Background(), b.tenant.ID, aDomains[0]), storage.ErrNotFound)
		owner, err := s.TenantByDomain(context.Background(), aDomains[0])
		mustNil(t, "TenantByDomain of A's domain", err)
		if owner.ID != a.tenant.ID {
			t.Fatalf("A's domain %s resolves to %s after B tried to take it, want %s", aDomains[0], owner.ID, a.tenant.ID)
		}
	})

	writes := []struct {
		name    string
		write   func(t *testing.T, a *seeded) error
		wantErr error // nil: any result, as long as A's rows are untouched
	}{
		{"UpdateClient", func(t *testing.T, a *seeded) error {
			return s.UpdateClient(ctxB, a.client.ID, func(c storage.Client) (storage.Client, error) {
				t.Error("UpdateClient as B called fn with A's client")
				c.Name = "hijacked"
				return c, nil
			})
		}, storage.ErrNotFound},
		{"UpdateUser", func(t *testing.T, a *seeded) error {
			return s.UpdateUser(ctxB, a.user.ID, func(u storage.User) (storage.User, error) {
				t.Error("UpdateUser as B called fn with A's user")
				u.PasswordHash = "hijacked"
				return u, nil
			})
		}, storage.ErrNotFound},
		{"DeleteClient", func(t *testing.T, a *seeded) error { return s.DeleteClient(ctxB, a.client.ID) }, storage.ErrNotFound},
		{"DeleteUser", func(t *testing.T, a *seeded) error { return s.DeleteUser(ctxB, a.user.ID) }, storage.ErrNotFound},
		{"DeleteSession", func(t *testing.T, a *seeded) error { return s.DeleteSession(ctxB, a.session.ID) }, nil},
		{"DeleteUserSessions", func(t *testing.T, a *seeded) error { return s.DeleteUserSessions(ctxB, a.user.ID) }, nil},
		{"AddKey", func(t *testing.T, a *seeded) error {
			return s.AddKey(ctxB, newKey(t, "key_"+rnd(t), true, time.Second, nil), at(-time.Minute))
		}, nil},
		{"InvalidateAuthorizeCodeSession", func(t *testing.T, a *seeded) error { return s.InvalidateAuthorizeCodeSession(ctxB, a.code) }, nil},
		{"DeleteAccessTokenSession", func(t *testing.T, a *seeded) error { return s.DeleteAccessTokenSession(ctxB, a.access) }, nil},
		{"DeleteRefreshTokenSession", func(t *testing.T, a *seeded) error { return s.DeleteRefreshTokenSession(ctxB, a.refresh) }, nil},
		{"DeletePKCERequestSession", func(t *testing.T, a *seeded) error { return s.DeletePKCERequestSession(ctxB, a.pkce) }, nil},
		{"DeleteOpenIDConnectSession", func(t *testing.T, a *seeded) error { return s.DeleteOpenIDConnectSession(ctxB, a.oidc) }, nil},
		{"RotateRefreshToken", func(t *testing.T, a *seeded) error { return s.RotateRefreshToken(ctxB, a.req.ID, a.refresh) }, nil},
		{"RevokeRefreshToken", func(t *testing.T, a *seeded) error { return s.RevokeRefreshToken(ctxB, a.req.ID) }, nil},
		{"RevokeAccessToken", func(t *testing.T, a *seeded) error { return s.RevokeAccessToken(ctxB, a.req.ID) }, nil},
		{"RevokeUserTokens", func(t *testing.T, a *seeded) error { _, err := s.RevokeUserTokens(ctxB, "usr_1"); return err }, nil},
		{"CreateClient naming A", func(t *testing.T, a *seeded) error {
			return s.CreateClient(ctxB, storage.Client{ID: "cli_" + rnd(t), TenantID: a.tenant.ID, Name: "planted", Type: storage.ClientPublic})
		}, nil},
	}
	for _, tc := range writes {
		t.Run("write/"+tc.name, func(t *testing.T) {
			a := seed(t, s) // fresh, so one leak does not cascade into the cases after it
			_, err := s.GetClient(a.ctx, a.client.ID)
			mustNil(t, "GetClient as A", err)
			err = tc.write(t, a)
			if tc.wantErr != nil {
				wantErr(t, tc.name, err, tc.wantErr)
			}
			a.assertIntact(t, s)
			cs, err := s.ListClients(a.ctx)
			mustNil(t, "ListClients as A", err)
			if len(cs) != 1 {
				t.Fatalf("A has %d clients, want 1: %+v", len(cs), cs)
			}
		})
	}
}
