package storage

import (
	"context"
	"database/sql"
	"time"
)

// A write group holds back the token records and audit events of one operation and stores them together: one
// transaction, and on Postgres one statement shared with other callers' groups (the group commit of fast.go). A
// switch of organization mints tokens and records session.org_switched this way, so both are stored or neither,
// at the cost of one transaction at most.

// pgInsertGroup stores token records ($1-$11, as pgInsertTokens) and audit events ($12-$21, as pgInsertAudit)
// in one statement: a data-modifying WITH runs whether or not the rest refers to it, and the whole statement is
// one transaction.
const pgInsertGroup = `WITH t AS (INSERT INTO oauth_tokens
		(tenant_id, kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data, grant_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::boolean[], $8::timestamptz[], $9::timestamptz[], $10::bytea[], $11::text[]))
	INSERT INTO audit_events
		(id, tenant_id, type, actor, user_id, organization_id, client_id, ip, data, created_at)
		SELECT id, tenant_id, type, actor, user_id, organization_id, client_id, ip, data, created_at
		FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
			$19::text[], $20::text[], $21::timestamptz[]) WITH ORDINALITY AS r(id, tenant_id, type, actor, user_id,
			organization_id, client_id, ip, data, created_at, n) ORDER BY n`

type writeGroupKey struct{}

// writeGroup is what a WriteTogether call collected.
type writeGroup struct {
	tokens []*oauthToken
	audit  []*AuditEvent
}

// groupOf returns the write group ctx collects into, if any. A transaction in ctx wins: its writes are
// already atomic.
func groupOf(ctx context.Context) *writeGroup {
	if inTxContext(ctx) {
		return nil
	}
	g, _ := ctx.Value(writeGroupKey{}).(*writeGroup)
	return g
}

// WriteTogether runs fn, holding back the token records (Create…TokenSession) and audit events (AppendAudit)
// stored with the ctx fn gets, and then writes them all in one transaction — on Postgres in one statement,
// batched with concurrent callers' — or none of them if fn fails or the write does. fn must store nothing
// else (other writes would not wait for the group), and must not read back what it stored. Called with a ctx
// that carries a transaction, fn simply joins that transaction.
func (s *Store) WriteTogether(ctx context.Context, fn func(ctx context.Context) error) error {
	if inTxContext(ctx) {
		return fn(ctx)
	}
	g := &writeGroup{}
	if err := fn(context.WithValue(ctx, writeGroupKey{}, g)); err != nil {
		return err
	}
	if len(g.tokens) == 0 && len(g.audit) == 0 {
		return nil
	}
	if s.groups != nil {
		return s.groups.add(ctx, g)
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		for _, t := range g.tokens {
			if err := mapErr(db.Create(t).Error); err != nil {
				return err
			}
		}
		for _, e := range g.audit {
			if err := mapErr(db.Create(e).Error); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertGroups writes the token records and audit events of several write groups in one statement.
func insertGroups(db *sql.DB) func(ctx context.Context, groups []*writeGroup) error {
	return func(ctx context.Context, groups []*writeGroup) error {
		var tokens []*oauthToken
		var events []*AuditEvent
		for _, g := range groups {
			tokens = append(tokens, g.tokens...)
			events = append(events, g.audit...)
		}
		tcols, err := tokenColumns(tokens)
		if err != nil {
			return err
		}
		acols, err := auditColumns(events)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, pgInsertGroup, append(tcols, acols...)...)
		return mapErr(err)
	}
}

// tokenColumns are the parameters of pgInsertTokens for rows.
func tokenColumns(rows []*oauthToken) ([]any, error) {
	n := len(rows)
	var (
		tenants, kinds, sigs, reqs, clients, subjects = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		grants                                        = make([]string, n)
		active                                        = make([]bool, n)
		requested                                     = make([]time.Time, n)
		expires                                       = make([]*time.Time, n)
		data                                          = make([][]byte, n)
	)
	for i, r := range rows {
		tenants[i], kinds[i], sigs[i], reqs[i], clients[i], subjects[i] = r.TenantID, r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject
		active[i], requested[i], expires[i], data[i], grants[i] = r.Active, r.RequestedAt, r.ExpiresAt, r.Data, r.GrantID
	}
	return []any{tenants, kinds, sigs, reqs, clients, subjects, active, requested, expires, data, grants}, nil
}

// auditColumns are the parameters of pgInsertAudit for rows.
func auditColumns(rows []*AuditEvent) ([]any, error) {
	n := len(rows)
	cols := make([][]string, 9)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	created := make([]time.Time, n)
	for i, e := range rows {
		data, err := e.Data.Value()
		if err != nil {
			return nil, err
		}
		for c, v := range []string{e.ID, e.TenantID, e.Type, e.Actor, e.UserID, e.OrganizationID, e.ClientID, e.IP, data.(string)} {
			cols[c][i] = v
		}
		created[i] = e.CreatedAt
	}
	out := make([]any, 0, 10)
	for _, c := range cols {
		out = append(out, c)
	}
	return append(out, created), nil
}
