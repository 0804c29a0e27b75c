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
