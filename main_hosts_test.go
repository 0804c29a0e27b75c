package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIDomainsAreCanonical: domains given to the CLI are stored and printed in the form tenants are resolved
// by (canon.Domain), so an IDN and its other spellings are one domain, and junk is refused naming the field.
func TestCLIDomainsAreCanonical(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	created := c.ok("tenant", "create", "--slug", "books", "--domain", "Bücher.Example.").(map[string]any)
	if d, _ := json.Marshal(created["domains"]); string(d) != `["books.localhost","xn--bcher-kva.example"]` {
		t.Errorf("tenant create domains = %s, want the IDN in ASCII form", d)
	}
	added := c.ok("domain", "add", "--tenant", "books", "--domain", "Shop.BÜCHER.example").(map[string]any)
	if added["domain"] != "shop.xn--bcher-kva.example" {
		t.Errorf("domain add printed %v, want shop.xn--bcher-kva.example", added["domain"])
	}
	list := c.ok("tenant", "list").([]any)
	if d, _ := json.Marshal(list[0].(map[string]any)["domains"]); string(d) != `["books.localhost","xn--bcher-kva.example","shop.xn--bcher-kva.example"]` {
		t.Errorf("tenant list domains = %s", d)
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{name: "IDN in another spelling", args: []string{"domain", "add", "--tenant", "books", "--domain", "XN--BCHER-KVA.example"}, want: []string{"domain", "already"}},
		{name: "decomposed IDN", args: []string{"tenant", "create", "--slug", "other", "--domain", "bu\u0308cher.example"}, want: []string{"already exists"}},
		{name: "port", args: []string{"domain", "add", "--tenant", "books", "--domain", "books.example:8443"}, want: []string{"domain", "not a host name"}},
		{name: "empty label", args: []string{"tenant", "create", "--slug", "x", "--domain", "a..example"}, want: []string{"domain", "not a host name"}},
		{name: "underscore", args: []string{"domain", "add", "--tenant", "books", "--domain", "ex_ample.test"}, want: []string{"domain", "not a host name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
