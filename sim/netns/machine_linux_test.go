package netns

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/topo/docker"
	"github.com/netyard/netyard/switch/vxlan"
)

// TestMachineVXLANSocket: a Docker host's VTEPs on a machine of its own
// bind a kernel UDP socket on the host's address; an address this machine
// does not have is refused saying so, with the addresses it has.
func TestMachineVXLANSocket(t *testing.T) {
	needRoot(t)
	leak.Check(t)
	u := &machineUnderlay{}
	if _, err := u.OpenVXLAN("host1", netip.MustParseAddrPort("192.0.2.11:4789")); err == nil || !strings.Contains(err.Error(), "host1's address 192.0.2.11 is not an address of this machine (it has") {
		t.Errorf("OpenVXLAN on an address not here: %v", err)
	}
	c, err := u.OpenVXLAN("host1", netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := u.OpenVXLAN("host2", netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.OpenVXLAN("host3", c.(*vxlanConn).LocalAddr()); err == nil || !strings.Contains(err.Error(), "is taken by another program") {
		t.Errorf("OpenVXLAN on a port taken: %v", err)
	}
	m := vxlan.NewMux(c, vxlan.Options{})
	c.Serve(m)
	c.Serve(m) // once is enough; a second is no second reader
	pkt := make([]byte, header.VXLANLen+14)
	pkt[0] = 0x08 // I flag, VNI 0: no VTEP has it, so the Mux counts it
	if err := peer.Send(c.(*vxlanConn).LocalAddr(), pkt); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); m.Stats().Drops[vxlan.DropUnknownVNI.String()] == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the socket's reader never handed the packet to the Mux")
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := peer.Close(); err != nil { // never served: Close does not wait
		t.Errorf("Close of a conn never served: %v", err)
	}
}

// TestMachineParts: two Docker hosts' parts, each as on a machine of its
// own, in one process here: the namespace's loopback has both hosts'
// addresses, so their kernel sockets meet there. The parts' control
// planes find each other, each host's DNS answers for the other's
// container, a ping crosses by VXLAN; host2 shuts down, leaving the
// cluster, and host1 forgets its container; nothing is left running.
func TestMachineParts(t *testing.T) {
	needRoot(t)
	leak.Check(t)
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"192.168.56.11/32", "192.168.56.12/32"} {
		p, _ := netlink.ParseAddr(a)
		if err := netlink.AddrAdd(lo, p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = netlink.AddrDel(lo, p) })
	}
	g, err := docker.Compile(&docker.Model{
		Hosts:      []docker.Host{{Name: "host1", Address: netip.MustParsePrefix("192.168.56.11/24")}, {Name: "host2", Address: netip.MustParsePrefix("192.168.56.12/24")}},
		Networks:   []docker.Network{{Name: "ov", Driver: "overlay", Internal: true}},
		Containers: []docker.Container{{Name: "web", Host: "host1", Endpoints: []docker.Endpoint{{Network: "ov"}}}, {Name: "db", Host: "host2", Endpoints: []docker.Endpoint{{Network: "ov"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var nets []*Network
	for _, h := range []string{"host1", "host2"} {
		p, err := g.DockerHostPart(h)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(p, Options{Seed: 1, Machine: &Machine{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nets = append(nets, n)
	}
	var r backend.Resolved
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r, err = nets[0].Resolve("web", "db", dns.TypeA, time.Second); err == nil && len(r.Addrs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web never resolved db through host1's DNS: %+v %v", r, err)
		}
	}
	if r.Addrs[0] != netip.MustParseAddr("10.0.0.3") {
		t.Errorf("db = %v, want 10.0.0.3", r.Addrs)
	}
	if st, err := nets[1].Ping("db", netip.MustParseAddr("10.0.0.2"), 1, time.Second, 3*time.Second); err != nil || st.Received != 1 {
		t.Errorf("db pings web across the parts: %+v %v", st, err)
	}
	peers, err := nets[1].World().Peers("host2", "ov")
	if err != nil || len(peers) != 1 || peers[0].VTEP != netip.MustParseAddr("192.168.56.11") {
		t.Errorf("host2's peers on ov = %+v, %v; want web at VTEP 192.168.56.11", peers, err)
	}
	// host2 shuts down: it leaves the cluster, and host1 forgets web's
	// peer db at once, without waiting for probes to fail.
	if err := nets[1].Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	closed := time.Now()
	for deadline := closed.Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		peers, err := nets[0].World().Peers("host1", "ov")
		if err == nil && len(peers) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host1 still has %+v 10s after host2 left", peers)
		}
	}
	if d := time.Since(closed); d > 3*time.Second {
		t.Logf("host1 took %v to forget the peers of a host that left (a failure detection is about 5 s; a leave is gossiped at once)", d)
	}
	if err := nets[0].Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
