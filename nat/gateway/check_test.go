package gateway_test

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat/gateway"
)

// TestMartiansDropped: packets with a source or destination no packet may
// have (Linux's martians, RFC 1812 §5.3.7) are dropped with a reason,
// counted and traced, from either side; nothing leaves.
func TestMartiansDropped(t *testing.T) {
	type counter func(gateway.Stats) uint64
	src := func(s gateway.Stats) uint64 { return s.MartianSource }
	dst := func(s gateway.Stats) uint64 { return s.MartianDest }
	for _, c := range []struct {
		leg      int
		from, to string
		count    counter
		reason   string
	}{
		{1, "0.0.0.0", "192.168.56.12", src, "0.0.0.0/8"},
		{1, "0.1.2.3", "192.168.56.12", src, "0.0.0.0/8"},
		{1, "127.0.0.1", "192.168.56.12", src, "loopback"},
		{1, "255.255.255.255", "192.168.56.12", src, "limited broadcast"},
		{1, "224.0.0.5", "192.168.56.12", src, "multicast"},
		{1, "240.0.0.1", "192.168.56.12", src, "class E"},
		{1, "172.18.0.1", "192.168.56.12", src, "own addresses"},
		{1, "192.168.56.11", "192.168.56.12", src, "own addresses"},
		{1, "172.18.255.255", "192.168.56.12", src, "broadcast address of 172.18.0.0/16"},
		{0, "192.168.56.255", "192.168.56.11", src, "broadcast address of 192.168.56.0/24"},
		{0, "127.0.0.1", "192.168.56.11", src, "loopback"},
		{0, "0.0.0.0", "192.168.56.11", src, "0.0.0.0/8"},
		{1, "172.18.0.2", "127.0.0.1", dst, "loopback"},
		{1, "172.18.0.2", "0.0.0.7", dst, "0.0.0.0/8"},
		{1, "172.18.0.2", "250.1.2.3", dst, "class E"},
		{0, "192.168.56.12", "127.0.0.1", dst, "loopback"},
	} {
		t.Run(c.from+"->"+c.to, func(t *testing.T) {
			r := newTracedRig(t)
			r.introduce(t)
			r.resolveLAN(t)
			fr := udp(t, 64, netip.AddrPortFrom(netip.MustParseAddr(c.from), 4000), netip.AddrPortFrom(netip.MustParseAddr(c.to), 8080))
			if c.leg == 0 {
				copy(fr, lanMAC)
			}
			r.gw.Input(c.leg, fr)
			if n := r.lan.Len() + r.br.Len(); n != 0 {
				t.Errorf("%d frames left the gateway", n)
			}
			if got := c.count(r.gw.Stats()); got != 1 {
				t.Errorf("counted %d, want 1: %+v", got, r.gw.Stats())
			}
			if n := drops(r.events); n != 1 || !strings.Contains(r.events[len(r.events)-1].Reason, c.reason) {
				t.Errorf("%d drops traced (%v), want 1 saying %q", n, r.events, c.reason)
			}
		})
	}
}

// TestBroadcastFromNowhere: 0.0.0.0 to 255.255.255.255 (a DHCP client) is
// no martian, and is not routed either.
func TestBroadcastFromNowhere(t *testing.T) {
	r := newTracedRig(t)
	fr := udp(t, 64, netip.MustParseAddrPort("0.0.0.0:68"), netip.MustParseAddrPort("255.255.255.255:67"))
	copy(fr, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	r.gw.Input(1, fr)
	if st := r.gw.Stats(); st.MartianSource != 0 || st.MartianDest != 0 || st.Forwarded != 0 || r.lan.Len() != 0 {
		t.Errorf("stats %+v, %d frames out: want neither dropped as martian nor routed", st, r.lan.Len())
	}
}

// setHeader edits an IPv4 frame's header and, unless keep, fixes its
// checksum.
func setHeader(fr []byte, edit func(ip []byte), fix bool) []byte {
	fr = append([]byte(nil), fr...)
	ip := fr[14:]
	edit(ip)
	if fix {
		hl := min(int(ip[0]&0xf)*4, len(ip))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^csum.Fold(csum.Sum(ip[:hl], 0)))
	}
	return fr
}

