package canon

import (
	"strings"
	"testing"
)

// FuzzCanonicalLDH: whatever the fast path accepts as already canonical, IDNA (the slow path) accepts unchanged.
// `go test` runs the seeds; `go test -fuzz FuzzCanonicalLDH ./internal/canon` explores further.
func FuzzCanonicalLDH(f *testing.F) {
	for _, seed := range []string{"acme.localhost", "a", "a-b.c", "xn--bcher-kva.localhost", "ab--c.test", "a--b.test",
		"1.2.3.4", "-a.test", "a-.test", "a..b", "ACME.localhost", "b\u00fccher.localhost", strings.Repeat("a", 64) + ".test",
		strings.Repeat("a.", 127) + "a", "localhost", "0", "a_b.test", "test."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !isCanonicalLDH(name) {
			return
		}
		a, err := profile.ToASCII(name)
		if err != nil || a != name {
			t.Fatalf("fast path takes %q as canonical, IDNA says %q, %v", name, a, err)
		}
	})
}
