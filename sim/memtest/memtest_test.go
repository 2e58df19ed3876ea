package memtest_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/memtest"
	"github.com/netyard/netyard/sim/topo"
)

func twoHosts() *topo.Graph {
	return &topo.Graph{
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
}

// TestLab: a ping, the FDB it leaves, its narration and its frames.
func TestLab(t *testing.T) {
	g := twoHosts()
	lab := memtest.New(t, g)
	lab.Ping("h1", "h2")
	if fdb := lab.FDB("s1"); len(fdb) != 2 {
		t.Errorf("FDB has %d entries, want 2: %+v", len(fdb), fdb)
	}
	if n := lab.Narration(); !strings.Contains(n, "s1 learned 02:00:00:00:00:01 on p1 vlan 1") {
		t.Errorf("narration lacks the learning:\n%s", n)
	}
	frames := lab.Frames()
	for _, want := range []string{"ARP who-has 10.0.0.2 tell 10.0.0.1", "ICMP EchoRequest id 1 seq 1", "ICMP EchoReply id 1 seq 1"} {
		if !strings.Contains(frames, want) {
			t.Errorf("frames lack %q:\n%s", want, frames)
		}
	}
	if g.Hosts[0].Ifaces[0].MAC.IsZero() == false {
		t.Error("the lab changed the graph it was given")
	}
}

// TestLabSameBytes: the same graph and seed give the same capture.
func TestLabSameBytes(t *testing.T) {
	run := func() []byte {
		lab := memtest.New(t, twoHosts())
		lab.Ping("h1", "h2")
		return lab.Pcap()
	}
	if a, b := run(), run(); string(a) != string(b) {
		t.Error("two runs of the same lab captured different bytes")
	}
}
