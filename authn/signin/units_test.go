package signin

import (
	"testing"

	"github.com/authio/authio/storage"
)

// TestThrottleIP: an IPv4 client counts by its address, an IPv6 client by its /64 (one subscriber's prefix),
// and an IPv4-mapped IPv6 address as the IPv4 address it is, so one client cannot spread attempts over
// spellings or over the addresses of its own prefix.
func TestThrottleIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"not an address":       "not an address",
	} {
		if got := throttleIP(in); got != want {
			t.Errorf("throttleIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignInAccount: every spelling that finds the same user counts against the same account.
func TestSignInAccount(t *testing.T) {
	a := signInAccount(" Alice@Example.TEST ")
	for _, v := range []string{"alice@example.test", "ALICE@EXAMPLE.TEST", "\talice@example.test"} {
		if got := signInAccount(v); got != a {
			t.Errorf("signInAccount(%q) = %q, want %q", v, got, a)
		}
	}
	if signInAccount("bob@example.test") == a {
		t.Error("two addresses count as one account")
	}
}

// TestStrategyNames: the API shows Auth0's strategy names where Auth0 has one and takes either spelling back.
func TestStrategyNames(t *testing.T) {
	for typ, strategy := range map[string]string{"password": "auth0", "saml": "samlp", "oidc": "oidc"} {
		if got := StrategyOf(typ); got != strategy {
			t.Errorf("StrategyOf(%q) = %q, want %q", typ, got, strategy)
		}
		if got, _ := typeOfStrategy(strategy); got != typ {
			t.Errorf("typeOfStrategy(%q) = %q, want %q", strategy, got, typ)
		}
		if got, _ := typeOfStrategy(typ); got != typ {
			t.Errorf("typeOfStrategy(%q) = %q, want the type itself", typ, got)
		}
	}
	// Auth0's social strategies are the oidc kind with a preset.
	for strategy, preset := range map[string]string{"google-oauth2": "google", "waad": "microsoft", "github": "github"} {
		if typ, p := typeOfStrategy(strategy); typ != "oidc" || p != preset {
			t.Errorf("typeOfStrategy(%q) = %q, %q, want oidc, %q", strategy, typ, p, preset)
		}
		c := storage.Connection{Type: "oidc", Settings: storage.JSONMap{"preset": preset}}
		if got := StrategyOfConnection(c); got != strategy {
			t.Errorf("StrategyOfConnection(preset %s) = %q, want %q", preset, got, strategy)
		}
	}
}
