package cache

import (
	"fmt"
	"testing"
	"time"
)

func TestMemoryJanitorRemovesUntouchedEntries(t *testing.T) {
	m := newMemory(10 * time.Millisecond)
	defer m.Close()
	ctx := t.Context()
	// More than one sweep batch, so the janitor must keep going while most of what it samples is expired.
	const expiring, kept = 5 * sweepBatch, 10
	for i := range expiring {
		if err := m.Set(ctx, fmt.Sprint("e", i), []byte("v"), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	for i := range kept {
		if err := m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "janitor to remove expired entries", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.items) == kept
	})
}

func TestMemoryInstancesAreSeparateNodes(t *testing.T) {
	a, b := NewMemory(), NewMemory()
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	if err := a.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, "k"); ok {
		t.Error("a second Memory sees the first one's key")
	}
	onA, onB := subscribe(t, a, "ch"), subscribe(t, b, "ch")
	if err := a.Publish(ctx, "ch", "m"); err != nil {
		t.Fatal(err)
	}
	onA.waitFor(t, "m")
	onB.expectNothing(t)
}
