package router_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// TestSwitchTransactions counts the Postgres transactions of a switch of organization, through both doors
// (POST /v1/sessions/switch-org and RFC 8693 token exchange), from an access token and from a refresh token: at
// most two each — one for every read, one that stores the tokens with their audit event — where there were five
// to eight. Each switch still answers tokens for the target organization and records one session.org_switched
// event; a refused switch (alice is no member of another tenant's organization) stores nothing.
func TestSwitchTransactions(t *testing.T) {
	dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN to count the Postgres transactions of a switch")
	}
	t.Parallel()
	st, counter := testenv.CountingPostgresStore(t, dsn)
	o := newOrgSetupOn(t, storage.OrgUsageAllow, testenv.Options{Store: st})
	_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}, "scope": {"openid offline_access"}})
	if tk.RefreshToken == "" {
		t.Fatal("the sign-in returned no refresh token")
	}
	// Another tenant's organization: a cross-tenant switch must be refused.
	other := o.env.NewTenant("other")
	otherOrg := storage.Organization{ID: "org_" + strings.ToLower(testenv.RandomString(12)), Name: "elsewhere", DisplayName: "Elsewhere"}
	must(t, "organization in another tenant", st.CreateOrganization(other.Ctx, otherOrg))

	switches := func(t *testing.T) int {
		t.Helper()
		evs, err := st.ListAudit(o.acme.Ctx, storage.AuditFilter{Type: audit.EventOrgSwitched, Limit: 1000})
		must(t, "list audit", err)
		return len(evs)
	}
	exchange := func(token, tokenType string) func(t *testing.T, org string) *testenv.Response {
		return func(t *testing.T, org string) *testenv.Response {
			return o.exchange(t, url.Values{"subject_token": {token}, "subject_token_type": {tokenType}, "organization": {org}})
		}
	}
	tests := []struct {
		name string
		do   func(t *testing.T, org string) *testenv.Response
	}{
		{"switch-org with the access token", func(t *testing.T, org string) *testenv.Response {
			return o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": org})
		}},
		{"switch-org with the refresh token", func(t *testing.T, org string) *testenv.Response {
			return o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": org, "refresh_token": tk.RefreshToken})
		}},
		{"token exchange of the access token", exchange(tk.AccessToken, oauth.TokenTypeAccess)},
		{"token exchange of the refresh token", exchange(tk.RefreshToken, oauth.TokenTypeRefresh)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The first switch fills the caches (keys, client, resource server); the next ones are counted.
			if r := tc.do(t, o.globex.ID); r.StatusCode != http.StatusOK {
				t.Fatalf("switch: %d %s", r.StatusCode, r.Body)
			}
			for i := 0; i < 3; i++ {
				before := switches(t)
				counter.Reset()
				r := tc.do(t, o.globex.ID)
				n, log := counter.Count()
				if r.StatusCode != http.StatusOK {
					t.Fatalf("switch: %d %s", r.StatusCode, r.Body)
				}
				wantOrgClaims(t, "switched access token", o.claims(t, tokenOf(t, r)), o.globex, []string{"member"}, []string{"read:docs"})
				if n > 2 {
					t.Errorf("switch %d ran %d Postgres transactions, want at most 2:\n%s", i, n, strings.Join(log, "\n"))
				}
				if got := switches(t) - before; got != 1 {
					t.Errorf("switch %d recorded %d %s events, want 1", i, got, audit.EventOrgSwitched)
				}
			}
			before := switches(t)
			if r := tc.do(t, otherOrg.ID); r.StatusCode == http.StatusOK {
				t.Fatalf("switch into another tenant's organization: %d %s, want a refusal", r.StatusCode, r.Body)
			}
			if got := switches(t) - before; got != 0 {
				t.Errorf("a refused switch recorded %d %s events, want none", got, audit.EventOrgSwitched)
			}
		})
	}
}

// tokenOf is the access token of a switch-org or token endpoint answer.
func tokenOf(t *testing.T, r *testenv.Response) string {
	t.Helper()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	decodeInto(t, r.Body, &body)
	if body.AccessToken == "" {
		t.Fatalf("no access_token in %s", r.Body)
	}
	return body.AccessToken
}
