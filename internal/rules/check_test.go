package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/internal/rules"
)

// build makes a graph from lines "pkg: imp imp | testimp", where a package
// in lower case without a dot is the module's, "std:x" is standard and one
// with a dot is third-party.
func build(lines ...string) rules.Graph {
	g := rules.Graph{}
	add := func(p string) *rules.Package {
		std := strings.HasPrefix(p, "std:")
		p = strings.TrimPrefix(p, "std:")
		if g[p] == nil {
			g[p] = &rules.Package{Path: p, Std: std, Module: !std && !strings.Contains(p, ".")}
		}
		return g[p]
	}
	for _, l := range lines {
		name, rest, _ := strings.Cut(l, ": ")
		p := add(name)
		imps, tests, _ := strings.Cut(rest, "|")
		for _, i := range strings.Fields(imps) {
			p.Imports = append(p.Imports, add(i).Path)
		}
		for _, i := range strings.Fields(tests) {
			p.Tests = append(p.Tests, add(i).Path)
		}
	}
	return g
}

func TestCheck(t *testing.T) {
	netlink := "github.com/vishvananda/netlink"
	tests := []struct {
		name  string
		graph rules.Graph
		rule  rules.Rule
		want  []string // Violation.String without ": rule ..."
	}{
		{
			name:  "an indirect violation names the whole chain",
			graph: build("a: b", "b: "+netlink, netlink+": std:syscall"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{netlink}},
			want:  []string{"a -> b -> " + netlink},
		},
		{
			name:  "every package on the chain is bound too",
			graph: build("a: b", "b: "+netlink),
			rule:  rules.Rule{Pkgs: []string{"..."}, Forbid: []string{netlink}},
			want:  []string{"a -> b -> " + netlink, "b -> " + netlink},
		},
		{
			name:  "the shortest chain, reported once",
			graph: build("a: b d", "b: c", "c: f", "d: f"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"f"}},
			want:  []string{"a -> d -> f"},
		},
		{
			name:  "the chain stops at the first forbidden package",
			graph: build("a: sim/mem", "sim/mem: sim/netns"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"sim/..."}},
			want:  []string{"a -> sim/mem"},
		},
		{
			name:  "test imports are ignored without Tests",
			graph: build("a: | c", "c: sim"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"sim/..."}},
		},
		{
			name:  "test imports count with Tests, and only the first step",
			graph: build("a: | c", "c: sim | cmd/x"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"sim/...", "cmd/..."}, Tests: true},
			want:  []string{"a (tests) -> c -> sim"},
		},
		{
			name:  "what non-test code reaches is reported once, as non-test",
			graph: build("a: sim | sim"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"sim/..."}, Tests: true},
			want:  []string{"a -> sim"},
		},
		{
			name:  "third-party imports are not followed without Deps",
			graph: build("a: x.org/lib", "x.org/lib: "+netlink),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{netlink}},
		},
		{
			name:  "third-party imports are followed with Deps",
			graph: build("a: x.org/lib", "x.org/lib: "+netlink),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{netlink}, Deps: true},
			want:  []string{"a -> x.org/lib -> " + netlink},
		},
		{
			name:  "the standard library is a leaf",
			graph: build("a: std:net", "std:net: std:syscall"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"syscall"}, Deps: true},
		},
		{
			name:  "Direct looks at the package's own imports only",
			graph: build("a: b std:os", "b: std:os"),
			rule:  rules.Rule{Pkgs: []string{"a"}, Forbid: []string{"os"}, Direct: true},
			want:  []string{"a -> os"},
		},
		{
			name:  "Only: anything else non-standard is a violation",
			graph: build("sim: internal/clock internal/link std:time", "internal/link: internal/csum"),
			rule:  rules.Rule{Pkgs: []string{"sim"}, Only: []string{"internal/clock"}},
			want:  []string{"sim -> internal/link"},
		},
		{
			name:  "Only follows the packages it allows",
			graph: build("internal/a: internal/b", "internal/b: x.org/lib"),
			rule:  rules.Rule{Pkgs: []string{"internal/..."}, Only: []string{"internal/..."}},
			want:  []string{"internal/a -> internal/b -> x.org/lib", "internal/b -> x.org/lib"},
		},
		{
			name:  "Except takes packages out",
			graph: build("a: "+netlink, "sim/netns: "+netlink),
			rule:  rules.Rule{Pkgs: []string{"..."}, Except: []string{"sim/netns/..."}, Forbid: []string{netlink}},
			want:  []string{"a -> " + netlink},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Name, tt.rule.Why = "x", "why"
			var got []string
			for _, v := range rules.Check(tt.graph, []rules.Rule{tt.rule}) {
				s, _ := strings.CutSuffix(v.String(), ": rule x: why")
				got = append(got, s)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAllowAndCovers(t *testing.T) {
	g := build("internal/stack: internal/nsutil", "internal/nsutil: golang.org/x/sys/unix")
	r := rules.Rule{Name: "1", Why: "why", Pkgs: []string{"internal/..."}, Only: []string{"internal/..."},
		Allow: map[string]string{"internal/stack -> internal/nsutil/...": "it may"}}
	got := map[string]string{}
	for _, v := range rules.Check(g, []rules.Rule{r}) {
		got[v.Pkg] = v.Allowed
	}
	want := map[string]string{"internal/stack": "internal/stack -> internal/nsutil/...", "internal/nsutil": ""}
	if len(got) != len(want) || got["internal/stack"] != want["internal/stack"] || got["internal/nsutil"] != "" {
		t.Errorf("Allowed by package = %q, want %q", got, want)
	}
	v := rules.Violation{Rule: &r, Pkg: "sim/scenario", Chain: []string{"sim/scenario", "sim/netns", "internal/nsutil", "golang.org/x/sys/unix"}}
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"sim/scenario -> sim/netns", true},
		{"sim/scenario -> golang.org/x/sys/...", true},
		{"sim/... -> internal/nsutil", true},
		{"sim/scenario -> sim/mem", false},
		{"sim/scenario -> sim/scenario", false}, // the package itself is not on the way
		{"sim/mem -> sim/netns", false},
		{"sim/scenario sim/netns", false},
	} {
		if got := rules.Covers(c.key, v); got != c.want {
			t.Errorf("Covers(%q, %v) = %v, want %v", c.key, v.Chain, got, c.want)
		}
	}
}

// TestHouseRulesCatchABadImport adds a deliberate bad import to the real
// graph, an indirect one, and checks that the house rules name it with its
// whole chain.
func TestHouseRulesCatchABadImport(t *testing.T) {
	g := graph(t)
	g["internal/helper"] = &rules.Package{Path: "internal/helper", Module: true, Imports: []string{"github.com/vishvananda/netlink"}}
	g["switch"].Imports = append(slices.Clone(g["switch"].Imports), "internal/helper")
	g["nat"].Tests = append(slices.Clone(g["nat"].Tests), "sim/mem")
	var got []string
	for _, v := range rules.Check(g, houseRules) {
		s, _, _ := strings.Cut(v.String(), ": "+v.Rule.Why)
		got = append(got, s)
	}
	for _, w := range []struct {
		v string
		n int
	}{
		{"switch -> internal/helper -> github.com/vishvananda/netlink: rule 3", 2}, // direct and through dependencies
		{"internal/helper -> github.com/vishvananda/netlink: rule 1", 1},
		{"nat (tests) -> sim/mem: rule 2", 1},
	} {
		if n := count(got, w.v); n != w.n {
			t.Errorf("Check(real graph + bad imports) reports %q %d times, want %d; all:\n%s", w.v, n, w.n, strings.Join(got, "\n"))
		}
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
