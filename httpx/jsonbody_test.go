package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name  string   `json:"name"`
		Tags  []string `json:"tags"`
		Count int      `json:"count"`
	}
	for _, tc := range []struct {
		name, contentType, body string
		want                    string // substring of the BodyError message; "" for success
		tooLarge                bool
	}{
		{name: "valid", contentType: "application/json", body: `{"name":"a","tags":["x"],"count":2}`},
		{name: "charset parameter", contentType: "application/json; charset=utf-8", body: `{"name":"a"}`},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `{"name":"a"}`, want: "Content-Type application/json"},
		{name: "empty", contentType: "application/json", body: ``, want: "empty"},
		{name: "not an object", contentType: "application/json", body: `[1,2]`, want: "must be a JSON object"},
		{name: "wrong field type", contentType: "application/json", body: `{"count":"two"}`, want: "count: must be a number"},
		{name: "unknown field", contentType: "application/json", body: `{"nmae":"a"}`, want: `Unknown field "nmae"`},
		{name: "syntax error", contentType: "application/json", body: `{"name":`, want: "not valid JSON"},
		{name: "two objects", contentType: "application/json", body: `{"name":"a"}{"name":"b"}`, want: "exactly one JSON object"},
		{name: "too large", contentType: "application/json", body: `{"name":"` + strings.Repeat("x", 100) + `"}`, tooLarge: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 64)
			var v body
			err := DecodeJSON(r, &v)
			var be *BodyError
			var mbe *http.MaxBytesError
			switch {
			case tc.tooLarge:
				if !errors.As(err, &mbe) {
					t.Fatalf("err = %v, want the MaxBytesError", err)
				}
			case tc.want == "":
				if err != nil || v.Name != "a" {
					t.Fatalf("err = %v, value %+v", err, v)
				}
			case !errors.As(err, &be) || !strings.Contains(be.Message, tc.want):
				t.Fatalf("err = %v, want a BodyError mentioning %q", err, tc.want)
			case strings.Contains(be.Message, tc.body) && tc.body != "":
				t.Errorf("message %q echoes the body", be.Message)
			}
		})
	}
}

// TestDecodeJSONNames: a member name is a field's exact name, once per object, at every depth: encoding/json alone
// matches names in any case and keeps the last of a repeated one, so a filter in front of the API and the API
// would read different requests.
func TestDecodeJSONNames(t *testing.T) {
	type inner struct {
		Plan string `json:"plan"`
	}
	type embedded struct {
		Extra string `json:"extra"`
	}
	type body struct {
		embedded
		Name     string          `json:"name"`
		Inner    *inner          `json:"inner"`
		List     []inner         `json:"list"`
		Metadata map[string]any  `json:"metadata"`
		Raw      json.RawMessage `json:"raw"`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"exact names", `{"name":"a","extra":"e","inner":{"plan":"p"},"list":[{"plan":"q"}],"metadata":{"A":1,"a":{"b":[{"B":1,"b":2}]}},"raw":{"x":1}}`, ""},
		{"another case", `{"NAME":"a"}`, `Unknown field "NAME"`},
		{"another case beside the name", `{"name":"a","Name":"b"}`, `Unknown field "Name"`},
		{"another case, nested struct", `{"name":"a","inner":{"Plan":"p"}}`, `inner: Unknown field "Plan"`},
		{"another case, struct in an array", `{"name":"a","list":[{"plan":"x"},{"PLAN":"p"}]}`, `list[1]: Unknown field "PLAN"`},
		{"another case, embedded field", `{"name":"a","Extra":"e"}`, `Unknown field "Extra"`},
		{"repeated", `{"name":"a","name":"b"}`, `"name" is given more than once`},
		{"repeated in a nested struct", `{"name":"a","inner":{"plan":"p","plan":"q"}}`, `inner: the field "plan"`},
		{"repeated deep in a map", `{"name":"a","metadata":{"x":[{"y":{"k":1,"k":2}}]}}`, `metadata.x[0].y: the field "k"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var v body
			err := DecodeJSON(r, &v)
			var be *BodyError
			switch {
			case tc.want == "":
				if err != nil || v.Name != "a" {
					t.Fatalf("err = %v, value %+v", err, v)
				}
			case !errors.As(err, &be) || !strings.Contains(be.Message, tc.want):
				t.Fatalf("err = %v, want a BodyError mentioning %q", err, tc.want)
			}
		})
	}
}
