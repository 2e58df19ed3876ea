package mem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
)

// dockerNet builds a one-network Docker host with a client on the LAN that
// has a UDP socket on port 7, and a conntrack table of at most maxFlows.
func dockerNet(t *testing.T, maxFlows int) *mem.Network {
	t.Helper()
	d := &topo.Docker{
		Networks: []topo.Network{{Name: "net1"}},
		Containers: []topo.Container{
			{Name: "a", Endpoints: []topo.EndpointConfig{{Network: "net1"}}},
			{Name: "client", Attach: "lan", ListenUDP: []uint16{7}},
		},
	}
	g := &topo.Graph{}
	if _, err := d.Compile(g); err != nil {
		t.Fatal(err)
	}
	g.Host("host1").Router.MaxFlows = maxFlows
	n, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConntrackFlood: a container opens more flows than the table holds,
// and nobody answers them. The table stays at its bound; to make room for
// each new flow the oldest unanswered one is dropped early (as Linux's
// conntrack does), counted, so new flows keep getting in and nothing is
// refused.
func TestConntrackFlood(t *testing.T) {
	const max = 16
	n := dockerNet(t, max)
	client := netip.MustParseAddr("192.168.56.12")
	if r, err := n.UDP("a", client, 7, time.Second); err != nil || !r.Delivered {
		t.Fatalf("first flow: %+v %v", r, err)
	}
	gw := n.Gateway("host1")
	for port := uint16(1000); port < 1000+3*max; port++ {
		if r, err := n.UDP("a", client, port, 100*time.Millisecond); err != nil || !r.Delivered {
			t.Fatalf("flow to port %d: %+v %v", port, r, err)
		}
	}
	flows, err := n.NAT("host1")
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != max {
		t.Errorf("%d flows tracked, want the bound %d", len(flows), max)
	}
	// 1+3*max flows made, max kept: the rest were dropped early.
	if st := gw.NAT().Stats(); st.EarlyDropped != 2*max+1 || st.Full != 0 {
		t.Errorf("stats %+v, want EarlyDropped %d and Full 0", st, 2*max+1)
	}
	if st := gw.Stats(); st.NATDropped != 0 {
		t.Errorf("the gateway dropped packets: %+v", st)
	}
	// A new flow gets in, in the place of the oldest unanswered one.
	if r, _ := n.UDP("a", client, 9, 100*time.Millisecond); !r.Delivered {
		t.Errorf("a new flow did not get into a full table: %+v", r)
	}
}
