package mem_test

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestOverlayBadInput: packets no VTEP or control plane can take, sent to
// a Docker host's VXLAN and gossip ports from the LAN, are each counted
// with a reason, and the overlay's flows go on as before.
func TestOverlayBadInput(t *testing.T) {
	m := &docker.Model{
		Hosts:    []docker.Host{{Name: "host1", Address: netip.MustParsePrefix("192.168.56.11/24")}, {Name: "host2", Address: netip.MustParsePrefix("192.168.56.12/24")}},
		Networks: []docker.Network{{Name: "ov", Driver: "overlay", Internal: true}},
		Containers: []docker.Container{
			{Name: "c1", Host: "host1", Endpoints: []docker.Endpoint{{Network: "ov"}}},
			{Name: "c2", Host: "host2", Endpoints: []docker.Endpoint{{Network: "ov"}}},
		},
	}
	g, err := docker.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var rejected []trace.Event
	n, err := mem.New(g, mem.Options{Seed: 1, Tracer: trace.Func(func(e trace.Event) {
		if e.Op == trace.OpGossipRejected {
			mu.Lock()
			rejected = append(rejected, e)
			mu.Unlock()
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Wait(time.Second); err != nil {
		t.Fatal(err)
	}
	c2 := netip.MustParseAddr("10.0.0.3")
	ping := func(when string) {
		t.Helper()
		st, err := n.Ping("c1", c2, 1, time.Second, 2*time.Second)
		if err != nil || st.Received != 1 {
			t.Fatalf("%s: ping c1 -> c2: %+v %v", when, st, err)
		}
	}
	ping("before")

	// From host1's own stack, as any machine on the LAN could.
	gw := n.World().Gateway("host1")
	conn, err := gw.Host().ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	to := func(port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("192.168.56.12"), port)
	}
	frame := make([]byte, 60) // an inner frame: broadcast from a unicast source
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x09, 0x08, 0x06})
	vx := func(vni uint32, flags byte) []byte {
		b := make([]byte, header.VXLANLen, header.VXLANLen+len(frame))
		header.PutVXLAN(b, vni)
		b[0] = flags
		return append(b, frame...)
	}
	for _, c := range []struct {
		port uint16
		pkt  []byte
	}{
		{header.VXLANPort, []byte{8, 0, 0}},    // runt
		{header.VXLANPort, vx(4096, 0)},        // no I flag
		{header.VXLANPort, vx(999, 0x08)},      // a VNI host2 has no VTEP for
		{7946, []byte("not a gossip message")}, // does not decode
	} {
		gw.Do(func() {
			if err := conn.SendTo(to(c.port), c.pkt); err != nil {
				t.Errorf("send to %v: %v", to(c.port), err)
			}
		})
	}
	if err := n.Wait(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st, err := n.World().OverlayStats("host2", "ov")
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"runt", "bad-flags", "unknown-vni"} {
		if st.Mux.Drops[reason] != 1 {
			t.Errorf("host2's VXLAN socket dropped %d as %s, want 1 (drops %v)", st.Mux.Drops[reason], reason, st.Mux.Drops)
		}
	}
	mu.Lock()
	if len(rejected) != 1 || rejected[0].Node != "host2" || rejected[0].Reason == "" {
		t.Errorf("gossip rejected: %+v, want one event of host2 with a reason", rejected)
	}
	mu.Unlock()
	ping("after")
}
