package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestReplicasSingleUse presents one code or one refresh token to two replicas at once, over one Postgres and
// one Redis: the conditional write that consumes it lets exactly one request through, whichever replica it
// reaches. Before that write existed, 18 of 20 tries forked a refresh-token family across two replicas.
func TestReplicasSingleUse(t *testing.T) {
	t.Parallel()
	a, b := twoReplicas(t)
	acmeA := a.NewTenant("acme")
	acmeA.NewUser("alice@acme.test")
	spa := acmeA.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}})
	browserA := a.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	browserB := b.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}, Jar: browserA.Jar})
	// Half the racers reach each replica.
	either := func(i int) *http.Client {
		if i%2 == 0 {
			return browserA
		}
		return browserB
	}
	const racers = 8
	signIn := func(t *testing.T) (*testenv.AuthRequest, string) {
		ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
		return ar, ar.Code(t, acmeA, browserA, "alice@acme.test", testenv.Password)
	}
	refresh := func(rt string) *http.Request {
		return testenv.FormRequest(acmeA.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {rt}, "client_id": {spa.ClientID}})
	}

	t.Run("a refresh token rotates once across replicas", func(t *testing.T) {
		for range 20 {
			ar, code := signIn(t)
			tk := testenv.TokensOf(t, ar.Exchange(t, acmeA, browserA, code))
			outs := testenv.Concurrently(racers, either, func(int) *http.Request { return refresh(tk.RefreshToken) })
			var won testenv.Tokens
			_ = json.Unmarshal([]byte(testenv.OneWinner(t, "refresh across replicas", outs)), &won)
			// The losers were reuse: the winner's successor died with the family, on either replica.
			if r := testenv.RoundTrip(t, browserB, refresh(won.RefreshToken)); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("the winner's refresh token after reuse, at B: %d %s", r.StatusCode, r.Body)
			}
		}
	})

	t.Run("a code is redeemed once across replicas", func(t *testing.T) {
		for range 10 {
			ar, code := signIn(t)
			outs := testenv.Concurrently(racers, either, func(int) *http.Request {
				return testenv.FormRequest(acmeA.URL("/oauth/token"), url.Values{"grant_type": {"authorization_code"},
					"code": {code}, "redirect_uri": {ar.RedirectURI}, "client_id": {ar.ClientID}, "code_verifier": {ar.Verifier}})
			})
			testenv.OneWinner(t, "code across replicas", outs)
		}
	})

	t.Run("within the reuse interval every replica answers with the same successor", func(t *testing.T) {
		if err := a.S.Store.UpdateTenant(context.Background(), acmeA.ID, func(old storage.Tenant) (storage.Tenant, error) {
			old.Settings.RefreshTokenReuseInterval = 60
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		a.S.Tenants.Flush()
		b.S.Tenants.Flush()
		for range 5 {
			ar, code := signIn(t)
			tk := testenv.TokensOf(t, ar.Exchange(t, acmeA, browserA, code))
			outs := testenv.Concurrently(racers, either, func(int) *http.Request { return refresh(tk.RefreshToken) })
			successor := ""
			for i, out := range outs {
				var got testenv.Tokens
				if out.Err != nil || out.Status != http.StatusOK || json.Unmarshal([]byte(out.Body), &got) != nil {
					t.Fatalf("retry %d within the interval: %v %d %s", i, out.Err, out.Status, out.Body)
				}
				if successor == "" {
					successor = got.RefreshToken
				}
				if got.RefreshToken != successor {
					t.Fatal("replicas answered retries within the reuse interval with different refresh tokens")
				}
			}
			testenv.TokensOf(t, testenv.RoundTrip(t, browserB, refresh(successor)))
		}
	})
}
