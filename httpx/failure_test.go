package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// closedStoreError is a real storage error: a lookup on a store whose database has gone away.
func closedStoreError(t *testing.T) error {
	t.Helper()
	st, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "closed.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = st.GetClientByID(storage.WithTenant(context.Background(), "ten_x"), "cli_x")
	if err == nil {
		t.Fatal("a closed store found a client")
	}
	return err
}

func TestOAuthErrorClassifiesFailures(t *testing.T) {
	t.Parallel()
	dbDown := closedStoreError(t)
	if !errors.Is(dbDown, storage.ErrUnavailable) || errors.Is(dbDown, storage.ErrNotFound) {
		t.Fatalf("closed store error %v: want ErrUnavailable and not ErrNotFound", dbDown)
	}
	redisDown := fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connect: connection refused", cache.ErrUnavailable)

	for _, tc := range []struct {
		name       string
		err        error
		wantError  string
		wantStatus int
	}{
		// Answers about the client or the token keep their RFC error.
		{"unknown client", fosite.ErrInvalidClient.WithWrap(fosite.ErrNotFound), "invalid_client", 401},
		{"unknown client, storage sentinel", fosite.ErrInvalidClient.WithWrap(storage.ErrNotFound), "invalid_client", 401},
		{"wrong secret", fosite.ErrInvalidClient.WithHint("secret mismatch"), "invalid_client", 401},
		{"used refresh token", fosite.ErrInvalidGrant.WithWrap(fosite.ErrInactiveToken), "invalid_grant", 400},
		{"unknown code", fmt.Errorf("stack: %w", fosite.ErrInvalidGrant.WithWrap(fosite.ErrNotFound)), "invalid_grant", 400},
		{"bad request", fosite.ErrInvalidRequest.WithHint("missing grant_type"), "invalid_request", 400},

		// fosite's own names that no specification registers are answered under the registered one.
		{"expired token", fosite.ErrInactiveToken.WithWrap(fosite.ErrTokenExpired), "invalid_grant", 400},
		{"unknown token at introspection", fosite.ErrInactiveToken.WithWrap(fosite.ErrRequestUnauthorized.WithWrap(fosite.ErrNotFound)),
			"invalid_grant", 400},
		{"short state", fosite.ErrInvalidState.WithHint("Request parameter 'state' must be at least be 8 characters long."), "invalid_request", 400},
		{"short nonce", fosite.ErrInsufficientEntropy, "invalid_request", 400},
		{"client authentication at introspection", fosite.ErrRequestUnauthorized, "invalid_client", 401},
		{"forged token", fosite.ErrTokenSignatureMismatch, "invalid_grant", 400},
		{"refresh without offline_access", fosite.ErrScopeNotGranted, "invalid_scope", 400},
		{"unknown response mode", fosite.ErrUnsupportedResponseMode, "invalid_request", 400},
		{"replayed client assertion", fosite.ErrJTIKnown, "invalid_client", 401},
		{"forbidden", fosite.ErrRequestForbidden, "access_denied", 403},
		{"not found", fosite.ErrNotFound, "invalid_grant", 400},
		{"token claim", fosite.ErrTokenClaim, "invalid_grant", 400},

		// A failure of the database or the cache is a 503, whatever fosite wrapped it in.
		{"client lookup failed", fmt.Errorf("stack: %w", fosite.ErrInvalidClient.WithWrap(dbDown).WithDebug(dbDown.Error())),
			"temporarily_unavailable", 503},
		{"authorize client lookup failed", fosite.ErrInvalidClient.WithHint("The requested OAuth 2.0 Client does not exist.").WithWrap(dbDown),
			"temporarily_unavailable", 503},
		{"token lookup failed at introspection", fosite.ErrInactiveToken.WithWrap(fosite.ErrRequestUnauthorized.WithWrap(dbDown)),
			"temporarily_unavailable", 503},
		{"refresh lookup failed", fosite.ErrServerError.WithWrap(dbDown), "temporarily_unavailable", 503},
		{"fosite's unrecognised error around a failure", fosite.ErrorToRFC6749Error(dbDown), "temporarily_unavailable", 503},
		{"plain storage failure", dbDown, "temporarily_unavailable", 503},
		{"cache failure", fmt.Errorf("throttle: %w", redisDown), "temporarily_unavailable", 503},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), "temporarily_unavailable", 503},
		{"fosite's own temporarily_unavailable (revocation)", fosite.ErrTemporarilyUnavailable, "temporarily_unavailable", 503},

		// Anything else unexpected is server_error, never {"error":"error"}.
		{"plain error", errors.New("boom"), "server_error", 500},
		{"fosite's unrecognised error", fosite.ErrorToRFC6749Error(errors.New("boom")), "server_error", 500},
		{"fosite's unknown request", fosite.ErrUnknownRequest, "server_error", 500},
		{"fosite's serialization failure", fosite.ErrSerializationFailure, "server_error", 500},
		{"misconfiguration", fosite.ErrMisconfiguration.WithHint("bad config"), "server_error", 500},
		{"server error", fosite.ErrServerError.WithWrap(errors.New("boom")), "server_error", 500},
		{"missing tenant behind invalid_client", fosite.ErrInvalidClient.WithWrap(storage.ErrNoTenant), "server_error", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := httpx.OAuthError(tc.err)
			if got.ErrorField != tc.wantError || got.CodeField != tc.wantStatus {
				t.Fatalf("OAuthError = %s (%d), want %s (%d)", got.ErrorField, got.CodeField, tc.wantError, tc.wantStatus)
			}
			if cause := httpx.FailureCause(context.Background(), tc.err); !errors.Is(got, cause) {
				t.Errorf("the result lost the underlying error %v for the log", cause)
			}
			body, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{`"error":"error"`, "unrecognizable", "database", "sqlite", "connection refused", "boom"} {
				if strings.Contains(string(body), bad) {
					t.Errorf("body %s contains %q", body, bad)
				}
			}
			rec := httptest.NewRecorder()
			httpx.WriteFailure(rec, tc.err)
			if rec.Code < 500 || strings.Contains(rec.Body.String(), `"error":"error"`) {
				t.Errorf("WriteFailure: %d %s", rec.Code, rec.Body)
			}
			if ra := rec.Header().Get("Retry-After"); (rec.Code == http.StatusServiceUnavailable) != (ra != "") {
				t.Errorf("WriteFailure: status %d with Retry-After %q", rec.Code, ra)
			}
		})
	}
	if httpx.OAuthError(nil) != nil {
		t.Error("OAuthError(nil) is not nil")
	}
}

func TestFailureCauseIsWhatTheDatabaseSaid(t *testing.T) {
	t.Parallel()
	dbDown := closedStoreError(t)
	wrapped := fmt.Errorf("stack: %w", fosite.ErrInactiveToken.WithWrap(fosite.ErrRequestUnauthorized.WithWrap(dbDown)))
	if got := httpx.FailureCause(context.Background(), wrapped); got != dbDown {
		t.Errorf("FailureCause = %v, want the storage error %v", got, dbDown)
	}

	// fosite's revocation drops the storage error; the failure log recorded in the context stands in.
	ctx := storage.WithFailureLog(storage.WithTenant(context.Background(), "ten_x"))
	st, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "closed.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.GetUser(ctx, "user_x"); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("GetUser on a closed store: %v", err)
	}
	got := httpx.FailureCause(ctx, fosite.ErrTemporarilyUnavailable)
	if !errors.Is(got, storage.ErrUnavailable) || !strings.Contains(got.Error(), "closed") {
		t.Errorf("FailureCause with a failure log = %v, want the recorded storage failure", got)
	}
}
