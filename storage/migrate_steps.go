package storage

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/authio/authio/internal/canon"
)

// goSteps are the migrations' Go parts, by version: what SQL cannot say portably, such as Unicode
// normalization. Each runs in its version's transaction right after that version's SQL, on either dialect.
var goSteps = map[int]func(tx *gorm.DB) error{
	3: canonicalEmails,
}

// EmailCollision is a group of users of one tenant whose stored emails are different strings with the same
// canonical form (canon.Email).
type EmailCollision struct {
	TenantID, TenantSlug string
	Canonical            string
	UserIDs, Emails      []string // parallel: Emails[i] is the stored email of UserIDs[i]
}

// EmailCollisionError stops the migration that puts user emails in canonical form when two users of a tenant
// would end up with the same one. Nothing is changed: which user keeps the address is the operator's decision.
type EmailCollisionError struct {
	Groups []EmailCollision
}

func (e *EmailCollisionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d group(s) of users have emails that are the same address once normalized (trimmed, Unicode NFC, "+
		"case-folded); nothing was changed. In each group, change the email of or delete all but one user, then run the "+
		"migration again (authio migrate):", len(e.Groups))
	for _, g := range e.Groups {
		fmt.Fprintf(&b, "\n  tenant %s (%s), %+q:", g.TenantID, g.TenantSlug, g.Canonical)
		for i := range g.UserIDs {
			// %+q: an NFD and an NFC spelling print alike raw; escaped, the operator sees which is which.
			fmt.Fprintf(&b, " %s %+q", g.UserIDs[i], g.Emails[i])
			if i < len(g.UserIDs)-1 {
				b.WriteString(",")
			}
		}
	}
	return b.String()
}

// canonicalEmails puts every user's email in the canonical form storage now stores and looks up (canon.Email).
// Users of one tenant whose emails collide once canonical fail it with an EmailCollisionError listing every
// group, before anything is written; otherwise each email not yet canonical is rewritten.
func canonicalEmails(tx *gorm.DB) error {
	var rows []struct {
		TenantID, Slug, ID, Email string
	}
	if err := tx.Raw(`SELECT u.tenant_id, t.slug, u.id, u.email FROM users u JOIN tenants t ON t.id = u.tenant_id
		ORDER BY u.tenant_id, u.created_at, u.id`).Scan(&rows).Error; err != nil {
		return err
	}
	type key struct{ tenant, email string }
	groups := map[key]*EmailCollision{}
	var order []key
	for _, r := range rows {
		k := key{r.TenantID, canon.Email(r.Email)}
		g, ok := groups[k]
		if !ok {
			g = &EmailCollision{TenantID: r.TenantID, TenantSlug: r.Slug, Canonical: k.email}
			groups[k] = g
			order = append(order, k)
		}
		g.UserIDs = append(g.UserIDs, r.ID)
		g.Emails = append(g.Emails, r.Email)
	}
	var collisions []EmailCollision
	for _, k := range order {
		if g := groups[k]; len(g.UserIDs) > 1 {
			collisions = append(collisions, *g)
		}
	}
	if len(collisions) > 0 {
		return &EmailCollisionError{Groups: collisions}
	}
	// With no two canonical forms equal in a tenant, no rewrite can meet another row's current email either
	// (canon.Email is idempotent), so the unique (tenant_id, email) index holds after each update.
	for _, r := range rows {
		if c := canon.Email(r.Email); c != r.Email {
			if err := tx.Exec("UPDATE users SET email = ? WHERE id = ?", c, r.ID).Error; err != nil {
				return err
			}
		}
	}
	return nil
}
