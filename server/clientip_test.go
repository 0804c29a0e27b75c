package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/authio/authio/config"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{name: "no proxies configured: XFF ignored", remote: "203.0.113.9:5555", xff: []string{"198.51.100.1"}, want: "203.0.113.9"},
		{name: "untrusted peer: XFF ignored", trusted: proxies, remote: "203.0.113.9:5555", xff: []string{"198.51.100.1"}, want: "203.0.113.9"},
		{name: "trusted proxy: client from XFF", trusted: proxies, remote: "10.1.2.3:443", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "spoofed left-most entry is not believed", trusted: proxies, remote: "10.1.2.3:443",
			xff: []string{"1.1.1.1, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "chain of trusted proxies", trusted: proxies, remote: "127.0.0.1:443",
			xff: []string{"198.51.100.7", "10.9.9.9"}, want: "198.51.100.7"},
		{name: "trusted proxy without XFF", trusted: proxies, remote: "10.1.2.3:443", want: "10.1.2.3"},
		{name: "malformed hop stops the walk", trusted: proxies, remote: "10.1.2.3:443", xff: []string{"garbage"}, want: "10.1.2.3"},
		{name: "IPv6 client", trusted: proxies, remote: "10.1.2.3:443", xff: []string{"2001:db8::1"}, want: "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{Config: config.Config{TrustedProxies: tc.trusted}}
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.ClientIP(r); got != tc.want {
				t.Errorf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientIDOfLogsOnlyClientIDs(t *testing.T) {
	for _, tc := range []struct {
		name, basicUser, query, want string
	}{
		{name: "basic auth client", basicUser: "cli_abc", want: "cli_abc"},
		{name: "query client", query: "client_id=cli_xyz", want: "cli_xyz"},
		{name: "an API key as the user name", basicUser: "sk_live_secret", want: ""},
		{name: "anything else", query: "client_id=hello", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/oauth/token?"+tc.query, nil)
			if tc.basicUser != "" {
				r.SetBasicAuth(tc.basicUser, "pw")
			}
			if got := clientIDOf(r); got != tc.want {
				t.Errorf("clientIDOf = %q, want %q", got, tc.want)
			}
		})
	}
}