// TestHeaderChecked: what Linux's ip_rcv drops is dropped by the gateway,
// which sees every IPv4 frame before its stack decodes anything, counted
// under its reason, and never forwarded: a total length of 65535 on a
// short packet does not go out as is.
func TestHeaderChecked(t *testing.T) {
	good := udp(t, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53))
	gw := func(f func(gateway.Stats) uint64) func(*rig) uint64 {
		return func(r *rig) uint64 { return f(r.gw.Stats()) }
	}
	for _, c := range []struct {
		name  string
		frame []byte
		count func(*rig) uint64
	}{
		{"total length 65535", setHeader(good, func(ip []byte) { binary.BigEndian.PutUint16(ip[2:], 65535) }, true), gw(func(s gateway.Stats) uint64 { return s.Truncated })},
		{"total length 0", setHeader(good, func(ip []byte) { binary.BigEndian.PutUint16(ip[2:], 0) }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"total length under the header", setHeader(good, func(ip []byte) { binary.BigEndian.PutUint16(ip[2:], 12) }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"version 6", setHeader(good, func(ip []byte) { ip[0] = 0x65 }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"version 5", setHeader(good, func(ip []byte) { ip[0] = 0x55 }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"header length 16", setHeader(good, func(ip []byte) { ip[0] = 0x44 }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"header longer than the packet", setHeader(good, func(ip []byte) { ip[0] = 0x4f }, true), gw(func(s gateway.Stats) uint64 { return s.HeaderErrors })},
		{"checksum wrong", setHeader(good, func(ip []byte) { ip[10] ^= 0x55 }, false), gw(func(s gateway.Stats) uint64 { return s.BadChecksum })},
		{"TTL changed, checksum not", setHeader(good, func(ip []byte) { ip[8] = 200 }, false), gw(func(s gateway.Stats) uint64 { return s.BadChecksum })},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTracedRig(t)
			r.introduce(t)
			r.resolveLAN(t)
			r.gw.Input(1, c.frame)
			if n := r.lan.Len(); n != 0 {
				t.Errorf("%d frames left on the LAN", n)
			}
			if got := c.count(r); got != 1 {
				t.Errorf("counted %d, want 1 (gateway %+v, stack %+v)", got, r.gw.Stats(), r.gw.Host().Stats())
			}
			for _, e := range r.events {
				if e.Kind == "dropped" && e.Reason == "" {
					t.Errorf("a drop without a reason: %+v", e)
				}
			}
		})
	}
	// And the frame they were made from goes through.
	r := newRig(t)
	r.introduce(t)
	r.resolveLAN(t)
	r.gw.Input(1, good)
	if r.lan.Len() != 1 {
		t.Errorf("the good frame: %d frames out, want 1", r.lan.Len())
	}
}

// TestPaddingIgnored: Ethernet padding after a short packet is not part
// of it and does not leave with it.
func TestPaddingIgnored(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	r.resolveLAN(t)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ctr.AsSlice(), DstIP: outer.AsSlice()}
	u := &layers.UDP{SrcPort: 4000, DstPort: 53}
	_ = u.SetNetworkLayerForChecksum(ip)
	fr := append(frame(t, ctrMAC, gwMAC, ip, u, gopacket.Payload("x")), make([]byte, 17)...) // padded to 60 bytes
	r.gw.Input(1, fr)
	out := r.lan.Drain()
	if len(out) != 1 || len(out[0]) != 14+29 {
		t.Fatalf("%d frames out (%v), want one of %d bytes", len(out), out, 14+29)
	}
}

// TestOverlappingSubnetsDecideInOrder: legs are looked up in configuration
// order, so with overlapping subnets the first network always wins.
func TestOverlappingSubnetsDecideInOrder(t *testing.T) {
	for range 20 {
		r := newTracedRig(t)
		g, err := gateway.New(gateway.Config{
			Name: "host1",
			LAN:  gateway.Leg{Name: "eth0", MAC: header.MAC(lanMAC), Addr: netip.MustParsePrefix("192.168.56.11/24"), Out: r.lan},
			Bridges: []gateway.Bridge{
				{Leg: gateway.Leg{Name: "br-a", MAC: header.MAC(gwMAC), Addr: netip.MustParsePrefix("172.18.0.1/16"), Out: r.br}, Network: "a"},
				{Leg: gateway.Leg{Name: "br-b", MAC: header.MAC{2, 0, 0, 0, 0, 0xb}, Addr: netip.MustParsePrefix("172.18.5.1/24"), Out: r.br}, Network: "b"},
				{Leg: gateway.Leg{Name: "br-c", MAC: header.MAC{2, 0, 0, 0, 0, 0xc}, Addr: netip.MustParsePrefix("172.18.6.1/24"), Out: r.br}, Network: "c"},
			},
		}, gateway.Options{Tracer: trace.Func(func(e trace.Event) { r.events = append(r.events, e) })})
		if err != nil {
			t.Fatal(err)
		}
		fr := udp(t, 64, netip.MustParseAddrPort("192.168.56.12:4000"), netip.MustParseAddrPort("172.18.5.9:80"))
		copy(fr, lanMAC)
		g.Input(0, fr)
		if len(r.events) == 0 || !strings.Contains(r.events[len(r.events)-1].Reason, "container on a:") {
			t.Fatalf("trace %v: want the drop to name network a", r.events)
		}
		if st := g.Stats(); st.Direct != 1 {
			t.Fatalf("stats %+v", st)
		}
	}
}
