// Command authio is the Authio server and its operator CLI: one binary that serves every tenant and creates
// tenants, domains, clients, users, organizations, members, roles, APIs and keys. Every create prints JSON on
// stdout; logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
  authio tenant import FILE [flags]   create tenants from JSON lines or a JSON array (- reads stdin); see README
  authio tenant list
  authio domain add --tenant T --domain D
  authio domain remove --tenant T --domain D
  authio client create --tenant T --name N --type public|confidential [--redirect-uri U]...
                       [--post-logout-redirect-uri U]... [--grant G[,G]] [--audience A]... [--scope S]... [--web-origin O]...
                       [--organization-usage deny|allow|require]
  authio user create --tenant T --email E --password P [--name N] [--given-name G] [--family-name F] [--nickname N] [--picture URL] [--locale L] …
  authio org create --tenant T --name N [--display-name D] [--default-role R]
  authio org add-client --tenant T --org O --client C
  authio member add --tenant T --org O (--user ID | --email E) [--role R]... [--status active|invited|suspended]
  authio role create --tenant T --name N [--description D] [--org O] [--permission AUDIENCE:SCOPE]...
  authio role assign --tenant T --role R (--org O (--user ID | --email E) | --user ID | --email E | --client ID)
  authio api create --tenant T --identifier I --name N [--scope S]... [--token-lifetime SECONDS]
  authio apikey create --tenant T [--name N] [--test]
  authio key rotate --tenant T

Grant names: authorization_code, refresh_token, client_credentials, token_exchange. --org takes an organization
id or name; --role a rol_ id or a role name (tenant-wide first, then one custom to --org). The API key is shown
only once.

Configuration comes from AUTHIO_* environment variables; flags override them. Run "authio serve -h" for the list.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the flag set printed its usage; asking for help is no failure
	}
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
	switch cmd {
	case "tenant", "domain", "client", "user", "key", "org", "member", "role", "api", "apikey":
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			cmd, rest = cmd+" "+rest[0], rest[1:]
		}
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, environ, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, environ, stdout, stderr)
	case "tenant create":
		return cmdTenantCreate(ctx, rest, environ, stdout, stderr)
	case "tenant import":
		return cmdTenantImport(ctx, rest, environ, stdout, stderr)
	case "tenant list":
		return cmdTenantList(ctx, rest, environ, stdout, stderr)
	case "domain add":
		return cmdDomainAdd(ctx, rest, environ, stdout, stderr)
	case "domain remove":
		return cmdDomainRemove(ctx, rest, environ, stdout, stderr)
	case "client create":
		return cmdClientCreate(ctx, rest, environ, stdout, stderr)
	case "user create":
		return cmdUserCreate(ctx, rest, environ, stdout, stderr)
	case "key rotate":
		return cmdKeyRotate(ctx, rest, environ, stdout, stderr)
	case "org create":
		return cmdOrgCreate(ctx, rest, environ, stdout, stderr)
	case "org add-client":
		return cmdOrgAddClient(ctx, rest, environ, stdout, stderr)
	case "member add":
		return cmdMemberAdd(ctx, rest, environ, stdout, stderr)
	case "role create":
		return cmdRoleCreate(ctx, rest, environ, stdout, stderr)
	case "role assign":
		return cmdRoleAssign(ctx, rest, environ, stdout, stderr)
	case "api create":
		return cmdAPICreate(ctx, rest, environ, stdout, stderr)
	case "apikey create":
		return cmdAPIKeyCreate(ctx, rest, environ, stdout, stderr)
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
