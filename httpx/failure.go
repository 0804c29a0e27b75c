package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// A failure of a service Authio depends on (the database, the cache) is answered as what it is: a 5xx that
// says so and an error-level log line with the request id, never a client error. fosite makes the opposite
// easy: client authentication turns any error loading the client into invalid_client, introspection turns any
// error loading the token into an inactive token, revocation answers 200 whatever happened. A client told
// invalid_client throws away good credentials, and monitoring that counts 5xx sees nothing. OAuthError is the
// one place that decides; every token path (token, introspection, revocation, userinfo, /authorize, the
// account endpoints, Management API authentication, the hosted pages) answers through it.

// RetryAfter is what a 503 asks clients to wait before retrying (Retry-After, RFC 9110 §10.2.3): enough for a
// database failover or a restart to make progress, short enough that a client retrying once loses little.
const RetryAfter = 2 * time.Second

// IsUnavailable reports whether err's chain holds a failure of a backing service: the database
// (storage.ErrUnavailable), the cache (cache.ErrUnavailable), or a deadline that ran out waiting for one.
func IsUnavailable(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, cache.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded)
}

// OAuthError returns the RFC 6749 error (§4.1.2.1, §5.2) to answer err with. The rule:
//   - err's chain holds a failure of a backing service (IsUnavailable): temporarily_unavailable, 503 — whatever
//     RFC error fosite wrapped the failure in (invalid_client, request_unauthorized, token_inactive, …), since
//     none of those is true;
//   - otherwise an RFC error with a 4xx status and a registered name keeps it: invalid_client for an unknown
//     client or a wrong secret, invalid_grant for a used, expired or unknown code or refresh token;
//   - temporarily_unavailable and server_error stay as they are (fosite's revocation says
//     temporarily_unavailable itself when a token lookup failed);
//   - anything else is server_error, 500: a plain Go error, fosite's catch-all {"error":"error"} ("The error is
//     unrecognizable"), its 5xx misconfiguration, or a missing tenant (a programming error).
//
// A 4xx error whose name no specification registers (fosite's invalid_state, insufficient_entropy,
// request_unauthorized, token_inactive, …) is answered under the registered name that means the same thing
// (standardNames), with its description and hint kept: clients and SDKs branch on the registered names only.
//
// The result wraps err for the log; only the RFC error's name and description reach the client.
func OAuthError(err error) *fosite.RFC6749Error {
	if err == nil {
		return nil
	}
	if IsUnavailable(err) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) && !errors.Is(err, storage.ErrNoTenant) {
		switch {
		case rfc.ErrorField == fosite.ErrServerError.ErrorField, rfc.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField:
			return rfc
		case rfc.CodeField < http.StatusInternalServerError && rfc.ErrorField != unknownErrorName:
			if std, ok := standardNames[rfc.ErrorField]; ok {
				c := rfc.WithWrap(err) // a copy: fosite's error values are shared
				c.ErrorField, c.CodeField = std.name, std.status
				return c
			}
			return rfc
		}
	}
	return fosite.ErrServerError.WithWrap(err)
}

// standardNames maps the error names fosite uses that no specification registers to the registered error (RFC
// 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6, RFC 8693 §2.2.2) that says the same, and its status:
//   - invalid_state (a state shorter than 8 characters) and insufficient_entropy (such a nonce) are malformed
//     requests: invalid_request;
//   - unsupported_response_mode (registered nowhere) is a request the server does not accept: invalid_request;
//   - request_unauthorized is fosite's failed client authentication: invalid_client;
//   - token_inactive, token_signature_mismatch, token_claim and not_found name a grant (code, refresh token,
//     subject token) that is unknown, used, expired or forged: invalid_grant;
//   - scope_not_granted (a refresh without offline_access) is invalid_scope;
//   - request_forbidden is access_denied; jti_known (a replayed client assertion) is invalid_client.
var standardNames = map[string]struct {
	name   string
	status int
}{
	"invalid_state":             {"invalid_request", http.StatusBadRequest},
	"insufficient_entropy":      {"invalid_request", http.StatusBadRequest},
	"unsupported_response_mode": {"invalid_request", http.StatusBadRequest},
	"request_unauthorized":      {"invalid_client", http.StatusUnauthorized},
	"token_inactive":            {"invalid_grant", http.StatusBadRequest},
	"token_signature_mismatch":  {"invalid_grant", http.StatusBadRequest},
	"token_claim":               {"invalid_grant", http.StatusBadRequest},
	"not_found":                 {"invalid_grant", http.StatusBadRequest},
	"scope_not_granted":         {"invalid_scope", http.StatusBadRequest},
	"request_forbidden":         {"access_denied", http.StatusForbidden},
	"jti_known":                 {"invalid_client", http.StatusUnauthorized},
}

// unknownErrorName is the name fosite gives an error it does not recognise (ErrorToRFC6749Error), and its
// ErrUnknownRequest and ErrSerializationFailure: never a valid answer.
var unknownErrorName = fosite.ErrUnknownRequest.ErrorField

// SetRetryAfter adds Retry-After to a 503 answer, so clients and proxies back off and retry rather than give
// up on a request that will succeed shortly.
func SetRetryAfter(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	}
}

// WriteFailure answers a request that failed on the server's side in the RFC 6749 JSON shape
// ({"error","error_description"}): temporarily_unavailable (503, with Retry-After) when a backing service
// failed, server_error (500) for anything else. The caller logs (LogFailure).
func WriteFailure(w http.ResponseWriter, err error) {
	rfc := OAuthError(err)
	if rfc.CodeField < http.StatusInternalServerError {
		rfc = fosite.ErrServerError.WithWrap(err)
	}
	SetRetryAfter(w, rfc.CodeField)
	WriteJSON(w, rfc.CodeField, map[string]string{"error": rfc.ErrorField, "error_description": rfc.GetDescription()})
}

// LogFailure logs a request that failed on the server's side at error level, with its request id and the
// underlying error (FailureCause), once. A request whose client hung up is logged at debug level: the failure
// is nobody's but the client's.
func LogFailure(ctx context.Context, logger *slog.Logger, msg string, err error) {
	level := slog.LevelError
	if ctx.Err() != nil {
		level = slog.LevelDebug
	}
	attrs := []any{"request_id", RequestIDFromContext(ctx)}
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) {
		attrs = append(attrs, "error", rfc.ErrorField)
	}
	logger.Log(ctx, level, msg, append(attrs, "err", FailureCause(ctx, err))...)
}

// FailureCause is what a log line should show of err: the error fosite's RFC errors wrap (the driver's error,
// say), since an RFC error's own text is only its name. When the chain holds no backing-service failure but
// one was recorded in ctx (storage.WithFailureLog) — fosite's revocation drops the storage error and answers a
// bare temporarily_unavailable — the recorded failure is what failed.
func FailureCause(ctx context.Context, err error) error {
	for {
		var rfc *fosite.RFC6749Error
		if !errors.As(err, &rfc) || rfc.Unwrap() == nil {
			break
		}
		err = rfc.Unwrap()
	}
	if !IsUnavailable(err) {
		if last := storage.LastFailure(ctx); last != nil {
			return errors.Join(err, last)
		}
	}
	return err
}
