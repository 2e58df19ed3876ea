package gateway_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
)

var (
	ctrMAC = net.HardwareAddr{0x02, 0x42, 0xac, 0x12, 0x00, 0x02}
	gwMAC  = net.HardwareAddr{0x02, 0x42, 0xac, 0x12, 0x00, 0x01}
	lanMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ctr    = netip.MustParseAddr("172.18.0.2")
	gwAddr = netip.MustParseAddr("172.18.0.1")
	outer  = netip.MustParseAddr("192.168.56.12")
)

// rig is a gateway with one bridge network, its legs' output captured.
type rig struct {
	gw      *gateway.Gateway
	e       *clock.Manual // its clock, run only by tests that want time to pass
	lan, br *leg
	events  []trace.Event // with newTracedRig
}

// leg keeps what a gateway leg sends, or with discard only counts it.
type leg struct {
	link.Channel
	discard bool
	sent    int
}

func (l *leg) Send(frame []byte) error {
	l.sent++
	if l.discard {
		return nil
	}
	return l.Channel.Send(frame)
}

func newRig(t testing.TB) *rig { return rigWith(t, false) }

// newTracedRig is newRig keeping the gateway's trace.
func newTracedRig(t testing.TB) *rig { return rigWith(t, true) }

func rigWith(t testing.TB, traced bool) *rig {
	r := &rig{lan: &leg{}, br: &leg{}, e: clock.NewManual()}
	var tr trace.Tracer
	if traced {
		tr = trace.Func(func(e trace.Event) { r.events = append(r.events, e) })
	}
	dns := dnsd.New(dnsd.Options{})
	dns.Add("net1", "a", ctr)
	g, err := gateway.New(gateway.Config{
		Name: "host1",
		LAN:  gateway.Leg{Name: "eth0", MAC: header.MAC(lanMAC), Addr: netip.MustParsePrefix("192.168.56.11/24"), Out: r.lan},
		Bridges: []gateway.Bridge{{Leg: gateway.Leg{Name: "br-net1", MAC: header.MAC(gwMAC), Addr: netip.MustParsePrefix("172.18.0.1/16"), Out: r.br},
			Network: "net1"}},
		Publish: []nat.Publish{
			{Proto: nat.TCP, Ext: netip.MustParseAddrPort("192.168.56.11:8080"), To: netip.AddrPortFrom(ctr, 80)},
			{Proto: nat.UDP, Ext: netip.MustParseAddrPort("192.168.56.11:5353"), To: netip.AddrPortFrom(ctr, 53)},
		},
		DNS: dns,
	}, gateway.Options{Clock: r.e, Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	r.gw = g
	return r
}

func frame(t testing.TB, src, dst net.HardwareAddr, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	all := append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}}, ls...)
	if _, ok := ls[0].(*layers.ARP); ok {
		all[0].(*layers.Ethernet).EthernetType = layers.EthernetTypeARP
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// introduce has the container ask for its gateway's MAC, so the gateway
// learns the container's.
func (r *rig) introduce(t testing.TB) {
	r.gw.Input(1, frame(t, ctrMAC, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: ctrMAC, SourceProtAddress: ctr.AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: gwAddr.AsSlice(),
	}))
	r.br.Drain()
}

func udp(t testing.TB, ttl uint8, src, dst netip.AddrPort) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = u.SetNetworkLayerForChecksum(ip)
	return frame(t, ctrMAC, gwMAC, ip, u, gopacket.Payload("hello"))
}

// TestTTLExceeded: a packet that would leave with TTL 0 is answered with
// ICMP time exceeded, quoting it, from the gateway's address.
func TestTTLExceeded(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	r.gw.Input(1, udp(t, 1, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53)))
	if n := r.lan.Len(); n != 0 {
		t.Errorf("%d frames left on the LAN", n)
	}
	out := r.br.Drain()
	if len(out) != 1 {
		t.Fatalf("%d frames back to the container, want 1", len(out))
	}
	p := gopacket.NewPacket(out[0], layers.LayerTypeEthernet, gopacket.Default)
	ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ic == nil || ic.TypeCode.Type() != layers.ICMPv4TypeTimeExceeded || !ip.SrcIP.Equal(gwAddr.AsSlice()) || !ip.DstIP.Equal(ctr.AsSlice()) {
		t.Errorf("got %v", p)
	}
	if st := r.gw.Stats(); st.TTLExceeded != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestForwardDecrementsTTL: a forwarded packet leaves masqueraded with its
