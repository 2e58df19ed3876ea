package mem_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

func ep(node, port string) topo.Endpoint { return topo.Endpoint{Node: node, Port: port} }

// triangle: s1 (priority 4096), s2 and s3 in a loop, a host on s2 and s3.
func triangle() *topo.Graph {
	prio := uint16(4096)
	fast := &vswitch.STPConfig{HelloTime: 2 * time.Second, MaxAge: 20 * time.Second, ForwardDelay: 15 * time.Second}
	root := *fast
	root.Priority = &prio
	return &topo.Graph{
		Switches: []topo.Switch{{Name: "s1", STP: &root}, {Name: "s2", STP: fast}, {Name: "s3", STP: fast}},
		Hosts: []topo.Host{
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
			{Name: "h3", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.3/24")}}},
		},
		Links: []topo.Link{
			{A: ep("s1", "p1"), B: ep("s2", "p1")},
			{A: ep("s1", "p2"), B: ep("s3", "p1")},
			{A: ep("s2", "p2"), B: ep("s3", "p2")},
			{A: ep("h2", "eth0"), B: ep("s2", "p9")},
			{A: ep("h3", "eth0"), B: ep("s3", "p9")},
		},
	}
}

func role(t *testing.T, n *mem.Network, sw, port string) (vswitch.Role, vswitch.State) {
	t.Helper()
	st, _ := n.World().STP(sw)
	for _, p := range st.Ports {
		if p.Port == port {
			return p.Role, p.State
		}
	}
	t.Fatalf("%s has no port %s", sw, port)
	return 0, 0
}

func TestSTPTriangle(t *testing.T) {
	var log strings.Builder
	n, err := mem.New(triangle(), mem.Options{Seed: 1, Tracer: trace.Func(func(e trace.Event) {
		if e.Kind == trace.STP {
			log.WriteString(e.Time.Format("05.000") + " " + trace.Narrate(e) + "\n")
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Wait(40 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, sw := range []string{"s1", "s2", "s3"} {
		st, _ := n.World().STP(sw)
		if st.Root != vswitch.NewBridgeID(4096, vswitch.MAC{2, 0, 0, 1, 0, 1}) {
			t.Errorf("%s thinks the root is %s", sw, st.Root)
		}
	}
	if r, s := role(t, n, "s3", "p2"); r != vswitch.RoleAlternate || s != vswitch.StateBlocking {
		t.Errorf("s3:p2 is %v/%v, want alternate/blocking\n%s", r, s, log.String())
	}
	if r, s := role(t, n, "s2", "p2"); r != vswitch.RoleDesignated || s != vswitch.StateForwarding {
		t.Errorf("s2:p2 is %v/%v, want designated/forwarding", r, s)
	}
	if r, s := role(t, n, "s2", "p9"); r != vswitch.RoleDesignated || s != vswitch.StateForwarding {
		t.Errorf("s2:p9 (edge) is %v/%v", r, s)
	}
	st, err := n.Ping("h2", netip.MustParseAddr("10.0.0.3"), 3, time.Second, time.Second)
	if err != nil || st.Received != 3 {
		t.Errorf("ping across the tree: %+v %v\n%s", st, err, log.String())
	}
	t.Log("\n" + log.String())
}

// twoSwitches joins s1 and s2 with one link; s1's port p1 has the given
// settings. s1 has priority 4096 unless s2Prio makes s2 better.
func twoSwitches(p1 vswitch.PortSTP, s2Prio uint16) *topo.Graph {
	p4096 := uint16(4096)
	timers := vswitch.STPConfig{HelloTime: time.Second, MaxAge: 6 * time.Second, ForwardDelay: 4 * time.Second}
	c1, c2 := timers, timers
	c1.Priority, c2.Priority = &p4096, &s2Prio
	return &topo.Graph{
		Switches: []topo.Switch{{Name: "s1", STP: &c1, Ports: []topo.Port{{Name: "p1", STP: p1}}}, {Name: "s2", STP: &c2}},
		Links:    []topo.Link{{A: ep("s1", "p1"), B: ep("s2", "p1")}},
	}
}

func TestBPDUGuard(t *testing.T) {
	n, err := mem.New(twoSwitches(vswitch.PortSTP{Edge: true, BPDUGuard: true}, 32768), mem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Wait(3 * time.Second)
	if r, s := role(t, n, "s1", "p1"); r != vswitch.RoleDisabled || s != vswitch.StateDisabled {
		t.Errorf("guarded edge port that heard a BPDU is %v/%v, want disabled", r, s)
	}
	if st, _ := n.World().Stats(ep("s1", "p1")); st.Drops["bpdu"] == 0 {
		t.Errorf("no bpdu drop counted: %v", st.Drops)
	}
}

func TestEdgePortTurnsNormal(t *testing.T) {
	n, err := mem.New(twoSwitches(vswitch.PortSTP{Edge: true}, 32768), mem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Wait(12 * time.Second)
	st, _ := n.World().STP("s1")
	for _, p := range st.Ports {
		if p.Port == "p1" && (p.Edge || p.Role != vswitch.RoleDesignated || p.State != vswitch.StateForwarding) {
			t.Errorf("s1:p1 after hearing BPDUs: %+v, want a normal designated forwarding port", p)
		}
	}
}

func TestRootGuard(t *testing.T) {
	n, err := mem.New(twoSwitches(vswitch.PortSTP{RootGuard: true}, 0), mem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Wait(12 * time.Second)
	st, _ := n.World().STP("s1")
	if st.Root != st.Bridge {
		t.Errorf("s1 accepted a root behind its root-guarded port: root %s", st.Root)
	}
	if r, s := role(t, n, "s1", "p1"); s != vswitch.StateBlocking {
		t.Errorf("root-guarded port hearing a superior BPDU is %v/%v, want blocking", r, s)
	}
	if st2, _ := n.World().STP("s2"); st2.Root != st2.Bridge {
		t.Errorf("s2 (priority 0) should be its own root, has %s", st2.Root)
	}
}
