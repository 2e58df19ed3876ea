package mem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo/docker"
)

// dockerNet builds a one-network Docker host with a client on the LAN that
// has a UDP socket on port 7 and listens on tcp/22, and a conntrack table
// of at most maxFlows.
func dockerNet(t *testing.T, maxFlows int) *mem.Network {
	t.Helper()
	d := &docker.Model{
		Networks: []docker.Network{{Name: "net1"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "net1"}}},
			{Name: "client", Attach: "lan", ListenUDP: []uint16{7}, ListenTCP: []uint16{22}},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
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
	gw := n.World().Gateway("host1")
	for port := uint16(1000); port < 1000+3*max; port++ {
		if r, err := n.UDP("a", client, port, 100*time.Millisecond); err != nil || !r.Delivered {
			t.Fatalf("flow to port %d: %+v %v", port, r, err)
		}
	}
	flows, err := n.World().NAT("host1")
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

// TestConntrackFloodKeepsEstablished: a container floods the outside with
// eight times as many new flows as its gateway's table holds, 5 000 a
// second, none answered, while it keeps one ping flow going (one echo
// identifier, ten requests a second) and opens TCP connections during and
// after the flood. Unanswered flows are dropped early, oldest first, so
// the ping flow loses nothing and is never re-made, and every connection
// succeeds at its first SYN (links here have no latency: in no virtual
// time at all).
func TestConntrackFloodKeepsEstablished(t *testing.T) {
	const (
		max     = 1024
		flood   = 8 * max
		every   = 200 * time.Microsecond // 5 000 new flows a second
		pings   = 30
		pingGap = 100 * time.Millisecond
	)
	n := dockerNet(t, max)
	client := netip.MustParseAddr("192.168.56.12")
	if r, err := n.UDP("a", client, 7, time.Second); err != nil || !r.Delivered { // ARP done both sides
		t.Fatalf("first flow: %+v %v", r, err)
	}
	a := n.Stack("a")
	start := n.Elapsed()

	replies := 0
	for i := range pings {
		n.Engine.Schedule(time.Duration(i)*pingGap, func() {
			_, err := a.Ping(client, 0x7777, uint16(i+1), 56, func(r stack.PingResult) {
				if r.Reply {
					replies++
				}
			})
			if err != nil {
				t.Errorf("ping %d: %v", i+1, err)
			}
		})
	}
	sock, err := a.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flood {
		n.Engine.Schedule(time.Duration(i)*every, func() {
			_ = sock.SendTo(netip.AddrPortFrom(client, uint16(1000+i)), []byte("flood"))
		})
	}
	// A new connection in the middle of the flood, on a full table.
	during, took := "", time.Duration(0)
	n.Engine.Schedule(time.Second, func() {
		at := n.Elapsed()
		if _, err := a.ConnectTCP(netip.AddrPortFrom(client, 22), func(r string) { during, took = r, n.Elapsed()-at }); err != nil {
			t.Errorf("connect: %v", err)
		}
	})
	if err := n.Wait(pings * pingGap); err != nil {
		t.Fatal(err)
	}
	if n.Elapsed()-start < time.Duration(flood)*every {
		t.Fatalf("the flood is not over at %v", n.Elapsed()-start)
	}
	if replies != pings {
		t.Errorf("the ping flow got %d replies of %d through the flood", replies, pings)
	}
	if during != stack.TCPOpen || took >= time.Second {
		t.Errorf("a connection during the flood: %q after %v, want open at the first SYN", during, took)
	}
	t.Logf("a new connection during the flood succeeded after %v of virtual time", took)
	// And one after the flood, with the table still full of the flood's
	// flows (30 s to live), once the first connection's flow has gone
	// (10 s after its reset), so that this one, from the same port, is a
	// new flow too.
	if err := n.Wait(nat.TCPResetTimeout); err != nil {
		t.Fatal(err)
	}
	at := n.Elapsed()
	r, err := n.Dial("a", netip.AddrPortFrom(client, 22), 2*time.Minute)
	if err != nil || r.Result != stack.TCPOpen || n.Elapsed()-at >= time.Second {
		t.Errorf("a connection after the flood: %+v %v after %v, want open at the first SYN", r, err, n.Elapsed()-at)
	}
	t.Logf("a new connection after the flood succeeded after %v of virtual time", n.Elapsed()-at)

	st := n.World().Gateway("host1").NAT().Stats()
	// Flows made: the first, the ping flow once, the flood, two connections.
	if want := uint64(1 + 1 + flood + 2); st.Created != want {
		t.Errorf("%d flows created, want %d (the ping flow made once): %+v", st.Created, want, st)
	}
	if st.EarlyDropped < flood-max || st.Full != 0 {
		t.Errorf("stats %+v, want at least %d dropped early and none refused", st, flood-max)
	}
	flows, err := n.World().NAT("host1")
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != max {
		t.Errorf("%d flows tracked, want the bound %d", len(flows), max)
	}
	found := false
	for _, f := range flows {
		found = found || (f.Orig.Proto == nat.ICMP && f.Orig.Src.Port() == 0x7777)
	}
	if !found {
		t.Errorf("the ping flow is not tracked after the flood")
	}
}
