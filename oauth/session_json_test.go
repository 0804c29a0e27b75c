package oauth

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestSessionJSONRoundTrip: a session read back from storage has the claims it was stored with, of the same
// kinds: integers as int64 (never float64), fractions as float64, and strings, booleans, lists and objects as
// encoding/json makes them, so the readers (OrgID, Roles, Permissions) keep working.
func TestSessionJSONRoundTrip(t *testing.T) {
	in := NewSession("user_1", "cli_1")
	in.Claims.Extra = map[string]any{"updated_at": int64(1796065504), "sid": "ses_1", "email_verified": true,
		"ratio": 0.5, "big": int64(1) << 60, "nested": map[string]any{"n": 7, "l": []any{1, 2.5, "x"}}}
	in.Headers.Extra = map[string]any{"typ": "JWT", "v": 2}
	in.AccessClaims = map[string]any{ClaimOrgID: "org_1", ClaimRoles: []string{"admin"}, ClaimPermissions: []string{"read:a", "write:a"},
		"limit": 100}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := NewSession("", "")
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{name: "updated_at", got: out.Claims.Extra["updated_at"], want: int64(1796065504)},
		{name: "a value beyond float64's integers", got: out.Claims.Extra["big"], want: int64(1) << 60},
		{name: "a fraction", got: out.Claims.Extra["ratio"], want: 0.5},
		{name: "a string", got: out.Claims.Extra["sid"], want: "ses_1"},
		{name: "a boolean", got: out.Claims.Extra["email_verified"], want: true},
		{name: "an object", got: out.Claims.Extra["nested"], want: map[string]any{"n": int64(7), "l": []any{int64(1), 2.5, "x"}}},
		{name: "a header", got: out.Headers.Extra["v"], want: int64(2)},
		{name: "an access claim", got: out.AccessClaims["limit"], want: int64(100)},
		{name: "the subject", got: out.Subject, want: "user_1"},
		{name: "the client", got: out.ClientID, want: "cli_1"},
		{name: "OrgID", got: out.OrgID(), want: "org_1"},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if !slices.Equal(out.Roles(), []string{"admin"}) || !slices.Equal(out.Permissions(), []string{"read:a", "write:a"}) {
		t.Errorf("roles %v, permissions %v", out.Roles(), out.Permissions())
	}
	if !out.Claims.RequestedAt.Equal(in.Claims.RequestedAt) {
		t.Errorf("requested_at = %v, want %v", out.Claims.RequestedAt, in.Claims.RequestedAt)
	}
}
