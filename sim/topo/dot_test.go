package topo_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

var update = flag.Bool("update", false, "rewrite the golden drawings in testdata/")

// lab is a plain lab with everything a drawing must show: VLANs (access,
// trunks with and without a native VLAN, a trunk that allows all, an
// untagged mismatch), STP (priorities, port cost, priority, guards, a
// port that is not an edge), a mirror, an unplugged port and impaired
// links.
func lab() *topo.Graph {
	prio := uint16(4096)
	g := &topo.Graph{
		Switches: []topo.Switch{
			{Name: "s1", STP: &vswitch.STPConfig{Priority: &prio, HelloTime: time.Second}, AgeingTime: 5 * time.Second, MaxEntries: 64,
				Ports: []topo.Port{
					{Name: "p1", VLAN: 10, STP: vswitch.PortSTP{BPDUGuard: true}},
					{Name: "p2", VLAN: 20},
					{Name: "up", Mode: vswitch.Trunk, Allowed: []uint16{10, 20}, Native: 30, STP: vswitch.PortSTP{Cost: 19, Priority: 64, RootGuard: true}},
					{Name: "all", Mode: vswitch.Trunk},
					{Name: "tap", VLAN: 10},
					{Name: "spare", VLAN: 20},
				},
				Mirror: &topo.Mirror{To: "tap", Sources: []string{"p1"}}},
			{Name: "s2", STP: &vswitch.STPConfig{}, Ports: []topo.Port{
				{Name: "up", Mode: vswitch.Trunk, Allowed: []uint16{10, 20}, Native: 30},
				{Name: "p1", VLAN: 10, NotEdge: true},
				{Name: "trunkhost", Mode: vswitch.Trunk, Allowed: []uint16{20}},
				{Name: "all", Mode: vswitch.Trunk, Native: 20},
			}},
			{Name: "s3", Ports: []topo.Port{{Name: "p1", VLAN: 10}}},
		},
		Hosts: []topo.Host{
			{Name: "h1", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}, Gateway: netip.MustParseAddr("10.0.0.254"), ListenTCP: []uint16{80}},
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}, ListenUDP: []uint16{53}},
			{Name: "h3", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.3/24")}}},
			{Name: "h4", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.4/24")}}},
			{Name: "sniffer", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.99/24")}}},
			{Name: "h5", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.5/24")}}},
		},
		Links: []topo.Link{
			{A: topo.Endpoint{Node: "h1", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p1"}, Config: sim.LinkConfig{Latency: 10 * time.Millisecond, Jitter: 2 * time.Millisecond}},
			{A: topo.Endpoint{Node: "h2", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p2"}, Config: sim.LinkConfig{Loss: 0.1, Rate: 1_000_000, Queue: 8}},
			{A: topo.Endpoint{Node: "s1", Port: "up"}, B: topo.Endpoint{Node: "s2", Port: "up"}},
			{A: topo.Endpoint{Node: "s1", Port: "all"}, B: topo.Endpoint{Node: "s2", Port: "all"}},
			{A: topo.Endpoint{Node: "s2", Port: "p1"}, B: topo.Endpoint{Node: "h3", Port: "eth0"}},
			{A: topo.Endpoint{Node: "s2", Port: "trunkhost"}, B: topo.Endpoint{Node: "h4", Port: "eth0"}},
			{A: topo.Endpoint{Node: "sniffer", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "tap"}},
			{A: topo.Endpoint{Node: "s3", Port: "p1"}, B: topo.Endpoint{Node: "h5", Port: "eth0"}, Config: sim.LinkConfig{Rate: 2500}},
		},
	}
	g.Assign()
	return g
}

// dockerGraph compiles a Docker model with an internal network, a container
// on two networks, aliases, published ports, a LAN client and a
// container on the none network.
func dockerGraph(t *testing.T) *topo.Graph {
	t.Helper()
	d := &docker.Model{
		Networks: []docker.Network{
			{Name: "front"},
			{Name: "back", Subnet: netip.MustParsePrefix("172.30.0.0/24"), IPRange: netip.MustParsePrefix("172.30.0.128/25"), Internal: true},
		},
		Containers: []docker.Container{
			{Name: "web", Endpoints: []docker.Endpoint{{Network: "front", Aliases: []string{"www"}}}, Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}, {Proto: "udp", ContainerPort: 53}}},
			{Name: "db", Endpoints: []docker.Endpoint{{Network: "back", Aliases: []string{"store"}}}},
			{Name: "api", Endpoints: []docker.Endpoint{{Network: "front"}, {Network: "back"}}},
			{Name: "sealed", Endpoints: []docker.Endpoint{{Network: "none"}}},
			{Name: "plain"},
			{Name: "client", Attach: "lan"},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	g.Assign()
	return g
}

// TestDOTShowsConfiguration: the drawing says what a lab is about.
func TestDOTShowsConfiguration(t *testing.T) {
	for _, c := range []struct {
		name  string
		graph func(*testing.T) *topo.Graph
		want  []string
		not   []string
	}{
		{"vlans", func(*testing.T) *topo.Graph { return lab() }, []string{
			"<b>p1</b> · VLAN 10",
			"<b>up</b> · trunk · tagged 10, 20 · native 30",
			"<b>all</b> · trunk · tagged all VLANs · no native VLAN",
			"tagged 20 · <font color=\"#c00000\">no native VLAN</font>", // a trunk facing a host without native
			"VLAN 10<br/>",                        // h1's interface is in VLAN 10
			"in no VLAN: untagged frames dropped", // h4 behind a trunk without native
			`"s1" -- "s2" [tailport="p2:e", headport="p0:w", color="#0072b2:#d55e00:#009e73", penwidth=2]`, // the trunk carries 10, 20 and native 30
			`"s1" -- "s2" [tailport="p3:e", headport="p3:w", color="#0072b2:#d55e00:#009e73", penwidth=2, label=<<font color="#c00000">native VLAN 20 at s2:all only: s1:all drops its untagged frames</font>>]`,
			"<td bgcolor=\"#d3e6f3\" border=\"1\" color=\"#0072b2\">&nbsp;&nbsp;VLAN 10&nbsp;&nbsp;</td>", // the legend
		}, []string{"VLAN 1 "}},
		{"stp", func(*testing.T) *topo.Graph { return lab() }, []string{
			"switch · <b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01<br/>hello 1s · max age 20s · forward delay 15s<br/>ports: cost 100, priority 128 unless shown",
			"<b>STP on</b>, priority 32768 (default)<br/>bridge ID 32768.02:00:00:01:00:02",
			"<b>p1</b> · VLAN 10 · edge · BPDU guard",
			"<b>up</b> · trunk · tagged 10, 20 · native 30 · cost 19 · priority 64 · root guard",
			"<b>p1</b> · VLAN 10</td>", // s2:p1 is declared not an edge
			"ageing 5s<br/>at most 64 addresses",
		}, nil},
		{"mirror", func(*testing.T) *topo.Graph { return lab() }, []string{
			"<b>p1</b> · VLAN 10 · edge · BPDU guard · mirrored to tap",
			"<b>tap</b> · VLAN 10 · edge · <b>monitor</b>: copies of p1, forwards nothing",
			"<b>spare</b> · VLAN 20 · <font color=\"#666666\">unplugged</font>",
		}, nil},
		{"impairments", func(*testing.T) *topo.Graph { return lab() }, []string{
			"label=<latency 10ms · jitter 2ms>",
			"label=<loss 10% · 1 Mbit/s · queue 8>",
			"label=<2500 bit/s>",
		}, nil},
		{"hosts", func(*testing.T) *topo.Graph { return lab() }, []string{
			"<b>eth0</b> 10.0.0.1/24 · VLAN 10<br/><font point-size=\"8\" color=\"#666666\">02:00:00:00:00:01</font>",
			"default route via 10.0.0.254<br/>listens tcp/80",
			"listens udp/53",
		}, nil},
		{"docker", dockerGraph, []string{
			"<b>network front</b> · bridge br-front<br/>subnet 172.18.0.0/16 · gateway 172.18.0.1",
			"<b>network back</b> · bridge br-back<br/>subnet 172.30.0.0/24 · gateway 172.30.0.1 · ip-range 172.30.0.128/25<br/><font color=\"#c00000\"><b>internal</b>: no default route, nothing leaves the host",
			`color="#c00000", bgcolor="#f4f8fc", style="rounded,dashed"`,
			"<b>network bridge</b> · bridge docker0<br/>subnet 172.17.0.0/16 · gateway 172.17.0.1<br/>default network: no name resolution",
			"<b>the hosts' LAN</b> 192.168.56.0/24",
			"<b>network none</b>",
			"<b>eth0</b> 192.168.56.11/24 · on the LAN",
			"<b>br-back</b> 172.30.0.1/24 · gateway of network back <font color=\"#c00000\">(internal)</font>",
			"publishes 192.168.56.11:8080/tcp → web 172.18.0.2:80",
			"publishes 192.168.56.11:32768/udp → web 172.18.0.2:53",
			"<b>eth0</b> 172.18.0.2/16 · front · aliases www",
			"<b>eth0</b> 172.30.0.128/24 · back · aliases store",
			"no default route<br/>nameserver 127.0.0.11 (embedded DNS of host1, in this sandbox)",
			"published 8080→80/tcp, 32768→53/udp",
			"outside client on the LAN",
			"container, --network none",
			"lo 127.0.0.1/8 only",
			"<b>host1</b> · to the Docker host",
		}, []string{"VLAN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dot := c.graph(t).DOT()
			for _, w := range c.want {
				if !strings.Contains(dot, w) {
					t.Errorf("DOT() lacks %q; got:\n%s", w, dot)
				}
			}
			for _, w := range c.not {
				if strings.Contains(dot, w) {
					t.Errorf("DOT() has %q; got:\n%s", w, dot)
				}
			}
		})
	}
}

// TestDOTDeterministic: the same graph draws the same, every time, and
// two graphs built alike draw alike (no map order in the output).
func TestDOTDeterministic(t *testing.T) {
	for name, mk := range map[string]func() *topo.Graph{"lab": lab, "docker": func() *topo.Graph { return dockerGraph(t) }} {
		first := mk().DOT()
		for range 20 {
			if got := mk().DOT(); got != first {
				t.Fatalf("%s: DOT() differs between two graphs built alike", name)
			}
		}
	}
}

// TestDOTGolden pins the drawings of the lab and the Docker model
// (go test ./sim/topo -run TestDOTGolden -update rewrites them).
func TestDOTGolden(t *testing.T) {
	for name, g := range map[string]*topo.Graph{"lab": lab(), "docker": dockerGraph(t)} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".dot")
			got := g.DOT()
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("DOT() differs from %s (run with -update and review the diff); got:\n%s", path, got)
			}
		})
	}
}

