package login_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/internal/webauthntest"
)

// TestPasskeyBeginSpellingsGiveNothingAway_attack4: the passkey options of the email step must not tell who has
// passkeys. A real account's allowCredentials are the same for every spelling of its address that names it
// (storage folds case: "alice@acme.teſt", with a long s, is alice), so a stand-in must be the same for every
// spelling of an unknown address too. Today the stand-in is keyed by strings.ToLower, not by the stored form
// (canon.Email): two spellings of nobody's address get two different stand-ins, while alice's two spellings get
// her one real credential id, so asking twice tells an address with passkeys from one without.
func TestPasskeyBeginSpellingsGiveNothingAway_attack4(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t, testenv.Options{})
	if r := register(t, f.browser, f.acme, webauthntest.New(), "Laptop"); r.StatusCode != 201 {
		t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
	}
	f.acme.NewUser("bob@acme.test") // an account without a passkey
	c := stranger(f)
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	ids := func(email string) []string {
		_, opts := beginPasskey(t, c, f.acme, flow, email)
		var o struct {
			PublicKey struct {
				AllowCredentials []struct {
					ID string `json:"id"`
				} `json:"allowCredentials"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(opts, &o); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range o.PublicKey.AllowCredentials {
			out = append(out, d.ID)
		}
		return out
	}
	sameForSpellings := map[string]bool{}
	for _, local := range []string{"alice", "bob", "nobody"} {
		plain, folded := ids(local+"@acme.test"), ids(local+"@acme.te\u017ft") // U+017F LATIN SMALL LETTER LONG S
		sameForSpellings[local] = slices.Equal(plain, folded)
	}
	if !sameForSpellings["alice"] {
		t.Fatalf("alice's two spellings got different options: the premise of this test is gone")
	}
	for _, local := range []string{"bob", "nobody"} {
		if !sameForSpellings[local] {
			t.Errorf("%s: two spellings of one address get two different stand-ins, while alice's get her one real "+
				"credential: the answer tells an account with passkeys from one without", local)
		}
	}
}
