package trace_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// exported returns the exported top-level names of the package in dir,
// tests left out.
func exported(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		if m, _ := filepath.Match("*_test.go", filepath.Base(f)); m {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names[s.Name.Name] = s.Name.IsExported()
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = n.IsExported()
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = d.Name.IsExported()
				}
			}
		}
	}
	for n, ok := range names {
		if !ok {
			delete(names, n)
		}
	}
	return names
}

// TestAliasesAreWhole: every exported name of internal/trace is here too,
// so a program outside the module can name whatever a node reports.
func TestAliasesAreWhole(t *testing.T) {
	inner, outer := exported(t, "../../internal/trace"), exported(t, ".")
	for n := range inner {
		if !outer[n] {
			t.Errorf("internal/trace.%s has no alias in sim/trace", n)
		}
	}
}
