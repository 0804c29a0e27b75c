package oidf

import (
	"sort"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// module is one run of a suite test module: the test RP's state (the discovered server configuration, its
// keys, the client in use) and how each check's outcome counts.
//
// The suite gives every check a severity. A FAILURE fails the module; stop is a failure after which the suite
// ends the module (callAndStopOnFailure). A WARNING leaves the module passed "with warnings": here an
// unexpected warning fails the subtest too, and a module names the warnings it is known to raise (and why)
// with expectWarning, so docs/oidf-conformance.md can say exactly how each module ends. INFO is only logged.
type module struct {
	t  *testing.T
	op *op
	b  *browser

	expected map[string]string // warning -> why Authio raises it (the docs say the same)
	raised   map[string]bool

	server     map[string]any // the discovery document
	jwks       []byte
	client     clientConf
	authMethod string // client_secret_basic or client_secret_post
	scope      string // the client's configured scope
	stateLen   int    // the suite's requested_state_length (10 by default)
	nonceLen   int    // requested_nonce_length (10 by default)
}

// run runs one module as a parallel subtest named by the suite's module name, with a fresh browser.
func run(t *testing.T, p *op, name string, body func(m *module)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		m := &module{t: t, op: p, b: newBrowser(t, p), expected: map[string]string{}, raised: map[string]bool{},
			authMethod: "client_secret_basic", client: p.client, stateLen: 10, nonceLen: 10}
		t.Cleanup(func() {
			if t.Failed() {
				return
			}
			var missing []string
			for c := range m.expected {
				if !m.raised[c] {
					missing = append(missing, c)
				}
			}
			sort.Strings(missing)
			for _, c := range missing {
				t.Errorf("%s: expected warning not raised; update the module and docs/oidf-conformance.md", c)
			}
		})
		body(m)
	})
}

// eachBackend runs a plan once per storage backend (SQLite; Postgres with Redis when the test environment
// names them), with one OP per backend shared by the plan's modules.
func eachBackend(t *testing.T, plan func(t *testing.T, p *op)) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		plan(t, newOP(t, o))
	})
}

// stop is a FAILURE that ends the module.
func (m *module) stop(cond string, err error) {
	m.t.Helper()
	if err != nil {
		m.t.Fatalf("%s: %v", cond, err)
	}
}

// fail is a FAILURE after which the module goes on.
func (m *module) fail(cond string, err error) {
	m.t.Helper()
	if err != nil {
		m.t.Errorf("%s: %v", cond, err)
	}
}

// warn is a WARNING: expected (and logged) when the module declared it, a failure of the subtest otherwise.
func (m *module) warn(cond string, err error) {
	m.t.Helper()
	if err == nil {
		return
	}
	if why, ok := m.expected[cond]; ok {
		m.raised[cond] = true
		m.t.Logf("WARNING %s: %v (expected: %s)", cond, err, why)
		return
	}
	m.t.Errorf("%s (a warning in the suite): %v", cond, err)
}

// info is an INFO result: logged only.
func (m *module) info(cond string, err error) {
	m.t.Helper()
	if err != nil {
		m.t.Logf("info %s: %v", cond, err)
	}
}

// expectWarning declares a warning the module raises against Authio, and why.
func (m *module) expectWarning(cond, why string) { m.expected[cond] = why }

// skippedBySuite ends a module the way the suite does when its skip condition holds: the module's result is
// SKIPPED. The subtest passes, having checked the condition the suite skips on.
func (m *module) skippedBySuite(reason string) {
	m.t.Helper()
	m.t.Logf("SKIPPED by the suite: %s", reason)
}
