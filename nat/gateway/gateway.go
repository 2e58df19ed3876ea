package gateway

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
)

// DefaultMTU is a leg's MTU when none is set: Ethernet's.
const DefaultMTU = 1500

// Leg is one interface of the gateway.
type Leg struct {
	Name string // e.g. eth0, docker0, br-mynet
	MAC  header.MAC
	Addr netip.Prefix // the gateway's address and the leg's subnet
	MTU  int          // the largest IPv4 packet the leg carries; 0: DefaultMTU
	Out  link.Sender  // where the leg transmits
}

// Bridge is a leg on a bridge network.
type Bridge struct {
	Leg
	Network  string // the network's name, for DNS scoping and traces
	Internal bool   // no way out
	// NoMasquerade routes what leaves with the container's own address,
	// tracked so that replies come back (enable_ip_masquerade false).
	NoMasquerade bool
}

// Config describes a gateway.
type Config struct {
	Name     string // the Docker host's name
	LAN      Leg
	Bridges  []Bridge
	Publish  []nat.Publish // Ext is the host's LAN address
	MaxFlows int           // conntrack bound; 0: nat.DefaultMax
	DNS      *dnsd.Server  // answers on every bridge leg; nil: no DNS server
	// MaxDNSForwards bounds the queries waiting for an upstream; 0:
	// MaxDNSForwards.
	MaxDNSForwards int
	// AllowDirectRouting is dockerd's allow-direct-routing: a packet from
	// outside addressed straight to a container (a LAN host with a route
	// to the bridge's subnet via this host) reaches the container's
	// published ports, and only those; false, as Docker 28.2+ by default:
	// none of it (the Direct counter).
	AllowDirectRouting bool
}

// Options are the gateway's surroundings.
type Options struct {
	Clock  clock.Clock
	Tracer trace.Tracer
	// Rand draws the IDs of queries sent upstream; nil: a fixed stream,
	// so that runs are reproducible.
	Rand *rand.Rand
}

// Stats counts what the gateway did with packets it did not keep. Every
// drop the gateway traces is counted in exactly one field; the stack's own
// drops (frames not for it, ARP) are in Host().Stats().
type Stats struct {
	Forwarded   uint64 // packets routed between legs
	Isolated    uint64 // dropped between isolated networks
	Internal    uint64 // dropped leaving an internal network
	Direct      uint64 // dropped: from outside straight to a container
	TTLExceeded uint64 // dropped with time exceeded
	NATDropped  uint64 // dropped by the NAT table (full, refused, malformed)
	// Flows (not packets) the NAT table dropped early, unanswered, not yet
	// assured or closing, to make room for a new one when full (Linux's
	// early_drop); each is traced.
	NATEarlyDropped uint64
	NoRoute         uint64 // dropped: no route to the (translated) destination
	SendErrors      uint64 // dropped: the leg refused the frame (down, budget spent)

	// ip_rcv's checks (Linux's InHdrErrors, InTruncatedPkts, InCsumErrors).
	HeaderErrors uint64 // dropped: not version 4, header length under 20 or beyond the packet, total length under the header
	Truncated    uint64 // dropped: total length beyond the bytes received
	BadChecksum  uint64 // dropped: header checksum wrong
	// ip_route_input_slow's martians (RFC 1812 §5.3.7).
	MartianSource uint64 // dropped: a source no packet may have
	MartianDest   uint64 // dropped: a destination no packet may have

	// Reassembly and fragmentation, in Linux's words (/proc/net/snmp).
	ReasmReqds      uint64 // fragments received
	ReasmOKs        uint64 // datagrams reassembled
	ReasmFails      uint64 // datagrams given up: the sum of the four below
	ReasmTimeout    uint64 // of ReasmFails: not whole within ReasmTime
	ReasmOverlaps   uint64 // of ReasmFails: a fragment overlapped another
	ReasmFull       uint64 // of ReasmFails: no room (bytes, datagrams or fragments)
	ReasmMalformed  uint64 // of ReasmFails: fragments that contradict each other or exceed 65535 bytes
	ReasmDuplicates uint64 // fragments ignored: their bytes were already there
	FragOKs         uint64 // datagrams fragmented on the way out
	FragCreates     uint64 // fragments made
	FragFails       uint64 // dropped: too big with DF set, answered with fragmentation needed

	// DNS.
	DNSAnswered         uint64 // answers sent to clients, whatever their origin
	DNSDropped          uint64 // queries not answered: not to a bridge address, from a broadcast or martian source, not a query
	DNSForwarded        uint64 // queries sent upstream (each counts once, however many upstreams it tries)
	DNSRelayed          uint64 // of DNSForwarded: answered with an upstream's answer
	DNSServFail         uint64 // of DNSForwarded: answered SERVFAIL, no upstream answered
	DNSRefused          uint64 // queries answered REFUSED: MaxDNSForwards were waiting
	DNSUpstreamTimeouts uint64 // upstream attempts that timed out
	DNSUpstreamFailures uint64 // upstream attempts that failed otherwise (SERVFAIL, REFUSED, ICMP error, send error)
	DNSStray            uint64 // answers dropped: from another address, with another ID or question, or not answers
}