// TTL one less and valid checksums (waiting for ARP on the LAN).
func TestForwardDecrementsTTL(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	r.gw.Input(1, udp(t, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53)))
	arp := r.lan.Drain()
	if len(arp) != 1 {
		t.Fatalf("%d frames on the LAN, want the ARP request", len(arp))
	}
	r.resolveLAN(t)
	out := r.lan.Drain()
	if len(out) != 1 {
		t.Fatalf("%d frames on the LAN after ARP, want 1", len(out))
	}
	p := gopacket.NewPacket(out[0], layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil || ip.TTL != 63 || !ip.SrcIP.Equal(net.IP{192, 168, 56, 11}) {
		t.Fatalf("got %v", p)
	}
	// Re-serialise with checksums computed and compare: the incremental
	// updates must agree.
	want := make([]byte, len(ip.Contents))
	copy(want, ip.Contents)
	ip.Checksum = 0
	buf := gopacket.NewSerializeBuffer()
	_ = ip.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true})
	if got := buf.Bytes()[10:12]; string(got) != string(want[10:12]) {
		t.Errorf("IP checksum %x, want %x", want[10:12], got)
	}
}

// FuzzInput: any frame on any leg, after the gateway knows a container.
// It must not panic, whatever it does with it.
func FuzzInput(f *testing.F) {
	f.Add(0, udp(f, 1, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53)))
	f.Add(1, udp(f, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53)))
	f.Add(1, udp(f, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(gwAddr, 53)))
	f.Add(0, udp(f, 64, netip.AddrPortFrom(outer, 4000), netip.MustParseAddrPort("192.168.56.11:8080")))
	f.Add(1, []byte{})
	f.Fuzz(func(t *testing.T, leg int, fr []byte) {
		r := newRig(t)
		r.introduce(t)
		r.gw.Input(leg&1, fr)
	})
}

// forwarding returns a rig whose flow from the container to the outside
// is established, its next hop resolved and its LAN output only counted,
// and a frame of that flow.
func forwarding(t testing.TB) (*rig, []byte) {
	r := newRig(t)
	r.introduce(t)
	fr := udp(t, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53))
	r.gw.Input(1, fr)
	r.resolveLAN(t)
	if r.lan.Len() != 2 {
		t.Fatalf("%d frames on the LAN, want the ARP request and the packet", r.lan.Len())
	}
	r.lan.discard = true
	return r, fr
}

// BenchmarkForward: a UDP packet of an established flow from a container,
// through the gateway's stack and NAT, out of the LAN leg: decoded,
// routed, translated, re-framed in place; no allocation.
func BenchmarkForward(b *testing.B) {
	r, fr := forwarding(b)
	b.ReportAllocs()
	for b.Loop() {
		r.gw.Input(1, fr)
	}
	if r.lan.sent < b.N {
		b.Fatalf("%d frames out of %d", r.lan.sent, b.N)
	}
	if st := r.gw.Stats(); st.Forwarded < uint64(b.N) {
		b.Fatalf("forwarded %d of %d", st.Forwarded, b.N)
	}
}

// TestForwardAllocatesNothing keeps BenchmarkForward's 0 allocs/op true.
func TestForwardAllocatesNothing(t *testing.T) {
	r, fr := forwarding(t)
	if n := testing.AllocsPerRun(100, func() { r.gw.Input(1, fr) }); n != 0 {
		t.Errorf("%v allocations per forwarded packet", n)
	}
	// Nobody traces: dropping a martian costs no allocation either.
	martian := udp(t, 64, netip.MustParseAddrPort("127.0.0.1:4000"), netip.AddrPortFrom(outer, 53))
	if n := testing.AllocsPerRun(100, func() { r.gw.Input(1, martian) }); n != 0 {
		t.Errorf("%v allocations per dropped martian", n)
	}
	if st := r.gw.Stats(); st.MartianSource < 100 {
		t.Errorf("MartianSource %d: the martians were not dropped as such", st.MartianSource)
	}
}

// resolveLAN answers the gateway's ARP for the outside address.
func (r *rig) resolveLAN(t testing.TB) {
	r.gw.Input(0, frame(t, net.HardwareAddr{2, 0, 0, 0, 0, 1}, lanMAC, &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPReply, SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: outer.AsSlice(),
		DstHwAddress: lanMAC, DstProtAddress: []byte{192, 168, 56, 11},
	}))
}

// tcpOffload builds a TCP frame from the container with its checksum left
// pending, as a kernel hands one to a TAP with offloads: the checksum field
// holds the pseudo-header sum. With mss, it is a super-frame.
func tcpOffload(t testing.TB, payload int, mss uint16) ([]byte, link.Offload) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: ctr.AsSlice(), DstIP: outer.AsSlice()}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5201, Seq: 1000, Ack: 1, ACK: true, Window: 512}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	fr := frame(t, ctrMAC, gwMAC, ip, tcp, gopacket.Payload(make([]byte, payload)))
	n := len(fr) - 34
	ph := append(append(append([]byte(nil), ctr.AsSlice()...), outer.AsSlice()...), 0, 6, byte(n>>8), byte(n))
	binary.BigEndian.PutUint16(fr[34+16:], csum.Fold(csum.Sum(ph, 0)))
	o := link.Offload{Flags: link.FlagNeedsCsum, CsumStart: 34, CsumOffset: 16}
	if mss > 0 {
		o.GSOType, o.GSOSize, o.HdrLen = link.GSOTCPv4, mss, 54
	}
	return fr, o
}

