package tenancy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authio/authio/tenancy"
)

func TestNoScope(t *testing.T) {
	ctx := context.Background()
	if _, err := tenancy.TenantID(ctx); !errors.Is(err, tenancy.ErrNoScope) {
		t.Errorf("TenantID without scope: err = %v, want ErrNoScope", err)
	}
	if _, err := tenancy.Issuer(ctx); !errors.Is(err, tenancy.ErrNoScope) {
		t.Errorf("Issuer without scope: err = %v, want ErrNoScope", err)
	}
	if _, ok := tenancy.From(ctx); ok {
		t.Error("From without scope reported a scope")
	}
	func() {
		defer func() {
			if p := recover(); p == nil || !errors.Is(p.(error), tenancy.ErrNoScope) {
				t.Errorf("MustIssuer without scope: recovered %v, want ErrNoScope panic", p)
			}
		}()
		tenancy.MustIssuer(ctx)
	}()
}

func TestStorageOnlyScopeHasNoIssuer(t *testing.T) {
	ctx := tenancy.With(context.Background(), tenancy.Scope{TenantID: "ten_a"})
	if id, err := tenancy.TenantID(ctx); err != nil || id != "ten_a" {
		t.Errorf("TenantID = %q, %v", id, err)
	}
	if iss, err := tenancy.Issuer(ctx); !errors.Is(err, tenancy.ErrNoScope) {
		t.Errorf("Issuer of a scope without a host = %q, %v; want ErrNoScope", iss, err)
	}
}

func TestScopeRoundTrip(t *testing.T) {
	rec := &struct{ Name string }{"Acme"}
	ctx := tenancy.With(context.Background(), tenancy.Scope{TenantID: "ten_a", Slug: "acme",
		Issuer: "https://acme.example", Host: "acme.example", Record: rec})
	s, ok := tenancy.From(ctx)
	if !ok || s.TenantID != "ten_a" || s.Slug != "acme" || s.Host != "acme.example" || s.Record != rec {
		t.Errorf("From = %+v, %v", s, ok)
	}
	if tenancy.MustIssuer(ctx) != "https://acme.example" {
		t.Error("MustIssuer lost the issuer")
	}
	// An inner scope replaces the outer one entirely: there is one key.
	inner := tenancy.With(ctx, tenancy.Scope{TenantID: "ten_b"})
	if id, _ := tenancy.TenantID(inner); id != "ten_b" {
		t.Errorf("inner TenantID = %q", id)
	}
	if tenancy.Record(inner) != nil {
		t.Error("inner storage-only scope kept the outer record")
	}
}

func TestEmptyTenantIDHidesOuterScope(t *testing.T) {
	outer := tenancy.With(context.Background(), tenancy.Scope{TenantID: "ten_a", Issuer: "https://a.example"})
	ctx := tenancy.With(outer, tenancy.Scope{})
	if id, err := tenancy.TenantID(ctx); !errors.Is(err, tenancy.ErrNoScope) {
		t.Errorf("TenantID under an empty scope = %q, %v; want ErrNoScope", id, err)
	}
	if _, err := tenancy.Issuer(ctx); !errors.Is(err, tenancy.ErrNoScope) {
		t.Errorf("Issuer under an empty scope: err = %v, want ErrNoScope", err)
	}
	if _, ok := tenancy.From(ctx); ok {
		t.Error("From under an empty scope reported a scope")
	}
}
