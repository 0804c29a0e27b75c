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

// command is one CLI command: its name as typed ("user create"), its synopsis (the usage line after
// "authio "), an optional one-line summary, and the function that runs it with the arguments after the name.
type command struct {
	name, synopsis, summary string
	run                     func(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error
}

// commands lists every command in the order the usage shows them.
func commands() []command {
	return []command{
		{"serve", "serve [--dev] [flags]", "run the server (runs pending migrations first)", cmdServe},
		{"migrate", "migrate", "apply database migrations", cmdMigrate},
		{"tenant create", "tenant create --slug S [--name N] [--domain D]... [--signing-alg RS256|ES256] [--signup]", "", cmdTenantCreate},
		{"tenant import", "tenant import FILE [flags]", "create tenants from JSON lines or a JSON array (- reads stdin); see README", cmdTenantImport},
		{"tenant list", "tenant list", "", cmdTenantList},
		{"domain add", "domain add --tenant T --domain D", "", cmdDomainAdd},
		{"domain remove", "domain remove --tenant T --domain D", "", cmdDomainRemove},
		{"client create", "client create --tenant T --name N [--type public|confidential] [--redirect-uri U]...\n" +
			"[--post-logout-redirect-uri U]... [--grant G[,G]] [--audience A]... [--scope S]... [--web-origin O]...\n" +
			"[--organization-usage deny|allow|require]", "", cmdClientCreate},
		{"user create", "user create --tenant T --email E --password P [--email-verified] [--name N]\n" +
			"[--given-name G] [--family-name F] [--nickname N] [--picture URL] [--locale L] [other profile claims]", "", cmdUserCreate},
		{"org create", "org create --tenant T --name N [--display-name D] [--default-role R]", "", cmdOrgCreate},
		{"org add-client", "org add-client --tenant T --org O --client C", "", cmdOrgAddClient},
		{"member add", "member add --tenant T --org O (--user ID | --email E) [--role R]... [--status active|invited|suspended]", "", cmdMemberAdd},
		{"role create", "role create --tenant T --name N [--description D] [--org O] [--permission AUDIENCE:SCOPE]...", "", cmdRoleCreate},
		{"role assign", "role assign --tenant T --role R (--org O (--user ID | --email E) | --user ID | --email E | --client ID)", "", cmdRoleAssign},
		{"api create", "api create --tenant T --identifier I --name N [--scope S]... [--token-lifetime SECONDS]", "", cmdAPICreate},
		{"apikey create", "apikey create --tenant T [--name N] [--test]", "", cmdAPIKeyCreate},
		{"key rotate", "key rotate --tenant T", "", cmdKeyRotate},
		{"key pool fill", "key pool fill --count N [--workers W]", "generate N RSA signing keys ahead of need (for a burst of new tenants)", cmdKeyPoolFill},
		{"key pool status", "key pool status", "", cmdKeyPoolStatus},
		{"connection list", "connection list --tenant T [--name N] [--strategy S]", "", cmdConnectionList},
		{"connection create", "connection create --tenant T --name N --strategy S [--options JSON] [--disabled]", "", cmdConnectionCreate},
		{"connection update", "connection update --tenant T --connection C [--enabled true|false] [--options JSON]", "", cmdConnectionUpdate},
		{"connection delete", "connection delete --tenant T --connection C", "", cmdConnectionDelete},
		{"tenant settings get", "tenant settings get --tenant T", "", cmdTenantSettingsGet},
		{"tenant settings set", "tenant settings set --tenant T (--json OBJECT | --file F)", "", cmdTenantSettingsSet},
	}
}

// synopsisText is c's synopsis after a prefix of width columns, its continuation lines indented under it.
func (c command) synopsisText(width int) string {
	return strings.ReplaceAll(c.synopsis, "\n", "\n"+strings.Repeat(" ", width+4))
}

// lookupCommand returns the command named name ("user create").
func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the whole CLI's usage text: every command's synopsis.
func usage() string {
	var b strings.Builder
	b.WriteString("Authio: multi-tenant OIDC / OAuth 2.0 authorization server.\n\nUsage:\n")
	const column = 30 // summaries start after the synopsis, aligned; a longer synopsis has its summary below it
	for _, c := range commands() {
		switch {
		case c.summary != "" && len(c.synopsis) <= column:
			fmt.Fprintf(&b, "  authio %-*s %s\n", column, c.synopsis, c.summary)
		case c.summary != "":
			fmt.Fprintf(&b, "  authio %s\n%s%s\n", c.synopsisText(len("  authio ")), strings.Repeat(" ", len("  authio ")+4), c.summary)
		default:
			fmt.Fprintf(&b, "  authio %s\n", c.synopsisText(len("  authio ")))
		}
	}
	b.WriteString(`
Grant names: authorization_code, refresh_token, client_credentials, token_exchange. --org takes an organization
id or name; --role a rol_ id or a role name (tenant-wide first, then one custom to --org). The API key is shown
only once.

"authio COMMAND -h" lists one command's flags. Configuration comes from AUTHIO_* environment variables; flags
override them. Run "authio serve -h" for the list.
`)
	return b.String()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the command printed its help; asking for help is no failure
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "authio: %s\n\n%s", ue.msg, ue.help())
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "authio: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a command line that cannot run as typed: an unknown command or flag, a missing required flag.
// cmd names the command it was for ("" when there is none), so the help shown is that command's.
type usageError struct{ msg, cmd string }

func (e usageError) Error() string { return e.msg }

// help is what follows the error on stderr: the command's synopsis, or the whole usage.
func (e usageError) help() string {
	if c, ok := lookupCommand(e.cmd); ok {
		return fmt.Sprintf("Usage: authio %s\nRun \"authio %s -h\" for its flags.\n", c.synopsisText(len("Usage: authio ")), c.name)
	}
	return usage()
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// run dispatches a command; it is main without the process, so tests can call it.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, usage())
		return nil
	}
	name, rest := args[0], args[1:]
	var group []command // the subcommands of a group word ("user" -> "user create")
	for _, c := range commands() {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == name {
			group = append(group, c)
		}
	}
	if len(group) > 0 {
		if len(rest) == 0 {
			subs := make([]string, 0, len(group))
			for _, c := range group {
				subs = append(subs, c.name)
			}
			return usageError{msg: fmt.Sprintf("%q needs a subcommand: %s", name, strings.Join(subs, ", "))}
		}
		if isHelp(rest[0]) {
			return groupHelp(ctx, group, environ, stdout)
		}
		if !strings.HasPrefix(rest[0], "-") {
			name, rest = name+" "+rest[0], rest[1:]
			// A command of three words ("tenant settings get"), under a group of two ("tenant settings").
			if _, ok := lookupCommand(name); !ok {
				var sub []command
				for _, c := range commands() {
					if strings.HasPrefix(c.name, name+" ") {
						sub = append(sub, c)
					}
				}
				switch {
				case len(sub) > 0 && len(rest) == 0:
					subs := make([]string, 0, len(sub))
					for _, c := range sub {
						subs = append(subs, c.name)
					}
					return usageError{msg: fmt.Sprintf("%q needs a subcommand: %s", name, strings.Join(subs, ", "))}
				case len(sub) > 0 && isHelp(rest[0]):
					return groupHelp(ctx, sub, environ, stdout)
				case len(rest) > 0:
					if _, ok := lookupCommand(name + " " + rest[0]); ok {
						name, rest = name+" "+rest[0], rest[1:]
					}
				}
			}
		}
	}
	c, ok := lookupCommand(name)
	if !ok {
		return usageError{msg: fmt.Sprintf("unknown command %q", commandWords(args))}
	}
	err := c.run(ctx, rest, environ, stdout, stderr)
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = c.name
		return ue
	}
	return err
}

// commandWords is the command args names as typed: its leading words, up to the three a command has at most
// ("tenant settings get"), without the flags and operands after them.
func commandWords(args []string) string {
	n := 0
	for n < len(args) && n < 3 && !strings.HasPrefix(args[n], "-") {
		n++
	}
	return strings.Join(args[:max(n, 1)], " ")
}

// groupHelp prints the help of every subcommand of a group ("authio user -h").
func groupHelp(ctx context.Context, group []command, environ []string, stdout io.Writer) error {
	for i, c := range group {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := c.run(ctx, []string{"-h"}, environ, stdout, io.Discard); !errors.Is(err, flag.ErrHelp) {
			return fmt.Errorf("help of %s: %w", c.name, err)
		}
	}
	return flag.ErrHelp
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