// leg is one interface of the gateway, indexed as the stack's interfaces
// (the LAN first, then the bridges as configured).
type leg struct {
	ifc    *stack.Iface
	idx    int
	addr   netip.Addr
	subnet netip.Prefix // masked
	mtu    int
	bridge *Bridge // nil for the LAN
	// The same as numbers, for the packet path: the address, the
	// subnet's network and mask, and its broadcast address (hasBcast
	// false for /31 and /32, RFC 3021).
	a32, net32, mask32, bcast32 uint32
	hasBcast                    bool
	bcastWhy                    string // a martian source that is bcast32, in words: made once
	gone                        bool   // its network was removed (RemoveBridge): a tombstone
}

// v4 returns an IPv4 address as a number.
func v4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// contains reports whether the leg's subnet holds a.
func (l *leg) contains(a uint32) bool { return a&l.mask32 == l.net32 }

// Gateway is a Docker host's router node.
type Gateway struct {
	name     string
	clk      clock.Clock
	tracer   trace.Tracer
	host     *stack.Host
	nat      *nat.Table
	dns      *dnsd.Server
	ids      *rand.Rand // draws upstream query IDs
	legs     []leg      // by stack interface index; legs[0] is the LAN
	buf      []byte     // the packet being translated, after room for its Ethernet header
	seg      []byte     // scratch for resolving offloads in software
	resolved []byte     // scratch for a packet to cut whose checksum is pending
	stats    Stats
	frag     fragState
	fwd      dnsForwarder
	dnsUDP   *stack.UDPConn // port 53
	// onUnresolved is unreachable as a func value made once, so that
	// forwarding a packet allocates nothing for it.
	onUnresolved func(sent []byte, err error)
	direct       bool // Config.AllowDirectRouting
}

// stateOf says why a flow could be dropped early.
func stateOf(f nat.Flow) string {
	switch {
	case !f.Replied:
		return "unanswered"
	case f.Assured:
		return "closing " + f.State // an assured TCP flow past its FIN or RST
	case f.State != "":
		return "unassured " + f.State
	}
	return "unassured"
}

// New builds a gateway.
func New(c Config, o Options) (*Gateway, error) {
	g := &Gateway{
		name:   cmp.Or(c.Name, "gateway"),
		clk:    clock.Or(o.Clock),
		tracer: o.Tracer,
		nat:    nat.New(c.MaxFlows),
		dns:    c.DNS,
		ids:    o.Rand,
		buf:    make([]byte, stack.Headroom+65536),
		direct: c.AllowDirectRouting,
	}
	if g.ids == nil {
		g.ids = rand.New(rand.NewPCG(0, 0))
	}
	g.onUnresolved = g.unreachable
	g.nat.OnEarlyDrop(func(v nat.Flow) {
		g.stats.NATEarlyDropped++
		if g.tracer != nil {
			// The victim's tuple as it arrives, and as it leaves translated.
			e := dropped(v.Orig.Src.Addr(), v.Orig.Dst.Addr(), fmt.Sprintf("connection table full: %s flow %s dropped early to make room for a new one", stateOf(v), v.Orig))
			e.Proto, e.SrcPort, e.DstPort = trace.Proto(v.Orig.Proto), v.Orig.Src.Port(), v.Orig.Dst.Port()
			e.NATSrc, e.NATDst = v.Reply.Dst, v.Reply.Src
			g.event(e)
		}
	})
	g.frag.init()
	g.host = stack.New(stack.Options{Name: g.name, Clock: g.clk, Tracer: o.Tracer, Forward: g.forward, Output: g.output})
	add := func(l Leg, b *Bridge) error { _, err := g.addLeg(l, b); return err }
	if err := add(c.LAN, nil); err != nil {
		return nil, err
	}
	for i := range c.Bridges {
		b := c.Bridges[i]
		if err := add(b.Leg, &b); err != nil {
			return nil, err
		}
	}
	for _, p := range c.Publish {
		if err := g.nat.AddPublish(p); err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
	}
	g.publishLoopback(c.Publish)
	if g.dns != nil {
		conn, err := g.host.ListenUDP(stack.DNSPort)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
		conn.OnRecv = g.answer
		g.dnsUDP = conn
		l, err := g.host.ListenTCPStream(stack.DNSPort, g.acceptDNS)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
		l.IdleTimeout, l.MaxConns = DNSIdleTimeout, MaxDNSConns
		g.fwd.init(g.dns.Upstreams(), cmp.Or(c.MaxDNSForwards, MaxDNSForwards))
	}
	return g, nil
}

