package httpx

import (
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
