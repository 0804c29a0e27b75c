package oidf

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// notInPlanForStaticClients are the Basic OP modules the suite leaves out of the plan for statically registered
// clients (VariantNotApplicable): listed in the docs, no subtest.
var notInPlanForStaticClients = []string{
	"oidcc-idtoken-signature",
	"oidcc-idtoken-unsigned",
	"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
}

var docsRowRE = regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|")

// TestDocsListEveryModule keeps docs/oidf-conformance.md and the subtests in step: every module has a row, and
// every row names a module.
func TestDocsListEveryModule(t *testing.T) {
	b, err := os.ReadFile("../../docs/oidf-conformance.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range docsRowRE.FindAllStringSubmatch(string(b), -1) {
		if !strings.HasSuffix(m[1], "-test-plan") { // the table of plans
			rows = append(rows, m[1])
		}
	}
	want := slices.Clone(notInPlanForStaticClients)
	for _, list := range [][]planModule{basicModules, extraModules, logoutModules} {
		for _, m := range list {
			want = append(want, m.name)
		}
	}
	want = append(want, "oidcc-discovery-endpoint-verification")
	for _, name := range want {
		if !slices.Contains(rows, name) {
			t.Errorf("docs/oidf-conformance.md has no row for %s", name)
		}
	}
	for _, name := range rows {
		if !slices.Contains(want, name) {
			t.Errorf("docs/oidf-conformance.md lists %s, which no subtest runs", name)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("docs/oidf-conformance.md has %d module rows, want %d (one per module)", len(rows), len(want))
	}
}
