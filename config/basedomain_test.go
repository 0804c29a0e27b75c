package config_test

import (
	"strings"
	"testing"

	"github.com/authio/authio/config"
)

// TestBaseDomainIsCanonical: tenants' default domains are <slug>.<base domain>, so the base domain is held in
// the form domains are stored and resolved in, and one that is not a host name stops start-up.
func TestBaseDomainIsCanonical(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "upper case and trailing dot", in: "Auth.Example.COM.", want: "auth.example.com"},
		{name: "IDN", in: "Bücher.example", want: "xn--bcher-kva.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := load(t, nil, []string{"AUTHIO_BASE_DOMAIN=" + tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseDomain != tc.want {
				t.Errorf("BaseDomain = %q, want %q", c.BaseDomain, tc.want)
			}
		})
	}
	for _, bad := range []string{"a..example", "exa mple.test", "example.test:8080", "ex_ample.test", ""} {
		t.Run("refused "+bad, func(t *testing.T) {
			c := config.Defaults()
			c.SecretKey = secret
			c.BaseDomain = bad
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "base domain") {
				t.Errorf("Validate with base domain %q: %v, want a base domain problem", bad, err)
			}
		})
	}
}
