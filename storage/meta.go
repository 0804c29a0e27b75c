package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Meta records facts about the installation rather than a tenant (the check value of AUTHIO_SECRET_KEY, say)
// in authio_meta. These queries are not tenant-scoped: they describe the whole database.
type Meta interface {
	// MetaValue returns the value recorded under name; ErrNotFound when there is none.
	MetaValue(ctx context.Context, name string) (string, error)
	// RecordMeta records value under name unless a value is already there, and returns the value recorded
	// afterwards: value, or the one recorded first. It never overwrites, so processes that race to record
	// different values (replicas starting at once) all get the same answer back.
	RecordMeta(ctx context.Context, name, value string, at time.Time) (string, error)
	// OldestSigningKey returns the first signing key ever stored, of any tenant; ErrNotFound when there is none.
	// It is for installation checks (which secret key encrypted this database's keys?), never for signing.
	OldestSigningKey(ctx context.Context) (SigningKey, error)
}

var _ Meta = (*Store)(nil)

// metaRow is a row of authio_meta.
type metaRow struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	CreatedAt time.Time
}

func (metaRow) TableName() string { return "authio_meta" }

func (s *Store) MetaValue(ctx context.Context, name string) (string, error) {
	var row metaRow
	err := s.conn(ctx).Where("name = ?", name).Take(&row).Error
	return row.Value, mapErr(err)
}

func (s *Store) RecordMeta(ctx context.Context, name, value string, at time.Time) (string, error) {
	// One statement, so the database decides the race: ON CONFLICT DO NOTHING on both dialects.
	row := metaRow{Name: name, Value: value, CreatedAt: at.UTC()}
	if err := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return "", mapErr(err)
	}
	return s.MetaValue(ctx, name)
}

func (s *Store) OldestSigningKey(ctx context.Context) (SigningKey, error) {
	var k SigningKey
	err := s.conn(ctx).Order("created_at, id").Take(&k).Error
	return k, mapErr(err)
}
