package main

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/authn/password"
)

// The raw password-hash rate, the bound of a password sign-in: bcrypt at the configured cost (BENCH_BCRYPT_COST,
// default password.DefaultCost, what serve uses without AUTHIO_PASSWORD_COST). Run with one and two cores:
//
//	go test ./scripts/signinbench -run '^$' -bench . -cpu 1,2 -benchtime 3s
//
// Each reports "ops/s" (b.N / wall time), which scripts/bench.sh reads. Check is what a sign-in does (compare
// with the stored hash); Hash what setting a password does. Both cost the same bcrypt work.

func cost(tb testing.TB) int {
	c := password.DefaultCost
	if v := os.Getenv("BENCH_BCRYPT_COST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("BENCH_BCRYPT_COST=%q: %v", v, err)
		}
		c = n
	}
	return c
}

var (
	hashOnce sync.Once
	hashed   string
)

func BenchmarkBcryptCheck(b *testing.B) {
	c := cost(b)
	hashOnce.Do(func() {
		var err error
		if hashed, err = password.Hash("correct-horse-battery-staple", c); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !password.Check(hashed, "correct-horse-battery-staple", c) {
				b.Error("the password does not match its hash")
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

func BenchmarkBcryptHash(b *testing.B) {
	c := cost(b)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := password.Hash("correct-horse-battery-staple", c); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

func TestRunNeedsItsFlags(t *testing.T) {
	if err := run([]string{"-issuer", "http://x.localhost:1"}, os.Stdout); err == nil {
		t.Error("run without -client, -email, … did not fail")
	}
}
