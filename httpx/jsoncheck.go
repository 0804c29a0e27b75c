package httpx

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// unstorableJSON returns a *BodyError naming the first string of a JSON text, object key or value at any depth,
// that storage cannot keep: one holding a NUL character (Postgres refuses it in text and jsonb alike), or one
// whose raw bytes are not UTF-8 (which encoding/json would silently turn into U+FFFD, storing something other
// than what was sent). It returns nil when there is none, and when the text is not valid JSON: the decoder then
// says what is wrong. Only a body that holds an escaped NUL or is not UTF-8 is walked, so the usual body costs
// two scans of its bytes.
func unstorableJSON(raw []byte) *BodyError {
	bad := -1 // offset of the first byte that is not UTF-8
	if !utf8.Valid(raw) {
		bad = invalidUTF8At(raw)
	} else if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers are not looked at; this keeps 1e400 from ending the walk
	var stack []jsonFrame
	start := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		end := dec.InputOffset()
		// The token's text lies in [start, end), after any separator; a byte that is not UTF-8 outside a string
		// is a syntax error, so one inside this span is inside this token.
		covers := bad >= 0 && int64(bad) >= start && int64(bad) < end
		start = end
		n := len(stack)
		if n > 0 && stack[n-1].object && stack[n-1].wantKey {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone(stack)
				continue
			}
			key, _ := tok.(string)
			if reason := unstorableString(key, covers); reason != "" {
				where := "The body"
				if n > 1 {
					where = jsonPath(stack[:n-1])
				}
				return bodyErrorf("%s: the key %s %s.", where, quoteName(key), reason)
			}
			stack[n-1].key, stack[n-1].wantKey = key, false
			continue
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, jsonFrame{object: true, wantKey: true})
			case '[':
				stack = append(stack, jsonFrame{})
			default: // ']'; '}' was handled with the keys
				stack = stack[:n-1]
				valueDone(stack)
			}
		case string:
			if reason := unstorableString(tok, covers); reason != "" {
				if n == 0 {
					return bodyErrorf("The body %s.", reason)
				}
				return bodyErrorf("%s: %s.", jsonPath(stack), reason)
			}
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
}

// jsonFrame is an object or array being walked, and where in it the walk is.
type jsonFrame struct {
	object  bool
	wantKey bool   // objects: the next string is a key
	key     string // objects: the current key
	index   int    // arrays: the current index
}

// valueDone moves the innermost frame past the value just read.
func valueDone(stack []jsonFrame) {
	if n := len(stack); n > 0 {
		if stack[n-1].object {
			stack[n-1].wantKey = true
		} else {
			stack[n-1].index++
		}
	}
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// jsonPath names the current position of each frame as callers write it: metadata.plan, callbacks[1],
// metadata."a key".
func jsonPath(stack []jsonFrame) string {
	var b strings.Builder
	for i, f := range stack {
		switch {
		case !f.object:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if plainKey.MatchString(f.key) {
				b.WriteString(f.key)
			} else {
				b.WriteString(quoteName(f.key))
			}
		}
	}
	return b.String()
}

// unstorableString says why a decoded JSON string cannot be stored; notUTF8 reports that its raw text was not
// UTF-8, which the decoded string no longer shows.
func unstorableString(s string, notUTF8 bool) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character"
	}
	if notUTF8 {
		return reasonUTF8
	}
	return ""
}

// invalidUTF8At returns the offset of the first byte of b that is not part of a UTF-8 sequence, or -1.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
