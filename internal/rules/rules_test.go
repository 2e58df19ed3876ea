package rules_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/netyard/netyard"

type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	Imports    []string
	GoFiles    []string
	// TestGoFiles and XTestGoFiles are its tests, in-package and external.
	TestGoFiles, XTestGoFiles []string
}

// packages lists the module's packages with go list.
func packages(t *testing.T) []pkg {
	t.Helper()
	// No VCS stamping: listing needs none, and git may refuse a checkout
	// owned by another user.
	cmd := exec.Command("go", "list", "-buildvcs=false", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func rel(p pkg) string { return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/") }

// TestPackageDocs: every package has exactly one package comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range packages(t) {
		var with []string
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil {
				with = append(with, f)
			}
		}
		if len(with) != 1 {
			t.Errorf("%s: %d files carry a package comment (%v), want exactly 1", p.ImportPath, len(with), with)
		}
	}
}

// core reports whether a package is pure core: no OS, no wall clock.
func core(path string) bool {
	for _, c := range []string{"switch", "nat", "ipam", "dnsd", "netdb", "internal/clock", "internal/link", "internal/trace", "internal/stack", "sim", "sim/topo", "sim/fabric", "sim/mem", "sim/backend", "sim/scenario", "sim/capture"} {
		if path == c || strings.HasPrefix(path, c+"/") && !strings.HasPrefix(path, "switch/tap") && !strings.HasPrefix(path, "sim/netns") {
			return true
		}
	}
	return false
}

var (
	wallClock  = regexp.MustCompile(`\btime\.(Now|Sleep|After|AfterFunc|Tick|NewTimer|NewTicker|Since|Until)\(`)
	globalRand = regexp.MustCompile(`\brand\.(Int|IntN|Intn|Int31n?|Int32N?|Int63n?|Int64N?|Uint|UintN|Uint32N?|Uint64N?|Float32|Float64|N|Perm|Shuffle|ExpFloat64|NormFloat64|Seed|Read)\(`)
)

// TestTimeAndRandomness: node code takes time only from clock.Clock and
// randomness only from streams it is given.
func TestTimeAndRandomness(t *testing.T) {
	for _, p := range packages(t) {
		r := rel(p)
		if !core(r) {
			continue
		}
		for _, f := range p.GoFiles {
			if strings.HasSuffix(f, "_linux.go") {
				continue
			}
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			af, _ := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			for _, imp := range af.Imports {
				if imp.Path.Value == `"math/rand"` {
					t.Errorf("%s/%s imports math/rand: use a seeded math/rand/v2 stream from the engine", r, f)
				}
			}
			for i, line := range strings.Split(string(src), "\n") {
				if r != "internal/clock" && wallClock.MatchString(line) {
					t.Errorf("%s/%s:%d: wall-clock time in node code: %s", r, f, i+1, strings.TrimSpace(line))
				}
				if globalRand.MatchString(line) {
					t.Errorf("%s/%s:%d: global random source: %s", r, f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}

// unchecked are packages that start goroutines but need no leak check of
// their own, with the reason.
var unchecked = map[string]string{
	"internal/nsutil":     "run waits for the goroutine it locks to a thread; netns, tap and stack tests check around it",
	"bench/kernelcompare": "a program with no tests: its goroutines end with the process",
	"bench/tapcopy":       "a program with no tests: its goroutines end with the process",
}

// TestGoroutinesAreLeakChecked: a package whose code starts goroutines has
// tests that check none outlives them (internal/leak: Check or Run).
func TestGoroutinesAreLeakChecked(t *testing.T) {
	ps := packages(t)
	for _, p := range ps {
		r := rel(p)
		var starts []string
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				if _, ok := n.(*ast.GoStmt); ok {
					starts = append(starts, f)
					return false
				}
				return true
			})
		}
		if len(starts) == 0 {
			continue
		}
		if _, ok := unchecked[r]; ok {
			continue
		}
		checked := false
		for _, f := range append(slices.Clone(p.TestGoFiles), p.XTestGoFiles...) {
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if leakCall.Match(src) {
				checked = true
				break
			}
		}
		if !checked {
			t.Errorf("%s starts goroutines (%s) but no test of it calls leak.Check or leak.Run", r, strings.Join(slices.Compact(starts), ", "))
		}
	}
	for r := range unchecked {
		if !slices.ContainsFunc(ps, func(p pkg) bool { return rel(p) == r }) {
			t.Errorf("unchecked lists %s, which is no package any more: delete the entry", r)
		}
	}
}

var leakCall = regexp.MustCompile(`\bleak\.(Check|Run)\(`)