// Host returns the gateway's stack (its interfaces, in the order LAN,
// then the bridges as configured).
func (g *Gateway) Host() *stack.Host { return g.host }

// NAT returns the gateway's connection tracking table.
func (g *Gateway) NAT() *nat.Table { return g.nat }

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats { return g.stats }

// Pending is what the gateway holds at one instant, each within its bound.
type Pending struct {
	Reassemblies int // datagrams waiting for fragments (MaxReasmDatagrams)
	ReasmBytes   int // bytes they hold, as accounted (MaxReasmBytes)
	DNSQueries   int // queries waiting for an upstream (MaxDNSForwards)
}

// Pending returns what the gateway holds now.
func (g *Gateway) Pending() Pending {
	return Pending{Reassemblies: len(g.frag.byKey), ReasmBytes: g.frag.bytes, DNSQueries: g.fwd.waiting}
}

// Input hands the gateway a frame received on interface idx.
func (g *Gateway) Input(idx int, frame []byte) { g.host.Input(idx, frame) }

// InputOffload hands the gateway a frame with offload metadata (from a TAP
// with offloads, in netns). An IPv4 TCP frame, super-frame or with its
// checksum pending, is routed and translated as it is and leaves with its
// metadata, so that a TCP stream crosses the gateway in 64 KiB pieces as
// it crosses a switch; anything else is resolved in software first.
func (g *Gateway) InputOffload(idx int, frame []byte, o link.Offload) {
	if !o.Pending() {
		g.host.Input(idx, frame)
		return
	}
	if e := header.Ethernet(frame); len(e) >= header.EthernetLen+header.IPv4MinLen && e.EtherType() == header.EtherTypeIPv4 &&
		header.IPv4(e.L3()).Protocol() == nat.TCP && o.GSOType&^link.GSOECN != link.GSOTCPv6 {
		g.host.InputOffload(idx, frame, o)
		return
	}
	if cap(g.seg) < len(frame) {
		g.seg = make([]byte, len(frame))
	}
	_ = link.Resolve(frame, o, g.seg[:len(frame)], func(f []byte) error {
		g.host.Input(idx, f)
		return nil
	})
}

// legOf returns the leg of interface in, or nil (loopback).
func (g *Gateway) legOf(in *stack.Iface) *leg {
	if i := in.Index(); i >= 0 && i < len(g.legs) {
		return &g.legs[i]
	}
	return nil
}

// onBridge reports whether a is the address of one of the bridge legs.
func (g *Gateway) onBridge(a netip.Addr) bool {
	for i := 1; i < len(g.legs); i++ {
		if g.legs[i].addr == a {
			return true
		}
	}
	return false
}

// owns reports whether a is one of the gateway's addresses (a loopback
// destination is a martian before this is asked).
func (g *Gateway) owns(a uint32) bool {
	for i := range g.legs {
		if g.legs[i].a32 == a {
			return true
		}
	}
	return false
}

// bridgeFor returns the first bridge leg, in configuration order, whose
// subnet holds a.
func (g *Gateway) bridgeFor(a uint32) *leg {
	for i := 1; i < len(g.legs); i++ {
		if g.legs[i].contains(a) {
			return &g.legs[i]
		}
	}
	return nil
}

// forward is the stack's Forward hook: it decides every IPv4 packet the
// gateway receives.
func (g *Gateway) forward(in *stack.Iface, pkt []byte, o link.Offload) bool {
	l := g.legOf(in)
	if l == nil {
		return false // from loopback
	}
	pkt, ok := g.checkHeader(l, pkt)
	if !ok {
		return true
	}
	ip := header.IPv4(pkt)
	if !g.checkAddrs(l, ip.Src32(), ip.Dst32()) {
		return true
	}
	if ip.IsFragment() {
		g.defrag(l, pkt)
		return true
	}
	return g.route(l, pkt, o, 0)
}

