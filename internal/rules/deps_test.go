package rules_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/internal/rules"
)

// osPkgs are the packages that touch the OS.
var osPkgs = []string{
	"syscall",
	"golang.org/x/sys/...",
	"github.com/vishvananda/netlink/...",
	"github.com/vishvananda/netns/...",
	"github.com/songgao/water/...",
}

// shell are the packages that may touch the OS (ARCHITECTURE.md, rule 3),
// and the command that wires them in.
var shell = []string{"switch/tap/...", "switch/vxlan/kernel/...", "sim/netns/...", "internal/nsutil/...", "cmd/...", "bench/..."}

// nodes are the node packages (rule 2).
var nodes = []string{"switch/...", "nat/...", "dnsd/...", "ipam/...", "router/...", "internal/stack/...", "netdb/..."}

// houseRules are the dependency rules of docs/design.md, numbered as in
// ARCHITECTURE.md's "Rules".
var houseRules = []rules.Rule{
	{
		Name: "1", Pkgs: []string{"internal/..."}, Tests: true,
		Only: []string{"internal/..."},
		Why:  "internal/* imports only the standard library and lower internal/ packages",
		Allow: map[string]string{
			"internal/stack -> github.com/gopacket/gopacket/...":       "the host stack builds its frames with gopacket's serialiser",
			"internal/stack -> github.com/miekg/dns":                   "the host's resolver and DNS over TCP speak miekg/dns messages",
			"internal/stack -> switch/tap":                             "tests only: the kernel interop test joins a host to a namespace over a real TAP device",
			"internal/stack -> github.com/vishvananda/netlink":         "tests only: the kernel interop test configures its namespace",
			"internal/link -> github.com/gopacket/gopacket/...":        "tests only: they build and decode frames with gopacket",
			"internal/header -> github.com/gopacket/gopacket/...":      "tests only: gopacket is the reference the views and their checksums are checked against",
			"internal/nsutil -> github.com/vishvananda/netns":          "namespace handles: nsutil is the one place that switches namespaces",
			"internal/nsutil -> golang.org/x/sys/unix":                 "mounts and setns: nsutil is part of the OS shell",
			"internal/stack -> internal/nsutil/...":                    "tests only: the kernel interop test runs in nstest's sandbox and enters namespaces with nsutil",
			"internal/nsutil/nstest -> github.com/vishvananda/netlink": "the test sandbox brings its loopback up",
			"internal/nsutil/nstest -> golang.org/x/sys/unix":          "the test sandbox makes its mounts",
		},
	},
	{
		Name: "2", Pkgs: nodes, Tests: true,
		Forbid: []string{"sim/...", "cmd/..."},
		Why:    "node packages never import sim/... or cmd/...: they run on clock.Clock and endpoints (tests use clock.Manual)",
	},
	{
		Name: "2", Pkgs: []string{"switch/..."}, Tests: true,
		Forbid: []string{"nat/...", "dnsd/...", "ipam/..."},
		Why:    "the switch never imports another node: nodes meet only through endpoints",
	},
	{
		Name: "2", Pkgs: []string{"nat/..."}, Tests: true,
		Forbid: []string{"switch/..."},
		Why:    "nat never imports the switch: nodes meet only through endpoints",
	},
	{
		Name: "2", Pkgs: []string{"router/..."}, Tests: true,
		Forbid: []string{"switch/...", "nat/...", "dnsd/...", "ipam/..."},
		Why:    "the router never imports another node: nodes meet only through endpoints",
	},
	{
		Name: "3", Pkgs: []string{"..."}, Except: shell,
		Forbid: osPkgs,
		Why:    "the OS is touched only in switch/tap, switch/vxlan/kernel, sim/netns and internal/nsutil (and cmd, and bench's tools)",
		Allow: map[string]string{
			"dnsd -> golang.org/x/sys/unix": "SO_REUSEPORT on the server's UDP sockets, one per core (issue 14)",
			"dnsd -> syscall":               "the RawConn that sets SO_REUSEPORT",
			"... -> dnsd":                   "dnsd's socket options, as above; the mem world never opens its sockets",
		},
	},
	{
		// Third-party packages are followed too: no kernel configuration
		// library may ride in through a dependency. (syscall and x/sys/unix
		// are not in this list: the standard library's net and miekg/dns's
		// golang.org/x/net/ipv4 bring them to almost every package.)
		Name: "3", Pkgs: []string{"..."}, Except: shell, Deps: true,
		Forbid: []string{"github.com/vishvananda/netlink/...", "github.com/vishvananda/netns/...", "github.com/songgao/water/..."},
		Why:    "no package outside the OS shell links a kernel configuration library, even through a dependency",
	},
	{
		Name: "3", Direct: true,
		Pkgs:   []string{"switch/...", "nat/...", "dnsd/...", "router/...", "netdb/...", "internal/clock", "internal/link", "internal/trace", "internal/stack", "internal/header", "sim", "sim/topo/...", "sim/fabric", "sim/mem", "sim/backend", "sim/capture", "sim/kinds/...", "sim/memtest", "sim/trace"},
		Except: shell,
		Forbid: []string{"os"},
		Why:    "core packages touch no OS interface (ipam and sim/scenario read and write their files)",
	},
	{
		Name: "4", Pkgs: []string{"sim"}, Tests: true,
		Only: []string{"internal/clock"},
		Why:  "sim, the engine, imports only internal/clock",
	},
	{
		Name: "5", Pkgs: []string{"sim/topo/..."}, Tests: true,
		Forbid: []string{"go.yaml.in/...", "gopkg.in/yaml.v2", "gopkg.in/yaml.v3", "sim/fabric/...", "sim/mem/...", "sim/netns/...", "sim/scenario/...", "sim/backend/...", "sim/live/..."},
		Why:    "sim/topo is configuration only: no YAML and no runtime world",
	},
	{
		Name: "6", Pkgs: []string{"sim/fabric/..."}, Tests: true,
		Forbid: []string{"sim/mem/...", "sim/netns/...", "sim/scenario/...", "sim/live/..."},
		Why:    "sim/fabric, the runtime world, knows no backend, no runner and no API",
	},
	{
		Name: "6", Pkgs: []string{"sim/mem/..."}, Tests: true,
		Forbid: []string{"sim/netns/...", "sim/scenario/..."},
		Why:    "sim/mem never imports the other backend or the runner",
	},
	{
		Name: "6", Pkgs: []string{"sim/netns/..."}, Tests: true,
		Forbid: []string{"sim/mem/...", "sim/scenario/..."},
		Why:    "sim/netns never imports the other backend or the runner",
	},
	{
		// Its tests may link both backends to run every scenario in both
		// worlds; the runner itself must not.
		Name: "7", Pkgs: []string{"sim/scenario/..."},
		Forbid: []string{"sim/mem/...", "sim/netns/..."},
		Why:    "sim/scenario imports no backend: backends register and cmd/netyard wires them",
	},
}

