package canon

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// folder is shared by every request: x/text documents Fold's Caser as stateless and safe for concurrent use.
var folder = cases.Fold()

// Email returns the form an email address is stored, looked up and compared in, so that two addresses a person
// reads as the same are the same user. In order:
//
//   - surrounding white space (Unicode White_Space, as strings.TrimSpace) is removed;
//   - the text is put in Unicode Normalization Form C, so "jürgen" typed with a precomposed "ü" (U+00FC) and
//     with "u" plus a combining diaeresis (U+0308) are one string;
//   - it is case-folded with Unicode full case folding (golang.org/x/text/cases Fold), not lower-cased:
//     folding is the mapping Unicode defines for caseless comparison, so "STRASSE" and "Straße" both become
//     "strasse", and the Kelvin sign and Greek final sigma compare as the letters they look like, which
//     lower-casing leaves apart;
//   - Cherokee letters end in their capital form, which is what Unicode's CaseFolding.txt folds both cases to:
//     x/text's Fold swaps the two cases of Cherokee instead, so folding twice undid it and two users could be
//     "Ꭰlice" and "ꭰlice";
//   - it is put in NFC again, since folding can yield a decomposed sequence.
//
// Email does not check that the result is a valid address; callers that accept new addresses validate it.
// It is idempotent: Email(Email(s)) == Email(s).
func Email(s string) string {
	s = norm.NFC.String(strings.TrimSpace(s))
	s = folder.String(s)
	if strings.ContainsFunc(s, isCherokee) {
		s = strings.Map(func(r rune) rune {
			if isCherokee(r) {
				return unicode.ToUpper(r)
			}
			return r
		}, s)
	}
	return norm.NFC.String(s)
}

// isCherokee reports whether r is a Cherokee letter of either case (U+13A0–U+13FD, U+AB70–U+ABBF).
func isCherokee(r rune) bool {
	return (r >= 0x13A0 && r <= 0x13FD) || (r >= 0xAB70 && r <= 0xABBF)
}