// route decides a whole packet that passed the checks: it returns false
// for one that is the gateway's own (the stack takes it). maxFrag, if not
// 0, is the largest fragment a reassembled datagram came in: it leaves in
// pieces no bigger.
func (g *Gateway) route(l *leg, pkt []byte, o link.Offload, maxFrag int) bool {
	d := header.IPv4(pkt).Dst32()
	if g.notRouted(d) {
		return false // broadcast or multicast: never routed, the stack's to take or leave
	}
	if l.bridge == nil {
		switch {
		case d == l.a32:
			// A reply, or to a published port; else for the gateway itself.
			return g.translate(pkt, o, nat.FromOutside, netip.Addr{}, true, maxFrag)
		case g.owns(d):
			return false
		}
		if b := g.bridgeFor(d); b != nil {
			if b.bridge.NoMasquerade && g.translate(pkt, o, nat.FromOutside, netip.Addr{}, true, maxFrag) {
				return true // a reply to what a container sent unmasqueraded
			}
			if g.direct {
				return g.routeDirect(b, pkt, o, maxFrag)
			}
			g.stats.Direct++
			g.dropPktf(pkt, "from outside straight to a container on %s: containers are reached through published ports", b.bridge.Network)
			return true
		}
		return false // not for this host: the stack drops it
	}
	switch {
	case g.owns(d):
		// The hairpin: to a published port from inside, masqueraded behind
		// the gateway's address on the network of the container behind it;
		// else for the gateway itself (ping it, ask its DNS server).
		via := l.addr
		if p, ok := g.nat.Published(header.IPv4(pkt).Protocol(), dstPort(pkt)); ok {
			if b := g.bridgeFor(v4(p.To.Addr())); b != nil {
				via = b.addr
			}
		}
		return g.translate(pkt, o, nat.Hairpinned, via, true, maxFrag)
	case l.contains(d):
		return false // on-link: not for the gateway to route
	}
	if to := g.bridgeFor(d); to != nil {
		g.stats.Isolated++
		g.dropPktf(pkt, "networks %s and %s are isolated from each other", l.bridge.Network, to.bridge.Network)
		return true
	}
	if l.bridge.Internal {
		g.stats.Internal++
		g.dropPktf(pkt, "network %s is internal: no way out", l.bridge.Network)
		return true
	}
	if l.bridge.NoMasquerade {
		return g.translate(pkt, o, nat.Unmasqueraded, netip.Addr{}, false, maxFrag)
	}
	return g.translate(pkt, o, nat.FromInside, g.legs[0].addr, false, maxFrag)
}

// ports returns a TCP or UDP packet's source and destination ports.
func ports(pkt []byte) (sp, dp uint16, ok bool) {
	ip := header.IPv4(pkt)
	if p := ip.Protocol(); p != nat.TCP && p != nat.UDP || len(pkt) < ip.HeaderLen()+4 {
		return 0, 0, false
	}
	l4 := header.UDP(ip.Payload()) // TCP's ports are where UDP's are
	return l4.SrcPort(), l4.DstPort(), true
}

// dstPort returns a packet's destination address and port (0 without).
func dstPort(pkt []byte) netip.AddrPort {
	_, dp, _ := ports(pkt)
	return netip.AddrPortFrom(header.IPv4(pkt).Dst(), dp)
}

