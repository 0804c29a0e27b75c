package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/mux"
)

func TestCheckInput(t *testing.T) {
	const multipartType = "multipart/form-data; boundary=b"
	part := func(name, value string) string {
		return "--b\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
	}
	for _, tc := range []struct {
		name        string
		method      string
		target      string
		vars        map[string]string // mux route variables, escaped as the router matches them
		contentType string
		body        string
		basic       [2]string
		want        *InputError // nil: accepted
		wantMessage string      // substring of the message
	}{
		{name: "clean request", target: "/api/v2/organizations/org_1?page=2&name=acme", vars: map[string]string{"id": "org_1"}},
		{name: "escaped slash in a segment", target: "/api/v2/resource-servers/https%3A%2F%2Fapi.acme.test",
			vars: map[string]string{"id": "https%3A%2F%2Fapi.acme.test"}},
		{name: "NUL in a path variable", target: "/api/v2/organizations/%00", vars: map[string]string{"id": "%00"},
			want: &InputError{In: InPath, Name: "id", Reason: reasonNUL}, wantMessage: `The path segment "id" must not contain a NUL byte.`},
		{name: "invalid UTF-8 in a path variable", target: "/api/v2/users/%FF", vars: map[string]string{"id": "%FF"},
			want: &InputError{In: InPath, Name: "id", Reason: reasonUTF8}, wantMessage: `"id" must be valid UTF-8`},
		{name: "second of two path variables", target: "/o/org_1/m/a%00b", vars: map[string]string{"id": "org_1", "user_id": "a%00b"},
			want: &InputError{In: InPath, Name: "user_id", Reason: reasonNUL}},
		{name: "bad segment without a variable", target: "/a%00/b",
			want: &InputError{In: InPath, Reason: reasonNUL}, wantMessage: "The path must not"},
		{name: "valid multibyte text", target: "/x?name=J%C3%BCrgen+%E6%97%A5%E6%9C%AC"},
		{name: "NUL in a query value", target: "/x?name=%00",
			want: &InputError{In: InQuery, Name: "name", Reason: reasonNUL}, wantMessage: `The query parameter "name" must not`},
		{name: "invalid UTF-8 in a query value", target: "/x?q=%C3%28",
			want: &InputError{In: InQuery, Name: "q", Reason: reasonUTF8}},
		{name: "NUL in a query name", target: "/x?a%00b=1",
			want: &InputError{In: InQuery, Reason: reasonNUL}, wantMessage: "A query parameter name must not"},
		{name: "first bad query parameter in order", target: "/x?z=ok&b=%FF&a=%00",
			want: &InputError{In: InQuery, Name: "b", Reason: reasonUTF8}},
		{name: "undecodable query pair is dropped, not checked", target: "/x?a=%zz%00&b=1"},
		{name: "long name is cut short", target: "/x?" + strings.Repeat("n", 100) + "=%00",
			want: &InputError{In: InQuery, Name: strings.Repeat("n", 100), Reason: reasonNUL}, wantMessage: strings.Repeat("n", 64) + `…"`},
		{name: "NUL in a form value", method: "POST", target: "/oauth/token", contentType: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_id=cli_%00", want: &InputError{In: InForm, Name: "client_id", Reason: reasonNUL},
			wantMessage: `The form field "client_id" must not`},
		{name: "raw invalid UTF-8 in a form value", method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded",
			body: "email=a\xff", want: &InputError{In: InForm, Name: "email", Reason: reasonUTF8}},
		{name: "NUL in a form name", method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: "%00=1", want: &InputError{In: InForm, Reason: reasonNUL}, wantMessage: "A form field name must not"},
		{name: "form type spelled with a space before its parameter", method: "POST", target: "/oauth/token",
			contentType: "application/x-www-form-urlencoded ; charset=utf-8", body: "organization=a%00b",
			want: &InputError{In: InForm, Name: "organization", Reason: reasonNUL}},
		{name: "form type in upper case with a tab", method: "POST", target: "/login",
			contentType: "APPLICATION/X-WWW-FORM-URLENCODED\t;charset=utf-8", body: "email=a%ff",
			want: &InputError{In: InForm, Name: "email", Reason: reasonUTF8}},
		{name: "clean form", method: "POST", target: "/login", contentType: "application/x-www-form-urlencoded", body: "email=a%40b.test&password=x"},
		{name: "NUL in a multipart field", method: "POST", target: "/oauth/token", contentType: multipartType,
			body: part("grant_type", "client_credentials") + part("client_id", "cli_\x00") + "--b--\r\n",
			want: &InputError{In: InForm, Name: "client_id", Reason: reasonNUL}},
		{name: "uploaded file is not a field", method: "POST", target: "/oauth/token", contentType: multipartType,
			body: "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n\x00\xff\r\n--b--\r\n"},
		{name: "JSON body is DecodeJSON's to check", method: "POST", target: "/api/v2/clients", contentType: "application/json",
			body: `{"name":"a\u0000"}`},
		{name: "NUL in a Basic client id", method: "POST", target: "/oauth/token", basic: [2]string{"cli_%00", "secret"},
			want: &InputError{In: InHeader, Name: "client_id", Reason: reasonNUL}, wantMessage: "The client_id in the Authorization header must not"},
		{name: "raw invalid UTF-8 in a Basic client id", method: "POST", target: "/oauth/token", basic: [2]string{"cli_\xfe", "secret"},
			want: &InputError{In: InHeader, Name: "client_id", Reason: reasonUTF8}},
		{name: "the Basic secret is hashed, never stored", method: "POST", target: "/oauth/token", basic: [2]string{"cli_1", "s\x00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "http://acme.localhost"+tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.basic[0] != "" {
				r.SetBasicAuth(tc.basic[0], tc.basic[1])
			}
			if tc.vars != nil {
				r = mux.SetURLVars(r, tc.vars)
			}
			got := CheckInput(r)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("refused: %+v (%v)", got, got)
			case tc.want != nil && (got == nil || *got != *tc.want):
				t.Fatalf("CheckInput = %+v, want %+v", got, tc.want)
			}
			if got != nil {
				msg := got.Error()
				if !strings.Contains(msg, tc.wantMessage) {
					t.Errorf("message %q, want it to contain %q", msg, tc.wantMessage)
				}
				if strings.ContainsRune(msg, 0) || !utf8.ValidString(msg) {
					t.Errorf("message %q echoes the bad bytes", msg)
				}
			}
			// The handler still reads the body as sent.
			if tc.contentType != "" && strings.HasPrefix(tc.contentType, "application/x-www-form-urlencoded") {
				if err := r.ParseForm(); err != nil {
					t.Fatalf("ParseForm after the check: %v", err)
				}
				if enc := r.PostForm.Encode(); tc.body != "" && enc == "" {
					t.Errorf("the body was not put back")
				}
			}
		})
	}
}

// TestCheckInputPutsTheBodyBack: the handler parses the same form, and a body that ended in an error (over
// the size limit) still ends in that error for the handler.
func TestCheckInputPutsTheBodyBack(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("email=a%40b.test&password=p%C3%A4ss"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if e := CheckInput(r); e != nil {
		t.Fatalf("refused: %v", e)
	}
	if r.PostFormValue("email") != "a@b.test" || r.PostFormValue("password") != "päss" {
		t.Errorf("form after the check = %v", r.PostForm)
	}

	big := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("client_id=cli_1&pad="+strings.Repeat("x", 100)+"%00"))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	big.Body = http.MaxBytesReader(httptest.NewRecorder(), big.Body, 32)
	if e := CheckInput(big); e != nil {
		t.Fatalf("a body over the limit is the handler's to refuse; got %v", e)
	}
	var mbe *http.MaxBytesError
	if err := big.ParseForm(); !errors.As(err, &mbe) {
		t.Errorf("ParseForm after the check = %v, want the MaxBytesError", err)
	}
}
