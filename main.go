// Command authio is the Authio server and its operator CLI: one binary that serves every tenant and creates
// tenants, domains, clients, users and keys. Every create prints JSON on stdout; logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `Authio: multi-tenant OIDC / OAuth 2.0 authorization server.

Usage:
  authio serve [--dev] [flags]        run the server (runs pending migrations first)
  authio migrate                      apply database migrations
  authio tenant create --slug S --name N [--domain D]... [--signing-alg RS256|ES256] [--signup]
  authio tenant list
  authio domain add --tenant T --domain D
  authio client create --tenant T --name N --type public|confidential [--redirect-uri U]...
                       [--post-logout-redirect-uri U]... [--grant G[,G]] [--audience A]... [--scope S]... [--web-origin O]...
  authio user create --tenant T --email E --password P [--name N]
  authio key rotate --tenant T

Configuration comes from AUTHIO_* environment variables; flags override them. Run "authio serve -h" for the list.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "authio: %s\n\n%s", ue.msg, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "authio: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run dispatches a command; it is main without the process, so tests can call it.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && (cmd == "tenant" || cmd == "domain" || cmd == "client" || cmd == "user" || cmd == "key") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, environ, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, environ, stdout, stderr)
	case "tenant create":
		return cmdTenantCreate(ctx, rest, environ, stdout, stderr)
	case "tenant list":
		return cmdTenantList(ctx, rest, environ, stdout, stderr)
	case "domain add":
		return cmdDomainAdd(ctx, rest, environ, stdout, stderr)
	case "client create":
		return cmdClientCreate(ctx, rest, environ, stdout, stderr)
	case "user create":
		return cmdUserCreate(ctx, rest, environ, stdout, stderr)
	case "key rotate":
		return cmdKeyRotate(ctx, rest, environ, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// listFlag is a repeatable string flag that also splits on commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// rawListFlag is repeatable without comma splitting (URIs may contain commas).
type rawListFlag []string

func (l *rawListFlag) String() string { return strings.Join(*l, " ") }

func (l *rawListFlag) Set(v string) error { *l = append(*l, v); return nil }
