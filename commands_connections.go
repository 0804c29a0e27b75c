package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/handlers/management"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// The CLI's connection and tenant settings commands print what the Management API answers (its JSON shapes) and
// take what it takes: connection options and settings changes as JSON objects.

// jsonObjectFlag is a flag whose value is one JSON object (unknown members allowed: a kind's options).
type jsonObjectFlag struct {
	set bool
	v   map[string]any
}

func (f *jsonObjectFlag) String() string { return "" }

func (f *jsonObjectFlag) Set(s string) error {
	var m map[string]any
	if err := httpx.DecodeJSONObject([]byte(s), &m); err != nil {
		var be *httpx.BodyError
		if errors.As(err, &be) {
			return errors.New(be.Message)
		}
		return err
	}
	f.set, f.v = true, m
	return nil
}

// boolFlag is a flag that must be given a value, true or false, and remembers whether it was.
type boolFlag struct {
	set bool
	v   bool
}

func (f *boolFlag) String() string { return "" }

func (f *boolFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	f.set, f.v = true, v
	return nil
}

// connectionRef resolves --connection (an id, con_…, or a name) to the tenant's connection.
func connectionRef(ctx context.Context, s *server.Server, ref string) (storage.Connection, error) {
	c, err := s.Store.GetConnection(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		return c, fmt.Errorf("no connection %q (--connection takes its id or name; see authio connection list)", ref)
	}
	return c, err
}

// flagErr names the flag a validation error of a connection or setting came from.
func flagErr(err error, flags map[string]string) error {
	var ve *directory.ValidationError
	if errors.As(err, &ve) {
		if f, ok := flags[ve.Field]; ok {
			return fmt.Errorf("--%s: %s", f, ve.Message)
		}
		return fmt.Errorf("%s: %s", ve.Field, ve.Message)
	}
	var ce *directory.ConflictError
	if errors.As(err, &ce) {
		if f, ok := flags[ce.Field]; ok {
			return fmt.Errorf("--%s: %s", f, ce.Message)
		}
	}
	return err
}

func cmdConnectionList(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connection list", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	name := fs.String("name", "", "only the connection of this name")
	strategy := fs.String("strategy", "", `only connections of this strategy (Auth0's name, e.g. "auth0", or a type)`)
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, nil, func(s *server.Server, tctx context.Context) error {
		list, err := s.ListConnections(tctx, *name, *strategy)
		if err != nil {
			return err
		}
		out := make([]any, 0, len(list))
		for _, c := range list {
			out = append(out, management.ConnectionJSON(c))
		}
		return printJSON(stdout, out)
	})
}

func cmdConnectionCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connection create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	name := fs.String("name", "", "connection name: letters, digits and inner hyphens (required)")
	strategy := fs.String("strategy", "", `its kind: Auth0's strategy name (e.g. "auth0" for passwords) or a type (required)`)
	var options jsonObjectFlag
	fs.Var(&options, "options", `the kind's settings, a JSON object (e.g. '{"issuer": "https://idp.example.com"}')`)
	disabled := fs.Bool("disabled", false, "create it disabled (no sign-in through it until enabled)")
	check := required(requiredFlag{"name", name}, requiredFlag{"strategy", strategy})
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		enabled := !*disabled
		c, err := s.CreateConnection(tctx, signin.ConnectionSpec{Name: *name, Strategy: *strategy, Settings: options.v, Enabled: &enabled})
		if err != nil {
			return flagErr(err, map[string]string{"name": "name", "strategy": "strategy", "options": "options"})
		}
		return printJSON(stdout, management.ConnectionJSON(c))
	})
}

func cmdConnectionUpdate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connection update", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	ref := fs.String("connection", "", "the connection's id or name (required)")
	var enabled boolFlag
	fs.Var(&enabled, "enabled", "true or false: turn sign-in through it on or off")
	var options jsonObjectFlag
	fs.Var(&options, "options", "the kind's settings, a JSON object replacing the current ones")
	check := func() error {
		if err := required(requiredFlag{"connection", ref})(); err != nil {
			return err
		}
		if !enabled.set && !options.set {
			return usageError{msg: "nothing to change: give --enabled or --options"}
		}
		return nil
	}
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		c, err := connectionRef(tctx, s, *ref)
		if err != nil {
			return err
		}
		upd := signin.ConnectionUpdate{}
		if enabled.set {
			upd.Enabled = &enabled.v
		}
		if options.set {
			upd.Settings = &options.v
		}
		c, err = s.UpdateConnection(tctx, c.ID, upd)
		if err != nil {
			return flagErr(err, map[string]string{"options": "options"})
		}
		return printJSON(stdout, management.ConnectionJSON(c))
	})
}

func cmdConnectionDelete(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connection delete", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	ref := fs.String("connection", "", "the connection's id or name (required)")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, required(requiredFlag{"connection", ref}), func(s *server.Server, tctx context.Context) error {
		c, err := connectionRef(tctx, s, *ref)
		if err != nil {
			return err
		}
		if err := s.DeleteConnection(tctx, c.ID); err != nil {
			var ve *directory.ValidationError
			if errors.As(err, &ve) {
				return fmt.Errorf("--connection: %s", ve.Message)
			}
			return err
		}
		return printJSON(stdout, map[string]any{"id": c.ID, "name": c.Name, "deleted": true})
	})
}

func cmdTenantSettingsGet(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant settings get", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, nil, func(s *server.Server, tctx context.Context) error {
		ts, err := s.TenantSettings(tctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, management.TenantSettingsJSON(ts))
	})
}

func cmdTenantSettingsSet(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant settings set", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	body := fs.String("json", "", `the settings to change, a JSON object as PATCH /api/v2/tenants/settings takes (e.g. '{"brute_force_threshold": 5}')`)
	file := fs.String("file", "", "read that JSON object from a file instead (- for stdin)")
	check := func() error {
		if (*body == "") == (*file == "") {
			return usageError{msg: "exactly one of --json, --file is required"}
		}
		return nil
	}
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		raw, from := []byte(*body), "--json"
		if *file != "" {
			var err error
			from = "--file"
			if *file == "-" {
				raw, err = io.ReadAll(os.Stdin)
			} else {
				raw, err = os.ReadFile(*file)
			}
			if err != nil {
				return fmt.Errorf("--file: %w", err)
			}
		}
		upd, err := management.DecodeTenantSettingsPatch(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		ts, err := s.UpdateTenantSettings(tctx, upd)
		if err != nil {
			return flagErr(err, nil)
		}
		return printJSON(stdout, management.TenantSettingsJSON(ts))
	})
}
