package conformance

import (
	"context"

	"testing"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/storage"
)

// withSubject returns a copy of r whose session names subject.
func withSubject(r *fosite.Request, subject string) *fosite.Request {
	cp := *r
	sess := *r.Session.(*openid.DefaultSession)
	sess.Subject = subject
	cp.Session = &sess
	return &cp
}

// testRevokeUserTokens: RevokeUserTokens removes every code, access and refresh token of one user in one tenant,
// and nothing of another user, of a client's own grants, or of the same subject in another tenant.
func testRevokeUserTokens(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, otherCtx := newTenant(t, s)
	c, otherC := newClient(t, s, ctx), newClient(t, s, otherCtx)
	type grant struct {
		ctx                              context.Context
		req                              *fosite.Request
		code, access, refresh, pkce, oid string
	}
	mk := func(ctx context.Context, c storage.Client, subject string) grant {
		g := grant{ctx: ctx, req: withSubject(newRequest(t, c), subject), code: "code-" + rnd(t), access: "at-" + rnd(t),
			refresh: "rt-" + rnd(t), pkce: "pkce-" + rnd(t), oid: "oidc-" + rnd(t)}
		mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, g.code, g.req))
		mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, g.access, g.req))
		mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, g.refresh, g.access, g.req))
		mustNil(t, "CreatePKCERequestSession", s.CreatePKCERequestSession(ctx, g.pkce, g.req))
		mustNil(t, "CreateOpenIDConnectSession", s.CreateOpenIDConnectSession(ctx, g.oid, g.req))
		return g
	}
	alice1, alice2 := mk(ctx, c, "user_alice"), mk(ctx, c, "user_alice")
	bob := mk(ctx, c, "user_bob")
	machine := mk(ctx, c, c.ID)
	aliceElsewhere := mk(otherCtx, otherC, "user_alice")

	// records returns an error per record of g that is not readable.
	readable := func(g grant) map[string]error {
		errs := map[string]error{}
		_, errs["code"] = s.GetAuthorizeCodeSession(g.ctx, g.code, newSessionTarget())
		_, errs["access"] = s.GetAccessTokenSession(g.ctx, g.access, newSessionTarget())
		_, errs["refresh"] = s.GetRefreshTokenSession(g.ctx, g.refresh, newSessionTarget())
		_, errs["pkce"] = s.GetPKCERequestSession(g.ctx, g.pkce, newSessionTarget())
		_, errs["oidc"] = getOIDC(s, g.ctx, g.oid, g.req)
		return errs
	}

	n, err := s.RevokeUserTokens(ctx, "user_alice")
	mustNil(t, "RevokeUserTokens", err)
	if n != 10 {
		t.Errorf("RevokeUserTokens removed %d records, want 10 (5 of each of alice's two grants)", n)
	}
	for name, g := range map[string]grant{"alice's first grant": alice1, "alice's second grant": alice2} {
		for rec, err := range readable(g) {
			if err == nil {
				t.Errorf("%s: the %s record is still readable after RevokeUserTokens", name, rec)
			}
		}
	}
	for name, g := range map[string]grant{"bob's grant": bob, "the client's own grant": machine,
		"alice's namesake in another tenant": aliceElsewhere} {
		for rec, err := range readable(g) {
			if err != nil {
				t.Errorf("%s: the %s record is gone after revoking alice's tokens: %v", name, rec, err)
			}
		}
	}
	n, err = s.RevokeUserTokens(ctx, "")
	mustNil(t, "RevokeUserTokens of no user", err)
	if n != 0 {
		t.Errorf("RevokeUserTokens(\"\") removed %d records", n)
	}
}
