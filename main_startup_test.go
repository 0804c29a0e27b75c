package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoHeavyWorkAtInitialization reads every Go file of the module (tests aside) and fails on a func init() and
// on a package-level variable whose initializer calls into a heavy package: that work would run before any
// command starts, whatever the command. Function literals in initializers run later (sync.OnceValue), so they
// are not looked into. BENCHMARKS.md records what initialization and a CLI command cost as measured.
func TestNoHeavyWorkAtInitialization(t *testing.T) {
	// Packages whose functions are slow by design (password hashing, key generation) or lead to them: none may
	// run while a package initializes, since every CLI command would pay for it (a bcrypt hash at cost 12 is
	// about 250 ms; an RSA-2048 key 50-100 ms).
	heavy := map[string]bool{}
	for _, p := range []string{
		"golang.org/x/crypto/bcrypt", "golang.org/x/crypto/scrypt", "golang.org/x/crypto/argon2",
		"golang.org/x/crypto/pbkdf2", "crypto/pbkdf2", "crypto/rsa", "crypto/ecdsa", "crypto/ed25519", "crypto/ecdh",
		"github.com/authio/authio/authn/password", "github.com/authio/authio/keys",
	} {
		heavy[p] = true
	}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		imports := map[string]string{} // local name -> import path
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" {
					t.Errorf("%s: func init(): work at package initialization (and wiring) belongs in constructors", fset.Position(d.Pos()))
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						ast.Inspect(v, func(n ast.Node) bool {
							switch n := n.(type) {
							case *ast.FuncLit:
								return false // runs when called, not at initialization
							case *ast.CallExpr:
								if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
									if id, ok := sel.X.(*ast.Ident); ok && heavy[imports[id.Name]] {
										t.Errorf("%s: a package-level variable calls %s.%s at initialization",
											fset.Position(n.Pos()), imports[id.Name], sel.Sel.Name)
									}
								}
							}
							return true
						})
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d Go files; the walk missed the module", files)
	}
}
