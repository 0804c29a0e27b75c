package authn_test

import (
	"testing"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/storage"
)

// TestNoSettings: a kind without settings accepts none and names, sorted, the keys it was given.
func TestNoSettings(t *testing.T) {
	if err := authn.NoSettings("email", storage.Connection{}); err != nil {
		t.Errorf("no settings: %v", err)
	}
	err := authn.NoSettings("email", storage.Connection{Settings: map[string]any{"b": 1, "a": true}})
	if err == nil || err.Error() != `email connections take no settings (got ["a" "b"])` {
		t.Errorf("settings a and b: %v", err)
	}
}
