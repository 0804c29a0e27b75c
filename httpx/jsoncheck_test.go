package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeJSONRefusesUnstorableStrings: a NUL character in any string, key or value, at any depth, and any
// byte that is not UTF-8 are a BodyError naming the JSON path; nothing is decoded into the target.
func TestDecodeJSONRefusesUnstorableStrings(t *testing.T) {
	type body struct {
		Name     string              `json:"name"`
		Tags     []string            `json:"tags"`
		Metadata map[string]any      `json:"metadata"`
		Items    []map[string]string `json:"items"`
		Count    int                 `json:"count"`
	}
	for _, tc := range []struct {
		name, body string
		want       string // the BodyError message; "" for success
	}{
		{name: "NUL in a value", body: `{"name":"a\u0000b"}`, want: "name: must not contain a NUL character."},
		{name: "NUL in a list item", body: `{"tags":["ok","\u0000"]}`, want: "tags[1]: must not contain a NUL character."},
		{name: "NUL in a nested value", body: `{"metadata":{"foo":"x\u0000"}}`, want: "metadata.foo: must not contain a NUL character."},
		{name: "NUL deep down", body: `{"metadata":{"a":[1,true,null,{"b":{"c":["\u0000"]}}]}}`,
			want: "metadata.a[3].b.c[0]: must not contain a NUL character."},
		{name: "NUL in a list of objects", body: `{"items":[{"k":"v"},{"k":"\u0000"}]}`, want: "items[1].k: must not contain a NUL character."},
		{name: "NUL in a nested key", body: `{"metadata":{"a\u0000b":"x"}}`, want: `metadata: the key "a\x00b" must not contain a NUL character.`},
		{name: "NUL in a top-level key", body: `{"na\u0000me":"x"}`, want: `The body: the key "na\x00me" must not contain a NUL character.`},
		{name: "odd key in the path is quoted", body: `{"metadata":{"a b.c":"\u0000"}}`, want: `metadata."a b.c": must not contain a NUL character.`},
		{name: "invalid UTF-8 in a value", body: "{\"name\":\"a\xffb\"}", want: "name: must be valid UTF-8."},
		{name: "invalid UTF-8 in a nested value", body: "{\"count\":1,\"metadata\":{\"x\":[\"ok\",\"\xc3(\"]}}", want: "metadata.x[1]: must be valid UTF-8."},
		{name: "invalid UTF-8 in a key", body: "{\"metadata\":{\"k\xed\xa0\x80\":1}}", want: "metadata: the key \"k\ufffd\ufffd\ufffd\" must be valid UTF-8."},
		{name: "the first of two", body: `{"tags":["\u0000"],"name":"\u0000"}`, want: "tags[0]: must not contain a NUL character."},
		{name: "invalid UTF-8 outside a string is a syntax error", body: "{\"name\":\"a\"\xff}", want: "not valid JSON"},
		{name: "huge number before the NUL", body: `{"metadata":{"n":1e400,"s":"\u0000"}}`, want: "metadata.s: must not contain a NUL character."},
		{name: "escaped backslash is not a NUL", body: `{"name":"\\u0000"}`},
		{name: "valid multibyte text", body: `{"name":"Jürgen 日本 \ud83d\ude00"}`},
		{name: "lone surrogate escape decodes to U+FFFD", body: `{"name":"\ud800"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var v body
			err := DecodeJSON(r, &v)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if strings.ContainsRune(v.Name, 0) || !utf8.ValidString(v.Name) {
					t.Errorf("decoded name %q", v.Name)
				}
				return
			}
			var be *BodyError
			if !errors.As(err, &be) || !strings.Contains(be.Message, tc.want) {
				t.Fatalf("err = %v, want a BodyError with %q", err, tc.want)
			}
			if strings.ContainsRune(be.Message, 0) || !utf8.ValidString(be.Message) {
				t.Errorf("message %q carries the bad bytes", be.Message)
			}
		})
	}
}