// TestDOTRenders: Graphviz reads the drawings of graphs the scenarios do
// not have (and of names that need quoting) without a warning.
func TestDOTRenders(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("dot not installed (Debian package graphviz); .ci/run installs it")
	}
	odd := &topo.Graph{
		Switches: []topo.Switch{{Name: `s<&>"\`}, {Name: "n"}},
		Hosts: []topo.Host{
			{Name: "a\\", Ifaces: []topo.Iface{{Name: "e&0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}},
			{Name: "lone", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
		},
		Links: []topo.Link{
			{A: topo.Endpoint{Node: "a\\", Port: "e&0"}, B: topo.Endpoint{Node: `s<&>"\`, Port: "n"}},
			{A: topo.Endpoint{Node: `s<&>"\`, Port: "e"}, B: topo.Endpoint{Node: "n", Port: "s"}},
			{A: topo.Endpoint{Node: `s<&>"\`, Port: "w"}, B: topo.Endpoint{Node: "n", Port: "ne"}},
		},
	}
	for name, g := range map[string]*topo.Graph{"lab": lab(), "docker": dockerGraph(t), "odd names": odd, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(g.DOT())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			svg, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("dot: %v\n%s\n%s", err, stderr.Bytes(), g.DOT())
			}
			for _, s := range g.Switches {
				if !bytes.Contains(svg, []byte("<title>"+svgEsc(s.Name)+"</title>")) {
					t.Errorf("switch %q is not in the drawing", s.Name)
				}
			}
		})
	}
}

// svgEsc escapes a node name as Graphviz writes it in an SVG title. DOT
// has no escape for a backslash, so DOT() doubles it (else a trailing one
// would escape the closing quote) and Graphviz keeps both.
func svgEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "-", "&#45;", `\`, `\\`).Replace(s)
}

// BenchmarkDOT draws a Docker host with 1000 containers on the default
// network: the drawing stays linear in the size of the graph.
func BenchmarkDOT(b *testing.B) {
	d := &docker.Model{}
	for i := range 1000 {
		d.Containers = append(d.Containers, docker.Container{Name: fmt.Sprintf("c%d", i)})
	}
	g, err := docker.Compile(d)
	if err != nil {
		b.Fatal(err)
	}
	g.Assign()
	b.ReportAllocs()
	for b.Loop() {
		_ = g.DOT()
	}
}
