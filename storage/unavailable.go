package storage

import (
	"context"
	"errors"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// ErrUnavailable marks a failure of the database itself — refused or lost connections, a server that stopped, a
// closed pool, a failed commit — as opposed to an answer about the data. Every error a Store method returns
// that came from the database driver matches it (errors.Is), unless it was mapped to ErrNotFound (no rows) or
// ErrAlreadyExists (a unique violation); the driver's error stays in the chain for the log. Callers must never
// turn it into "not found", "invalid" or "unauthorized": the data may well be there.
//
// Three kinds of error are left untagged on purpose: context.Canceled (the caller, typically a client that
// hung up, gave up; the database did nothing wrong), other constraint violations (the database refused the
// data: a bug no retry fixes) and gorm's refusals to build a statement (a programming error, not an outage).
var ErrUnavailable = errors.New("storage: database unavailable")

// unavailableError is a driver error tagged with ErrUnavailable; both stay visible to errors.Is and errors.As.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return ErrUnavailable.Error() + ": " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// classify tags err with ErrUnavailable unless it is an answer about the data (no rows, a unique violation), a
// caller's cancellation or a gorm usage error. It is the one decision every path to the database goes through:
// the gorm callbacks registered by classifyErrors, mapErr, and the database/sql paths that bypass gorm.
func classify(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrNotFound), errors.Is(err, ErrAlreadyExists),
		errors.Is(err, ErrNoTenant), errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, context.Canceled),
		isUniqueViolation(err), isConstraintViolation(err), isGormUsage(err):
		return err
	}
	return &unavailableError{err: err}
}

// failed classifies err and records a database failure in ctx's failure log (see WithFailureLog).
func failed(ctx context.Context, err error) error {
	err = classify(err)
	if errors.Is(err, ErrUnavailable) && ctx != nil {
		if l, ok := ctx.Value(failureLogKey{}).(*failureLog); ok {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
		}
	}
	return err
}

// isUniqueViolation recognises a unique-constraint violation from either driver by its text: SQLite's
// "UNIQUE constraint failed", Postgres's SQLSTATE 23505 ("duplicate key value").
func isUniqueViolation(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unique constraint") || strings.Contains(msg, "duplicate key") || strings.Contains(msg, "sqlstate 23505")
}

// isConstraintViolation recognises the database refusing the data itself (a foreign key, check or not-null
// constraint: SQLite's "constraint failed", Postgres's SQLSTATE class 23; or a value it cannot hold, such as a
// NUL byte or invalid UTF-8 in text: Postgres's class 22, data exception): a bug in the statement or a missed
// input check, which no retry can fix, so not ErrUnavailable.
func isConstraintViolation(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "constraint failed") || strings.Contains(msg, "(sqlstate 23") || strings.Contains(msg, "(sqlstate 22")
}

// gormUsage are the errors gorm raises itself, before or instead of asking the database: bugs in a query, not
// failures of the database.
var gormUsage = []error{gorm.ErrInvalidTransaction, gorm.ErrNotImplemented, gorm.ErrMissingWhereClause,
	gorm.ErrUnsupportedRelation, gorm.ErrPrimaryKeyRequired, gorm.ErrModelValueRequired,
	gorm.ErrModelAccessibleFieldsRequired, gorm.ErrSubQueryRequired, gorm.ErrInvalidData, gorm.ErrUnsupportedDriver,
	gorm.ErrInvalidField, gorm.ErrEmptySlice, gorm.ErrDryRunModeUnsupported, gorm.ErrInvalidDB, gorm.ErrInvalidValue,
	gorm.ErrInvalidValueOfLength, gorm.ErrPreloadNotAllowed}

func isGormUsage(err error) bool {
	for _, u := range gormUsage {
		if errors.Is(err, u) {
			return true
		}
	}
	return false
}

// classifyErrors registers a callback that runs last on every kind of gorm statement (create, query, update,
// delete, row, raw) and classifies its error, so no repository method can return a driver error untagged,
// whether or not it calls mapErr. Transactions (begin, commit) do not run callbacks: inTx and the
// fosite Transactional methods classify those themselves.
func classifyErrors(db *gorm.DB) error {
	fn := func(tx *gorm.DB) {
		if tx.Error != nil {
			tx.Error = failed(tx.Statement.Context, tx.Error)
		}
	}
	const name = "authio:classify_errors"
	cb := db.Callback()
	return errors.Join(
		cb.Create().After("*").Register(name, fn),
		cb.Query().After("*").Register(name, fn),
		cb.Update().After("*").Register(name, fn),
		cb.Delete().After("*").Register(name, fn),
		cb.Row().After("*").Register(name, fn),
		cb.Raw().After("*").Register(name, fn),
	)
}

type failureLogKey struct{}

type failureLog struct {
	mu  sync.Mutex
	err error
}

// WithFailureLog returns a context in which the store records the last database failure of the calls made
// with it. Callers that hand the store to code that drops errors (fosite's revocation answers any storage
// error with a bare temporarily_unavailable) read it back with LastFailure to log what actually failed.
func WithFailureLog(ctx context.Context) context.Context {
	return context.WithValue(ctx, failureLogKey{}, &failureLog{})
}

// LastFailure returns the last database failure (matching ErrUnavailable) recorded in ctx's failure log, or
// nil when there was none or ctx has no log.
func LastFailure(ctx context.Context) error {
	l, ok := ctx.Value(failureLogKey{}).(*failureLog)
	if !ok {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