// translate translates a copy of pkt as coming from origin (ext: the
// address to masquerade behind), checks and decrements its TTL, and sends
// it on with its offload metadata, in fragments if it must. With local, a
// packet that belongs to no flow and no published port is the gateway's
// own: it returns false, and the stack takes the packet. maxFrag is
// route's.
func (g *Gateway) translate(pkt []byte, o link.Offload, origin nat.Origin, ext netip.Addr, local bool, maxFrag int) bool {
	ip := header.IPv4(pkt)
	src, dst := ip.Src(), ip.Dst()
	if !local && ip.TTL() <= 1 {
		// Before the NAT, so that a packet that dies here (a traceroute's
		// probe) takes no flow and no port, as Linux confirms a conntrack
		// entry only when its packet leaves.
		g.timeExceeded(pkt, src, dst)
		return true
	}
	frame := g.buf[:stack.Headroom+len(pkt)]
	b := frame[stack.Headroom:]
	copy(b, pkt)
	k, ch, err := g.nat.TranslateFlow(b, origin, ext, g.clk.Now(), o.Flags&link.FlagNeedsCsum != 0)
	if local && (errors.Is(err, nat.ErrRefused) || errors.Is(err, nat.ErrMalformed)) {
		return false // no flow, no published port, or nothing NAT handles
	}
	if err == nil && ip.TTL() <= 1 {
		g.timeExceeded(pkt, src, dst)
		return true
	}
	if err != nil {
		g.stats.NATDropped++
		if g.tracer != nil {
			if errors.Is(err, nat.ErrFull) {
				g.dropf(src, dst, "connection table full (%s)", k)
			} else {
				g.dropf(src, dst, "%v", err)
			}
		}
		return true
	}
	// TTL minus one, and the header checksum with it (RFC 1624).
	nip := header.IPv4(b)
	nip.SetTTL(nip.TTL() - 1)
	ndst := nip.Dst()
	out, hop, rerr := g.host.Route(ndst)
	var ol *leg
	if rerr == nil {
		ol = g.legOf(out)
	}
	if ol == nil && rerr == nil && out.Index() < 0 {
		return g.deliverLocal(k, pkt, frame, out, hop, ch)
	}
	if ol == nil {
		g.stats.NoRoute++
		g.dropf(src, dst, "no route to %s", ndst)
		return true
	}
	// Too big for the leg? A super-frame is not: it leaves in segments.
	size := ol.mtu
	if maxFrag > 0 {
		size = min(size, maxFrag) // a reassembled datagram: no piece bigger than it came in
	}
	cut := len(b) > size && o.GSOType&^link.GSOECN == link.GSONone
	if cut && nip.DF() && len(b) > ol.mtu {
		g.stats.FragFails++
		g.dropf(src, dst, "%d bytes do not fit the MTU %d of %s and DF is set: answered with ICMP fragmentation needed", len(b), ol.mtu, out.Name())
		g.host.SendFragNeeded(pkt, uint16(ol.mtu))
		return true
	}
	g.stats.Forwarded++
	if trace.Wants(g.tracer, trace.Routed) {
		g.traceRouted(k, pkt, b, out, flowChanges[ch])
	}
	switch {
	case cut && o.Pending():
		// A checksum still to fill (a TAP's): fill it, then cut.
		if cap(g.resolved) < len(frame) {
			g.resolved = make([]byte, len(frame))
		}
		err = link.Resolve(frame, o, g.resolved[:len(frame)], func(f []byte) error {
			return g.fragment(f[stack.Headroom:], size, false, func(f []byte) error {
				return g.host.SendFrame(out, hop, f, link.Offload{}, g.onUnresolved)
			})
		})
	case cut:
		err = g.fragment(b, size, false, func(f []byte) error {
			return g.host.SendFrame(out, hop, f, link.Offload{}, g.onUnresolved)
		})
	default:
		err = g.host.SendFrame(out, hop, frame, o, g.onUnresolved)
	}
	if err != nil {
		g.stats.SendErrors++
		g.dropf(src, dst, "%v", err)
	}
	return true
}

// flowChanges are nat's Changes as the trace names them.
var flowChanges = [...]trace.FlowChange{nat.Kept: trace.FlowKept, nat.Created: trace.FlowCreated, nat.Closed: trace.FlowClosed, nat.CreatedClosed: trace.FlowCreatedClosed}

// traceRouted says what translate sent: the flow as it arrived (k), TCP's
// flags and data length, an ICMP error's type and code, the leg, what the
// packet did to its flow, and the packet's ends as it left when NAT
// changed them.
func (g *Gateway) traceRouted(k nat.Tuple, was, now []byte, out *stack.Iface, fc trace.FlowChange) {
	e := trace.Event{Kind: trace.Routed, Proto: trace.Proto(k.Proto), SrcIP: k.Src.Addr(), SrcPort: k.Src.Port(), DstIP: k.Dst.Addr(), DstPort: k.Dst.Port(),
		Ports: []string{out.Name()}, NATFlow: fc}
	ip := header.IPv4(was)
	switch l4 := ip.Payload(); ip.Protocol() {
	case nat.TCP:
		if t := header.TCP(l4); len(t) >= header.TCPMinLen {
			e.Flags = trace.TCPFlags(t.Flags())
			e.Len = len(t) - t.DataOff()
		}
	case nat.ICMP:
		if m := header.ICMPv4(l4); len(m) > 1 && !m.IsEcho() { // an error about the flow k
			e.ICMP = trace.ICMPType{Type: m.Type(), Code: m.Code()}
		}
	}
	ws, wd := ends(was)
	if ns, nd := ends(now); ws != ns || wd != nd {
		if m := header.ICMPv4(header.IPv4(now).Payload()); ip.Protocol() == nat.ICMP && e.ICMP == (trace.ICMPType{}) && len(m) >= header.ICMPv4Len {
			// An echo: its identifier stands for both ports, as in k.
			ns, nd = netip.AddrPortFrom(ns.Addr(), m.ID()), netip.AddrPortFrom(nd.Addr(), m.ID())
		}
		e.NATSrc, e.NATDst = ns, nd
	}
	g.event(e)
}

