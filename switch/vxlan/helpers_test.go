package vxlan_test

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/switch/vxlan"
)

// sent is one packet a VTEP handed its transport.
type sent struct {
	dst netip.AddrPort
	pkt []byte
}

// wire is a recording Transport; with queue set it is a Queuer too and
// counts flushes.
type wire struct {
	mu      sync.Mutex
	pkts    []sent
	queued  []sent
	flushes int
	err     error // returned by Send and Queue when set
}

func (w *wire) Send(dst netip.AddrPort, pkt []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.pkts = append(w.pkts, sent{dst, append([]byte(nil), pkt...)})
	return nil
}

func (w *wire) take() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pkts
	w.pkts = nil
	return p
}

// queuing is a wire that queues.
type queuing struct{ wire }

func (q *queuing) Queue(dst netip.AddrPort, pkt []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.queued = append(q.queued, sent{dst, append([]byte(nil), pkt...)})
	return nil
}

func (q *queuing) Flush() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.flushes++
	q.pkts = append(q.pkts, q.queued...)
	q.queued = nil
	return nil
}

// events records trace events.
type events struct {
	mu sync.Mutex
	ev []trace.Event
}

func (r *events) Trace(e trace.Event) {
	r.mu.Lock()
	r.ev = append(r.ev, e)
	r.mu.Unlock()
}

func (r *events) take() []trace.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.ev
	r.ev = nil
	return e
}

// narration returns the events' sentences, one a line.
func narration(ev []trace.Event) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(trace.Narrate(e) + "\n")
	}
	return b.String()
}

// rig is a Mux with one VTEP on a recording transport, a frame sink as
// its switch port and a manual clock.
type rig struct {
	t     *testing.T
	clk   *clock.Manual
	w     *wire
	tr    *events
	mux   *vxlan.Mux
	v     *vxlan.VTEP
	sink  *link.Channel
	carry link.Funcs
}

func newRig(t *testing.T, c vxlan.Config) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewManual(), w: &wire{}, tr: &events{}, sink: &link.Channel{}}
	r.mux = vxlan.NewMux(r.w, vxlan.Options{Clock: r.clk, Tracer: r.tr, Node: "host1"})
	if c.Name == "" {
		c.Name = "vx-ov"
	}
	v, err := r.mux.Add(c)
	if err != nil {
		t.Fatal(err)
	}
	r.v = v
	v.Attach(link.Funcs{Frame: func(f []byte) { _ = r.sink.Send(f) }})
	return r
}

var (
	vtepA = netip.MustParseAddr("192.168.56.11")
	vtepB = netip.MustParseAddr("192.168.56.12")
	vtepC = netip.MustParseAddr("192.168.56.13")
)

func mac(i byte) header.MAC { return header.MAC{0x02, 0x42, 0x0a, 0, 0, i} }

func ip(i byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, i}) }

func from(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, 4789) }

// frame returns an Ethernet frame dst <- src carrying an IPv4/UDP
// packet of n payload bytes, built by gopacket.
func frame(dst, src header.MAC, n int) []byte {
	buf := gopacket.NewSerializeBuffer()
	ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 2}, DstIP: net.IP{10, 0, 0, 3}}
	udp := &layers.UDP{SrcPort: 50000, DstPort: 50001} // ports gopacket decodes no further
	_ = udp.SetNetworkLayerForChecksum(ip4)
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{DstMAC: dst.HardwareAddr(), SrcMAC: src.HardwareAddr(), EthernetType: layers.EthernetTypeIPv4},
		ip4, udp, gopacket.Payload(make([]byte, n)))
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// arpFrame returns an ARP request (op 1) or reply (op 2), built by gopacket.
func arpFrame(op uint16, dst, sha header.MAC, sip netip.Addr, tha header.MAC, tip netip.Addr) []byte {
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{DstMAC: dst.HardwareAddr(), SrcMAC: sha.HardwareAddr(), EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: sha.HardwareAddr(), SourceProtAddress: sip.AsSlice(),
			DstHwAddress: tha.HardwareAddr(), DstProtAddress: tip.AsSlice()})
	return buf.Bytes()
}

// packet returns the VXLAN packet (UDP payload) for vni around inner,
// built by gopacket.
func packet(vni uint32, inner []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(inner)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// decode decodes a VXLAN packet with gopacket, failing the test unless it
// is one.
func decode(t *testing.T, pkt []byte) (*layers.VXLAN, gopacket.Packet) {
	t.Helper()
	p := gopacket.NewPacket(pkt, layers.LayerTypeVXLAN, gopacket.Default)
	vx, ok := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN)
	if !ok {
		t.Fatalf("gopacket does not decode %x as VXLAN: %v", pkt, p.ErrorLayer())
	}
	if p.ErrorLayer() != nil {
		t.Fatalf("gopacket: %v in %v", p.ErrorLayer().Error(), p)
	}
	return vx, p
}

// dsts returns the destinations of packets.
func dsts(ps []sent) []netip.AddrPort {
	var out []netip.AddrPort
	for _, p := range ps {
		out = append(out, p.dst)
	}
	return out
}
