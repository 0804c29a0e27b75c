package password

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDummyHashIsLazy checks that importing the package computes no bcrypt hash (every CLI command imports it):
// the dummy hash an unknown account is checked against is made on the first such check, once per cost. It runs
// in a fresh process of this test binary, where no other test can have checked a password yet.
func TestDummyHashIsLazy(t *testing.T) {
	if os.Getenv("PASSWORD_LAZY_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDummyHashIsLazy$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PASSWORD_LAZY_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("in a fresh process: %v\n%s", err, out)
		}
		return
	}
	made := func() int {
		n := 0
		dummies.Range(func(any, any) bool { n++; return true })
		return n
	}
	if n := made(); n != 0 {
		t.Fatalf("%d dummy hashes exist before any check: computed at initialization", n)
	}
	if Check("", "guess", bcrypt.MinCost) {
		t.Fatal("an account without a password accepted a guess")
	}
	first := dummyHash(bcrypt.MinCost)
	if n := made(); n != 1 {
		t.Fatalf("%d dummy hashes after one check, want 1", n)
	}
	if Check("", "again", bcrypt.MinCost); made() != 1 || string(dummyHash(bcrypt.MinCost)) != string(first) {
		t.Fatal("a second check at the same cost made another dummy hash")
	}
}
