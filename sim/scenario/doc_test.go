package scenario_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/scenario"
	vswitch "github.com/netyard/netyard/switch"
)

// packageDoc returns the package comment of doc.go, as go doc shows it.
func packageDoc(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	return f.Doc.Text()
}

// docExamples returns the indented blocks of the package doc that have
// steps: the example files (the others are fragments).
func docExamples(doc string) []string {
	var out []string
	var cur []string
	flush := func() {
		if b := strings.Join(cur, "\n"); strings.Contains(b, "\nsteps:") {
			out = append(out, strings.Join(cur, "\n")+"\n")
		}
		cur = nil
	}
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "\t") {
			cur = append(cur, strings.TrimPrefix(l, "\t"))
			continue
		}
		flush()
	}
	flush()
	return out
}

// TestDocExamplesLoad: the examples of doc.go are files that load.
func TestDocExamplesLoad(t *testing.T) {
	ex := docExamples(packageDoc(t))
	if len(ex) != 2 {
		t.Fatalf("doc.go has %d examples, want 2 (the format, and a Docker file)", len(ex))
	}
	for i, src := range ex {
		if _, err := scenario.Parse(fmt.Sprintf("doc.go example %d", i+1), []byte(src)); err != nil {
			t.Errorf("example %d does not load:\n%v\n%s", i+1, err, src)
		}
	}
}

// TestDocIsWhole: doc.go calls itself the whole format, so every field of
// every type a file decodes into is in its examples, and every counter and
// drop reason is named.
func TestDocIsWhole(t *testing.T) {
	doc := packageDoc(t)
	examples := strings.Join(docExamples(doc), "\n")
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	var missing []string
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map || ty.Kind() == reflect.Array {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeFor[scenario.File]().PkgPath() {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			name, _, _ := strings.Cut(ty.Field(i).Tag.Get("yaml"), ",")
			if name == "" {
				continue
			}
			if !regexp.MustCompile(`[{\s,]` + regexp.QuoteMeta(name) + `:`).MatchString(examples) {
				missing = append(missing, path+"."+name)
			}
			walk(ty.Field(i).Type, path+"."+name)
		}
	}
	walk(reflect.TypeFor[scenario.File](), "file")
	for _, kind := range scenario.StepKinds() { // a step's action is one of the registered kinds
		if !regexp.MustCompile(`[{\s,]` + regexp.QuoteMeta(kind) + `:`).MatchString(examples) {
			missing = append(missing, "file.steps."+kind)
		}
		walk(reflect.TypeOf(scenario.NewAction(kind)), "file.steps."+kind)
	}
	for _, m := range []string{"ends", "latency", "jitter", "loss", "rate", "queue"} { // LinkConfig's mapping form
		if !strings.Contains(examples, m+":") {
			missing = append(missing, "links[]."+m)
		}
	}
	for _, r := range vswitch.DropReasons() {
		if !strings.Contains(doc, r.String()) {
			missing = append(missing, "drop reason "+r.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("doc.go leaves out: %s", strings.Join(missing, ", "))
	}
}

// TestDocDefaults: the defaults the docs give are the ones the runner
// uses (go doc scenario.PingStep once said 4s where the code used 2s).
func TestDocDefaults(t *testing.T) {
	// The schema's field comments, in schema.go and the steps' files.
	fset := token.NewFileSet()
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	comment := map[string]string{} // Type.Field -> its line comment
	for _, src := range sources {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, src, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, fl := range st.Fields.List {
					for _, name := range fl.Names {
						comment[ts.Name.Name+"."+name.Name] = fl.Comment.Text()
					}
				}
			}
			return false
		})
	}
	const connectTimeout = 4 * time.Second // run.go's connect default
	for _, c := range []struct {
		field string
		want  time.Duration
	}{
		{"PingStep.Timeout", scenario.DefaultTimeout},
		{"PingStep.Interval", scenario.DefaultInterval},
		{"UDPStep.Timeout", scenario.DefaultTimeout},
		{"ResolveStep.Timeout", scenario.DefaultTimeout},
		{"ConnectStep.Timeout", connectTimeout},
	} {
		if got := comment[c.field]; !strings.Contains(got, "default "+c.want.String()) {
			t.Errorf("%s's comment %q does not say default %v", c.field, strings.TrimSpace(got), c.want)
		}
	}
	// The package doc's step descriptions.
	doc := strings.Join(strings.Fields(packageDoc(t)), " ")
	for _, want := range []string{
		fmt.Sprintf("interval apart (default %v), each waiting timeout for its reply (default %v)", scenario.DefaultInterval, scenario.DefaultTimeout),
		fmt.Sprintf("udp sends one datagram to port and waits timeout (default %v)", scenario.DefaultTimeout),
		fmt.Sprintf("handshake to port within timeout (default %v)", connectTimeout),
		fmt.Sprintf("within timeout (default %v): expect a list", scenario.DefaultTimeout),
		fmt.Sprintf("one ping each way per pair, timeout %v", scenario.DefaultTimeout),
		fmt.Sprintf("default %s", spaced(scenario.DefaultBudget)),
		fmt.Sprintf("FDB ageing time; default %.0fs", vswitch.DefaultAgeingTime.Seconds()),
		fmt.Sprintf("FDB bound; default %d", vswitch.DefaultMaxEntries),
		fmt.Sprintf("hello 1-10s (default %v), max_age 6-40s (%v), forward_delay 4-30s (%v)", vswitch.DefaultHelloTime, vswitch.DefaultMaxAge, vswitch.DefaultForwardDelay),
		fmt.Sprintf("multiple of 4096 (default %d)", vswitch.DefaultBridgePriority),
		fmt.Sprintf("cost defaults to %d, its priority to %d", vswitch.DefaultPathCost, vswitch.DefaultPortPriority),
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("doc.go does not say %q", want)
		}
	}
	if b, err := os.ReadFile("doc.go"); err != nil || strings.Contains(string(b), "name: r1") {
		t.Error("doc.go's example has a router-like host r1 again: hosts do not forward")
	}
}

// spaced writes n with spaces between thousands: 20 000 000.
func spaced(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}