// pending are known violations the code has not caught up with yet, keyed
// like Rule.Allow ("pkg -> import"). The test logs them instead of failing,
// and fails on an entry that no longer matches anything: delete it when the
// change lands.
var pending = map[string]string{
	"sim -> internal/link":  "issue 10: the engine still holds the simulated links (sim.Link), which send through link.Sender",
	"sim -> internal/trace": "issue 10: the engine's links trace their losses and queue drops",
}

// internalLayers ranks the internal/ packages: each may import only
// packages of a lower rank (rule 1's "lower internal/ packages").
var internalLayers = map[string]int{
	"internal/csum":            0,
	"internal/clock":           0,
	"internal/leak":            0,
	"internal/rules":           0,
	"internal/nsutil":          0,
	"internal/nsutil/nstest":   1,
	"internal/header":          1,
	"internal/registry":        0,
	"internal/trace":           1,
	"internal/trace/tracetest": 2,
	"internal/link":            2,
	"internal/stack":           3,
}

// graph loads the module's import graph, test imports included, with
// go list -deps -test.
func graph(t *testing.T) rules.Graph {
	t.Helper()
	cmd := exec.Command("go", "list", "-buildvcs=false", "-deps", "-test",
		"-json=ImportPath,Standard,Imports,TestImports,XTestImports", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	name := func(p string) string {
		if r, ok := strings.CutPrefix(p, module+"/"); ok {
			return r
		}
		return p
	}
	names := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, name(p))
		}
		return out
	}
	g := rules.Graph{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath                         string
			Standard                           bool
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		// Skip the test variants ("p [p.test]") and test mains
		// ("p.test"): the plain entry carries the test imports.
		if strings.Contains(p.ImportPath, " [") || strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		g[name(p.ImportPath)] = &rules.Package{
			Path:    name(p.ImportPath),
			Std:     p.Standard,
			Module:  strings.HasPrefix(p.ImportPath, module+"/"),
			Imports: names(p.Imports),
			Tests:   names(append(p.TestImports, p.XTestImports...)),
		}
	}
	return g
}

// TestDependencyRules checks the dependency rules of docs/design.md over
// the module's whole import graph: transitively, test imports included.
func TestDependencyRules(t *testing.T) {
	g := graph(t)
	usedAllow := map[string]bool{}
	usedPending := map[string]bool{}
	for _, v := range rules.Check(g, houseRules) {
		if v.Allowed != "" {
			usedAllow[v.Rule.Name+" "+v.Allowed] = true
			if why := v.Rule.Allow[v.Allowed]; strings.HasPrefix(why, "tests only:") && !v.Test {
				t.Errorf("%v: allowed for tests only (%q), but non-test code reaches it", v, v.Allowed)
			}
			continue
		}
		if k := pendingKey(v); k != "" {
			usedPending[k] = true
			t.Logf("pending (%s): %v", pending[k], v)
			continue
		}
		t.Errorf("%v", v)
	}
	for _, r := range houseRules {
		for k := range r.Allow {
			if !usedAllow[r.Name+" "+k] {
				t.Errorf("rule %s allows %q, which no package needs any more: delete the entry", r.Name, k)
			}
		}
	}
	for k := range pending {
		if !usedPending[k] {
			t.Errorf("pending %q matches nothing: the rule holds now, delete the entry", k)
		}
	}
}

func pendingKey(v rules.Violation) string {
	keys := make([]string, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if rules.Covers(k, v) {
			return k
		}
	}
	return ""
}

// TestInternalLayers: an internal/ package imports only internal/ packages
// of a lower layer, and every internal/ package has a layer.
func TestInternalLayers(t *testing.T) {
	g := graph(t)
	var paths []string
	for p, pkg := range g {
		if pkg.Module && rules.Match("internal/...", p) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		rank, ok := internalLayers[p]
		if !ok {
			t.Errorf("%s has no layer: add it to internalLayers in internal/rules", p)
			continue
		}
		for _, imp := range append(slices.Clone(g[p].Imports), g[p].Tests...) {
			if imp == p || !rules.Match("internal/...", imp) {
				continue
			}
			if r, ok := internalLayers[imp]; ok && r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): internal/ packages import only lower layers", p, rank, imp, r)
			}
		}
	}
}
