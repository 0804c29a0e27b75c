package static

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFSEmbedsAssets(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // a fragment proving it is the real file, not an empty one
	}{
		{name: "stylesheet", file: "authio.css", want: ":focus-visible"},
		{name: "stylesheet dark scheme", file: "authio.css", want: "prefers-color-scheme: dark"},
		{name: "script", file: "authio.js", want: "addEventListener(\"submit\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := fs.ReadFile(FS, tt.file)
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", tt.file, err)
			}
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("%s does not contain %q", tt.file, tt.want)
			}
		})
	}
}

func TestFSHoldsOnlyAssets(t *testing.T) {
	names, err := fs.Glob(FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.HasSuffix(name, ".css") && !strings.HasSuffix(name, ".js") {
			t.Errorf("unexpected embedded file %q", name)
		}
	}
}
