// Package outside is a module of its own that uses netyard as a user's
// test would: only its public packages, never internal/ (which Go refuses
// to another module). make test runs it.
package outside

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/memtest"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
)

func graph() *topo.Graph {
	return &topo.Graph{
		Switches: []topo.Switch{{Name: "s1"}},
		Hosts: []topo.Host{
			{Name: "h1", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}},
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
		},
		Links: []topo.Link{
			{A: topo.Endpoint{Node: "h1", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p1"}, Config: sim.LinkConfig{Latency: 5 * time.Millisecond}},
			{A: topo.Endpoint{Node: "h2", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p2"}},
		},
	}
}

// TestFromOutside: build a topology, ping, read the trace and the FDB.
func TestFromOutside(t *testing.T) {
	var learned []trace.Event
	n, err := mem.New(graph(), mem.Options{Seed: 1, Tracer: trace.Func(func(e trace.Event) {
		if e.Kind == trace.Learned {
			learned = append(learned, e)
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	st, err := n.Ping("h1", netip.MustParseAddr("10.0.0.2"), 2, time.Second, time.Second)
	if err != nil || st.Received != 2 {
		t.Fatalf("ping: %+v, %v", st, err)
	}
	if st.RTTs[1] != 10*time.Millisecond {
		t.Errorf("second RTT %v, want exactly 10ms (5ms each way)", st.RTTs[1])
	}
	if len(learned) != 2 || learned[0].Port != "p1" || learned[1].Port != "p2" {
		t.Errorf("learned %+v, want h1 on p1 then h2 on p2", learned)
	}
	fdb, err := n.World().FDB("s1")
	if err != nil || len(fdb) != 2 {
		t.Errorf("FDB %+v, %v", fdb, err)
	}
	if _, err := n.World().FDB("s9"); !errors.Is(err, fabric.ErrUnknown) {
		t.Errorf("FDB of a switch that is not there: %v, want fabric.ErrUnknown", err)
	}
}

// TestLabFromOutside: the same through memtest.
func TestLabFromOutside(t *testing.T) {
	lab := memtest.New(t, graph())
	lab.Ping("h1", "h2:eth0")
	if len(lab.FDB("s1")) != 2 || len(lab.Events()) == 0 || len(lab.Pcap()) == 0 {
		t.Errorf("FDB %v, %d events, %d bytes of capture", lab.FDB("s1"), len(lab.Events()), len(lab.Pcap()))
	}
}