// timeExceeded drops a packet whose TTL ran out here, answering its sender
// with ICMP time exceeded, as a router does.
func (g *Gateway) timeExceeded(pkt []byte, src, dst netip.Addr) {
	g.stats.TTLExceeded++
	g.dropf(src, dst, "TTL exceeded in transit: answered with ICMP time exceeded")
	g.host.SendICMPError(pkt, 11, 0)
}

// unreachable answers a packet whose next hop did not resolve with host
// unreachable, as a Linux router does, about the packet as its sender sent
// it.
func (g *Gateway) unreachable(sent []byte, _ error) {
	g.nat.Untranslate(sent, g.clk.Now())
	g.host.SendICMPError(sent, 3, 1)
}

// ends returns a packet's source and destination, with ports for TCP and
// UDP (0 otherwise).
func ends(pkt []byte) (src, dst netip.AddrPort) {
	sp, dp, _ := ports(pkt)
	return netip.AddrPortFrom(header.IPv4(pkt).Src(), sp), netip.AddrPortFrom(header.IPv4(pkt).Dst(), dp)
}

// event traces e, stamped with the gateway's name and the time.
func (g *Gateway) event(e trace.Event) {
	if g.tracer == nil {
		return
	}
	e.Time, e.Node = g.clk.Now(), g.name
	g.tracer.Trace(e)
}

// dropf traces a drop of a packet from src to dst (zero: not known), and
// why.
func (g *Gateway) dropf(src, dst netip.Addr, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	g.event(dropped(src, dst, fmt.Sprintf(format, args...)))
}

// dropped is the event of a drop of a packet from src to dst.
func dropped(src, dst netip.Addr, reason string) trace.Event {
	e := trace.Event{Kind: trace.Dropped, Reason: reason}
	if src.IsValid() && dst.IsValid() {
		e.Src, e.Dst = src.String(), dst.String()
		e.SrcIP, e.DstIP = src, dst
	}
	return e
}

// addLeg gives the gateway's stack an interface for l (b: the bridge it
// is a leg of; nil for the LAN) and appends its leg, returning its index.
func (g *Gateway) addLeg(l Leg, b *Bridge) (int, error) {
	mtu := cmp.Or(l.MTU, DefaultMTU)
	if mtu < 68 || mtu > 65535 { // RFC 791: every host takes 68 bytes unfragmented
		return 0, fmt.Errorf("gateway %s: %s: MTU %d outside 68-65535", g.name, l.Name, mtu)
	}
	out := &legOut{g: g, out: l.Out, mtu: mtu}
	ifc, err := g.host.AddIface(l.Name, l.MAC, l.Addr, out)
	if err != nil {
		return 0, fmt.Errorf("gateway %s: %w", g.name, err)
	}
	lg := leg{ifc: ifc, idx: ifc.Index(), addr: l.Addr.Addr(), subnet: l.Addr.Masked(), mtu: mtu, bridge: b}
	lg.a32, lg.net32 = v4(lg.addr), v4(lg.subnet.Addr())
	lg.mask32 = ^(^uint32(0) >> l.Addr.Bits())
	if l.Addr.Bits() < 31 {
		lg.bcast32, lg.hasBcast = lg.net32|^lg.mask32, true
		lg.bcastWhy = "the broadcast address of " + lg.subnet.String()
	}
	if lg.idx != len(g.legs) {
		return 0, fmt.Errorf("gateway %s: %s: interface index %d, want %d", g.name, l.Name, lg.idx, len(g.legs))
	}
	g.legs = append(g.legs, lg)
	return lg.idx, nil
}
