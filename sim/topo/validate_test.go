package topo_test

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

// pair is a valid graph: h1 and h2 on s1.
func pair() *topo.Graph {
	g := &topo.Graph{
		Switches: []topo.Switch{{Name: "s1"}},
		Hosts: []topo.Host{
			{Name: "h1", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}},
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
		},
		Links: []topo.Link{
			{A: topo.Endpoint{Node: "h1", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p1"}},
			{A: topo.Endpoint{Node: "h2", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p2"}},
		},
	}
	g.Assign()
	return g
}

// problems returns Validate's errors as "path: msg".
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var te *topo.Error
		if !errors.As(e, &te) {
			t.Fatalf("%v is not a *topo.Error", e)
		}
		out = append(out, te.Error())
	}
	return out
}

// TestValidateGraph: a Go user building a Graph directly gets the same
// refusals as a scenario file: names that would escape a directory or
// break a device name, odd addresses, STP timers outside 802.1D's ranges.
func TestValidateGraph(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(g *topo.Graph)
		want   string // in "path: msg"
	}{
		{"path in a host name", func(g *topo.Graph) { g.Hosts[0].Name = "a/../../../../tmp/X"; g.Links[0].A.Node = g.Hosts[0].Name },
			`hosts[0].name: name "a/../../../../tmp/X": use letters`},
		{"newline in a host name", func(g *topo.Graph) { g.Hosts[0].Name = "a\nb"; g.Links[0].A.Node = "a\nb" }, `hosts[0].name: name "a\nb"`},
		{"300-byte host name", func(g *topo.Graph) { g.Hosts[0].Name = strings.Repeat("h", 300); g.Links[0].A.Node = g.Hosts[0].Name },
			"hosts[0].name: name \"hhhhhhhhhhhhhhhhhhhhhhhh\"... is 300 bytes long, more than 63"},
		{"interface ..", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Name = ".."; g.Links[0].A.Port = ".." }, `hosts[0].interfaces[0].name: interface name ".."`},
		{"interface too long", func(g *topo.Graph) {
			n := strings.Repeat("e", 16)
			g.Hosts[0].Ifaces[0].Name = n
			g.Links[0].A.Port = n
		},
			"is 16 bytes long, more than Linux's 15"},
		{"bad switch name", func(g *topo.Graph) { g.Switches[0].Name = "s 1"; g.Links[0].B.Node = "s 1"; g.Links[1].B.Node = "s 1" }, `switches[0].name: name "s 1"`},
		{"bad port name", func(g *topo.Graph) { g.Links[0].B.Port = "../p" }, `links[0].ends[1]: port name "../p"`},
		{"multicast", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("224.0.0.5/24") }, "224.0.0.5 is a multicast address"},
		{"this network", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("0.0.0.1/8") }, `0.0.0.1 is in 0.0.0.0/8`},
		{"zero", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("0.0.0.0/24") }, `0.0.0.0 is in 0.0.0.0/8`},
		{"loopback", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("127.0.0.2/8") }, "127.0.0.2 is a loopback address"},
		{"limited broadcast", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("255.255.255.255/24") }, "is the limited broadcast address"},
		{"class E", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("240.0.0.1/24") }, "in the reserved 240.0.0.0/4"},
		{"/0", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("10.0.0.1/0") }, "10.0.0.1/0: want a prefix length from /8 to /30"},
		{"/31", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("10.0.0.1/31") }, "want a prefix length from /8 to /30"},
		{"network address", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("10.0.0.0/24") }, "10.0.0.0 is the network address of 10.0.0.0/24"},
		{"broadcast address", func(g *topo.Graph) { g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("10.0.0.255/24") }, "10.0.0.255 is the broadcast address of 10.0.0.0/24"},
		{"gateway is broadcast", func(g *topo.Graph) { g.Hosts[0].Gateway = netip.MustParseAddr("10.0.0.255") }, "hosts[0].gateway: gateway 10.0.0.255 is the broadcast address"},
		{"gateway is itself", func(g *topo.Graph) { g.Hosts[0].Gateway = netip.MustParseAddr("10.0.0.1") }, "gateway 10.0.0.1 is h1's own address"},
		{"hello 1ns", func(g *topo.Graph) { g.Switches[0].STP = &vswitch.STPConfig{HelloTime: time.Nanosecond} }, "switches[0].stp.hello: hello 1ns is outside 802.1D's range 1s to 10s"},
		{"max age 41s", func(g *topo.Graph) { g.Switches[0].STP = &vswitch.STPConfig{MaxAge: 41 * time.Second} }, "max_age 41s is outside"},
		{"forward delay 3s", func(g *topo.Graph) { g.Switches[0].STP = &vswitch.STPConfig{ForwardDelay: 3 * time.Second} }, "forward_delay 3s is outside"},
		{"negative", func(g *topo.Graph) { g.Switches[0].STP = &vswitch.STPConfig{MaxAge: -time.Second} }, "max_age -1s is outside"},
		{"max age too long for the forward delay", func(g *topo.Graph) {
			g.Switches[0].STP = &vswitch.STPConfig{ForwardDelay: 4 * time.Second, MaxAge: 20 * time.Second}
		}, "switches[0].stp: 802.1D needs 2*(forward_delay-1s) >= max_age >= 2*(hello+1s)"},
		{"max age too short for the hello", func(g *topo.Graph) {
			g.Switches[0].STP = &vswitch.STPConfig{HelloTime: 4 * time.Second, MaxAge: 6 * time.Second}
		}, "802.1D needs"},
		{"priority", func(g *topo.Graph) { p := uint16(100); g.Switches[0].STP = &vswitch.STPConfig{Priority: &p} }, "bridge priority 100 is not a multiple of 4096"},
		{"port linked twice", func(g *topo.Graph) { g.Links[1].B.Port = "p1" }, "links[1].ends[1]: s1:p1 is already linked by links[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := pair()
			c.change(g)
			got := problems(t, g.Validate())
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("Validate() = %q, want one containing %q", got, c.want)
			}
		})
	}
}