// TestOffloadThroughNAT: TCP frames with their checksum pending cross the
// gateway translated as they are; where the leg takes no offloads, the
// checksums come out right and super-frames are cut into valid segments.
func TestOffloadThroughNAT(t *testing.T) {
	for _, c := range []struct {
		name     string
		payload  int
		mss      uint16
		segments int
	}{{"pending checksum", 100, 0, 1}, {"super-frame", 3000, 1000, 3}} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.introduce(t)
			fr, o := tcpOffload(t, c.payload, c.mss)
			r.gw.InputOffload(1, fr, o) // the flow starts; ARP for the outside
			r.resolveLAN(t)
			r.lan.Drain()
			r.gw.InputOffload(1, fr, o)
			out := r.lan.Drain()
			if len(out) != c.segments {
				t.Fatalf("%d frames out, want %d", len(out), c.segments)
			}
			for _, f := range out {
				p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
				ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				if ip == nil || tcp == nil || !ip.SrcIP.Equal(net.IP{192, 168, 56, 11}) || ip.TTL != 63 {
					t.Fatalf("got %v", p)
				}
				got := tcp.Checksum
				_ = tcp.SetNetworkLayerForChecksum(ip)
				buf := gopacket.NewSerializeBuffer()
				_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, tcp, gopacket.Payload(tcp.Payload))
				if want := binary.BigEndian.Uint16(buf.Bytes()[16:]); got != want {
					t.Errorf("TCP checksum %#04x, want %#04x", got, want)
				}
			}
		})
	}
}

// FuzzInputOffload: any frame with any offload metadata on any leg, with
// the LAN's next hop resolved so that frames leave through the fast path.
func FuzzInputOffload(f *testing.F) {
	fr, o := tcpOffload(f, 3000, 1000)
	f.Add(1, fr, o.Flags, o.GSOType, o.HdrLen, o.GSOSize, o.CsumStart, o.CsumOffset)
	fr, o = tcpOffload(f, 100, 0)
	f.Add(1, fr, o.Flags, o.GSOType, o.HdrLen, o.GSOSize, o.CsumStart, o.CsumOffset)
	f.Add(0, udp(f, 64, netip.AddrPortFrom(outer, 4000), netip.MustParseAddrPort("192.168.56.11:8080")), uint8(1), uint8(0), uint16(0), uint16(0), uint16(34), uint16(6))
	f.Fuzz(func(t *testing.T, leg int, fr []byte, flags, gso uint8, hdrLen, gsoSize, start, off uint16) {
		r := newRig(t)
		r.introduce(t)
		r.resolveLAN(t)
		r.lan.discard, r.br.discard = true, true
		r.gw.InputOffload(leg&1, fr, link.Offload{Flags: flags, GSOType: gso, HdrLen: hdrLen, GSOSize: gsoSize, CsumStart: start, CsumOffset: off})
	})
}

// tcpExchange sends a SYN, a segment of data and a RST from the container
// to the outside address, port 80, through a rig whose neighbours are
// known.
func (r *rig) tcpExchange(t *testing.T) {
	t.Helper()
	r.introduce(t)
	r.resolveLAN(t)
	seg := func(tcp *layers.TCP, payload string) []byte {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ctr.AsSlice(), DstIP: outer.AsSlice()}
		tcp.SrcPort, tcp.DstPort, tcp.Window = 40000, 80, 512
		_ = tcp.SetNetworkLayerForChecksum(ip)
		return frame(t, ctrMAC, gwMAC, ip, tcp, gopacket.Payload(payload))
	}
	r.gw.Input(1, seg(&layers.TCP{SYN: true}, ""))
	r.gw.Input(1, seg(&layers.TCP{ACK: true, PSH: true}, "hello"))
	r.gw.Input(1, seg(&layers.TCP{RST: true, ACK: true}, ""))
}

// TestRoutedNarratesTCP: the routed line says a TCP packet's flags and
// data length, so that SYN, ACK and RST read differently.
func TestRoutedNarratesTCP(t *testing.T) {
	r := newTracedRig(t)
	r.tcpExchange(t)
	var got []string
	for _, e := range r.events {
		if e.Kind == trace.Routed {
			got = append(got, trace.Narrate(e))
		}
	}
	want := []string{
		"host1 routed tcp 172.18.0.2:40000 -> 192.168.56.12:80 [SYN] out of eth0 as 192.168.56.11:40000 -> 192.168.56.12:80",
		"host1 routed tcp 172.18.0.2:40000 -> 192.168.56.12:80 [PSH, ACK] len 5 out of eth0 as 192.168.56.11:40000 -> 192.168.56.12:80",
		"host1 routed tcp 172.18.0.2:40000 -> 192.168.56.12:80 [RST, ACK] out of eth0 as 192.168.56.11:40000 -> 192.168.56.12:80",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
