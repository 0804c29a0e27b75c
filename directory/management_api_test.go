package directory_test

import (
	"testing"

	"github.com/authio/authio/directory"
)

func TestManagementURLHost(t *testing.T) {
	for _, tc := range []struct {
		name, aud, scheme string
		domain            string
		ok                bool
	}{
		{name: "Auth0's form", aud: "https://acme.example/api/v2/", scheme: "https", domain: "acme.example", ok: true},
		{name: "with a port", aud: "https://acme.localhost:8080/api/v2/", scheme: "http", domain: "acme.localhost", ok: true},
		{name: "http when the server is http", aud: "http://acme.localhost:8080/api/v2/", scheme: "http", domain: "acme.localhost", ok: true},
		{name: "http when the server is https", aud: "http://acme.example/api/v2/", scheme: "https"},
		{name: "upper case and a trailing dot", aud: "https://ACME.Example./api/v2/", scheme: "https", domain: "acme.example", ok: true},
		{name: "an IDN", aud: "https://bücher.example/api/v2/", scheme: "https", domain: "xn--bcher-kva.example", ok: true},
		{name: "no trailing slash", aud: "https://acme.example/api/v2", scheme: "https"},
		{name: "another path", aud: "https://acme.example/x/api/v2/", scheme: "https"},
		{name: "a query", aud: "https://acme.example/api/v2/?a=1", scheme: "https"},
		{name: "an empty query", aud: "https://acme.example/api/v2/?", scheme: "https"},
		{name: "a fragment", aud: "https://acme.example/api/v2/#x", scheme: "https"},
		{name: "user information", aud: "https://u@acme.example/api/v2/", scheme: "https"},
		{name: "escaped path", aud: "https://acme.example/api%2Fv2/", scheme: "https"},
		{name: "a bad port", aud: "https://acme.example:0/api/v2/", scheme: "https"},
		{name: "an IPv6 literal", aud: "https://[::1]/api/v2/", scheme: "https"},
		{name: "the identifier", aud: directory.ManagementAudience, scheme: "https"},
		{name: "a urn ending like it", aud: "urn:x:/api/v2/", scheme: "https"},
		{name: "empty", aud: "", scheme: "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := directory.ManagementURLHost(tc.aud, tc.scheme)
			if ok != tc.ok || d != tc.domain {
				t.Errorf("ManagementURLHost(%q, %q) = %q, %v; want %q, %v", tc.aud, tc.scheme, d, ok, tc.domain, tc.ok)
			}
		})
	}
}
