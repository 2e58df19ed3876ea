package router_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/router"
)

// The rig: a router with three interfaces and its neighbours.
//
//	h1 10.0.1.10 ── eth0 10.0.1.1/24
//	h3 10.0.2.10 ─┬ eth1 10.0.2.1/24 (MTU 1000)
//	nb 10.0.2.2  ─┘
//	r2 10.0.12.2 ── eth2 10.0.12.1/30
//
// Routes: 10.0.3.0/24 via r2, 10.0.3.128/25 via nb, 10.0.0.0/16 via r2;
// no default.
var (
	macEth0 = mac(0x01, 0x01)
	macEth1 = mac(0x02, 0x01)
	macEth2 = mac(0x0c, 0x01)
	macH1   = mac(0x01, 0x0a)
	macH3   = mac(0x02, 0x0a)
	macNB   = mac(0x02, 0x02)
	macR2   = mac(0x0c, 0x02)
	ifNames = []string{"eth0", "eth1", "eth2"}
)

func mac(a, b byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, a, b} }

func testConfig() router.Config {
	return router.Config{
		Name: "r1",
		Ifaces: []router.Iface{
			{Name: "eth0", MAC: header.MAC(macEth0), Addr: netip.MustParsePrefix("10.0.1.1/24")},
			{Name: "eth1", MAC: header.MAC(macEth1), Addr: netip.MustParsePrefix("10.0.2.1/24"), MTU: 1000},
			{Name: "eth2", MAC: header.MAC(macEth2), Addr: netip.MustParsePrefix("10.0.12.1/30")},
		},
		Routes: []router.Route{
			{To: netip.MustParsePrefix("10.0.3.0/24"), Via: netip.MustParseAddr("10.0.12.2")},
			{To: netip.MustParsePrefix("10.0.3.128/25"), Via: netip.MustParseAddr("10.0.2.2")},
			{To: netip.MustParsePrefix("10.0.0.0/16"), Via: netip.MustParseAddr("10.0.12.2")},
		},
	}
}

// rig is a router whose interfaces' output is kept, with neighbours that
// answer its ARP requests a millisecond later.
type rig struct {
	t      testing.TB
	clk    *clock.Manual
	r      *router.Router
	sent   [3][][]byte
	events []trace.Event
	neigh  map[netip.Addr]net.HardwareAddr // who answers ARP
}

func newRig(t testing.TB, c router.Config) *rig {
	t.Helper()
	w := &rig{t: t, clk: clock.NewManual(), neigh: map[netip.Addr]net.HardwareAddr{
		netip.MustParseAddr("10.0.1.10"): macH1,
		netip.MustParseAddr("10.0.2.10"): macH3,
		netip.MustParseAddr("10.0.2.2"):  macNB,
		netip.MustParseAddr("10.0.12.2"): macR2,
	}}
	r, err := router.New(c, router.Options{Clock: w.clk, Tracer: trace.Func(func(e trace.Event) { w.events = append(w.events, e) })})
	if err != nil {
		t.Fatal(err)
	}
	w.r = r
	for i, n := range ifNames[:len(c.Ifaces)] {
		r.Endpoint(n).Attach(link.Funcs{Frame: func(fr []byte) { w.output(i, fr) }})
	}
	return w
}

// output keeps a frame the router sent out of interface i, and answers
// an ARP request for a neighbour.
func (w *rig) output(i int, fr []byte) {
	w.sent[i] = append(w.sent[i], append([]byte(nil), fr...))
	p := gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.Default)
	a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || a.Operation != layers.ARPRequest {
		return
	}
	target := netip.AddrFrom4([4]byte(a.DstProtAddress))
	m := w.neigh[target]
	if m == nil {
		return
	}
	reply := serialize(w.t, &layers.Ethernet{SrcMAC: m, DstMAC: a.SourceHwAddress, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: m, SourceProtAddress: target.AsSlice(),
			DstHwAddress: a.SourceHwAddress, DstProtAddress: a.SourceProtAddress})
	w.clk.AfterFunc(time.Millisecond, func() { w.r.Input(i, reply) })
}

// learn has the router learn a neighbour, as from its ARP request.
func (w *rig) learn(i int, a string) {
	ip := netip.MustParseAddr(a)
	m := w.neigh[ip]
	own := testConfig().Ifaces[i].Addr.Addr()
	w.r.Input(i, serialize(w.t, &layers.Ethernet{SrcMAC: m, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: m, SourceProtAddress: ip.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: own.AsSlice()}))
}

// reset forgets what was sent and traced.
func (w *rig) reset() {
	w.sent = [3][][]byte{}
	w.events = nil
}

// ipFrames returns the IPv4 packets sent out of interface i, decoded.
func (w *rig) ipFrames(i int) []gopacket.Packet {
	var out []gopacket.Packet
	for _, fr := range w.sent[i] {
		p := gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.Default)
		if p.Layer(layers.LayerTypeIPv4) != nil {
			out = append(out, p)
		}
	}
	return out
}

// narration returns the trace as --explain says it.
func (w *rig) narration() string {
	var b strings.Builder
	for _, e := range w.events {
		fmt.Fprintf(&b, "  %s\n", trace.Narrate(e))
	}
	return b.String()
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pkt describes a packet to send the router.
type pkt struct {
	src, dst string
	ttl      uint8
	flags    layers.IPv4Flag
	fragOff  uint16 // in 8-byte units
	tos      uint8
	options  []layers.IPv4Option
	l4       []gopacket.SerializableLayer // default: an echo request with 56 bytes of data
	srcMAC   net.HardwareAddr             // default h1's
	dstMAC   net.HardwareAddr             // default eth0's
}

func echoReq(id, seq uint16, size int) []gopacket.SerializableLayer {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i)
	}
	return []gopacket.SerializableLayer{&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq}, gopacket.Payload(data)}
}

// frame builds p as an Ethernet frame.
func (p pkt) frame(t testing.TB) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: p.ttl, Flags: p.flags, FragOffset: p.fragOff, TOS: p.tos, Id: 7, Protocol: layers.IPProtocolICMPv4,
		SrcIP: netip.MustParseAddr(p.src).AsSlice(), DstIP: netip.MustParseAddr(p.dst).AsSlice(), Options: p.options}
	if ip.TTL == 0 {
		ip.TTL = 64
	}
	l4 := p.l4
	if l4 == nil {
		l4 = echoReq(1, 1, 56)
	}
	switch l := l4[0].(type) {
	case *layers.UDP:
		ip.Protocol = layers.IPProtocolUDP
		_ = l.SetNetworkLayerForChecksum(ip)
	case *layers.TCP:
		ip.Protocol = layers.IPProtocolTCP
		_ = l.SetNetworkLayerForChecksum(ip)
	case gopacket.Payload:
		ip.Protocol = 99
	}
	src, dst := p.srcMAC, p.dstMAC
	if src == nil {
		src = macH1
	}
	if dst == nil {
		dst = macEth0
	}
	return serialize(t, append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}, ip}, l4...)...)
}
