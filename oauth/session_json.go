package oauth

import (
	"bytes"
	"encoding/json"
)

// UnmarshalJSON decodes a session stored with a grant (a code, a refresh token, …) so that integer claims stay
// integers. Plain encoding/json turns every number in the free-form claim maps into a float64, and the JWT
// encoder then writes updated_at as 1.796065504e+09, which readers of OIDC Core §5.1's "number of seconds"
// (Go's encoding/json into an int64, say) refuse. Numbers in the ID token's extra claims, its extra headers and
// AccessClaims come back as int64 when they are integers that fit and as float64 otherwise; every other value
// decodes as it always did.
func (s *Session) UnmarshalJSON(b []byte) error {
	type stored Session // the same fields without this method, so decoding does not recurse
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode((*stored)(s)); err != nil {
		return err
	}
	if s.Claims != nil {
		numbersIn(s.Claims.Extra)
	}
	if s.Headers != nil {
		numbersIn(s.Headers.Extra)
	}
	numbersIn(s.AccessClaims)
	return nil
}

// numbersIn replaces, in place, the json.Numbers of a claim map decoded with UseNumber.
func numbersIn(m map[string]any) {
	for k, v := range m {
		m[k] = number(v)
	}
}

// number turns a json.Number into an int64 when it is an integer that fits, else a float64 (what
// encoding/json would have made of it), descending into objects and arrays.
func number(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64() // a valid JSON number; only its range can fail, as it would have without UseNumber
		return f
	case map[string]any:
		numbersIn(x)
	case []any:
		for i, e := range x {
			x[i] = number(e)
		}
	}
	return v
}
