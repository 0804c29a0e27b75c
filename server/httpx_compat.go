package server

import "github.com/authio/authio/httpx"

// Forwarders to httpx while the handlers' call sites move over (issue 8's package split); removed with the sweep.
var (
	OAuthError           = httpx.OAuthError
	WriteFailure         = httpx.WriteFailure
	LogFailure           = httpx.LogFailure
	FailureCause         = httpx.FailureCause
	SetRetryAfter        = httpx.SetRetryAfter
	IsUnavailable        = httpx.IsUnavailable
	DecodeJSON           = httpx.DecodeJSON
	CheckInput           = httpx.CheckInput
	Unstorable           = httpx.Unstorable
	WriteJSON            = httpx.WriteJSON
	WriteBearerError     = httpx.WriteBearerError
	WithRequestID        = httpx.WithRequestID
	RequestIDFromContext = httpx.RequestIDFromContext
)

const (
	MaxBodyBytes = httpx.MaxBodyBytes
	RetryAfter   = httpx.RetryAfter
	InPath       = httpx.InPath
	InQuery      = httpx.InQuery
	InForm       = httpx.InForm
	InHeader     = httpx.InHeader
)

type (
	InputError = httpx.InputError
	BodyError  = httpx.BodyError
)
