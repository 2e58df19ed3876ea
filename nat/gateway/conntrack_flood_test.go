package gateway_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat/gateway"
)

// A gateway's conntrack under a SYN flood, frame by frame: what a flood
// does to the flows that were there before it, to new connections, and
// what the gateway reports.

// The container, gateway and LAN addresses are gateway_test.go's and
// world_test.go's; the LAN peer is outer, at this MAC.
var peerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0c}

// floodRig is a gateway with one bridge network and a table of max
// flows, whose container and LAN peer know each other's way, and the drop
// reasons it traced.
type floodRig struct {
	gw      *gateway.Gateway
	lan, br *link.Channel
	drops   []string
}

func newFloodRig(t *testing.T, max int) *floodRig {
	r := &floodRig{lan: &link.Channel{}, br: &link.Channel{}}
	g, err := gateway.New(gateway.Config{
		Name: "host1",
		LAN:  gateway.Leg{Name: "eth0", MAC: header.MAC(lanMAC), Addr: netip.MustParsePrefix("192.168.56.11/24"), Out: r.lan},
		Bridges: []gateway.Bridge{{Leg: gateway.Leg{Name: "br-net1", MAC: header.MAC(gwMAC), Addr: netip.MustParsePrefix("172.18.0.1/16"), Out: r.br},
			Network: "net1"}},
		MaxFlows: max,
	}, gateway.Options{Clock: clock.NewManual(), Tracer: trace.Func(func(e trace.Event) {
		if e.Kind == trace.Dropped {
			r.drops = append(r.drops, e.Reason)
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	r.gw = g
	arp := func(op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) *layers.ARP {
		return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: sha, SourceProtAddress: spa.AsSlice(), DstHwAddress: tha, DstProtAddress: tpa.AsSlice()}
	}
	// The container asks for its gateway (so the gateway learns it); the
	// peer answers the gateway's question on the LAN.
	g.Input(1, fcFrame(t, ctrMAC, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, arp(layers.ARPRequest, ctrMAC, ctr, make(net.HardwareAddr, 6), gwAddr)))
	g.Input(0, fcFrame(t, peerMAC, lanMAC, arp(layers.ARPReply, peerMAC, outer, lanMAC, lanAddr)))
	r.br.Drain()
	r.lan.Drain()
	return r
}

func fcFrame(t testing.TB, src, dst net.HardwareAddr, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	et := layers.EthernetTypeIPv4
	if _, ok := ls[0].(*layers.ARP); ok {
		et = layers.EthernetTypeARP
	}
	buf := gopacket.NewSerializeBuffer()
	all := append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}}, ls...)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seg is a TCP segment's ends and flags ("S", "SA", "A", "PA", "R").
type seg struct {
	src, dst netip.AddrPort
	flags    string
}

// send hands the gateway seg, from the container if its source is the
// container, else from the LAN peer.
func (r *floodRig) send(t *testing.T, s seg) {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()), Seq: 1, Ack: 1, Window: 64240,
		SYN: strings.Contains(s.flags, "S"), ACK: strings.Contains(s.flags, "A"), PSH: strings.Contains(s.flags, "P"), RST: strings.Contains(s.flags, "R")}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	var payload gopacket.Payload
	if tcp.PSH {
		payload = []byte("data")
	}
	if s.src.Addr() == ctr {
		r.gw.Input(1, fcFrame(t, ctrMAC, gwMAC, ip, tcp, payload))
	} else {
		r.gw.Input(0, fcFrame(t, peerMAC, lanMAC, ip, tcp, payload))
	}
}

// out drains a leg and reports whether a TCP segment from src to dst left
// on it.
func out(l *link.Channel, src, dst netip.AddrPort) bool {
	found := false
	for _, fr := range l.Drain() {
		p := gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip != nil && tcp != nil && ip.SrcIP.Equal(src.Addr().AsSlice()) && ip.DstIP.Equal(dst.Addr().AsSlice()) &&
			uint16(tcp.SrcPort) == src.Port() && uint16(tcp.DstPort) == dst.Port() {
			found = true
		}
	}
	return found
}

