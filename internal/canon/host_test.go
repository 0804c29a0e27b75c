package canon_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authio/authio/internal/canon"
)

func TestHost(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		name   string
		host   string
		scheme string
		want   string // "" means refused
	}{
		{name: "canonical with port", host: "acme.localhost:8080", scheme: "http", want: "acme.localhost:8080"},
		{name: "canonical without port", host: "acme.example", scheme: "https", want: "acme.example"},
		{name: "upper case", host: "ACME.LocalHost:8080", scheme: "http", want: "acme.localhost:8080"},
		{name: "trailing dot", host: "acme.localhost.:8080", scheme: "http", want: "acme.localhost:8080"},
		{name: "trailing dot without port", host: "acme.example.", scheme: "https", want: "acme.example"},
		{name: "http default port", host: "demo.localhost:80", scheme: "http", want: "demo.localhost"},
		{name: "https default port", host: "demo.example:443", scheme: "https", want: "demo.example"},
		{name: "http port on https", host: "demo.example:80", scheme: "https", want: "demo.example:80"},
		{name: "https port on http", host: "demo.example:443", scheme: "http", want: "demo.example:443"},
		{name: "leading zeros", host: "acme.localhost:08080", scheme: "http", want: "acme.localhost:8080"},
		{name: "default port with leading zeros", host: "acme.example:0443", scheme: "https", want: "acme.example"},
		{name: "highest port", host: "acme.localhost:65535", scheme: "http", want: "acme.localhost:65535"},
		{name: "unicode label", host: "Bücher.localhost:8080", scheme: "http", want: "xn--bcher-kva.localhost:8080"},
		{name: "ascii form of unicode label", host: "XN--BCHER-KVA.localhost", scheme: "http", want: "xn--bcher-kva.localhost"},
		{name: "sharp s stays (nontransitional)", host: "straße.example", scheme: "https", want: "xn--strae-oqa.example"},
		{name: "full-width letters", host: "ａｃｍｅ.localhost", scheme: "http", want: "acme.localhost"},
		{name: "ipv4 literal", host: "127.0.0.1:8080", scheme: "http", want: "127.0.0.1:8080"},
		{name: "63-octet label", host: long + ".example", scheme: "https", want: long + ".example"},

		{name: "letters in port", host: "acme.localhost:abc", scheme: "http"},
		{name: "port zero", host: "acme.localhost:0", scheme: "http"},
		{name: "port out of range", host: "acme.localhost:65536", scheme: "http"},
		{name: "huge port", host: "acme.localhost:99999999999999999999", scheme: "http"},
		{name: "signed port", host: "acme.localhost:+80", scheme: "http"},
		{name: "negative port", host: "acme.localhost:-80", scheme: "http"},
		{name: "empty port", host: "acme.localhost:", scheme: "http"},
		{name: "two ports", host: "acme.localhost:80:80", scheme: "http"},
		{name: "port then host", host: "globex.localhost:8080@acme.localhost", scheme: "http"},
		{name: "host as port", host: "globex.localhost:acme.localhost", scheme: "http"},
		{name: "empty", host: "", scheme: "http"},
		{name: "only a port", host: ":8080", scheme: "http"},
		{name: "only a dot", host: ".", scheme: "http"},
		{name: "two trailing dots", host: "acme.localhost..", scheme: "http"},
		{name: "empty label", host: "acme..localhost", scheme: "http"},
		{name: "leading dot", host: ".acme.localhost", scheme: "http"},
		{name: "userinfo", host: "user@acme.localhost", scheme: "http"},
		{name: "space", host: "acme .localhost", scheme: "http"},
		{name: "surrounding space", host: " acme.localhost", scheme: "http"},
		{name: "slash", host: "acme.localhost/x", scheme: "http"},
		{name: "backslash", host: `acme.localhost\x`, scheme: "http"},
		{name: "percent-encoding", host: "acme%2elocalhost", scheme: "http"},
		{name: "underscore", host: "ac_me.localhost", scheme: "http"},
		{name: "NUL", host: "acme.localhost\x00", scheme: "http"},
		{name: "leading hyphen", host: "-acme.localhost", scheme: "http"},
		{name: "bad punycode", host: "xn--a.localhost", scheme: "http"},
		{name: "ascii-only punycode", host: "xn--acme-.localhost", scheme: "http"},
		{name: "64-octet label", host: long + "a.example", scheme: "https"},
		{name: "name over 253 octets", host: strings.Repeat(long+".", 4) + "example", scheme: "https"},
		{name: "ipv6 literal", host: "[::1]:8080", scheme: "http"},
		{name: "bare ipv6", host: "::1", scheme: "http"},
		{name: "unknown scheme", host: "acme.localhost", scheme: "ftp"},
		{name: "invalid utf-8", host: "acme\xff.localhost", scheme: "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canon.Host(tc.host, tc.scheme)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Host(%q, %s) = %q, want an error", tc.host, tc.scheme, got)
				}
				if !errors.Is(err, canon.ErrInvalidHost) {
					t.Errorf("error %v does not wrap ErrInvalidHost", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Host(%q, %s) = %q, %v; want %q", tc.host, tc.scheme, got, err, tc.want)
			}
			// Canonical is a fixed point: the result canonicalizes to itself.
			if again, err := canon.Host(got, tc.scheme); err != nil || again != got {
				t.Errorf("Host(%q) = %q, %v; not a fixed point", got, again, err)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		domain string
		want   string // "" means refused
	}{
		{name: "canonical", domain: "login.acme.example", want: "login.acme.example"},
		{name: "upper case and trailing dot", domain: "Login.ACME.example.", want: "login.acme.example"},
		{name: "unicode", domain: "bücher.localhost", want: "xn--bcher-kva.localhost"},
		{name: "unicode upper case", domain: "BÜCHER.localhost", want: "xn--bcher-kva.localhost"},
		{name: "decomposed unicode", domain: "bu\u0308cher.localhost", want: "xn--bcher-kva.localhost"},
		{name: "single label", domain: "localhost", want: "localhost"},

		{name: "port", domain: "acme.example:443"},
		{name: "empty", domain: ""},
		{name: "junk", domain: "not a domain!"},
		{name: "scheme", domain: "https://acme.example"},
		{name: "ipv6", domain: "[::1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canon.Domain(tc.domain)
			if tc.want == "" {
				if err == nil || !errors.Is(err, canon.ErrInvalidHost) {
					t.Fatalf("Domain(%q) = %q, %v; want an ErrInvalidHost error", tc.domain, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Domain(%q) = %q, %v; want %q", tc.domain, got, err, tc.want)
			}
		})
	}
}
