package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// NewUpstreamClient returns the HTTP client upstream sign-in kinds reach identity providers with: bounded in
// time (10 s a request), and resolving localhost and its subdomains to loopback itself (RFC 6761 §6.3), as
// browsers do, so a provider on this machine — another tenant at <slug>.localhost in development — is reached
// whatever the system resolver does with such names.
func NewUpstreamClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			h := strings.ToLower(strings.TrimSuffix(host, "."))
			if h == "localhost" || strings.HasSuffix(h, ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	tr.MaxIdleConnsPerHost = 8
	tr.ResponseHeaderTimeout = 10 * time.Second
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
