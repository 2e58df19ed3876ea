package rules

import (
	"slices"
	"strings"
)

// Package is one package of an import graph. The module's own packages are
// named relative to the module ("switch", "sim/netns"); others by their
// import path.
type Package struct {
	Path    string
	Std     bool     // in the standard library: a leaf, never followed
	Module  bool     // one of the module's own packages
	Imports []string // imported by its non-test files
	Tests   []string // imported by its _test.go files, in-package and external
}

// Graph is an import graph by package path. An import missing from the
// graph is a leaf.
type Graph map[string]*Package

// Rule forbids some packages to reach others. A package reaches what it
// imports and, unless Direct, what those imports reach in turn: through the
// module's own packages always, through third-party packages when Deps is
// set, never through the standard library.
type Rule struct {
	Name   string   // for messages: "1", "3a"
	Pkgs   []string // the module packages bound (patterns, see Match)
	Except []string // taken out of Pkgs
	Forbid []string // what they must not reach
	// Only, when set, lists the only non-standard packages they may
	// reach; anything else is a violation.
	Only []string
	// Allow excuses a violation, keyed "pkg -> import" (patterns; the
	// import may be anywhere on the chain), with the reason.
	Allow  map[string]string
	Tests  bool // test files' imports count too
	Direct bool // only the packages' own imports
	Deps   bool // follow third-party packages' imports too
	Why    string
}

// Violation is a package reaching what a rule forbids.
type Violation struct {
	Rule  *Rule
	Pkg   string
	Chain []string // Pkg, each package on the way, the forbidden one
	Test  bool     // the first step is a test file's import
	// Allowed is the Rule.Allow key that excuses the violation, if any.
	Allowed string
}

// String names the whole chain, then the rule: "a -> b -> c: rule 3: why".
// A chain that starts in test files reads "a (tests) -> b".
func (v Violation) String() string {
	head := v.Chain[0]
	if v.Test {
		head += " (tests)"
	}
	return strings.Join(append([]string{head}, v.Chain[1:]...), " -> ") + ": rule " + v.Rule.Name + ": " + v.Rule.Why
}

// Match reports whether path matches pattern: "x/..." matches x and every
// package below it, "..." matches everything, anything else only itself.
func Match(pattern, path string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return pattern == path
}

func matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return Match(p, path) })
}

// Covers reports whether key ("pkg -> import", patterns) names v: its
// package matches pkg and some package after it on the chain matches import.
func Covers(key string, v Violation) bool {
	pkg, imp, ok := strings.Cut(key, " -> ")
	if !ok || !Match(strings.TrimSpace(pkg), v.Pkg) {
		return false
	}
	imp = strings.TrimSpace(imp)
	return slices.ContainsFunc(v.Chain[1:], func(p string) bool { return Match(imp, p) })
}

// Check returns every violation of rules in g, in rule order, then by
// package, each with its shortest chain. A package reaching a forbidden
// package by several routes is reported once; the chain stops at the first
// forbidden package on it.
func Check(g Graph, rules []Rule) []Violation {
	var paths []string
	for p, pkg := range g {
		if pkg.Module {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []Violation
	for i := range rules {
		r := &rules[i]
		for _, p := range paths {
			if !matchAny(r.Pkgs, p) || matchAny(r.Except, p) {
				continue
			}
			build := r.walk(g, p, false)
			out = append(out, build...)
			if !r.Tests {
				continue
			}
			for _, v := range r.walk(g, p, true) {
				last := v.Chain[len(v.Chain)-1]
				if !slices.ContainsFunc(build, func(b Violation) bool { return b.Chain[len(b.Chain)-1] == last }) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// forbidden reports whether r forbids reaching path.
func (r *Rule) forbidden(g Graph, path string) bool {
	if matchAny(r.Forbid, path) {
		return true
	}
	if r.Only == nil {
		return false
	}
	if pkg := g[path]; pkg != nil && pkg.Std {
		return false
	}
	return !matchAny(r.Only, path)
}

// walk searches breadth first from p, its test imports included when
// tests is set, and returns a violation for each forbidden package found.
func (r *Rule) walk(g Graph, p string, tests bool) []Violation {
	first := slices.Clone(g[p].Imports)
	if tests {
		first = append(first, g[p].Tests...)
	}
	slices.Sort(first)
	from := map[string]string{p: ""} // each package found, by where it was found from
	queue := []string{p}
	var out []Violation
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		next := first
		if at != p {
			next = g[at].Imports
		}
		for _, imp := range next {
			if _, seen := from[imp]; seen {
				continue
			}
			from[imp] = at
			if r.forbidden(g, imp) {
				v := Violation{Rule: r, Pkg: p, Test: tests}
				for q := imp; q != ""; q = from[q] {
					v.Chain = append(v.Chain, q)
				}
				slices.Reverse(v.Chain)
				for _, k := range sortedKeys(r.Allow) {
					if Covers(k, v) {
						v.Allowed = k
						break
					}
				}
				out = append(out, v)
				continue
			}
			if r.Direct {
				continue
			}
			if pkg := g[imp]; pkg != nil && !pkg.Std && (pkg.Module || r.Deps) {
				queue = append(queue, imp)
			}
		}
	}
	slices.SortFunc(out, func(a, b Violation) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
