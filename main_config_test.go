package main

import (
	"strings"
	"testing"
)

// TestConfigurationProblemsAllAtOnce: an unknown variable or a value that does not parse no longer hides the
// other problems: one line lists them all.
func TestConfigurationProblemsAllAtOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	_, err := c.runEnv([]string{"AUTHIO_FOO=1", "AUTHIO_ACCESS_TOKEN_TTL=xyz", "AUTHIO_LISTEN=bogus"}, "tenant", "list")
	if err == nil {
		t.Fatal("tenant list with a broken configuration succeeded")
	}
	for _, want := range []string{"AUTHIO_FOO", "AUTHIO_ACCESS_TOKEN_TTL", `listen address "bogus"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("error spans several lines: %q", err)
	}
}