// handshake opens a connection from the container's port to the peer's
// through the gateway, checking each segment crossed.
func (r *floodRig) handshake(t *testing.T, port uint16, to netip.AddrPort) {
	t.Helper()
	c, masq := netip.AddrPortFrom(ctr, port), netip.AddrPortFrom(lanAddr, port)
	for _, s := range []struct {
		seg
		leg      *link.Channel
		src, dst netip.AddrPort // as it leaves
	}{
		{seg{c, to, "S"}, r.lan, masq, to},
		{seg{to, masq, "SA"}, r.br, to, c},
		{seg{c, to, "A"}, r.lan, masq, to},
	} {
		r.send(t, s.seg)
		if !out(s.leg, s.src, s.dst) {
			t.Fatalf("%s %v -> %v did not cross the gateway (drops %q)", s.flags, s.seg.src, s.seg.dst, r.drops)
		}
	}
}

// TestSYNFloodKeepsEstablishedTCP: an established TCP connection through
// the gateway, then sixteen times the table's size of SYNs from the same
// container that nobody answers. Each SYN that finds the table full takes
// the place of the oldest unanswered one, so the established connection's
// data keeps crossing both ways, a new connection in the middle of the
// flood completes, nothing is refused, and the table stays at its bound.
func TestSYNFloodKeepsEstablishedTCP(t *testing.T) {
	const max, flood = 256, 16 * 256
	r := newFloodRig(t, max)
	server := netip.AddrPortFrom(outer, 5201)
	r.handshake(t, 40000, server)
	c, masq := netip.AddrPortFrom(ctr, 40000), netip.AddrPortFrom(lanAddr, 40000)
	crossed, tried := 0, 0
	for i := range flood {
		r.send(t, seg{netip.AddrPortFrom(ctr, uint16(10000+i)), netip.AddrPortFrom(outer, 80), "S"})
		if i == flood/2 {
			r.lan.Drain()
			r.handshake(t, 50000, netip.AddrPortFrom(outer, 22))
		}
		if i%64 == 63 {
			r.lan.Drain()
			r.br.Drain()
			tried++
			r.send(t, seg{c, server, "PA"})
			r.send(t, seg{server, masq, "PA"})
			if out(r.lan, masq, server) && out(r.br, server, c) {
				crossed++
			}
		}
	}
	if crossed != tried {
		t.Errorf("the established connection's data crossed %d times of %d through the flood (drops %q)", crossed, tried, r.drops[:min(len(r.drops), 5)])
	}
	st := r.gw.NAT().Stats()
	if made := uint64(2 + flood); st.Created != made || st.EarlyDropped != made-max || st.Full != 0 {
		t.Errorf("NAT stats %+v, want %d created, %d dropped early, none refused", st, made, made-max)
	}
	if gs := r.gw.Stats(); gs.NATDropped != 0 {
		t.Errorf("gateway stats %+v, want no NAT drop", gs)
	}
	flows := r.gw.NAT().Dump(clock.Epoch)
	if len(flows) != max {
		t.Errorf("%d flows tracked, want the bound %d", len(flows), max)
	}
	for _, want := range []netip.AddrPort{c, netip.AddrPortFrom(ctr, 50000)} {
		ok := false
		for _, f := range flows {
			ok = ok || (f.Orig.Src == want && f.State == "established")
		}
		if !ok {
			t.Errorf("the connection from %v is not tracked as established after the flood", want)
		}
	}
}

// TestFullTableOfAssuredFlowsRefuses: when every flow in the table has
// completed its handshake there is nothing to drop early; a new flow is
// refused, and the gateway counts and traces it as a NAT drop.
func TestFullTableOfAssuredFlowsRefuses(t *testing.T) {
	const max = 8
	r := newFloodRig(t, max)
	for i := range max {
		r.handshake(t, uint16(20000+i), netip.AddrPortFrom(outer, 80))
	}
	r.send(t, seg{netip.AddrPortFrom(ctr, 30000), netip.AddrPortFrom(outer, 80), "S"})
	if r.lan.Len() != 0 {
		t.Errorf("a SYN left through a full table")
	}
	if st := r.gw.NAT().Stats(); st.Full != 1 || st.EarlyDropped != 0 {
		t.Errorf("NAT stats %+v, want one refused, none dropped early", st)
	}
	if gs := r.gw.Stats(); gs.NATDropped != 1 {
		t.Errorf("gateway stats %+v, want one NAT drop", gs)
	}
	if len(r.drops) != 1 || !strings.Contains(r.drops[0], "connection table full") {
		t.Errorf("drops traced %q, want one for the full table", r.drops)
	}
}
