package canon

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrInvalidHost is wrapped by every error of Host and Domain.
var ErrInvalidHost = errors.New("invalid host name")

// profile maps and validates names as UTS #46 / RFC 5891 §5 prescribe for lookup (case and width folded, NFC,
// STD3 letters-digits-hyphen rules, hyphen and joiner rules, the Bidi rule), nontransitional so that "ß"
// stays itself as browsers do, and with RFC 1035 lengths enforced: without VerifyDNSLength, idna.Lookup lets
// empty labels through, and "acme..localhost" would be a second spelling of nothing. The profile is built
// here rather than taken as idna.Lookup, whose options "may change over time": a change there would silently
// move tenants' issuers.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.VerifyDNSLength(true))

// defaultPorts are the ports a URL of each public scheme leaves out (RFC 9110 §4.2).
var defaultPorts = map[string]uint64{"http": 80, "https": 443}

// Domain returns the canonical form of a bare domain name (no port): the form tenant domains are stored in and
// looked up by. The rules, in order:
//
//   - it must be valid UTF-8;
//   - one trailing dot (the DNS root) is removed: "acme.example." is "acme.example";
//   - IPv6 literals ("[::1]") are refused: no tenant domain is one, and an address has many spellings;
//   - the name is mapped and validated by IDNA for lookup (UTS #46 nontransitional, RFC 5891 §5): ASCII
//     letters are lower-cased, Unicode is case-folded, width-mapped and NFC-normalized, and each Unicode
//     label becomes its ASCII "xn--" form, so "Bücher.Example" is "xn--bcher-kva.example";
//   - only letters, digits and hyphens survive (STD3 rules): no spaces, "@", "/", "%", "_", ":" or
//     control characters; labels do not start or end with a hyphen, "xn--" labels must be valid Punycode of a
//     valid label;
//   - labels are 1–63 octets and the name at most 253 (RFC 1035 §2.3.4): no empty labels.
//
// An IPv4 address passes as the name it looks like. Anything refused returns an error wrapping ErrInvalidHost.
func Domain(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidHost)
	}
	if strings.ContainsAny(name, "[]") {
		return "", fmt.Errorf("%w: IPv6 literals are not served", ErrInvalidHost)
	}
	// idna would map invalid UTF-8 to U+FFFD and encode that: a name nobody typed.
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not UTF-8", ErrInvalidHost)
	}
	name = strings.TrimSuffix(name, ".")
	if isCanonicalLDH(name) {
		return name, nil // what ToASCII would return, without its mapping tables: the common case, on every request
	}
	a, err := profile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidHost, err)
	}
	// Before Unicode 16, idna's length check still allows a root label, so a second trailing dot would be
	// left on the result.
	if a == "" || strings.HasSuffix(a, ".") {
		return "", fmt.Errorf("%w: empty label", ErrInvalidHost)
	}
	return a, nil
}

// Host returns the canonical form of an HTTP Host header (RFC 9110 §7.2) for a listener of scheme ("http" or
// "https"): "name" or "name:port", where name is Domain of the part before the port, and the port, when
// present, is 1–65535 written in decimal digits only. Leading zeros are dropped, and the scheme's default port
// (80 for http, 443 for https) is removed, since a URL without it means the same origin. So
// "ACME.example.:0443" on https is "acme.example". A colon with no port after it, a sign, a second colon, an
// IPv6 literal, userinfo, a path, percent-encoding or anything Domain refuses is an error wrapping
// ErrInvalidHost; an unknown scheme is an error too.
func Host(hostHeader, scheme string) (string, error) {
	def, ok := defaultPorts[scheme]
	if !ok {
		return "", fmt.Errorf("%w: unknown scheme %q", ErrInvalidHost, scheme)
	}
	if strings.ContainsAny(hostHeader, "[]") {
		return "", fmt.Errorf("%w: IPv6 literals are not served", ErrInvalidHost)
	}
	name, port, hasPort := strings.Cut(hostHeader, ":")
	if hasPort && strings.Contains(port, ":") {
		return "", fmt.Errorf("%w: more than one colon", ErrInvalidHost)
	}
	name, err := Domain(name)
	if err != nil {
		return "", err
	}
	if !hasPort {
		return name, nil
	}
	// ParseUint with base 10 takes only ASCII digits (no sign, no underscores); bitSize 16 caps it at 65535.
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%w: the port must be a number from 1 to 65535", ErrInvalidHost)
	}
	if n == def {
		return name, nil
	}
	if port[0] != '0' && len(name)+1+len(port) == len(hostHeader) && hostHeader[:len(name)] == name {
		return hostHeader, nil // already canonical: no new string
	}
	return name + ":" + strconv.FormatUint(n, 10), nil
}

// isCanonicalLDH reports whether name is already in the form Domain returns and needs none of IDNA's mapping or
// checks: 1 to 253 bytes of dot-separated labels of 1 to 63 lower-case letters, digits and hyphens, none starting
// or ending with a hyphen and none with hyphens in its third and fourth places (which IDNA reserves, "xn--"
// included, and checks itself).
func isCanonicalLDH(name string) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		label := name[start:i]
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			(len(label) >= 4 && label[2] == '-' && label[3] == '-') {
			return false
		}
		start = i + 1
	}
	return true
}
