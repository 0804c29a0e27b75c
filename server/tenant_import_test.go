package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
)

// TestImportStops checks that an import whose consumer fails, or whose context ends, stops and returns — also
// when later lines wait for earlier ones with the same slug — and that the lines it reported stand.
func TestImportStops(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, `{"slug":"stop-%d","signing_alg":"ES256"}`+"\n", i%7) // chains of lines waiting on each other
	}
	boom := errors.New("the consumer went away")
	for _, tc := range []struct {
		name string
		stop func(cancel context.CancelFunc, n int) error
		want error
	}{
		{"emit fails", func(_ context.CancelFunc, n int) error {
			if n == 3 {
				return boom
			}
			return nil
		}, boom},
		{"context ends", func(cancel context.CancelFunc, n int) error {
			if n == 3 {
				cancel()
			}
			return nil
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type outcome struct {
				sum server.ImportSummary
				err error
				n   int
			}
			out := make(chan outcome, 1)
			go func() {
				n := 0
				sum, err := env.S.ImportTenants(ctx, strings.NewReader(b.String()), func(r server.ImportResult) error {
					n++
					if r.Line != n {
						t.Errorf("result %d is line %d", n, r.Line)
					}
					return tc.stop(cancel, n)
				})
				out <- outcome{sum, err, n}
			}()
			select {
			case o := <-out:
				if !errors.Is(o.err, tc.want) {
					t.Errorf("ImportTenants = %v, want %v", o.err, tc.want)
				}
				if o.n >= 200 {
					t.Errorf("%d results reported: the import did not stop", o.n)
				}
			case <-time.After(time.Minute): // a bound on a hang, not on speed
				t.Fatal("ImportTenants did not return: deadlocked")
			}
		})
	}
}

// TestImportRefusedLineSlug: a refused line names the slug it was written with, and only that: never one spelled in
// another case, one of two, one with invalid bytes or lone surrogates replaced, or one with control or format
// characters.
func TestImportRefusedLineSlug(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	lines := []struct {
		line, slug string
	}{
		{`{"slug":"colourful","colour":"red"}`, "colourful"},
		{`{"name":"n","slug":" spaced ","signup":"yes"}`, "spaced"},
		{`{"slug":"lower","SLUG":"upper"}`, "lower"}, // refused for "SLUG", an unknown field
		{`{"SLUG":"caseonly"}`, ""},
		{`{"slug":"first","slug":"second"}`, ""},
		{"{\"slug\":\"bad\xffbyte\",\"x\":1}", ""},
		{`{"slug":"nul\u0000byte","x":1}`, ""},
		{`{"slug":"acme\ud800","x":1}`, ""},     // a lone surrogate: decoded as U+FFFD
		{`{"slug":"acme\ud800"}`, ""},           // the same on a line refused field by field
		{`{"slug":"acme\u202eevil","x":1}`, ""}, // a format character (right-to-left override)
		{`{"slug":42}`, ""},
		{`{"slug":{"slug":"nested"}}`, ""},
		{`[{"slug":"in-an-array"}]`, ""},
		{`{"slug":"trailing"} {"x":1}`, ""},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.line + "\n")
	}
	var got []server.ImportResult
	if _, err := env.S.ImportTenants(context.Background(), strings.NewReader(in.String()), func(r server.ImportResult) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) {
		t.Fatalf("%d results for %d lines: %+v", len(got), len(lines), got)
	}
	for i, l := range lines {
		if got[i].Status != server.ImportFailed || got[i].Slug != l.slug {
			t.Errorf("line %s: %s with slug %q, want error with slug %q", l.line, got[i].Status, got[i].Slug, l.slug)
		}
	}
}