// TestValidateAccepts: what is odd-looking but works the same in both
// worlds passes: link-local addresses, 802.1D's extremes.
func TestValidateAccepts(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(g *topo.Graph)
	}{
		{"as built", func(g *topo.Graph) {}},
		{"link-local", func(g *topo.Graph) {
			g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("169.254.1.1/16")
			g.Hosts[1].Ifaces[0].Addr = netip.MustParsePrefix("169.254.1.2/16")
		}},
		{"/8 and /30", func(g *topo.Graph) {
			g.Hosts[0].Ifaces[0].Addr = netip.MustParsePrefix("10.0.0.1/8")
			g.Hosts[1].Ifaces[0].Addr = netip.MustParsePrefix("192.168.0.2/30")
		}},
		{"802.1D defaults", func(g *topo.Graph) { g.Switches[0].STP = &vswitch.STPConfig{} }},
		{"fast timers", func(g *topo.Graph) {
			g.Switches[0].STP = &vswitch.STPConfig{HelloTime: time.Second, MaxAge: 6 * time.Second, ForwardDelay: 4 * time.Second}
		}},
		{"slow timers", func(g *topo.Graph) {
			g.Switches[0].STP = &vswitch.STPConfig{HelloTime: 10 * time.Second, MaxAge: 40 * time.Second, ForwardDelay: 30 * time.Second}
		}},
		{"a 63-byte name", func(g *topo.Graph) { g.Hosts[0].Name = strings.Repeat("h", 63); g.Links[0].A.Node = g.Hosts[0].Name }},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := pair()
			c.change(g)
			if err := g.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

// TestIndex: the Index answers as the Graph's own (scanning) methods do.
func TestIndex(t *testing.T) {
	g := pair()
	g.Switches = append(g.Switches, topo.Switch{Name: "s2", Ports: []topo.Port{{Name: "up", Mode: vswitch.Trunk}}, STP: &vswitch.STPConfig{}})
	g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: "s1", Port: "p3"}, B: topo.Endpoint{Node: "s2", Port: "up"}})
	g.Hosts = append(g.Hosts, topo.Host{Name: "h3", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.3/24")}}})
	g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: "h3", Port: "eth0"}, B: topo.Endpoint{Node: "s2", Port: "p9"}})
	g.Assign()
	ix := g.Index()
	for _, n := range []string{"s1", "s2", "h1", "h3", "nope", ""} {
		if a, b := ix.Kind(n), g.Kind(n); a != b {
			t.Errorf("Index.Kind(%q) = %v, Graph.Kind = %v", n, a, b)
		}
		if a, b := ix.Host(n), g.Host(n); a != b {
			t.Errorf("Index.Host(%q) = %p, Graph.Host = %p", n, a, b)
		}
		if a, b := ix.Switch(n), g.Switch(n); a != b {
			t.Errorf("Index.Switch(%q) = %p, Graph.Switch = %p", n, a, b)
		}
	}
	for _, sw := range []string{"s1", "s2"} {
		if a, b := ix.PortNames(sw), g.PortNames(sw); !slices.Equal(a, b) {
			t.Errorf("Index.PortNames(%s) = %q, Graph.PortNames = %q", sw, a, b)
		}
		for _, p := range g.PortNames(sw) {
			if !ix.HasPort(sw, p) {
				t.Errorf("Index.HasPort(%s, %s) = false", sw, p)
			}
			a, b := ix.PortConfig(sw, p), g.PortConfig(sw, p)
			if a.Name != b.Name || a.Mode != b.Mode || a.STP != b.STP {
				t.Errorf("Index.PortConfig(%s, %s) = %+v, Graph.PortConfig = %+v", sw, p, a, b)
			}
		}
	}
	if ix.HasPort("s1", "p7") {
		t.Error("Index.HasPort(s1, p7) = true")
	}
	for _, e := range []topo.Endpoint{{Node: "h1", Port: "eth0"}, {Node: "s2", Port: "p9"}, {Node: "s1", Port: "p7"}} {
		if a, b := ix.LinkOf(e), g.LinkOf(e); a != b {
			t.Errorf("Index.LinkOf(%v) = %d, Graph.LinkOf = %d", e, a, b)
		}
	}
	for _, s := range []string{"h1", "h3:eth0", "10.1.2.3", "h9", "h1:eth7"} {
		a, errA := ix.ResolveAddr(s)
		b, errB := g.ResolveAddr(s)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("Index.ResolveAddr(%q) = %v, %v; Graph.ResolveAddr = %v, %v", s, a, errA, b, errB)
		}
		m, errA := ix.ResolveMAC(s)
		n, errB := g.ResolveMAC(s)
		if m != n || (errA == nil) != (errB == nil) {
			t.Errorf("Index.ResolveMAC(%q) = %v, %v; Graph.ResolveMAC = %v, %v", s, m, errA, n, errB)
		}
	}
}

