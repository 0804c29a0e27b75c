package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Dev is the Sender of serve --dev: every message is written to the log (its link included: development only)
// and kept in the Outbox; when an SMTP server is configured too, Next also delivers it.
type Dev struct {
	Logger *slog.Logger
	Outbox *Outbox
	// Next, when not nil, sends the message on as well (a Queue over AUTHIO_SMTP_URL); its error is Send's.
	Next Sender
	// Now is the clock of the outbox entries; nil is time.Now.
	Now func() time.Time
}

var _ Sender = (*Dev)(nil)

// Send logs m, keeps it in the outbox and passes it to Next.
func (d *Dev) Send(ctx context.Context, m Message) error {
	if err := check(m); err != nil {
		return err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	d.Outbox.add(m, now())
	d.Logger.Info("dev mail (also listed at /dev/outbox on the tenant's host)", "tenant_id", m.Tenant, "kind", m.Kind,
		"to", m.To, "subject", m.Subject, "link", m.Link)
	if d.Next != nil {
		return d.Next.Send(ctx, m)
	}
	return nil
}

// OutboxEntry is one message the dev outbox lists.
type OutboxEntry struct {
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Kind    string    `json:"kind"`
	Link    string    `json:"link"`
	Text    string    `json:"text"`
	SentAt  time.Time `json:"sent_at"`
}

// Outbox keeps the latest messages of each tenant in memory (serve --dev only). Safe for concurrent use.
type Outbox struct {
	mu    sync.Mutex
	limit int
	by    map[string][]OutboxEntry // tenant id → oldest first
}

// NewOutbox returns an outbox keeping the latest limit messages of each tenant (limit <= 0: 50).
func NewOutbox(limit int) *Outbox {
	if limit <= 0 {
		limit = 50
	}
	return &Outbox{limit: limit, by: map[string][]OutboxEntry{}}
}

func (o *Outbox) add(m Message, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	list := append(o.by[m.Tenant], OutboxEntry{To: m.To, Subject: m.Subject, Kind: m.Kind, Link: m.Link, Text: m.Text, SentAt: at.UTC()})
	if len(list) > o.limit {
		list = append([]OutboxEntry(nil), list[len(list)-o.limit:]...)
	}
	o.by[m.Tenant] = list
}

// List returns tenant's messages, newest first; never another tenant's.
func (o *Outbox) List(tenant string) []OutboxEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	list := o.by[tenant]
	out := make([]OutboxEntry, len(list))
	for i, e := range list {
		out[len(list)-1-i] = e
	}
	return out
}
