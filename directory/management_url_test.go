package directory

import "testing"

// TestMalformedManagementURL: a Management API URL whose host is not spelled cleanly is recognised (and so refused
// by the token endpoint and the Management API), while clean URLs and other identifiers are not.
func TestMalformedManagementURL(t *testing.T) {
	for _, tc := range []struct {
		name, aud string
		want      bool
	}{
		{"percent-encoded dot", "https://globex%2Elocalhost/api/v2/", true},
		{"percent-encoded letter", "https://%67lobex.localhost/api/v2/", true},
		{"user information", "https://u@globex.localhost/api/v2/", true},
		{"clean", "https://globex.localhost/api/v2/", false},
		{"clean with port", "https://globex.localhost:8443/api/v2/", false},
		{"identifier", "urn:authio:management", false},
		{"another path", "https://globex%2Elocalhost/api/v3/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MalformedManagementURL(tc.aud); got != tc.want {
				t.Errorf("MalformedManagementURL(%q) = %v, want %v", tc.aud, got, tc.want)
			}
		})
	}
}