// TestDockerCompileReportsEverything: every problem of a model comes in
// one Compile, none that only follows from another (containers on a
// refused network are not "unknown network"), and a network listed twice
// is located at its second mention instead of leaking the links that
// would have been made.
func TestDockerCompileReportsEverything(t *testing.T) {
	d := &docker.Model{
		Hosts: []docker.Host{{Name: "host1", Address: netip.MustParsePrefix("192.168.56.255/24")}},
		Networks: []docker.Network{
			{Name: "ok", Subnet: netip.MustParsePrefix("10.1.0.0/24")},
			{Name: "mc", Subnet: netip.MustParsePrefix("239.1.0.0/16")},
			{Name: " "},
			{Name: "host"},
			{Name: "ovl", Driver: "maclan"},
		},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "ok"}, {Network: "ok"}}},
			{Name: "b", Endpoints: []docker.Endpoint{{Network: "mc"}}},
			{Name: "c/d", Endpoints: []docker.Endpoint{{Network: "ok", IP: netip.MustParseAddr("127.0.0.1")}}},
			{Name: "e", Endpoints: []docker.Endpoint{{Network: "okk", Aliases: []string{"x y"}}}},
			{Name: "f", Attach: "lan", Address: netip.MustParsePrefix("192.168.56.0/24")},
		},
	}
	g, err := docker.Compile(d)
	got := problems(t, err)
	want := []string{
		"hosts[0].address: 192.168.56.255 is the broadcast address",
		"networks[1].subnet: 239.1.0.0 is a multicast address",
		"networks[2].name: invalid name: name is empty",
		"networks[3].name: operation is not permitted on predefined host network",
		`networks[4].driver: driver "maclan" is not supported yet`,
		`containers[2].name: a container's name "c/d"`,
		`containers[0].networks[1]: network "ok" is listed twice`,
		"containers[2].networks[0].ip: 127.0.0.1 is a loopback address",
		`containers[3].networks[0]: unknown network "okk"; did you mean ok?`,
		"containers[4].address: 192.168.56.0 is the network address",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("missing %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Compile reported %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, name := range []string{"a", "b", "c/d", "e", "f"} {
		if g.Host(name) == nil {
			t.Errorf("after a failed Compile, g has no node %q for steps to name", name)
		}
	}
}

// big is a graph of n hosts on one switch.
func big(n int) *topo.Graph {
	g := &topo.Graph{Switches: []topo.Switch{{Name: "s0"}}}
	for i := range n {
		name := "h" + strconv.Itoa(i)
		a := netip.AddrFrom4([4]byte{10, byte((i + 1) >> 16), byte((i + 1) >> 8), byte(i + 1)})
		g.Hosts = append(g.Hosts, topo.Host{Name: name, Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.PrefixFrom(a, 8)}}})
		g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: name, Port: "eth0"}, B: topo.Endpoint{Node: "s0", Port: "p" + strconv.Itoa(i+1)}})
	}
	g.Assign()
	return g
}

// TestValidateIsNearLinear validates graphs of 2 500 and 20 000 hosts and
// compares the CPU time (not the wall clock, which a busy machine
// stretches): 8 times the hosts must cost less than 24 times the time
// (linear is 8, quadratic 64). Each size takes its best of three runs.
func TestValidateIsNearLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("validates 20 000 hosts")
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Skipf("no getrusage: %v", err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	best := func(g *topo.Graph) time.Duration {
		var b time.Duration
		for i := range 3 {
			start := cpu()
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := cpu() - start; i == 0 || d < b {
				b = d
			}
		}
		return b
	}
	small, large := big(2500), big(20000)
	ts, tl := best(small), best(large)
	ts = max(ts, time.Millisecond) // below the clock's grain
	if ratio := float64(tl) / float64(ts); ratio > 24 {
		t.Errorf("20 000 hosts took %v of CPU, 2 500 took %v: %.1f times as long for 8 times the hosts, want under 24", tl, ts, ratio)
	}
}

// BenchmarkValidate20000Hosts validates a graph of 20 000 hosts on one
// switch; ns/host stays flat if Validate stays linear.
func BenchmarkValidate20000Hosts(b *testing.B) {
	g := big(20000)
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20000, "ns/host")
}
