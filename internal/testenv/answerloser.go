package testenv

import (
	"bytes"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// AnswerLoser is a TCP proxy to the Postgres of AUTHIO_TEST_POSTGRES_DSN that, once armed, passes the next message
// containing a given text (a COMMIT, an INSERT) on to the server, waits for the server's answer and drops the
// connection instead of passing it back: the statement took effect, and the client only sees a broken connection.
type AnswerLoser struct {
	// DSN reaches the database through the proxy.
	DSN   string
	ln    net.Listener
	match atomic.Pointer[[]byte]
	lost  atomic.Int32
}

// NewAnswerLoser starts the proxy, or skips t when AUTHIO_TEST_POSTGRES_DSN is not set (the lost answer is
// Postgres's: SQLite has no connection to lose). It stops when t ends.
func NewAnswerLoser(t testing.TB) *AnswerLoser {
	t.Helper()
	dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN: the lost answer is Postgres's")
	}
	host := dsn[strings.Index(dsn, "@")+1:]
	host = host[:strings.IndexAny(host, "/?")]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &AnswerLoser{ln: ln, DSN: strings.Replace(dsn, host, ln.Addr().String(), 1)}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, host)
		}
	}()
	return p
}

// Arm makes the proxy lose the answer to the next message that contains text (compared in lower case).
func (p *AnswerLoser) Arm(text string) {
	b := []byte(strings.ToLower(text))
	p.match.Store(&b)
}

// Lost is how many answers the proxy has lost.
func (p *AnswerLoser) Lost() int { return int(p.lost.Load()) }

func (p *AnswerLoser) serve(client net.Conn, target string) {
	server, err := net.Dial("tcp", target)
	if err != nil {
		_ = client.Close()
		return
	}
	var once sync.Once
	closeBoth := func() { once.Do(func() { _ = client.Close(); _ = server.Close() }) }
	defer closeBoth()
	var muted atomic.Bool
	answered := make(chan struct{}, 1)
	go func() {
		defer closeBoth()
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && muted.Load() {
				select {
				case answered <- struct{}{}:
				default:
				}
			} else if n > 0 {
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if m := p.match.Load(); m != nil && bytes.Contains(bytes.ToLower(chunk), *m) && p.match.CompareAndSwap(m, nil) {
				muted.Store(true)
			}
			if _, err := server.Write(chunk); err != nil {
				return
			}
			if muted.Load() {
				select {
				case <-answered: // the server has done it and said so
				case <-time.After(10 * time.Second):
				}
				p.lost.Add(1)
				return
			}
		}
		if err != nil {
			return
		}
	}
}
