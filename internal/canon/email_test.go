package canon_test

import (
	"testing"

	"github.com/authio/authio/internal/canon"
)

func TestEmail(t *testing.T) {
	t.Parallel()
	const nfc = "j\u00fcrgen@example.test"  // ü precomposed
	const nfd = "ju\u0308rgen@example.test" // u + combining diaeresis
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "already canonical", in: "alice@example.test", want: "alice@example.test"},
		{name: "ascii upper case", in: "Alice@Example.TEST", want: "alice@example.test"},
		{name: "NFC", in: nfc, want: nfc},
		{name: "NFD", in: nfd, want: nfc},
		{name: "upper case NFC", in: "J\u00dcRGEN@EXAMPLE.TEST", want: nfc},
		{name: "upper case NFD", in: "JU\u0308RGEN@example.test", want: nfc},
		{name: "sharp s folds to ss", in: "stra\u00dfe@example.test", want: "strasse@example.test"},
		{name: "STRASSE", in: "STRASSE@example.test", want: "strasse@example.test"},
		{name: "capital sharp s", in: "STRA\u1e9eE@example.test", want: "strasse@example.test"},
		{name: "final sigma", in: "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2@example.test", want: "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3@example.test"},
		{name: "kelvin sign", in: "\u212aate@example.test", want: "kate@example.test"},
		{name: "surrounding spaces", in: "  alice@example.test\t\n", want: "alice@example.test"},
		{name: "surrounding unicode spaces", in: "\u00a0\u3000alice@example.test\u2003", want: "alice@example.test"},
		{name: "inner space kept", in: "a lice@example.test", want: "a lice@example.test"},
		{name: "empty", in: "  ", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := canon.Email(tc.in)
			if got != tc.want {
				t.Fatalf("Email(%+q) = %+q, want %+q", tc.in, got, tc.want)
			}
			if again := canon.Email(got); again != got {
				t.Errorf("Email(%+q) = %+q: not idempotent", got, again)
			}
		})
	}
	if canon.Email(nfc) != canon.Email(nfd) || canon.Email("Stra\u00dfe@x.test") != canon.Email("STRASSE@X.TEST") {
		t.Error("spellings a person reads as one address differ")
	}
}

// TestEmailIsIdempotent: canonical stays canonical, for every rune of the Basic Multilingual Plane and beyond a
// few, as the storage layer normalizes again what the server already normalized.
func TestEmailIsIdempotent(t *testing.T) {
	for r := rune(0x20); r < 0x20000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r) + "lice@acme.test"
		if once := canon.Email(s); canon.Email(once) != once {
			t.Errorf("Email(%+q) = %+q, but Email of that is %+q", s, once, canon.Email(once))
		}
	}
	if canon.Email("\u13A0lice@acme.test") != canon.Email("\uAB70lice@acme.test") {
		t.Error("the two cases of a Cherokee letter are two addresses")
	}
}
