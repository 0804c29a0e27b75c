package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// QueueOptions tune a Queue; zero values take the defaults.
type QueueOptions struct {
	// SyncTimeout bounds the first, synchronous attempt of Send (default 10s): past it the message is queued.
	SyncTimeout time.Duration
	// Retries is how many more attempts a temporary failure gets (default 8), InitialBackoff the wait before the
	// first of them (default 5s), doubling up to MaxBackoff (default 10m) with jitter: about 20 minutes in all.
	Retries        int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxQueued bounds the messages waiting for a retry (default 1000); Send fails when they are that many.
	MaxQueued int
}

// Queue is the Sender over a Transport: one synchronous attempt, then retries in this process with exponential
// backoff for temporary failures (see the package comment). A Queue without a transport refuses every message
// with ErrNotConfigured. Messages waiting for a retry are lost when the process stops: the user asks again.
type Queue struct {
	t      Transport
	logger *slog.Logger
	o      QueueOptions

	mu      sync.Mutex
	queued  int
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	retried func(m Message, attempt int, err error) // tests observe retries
}

var _ Sender = (*Queue)(nil)

// NewQueue returns a Queue over t (nil: no SMTP server configured). Its retries run until Close.
func NewQueue(t Transport, logger *slog.Logger, o QueueOptions) *Queue {
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = 10 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 8
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 5 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{t: t, logger: logger, o: o, ctx: ctx, cancel: cancel}
}

// Usable is nil when the queue has a transport, ErrNotConfigured otherwise.
func (q *Queue) Usable() error {
	if q.t == nil {
		return ErrNotConfigured
	}
	return nil
}

// Send delivers m or queues it for retries; see the package comment for what each outcome returns.
func (q *Queue) Send(ctx context.Context, m Message) error {
	if q.t == nil {
		return ErrNotConfigured
	}
	if err := check(m); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.o.SyncTimeout)
	err := q.t.Deliver(sctx, m)
	cancel()
	switch {
	case err == nil:
		return nil
	case !Temporary(err):
		q.failed(m, 1, err, "sending an email failed permanently")
		return fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	if err := q.enqueue(m); err != nil {
		q.failed(m, 1, err, "sending an email failed and it cannot be queued")
		return err
	}
	q.logger.Warn("sending an email failed; retrying in the background", "tenant_id", m.Tenant, "kind", m.Kind, "err", err)
	return nil
}

// enqueue starts m's retries. ErrNotSent when the queue is full or closed.
func (q *Queue) enqueue(m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("%w: the mail queue is closed", ErrNotSent)
	}
	if q.queued >= q.o.MaxQueued {
		return fmt.Errorf("%w: the mail queue is full (%d messages waiting)", ErrNotSent, q.queued)
	}
	q.queued++
	q.wg.Add(1)
	go q.retry(m)
	return nil
}

// retry delivers m with exponential backoff until it is delivered, fails permanently, runs out of attempts or the
// queue closes.
func (q *Queue) retry(m Message) {
	defer func() {
		q.mu.Lock()
		q.queued--
		q.mu.Unlock()
		q.wg.Done()
	}()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = q.o.InitialBackoff, q.o.MaxBackoff, 0
	attempt := 1
	err := backoff.Retry(func() error {
		attempt++
		ctx, cancel := context.WithTimeout(q.ctx, q.o.SyncTimeout)
		defer cancel()
		err := q.t.Deliver(ctx, m)
		if q.retried != nil {
			q.retried(m, attempt, err)
		}
		if err != nil && !Temporary(err) {
			return backoff.Permanent(err)
		}
		return err
	}, backoff.WithContext(backoff.WithMaxRetries(b, uint64(q.o.Retries)), q.ctx))
	switch {
	case err == nil:
		q.logger.Info("email delivered after retrying", "tenant_id", m.Tenant, "kind", m.Kind, "attempts", attempt)
	case errors.Is(err, context.Canceled) && q.ctx.Err() != nil:
		q.failed(m, attempt, err, "email dropped: the server stopped before it could be delivered")
	default:
		q.failed(m, attempt, err, "sending an email failed; giving up")
	}
}

// failed logs a delivery failure at error level: who and what kind, never the body or the link.
func (q *Queue) failed(m Message, attempts int, err error, msg string) {
	q.logger.Error(msg, "tenant_id", m.Tenant, "kind", m.Kind, "attempts", attempts, "err", err)
}

// Close stops the retries (messages still waiting are dropped, and logged) and waits for them to end.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

// Pending is how many messages wait for a retry.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued
}
