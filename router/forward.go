package router

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// The forwarding path, in the order of Linux's (ip_rcv, ip_route_input,
// ip_forward, ip_output): the header's checks, the addresses' checks, the
// route (a packet for the router goes to local), then the TTL, the MTU,
// the TTL's decrement, and out by the stack to the next hop, in fragments
// if it must.

// forward is the stack's Forward hook: it decides every IPv4 packet the
// router receives, and takes them all.
func (r *Router) forward(in *stack.Iface, pkt []byte, _ link.Offload) bool {
	i := in.Index()
	if i < 0 || i >= len(r.ifaces) {
		return false // from loopback: the stack's own
	}
	f := &r.ifaces[i]
	p, ok := r.checkHeader(f, pkt)
	if !ok || !r.checkAddrs(f, p) || !r.checkOptions(f, p) {
		return true
	}
	dst := p.Dst32()
	switch {
	case r.broadcast(dst):
		r.stats.Broadcast++
		r.drop(f, p, func() string {
			return "to a broadcast or multicast address: not routed, and nothing on the router listens"
		})
		return true
	case r.owns(dst):
		r.local(f, p)
		return true
	case r.group:
		// ip_forward: only what came to the router's own MAC is forwarded.
		r.stats.LinkBroadcast++
		r.drop(f, p, func() string { return "a unicast packet in a link-layer broadcast or multicast frame: not forwarded" })
		return true
	}
	rt := r.table.lookup(dst)
	switch {
	case rt == nil:
		r.refuse(f, p, &r.stats.NoRoute, header.ICMPv4Unreachable, codeNetUnreach, 0, func() string { return "no route" })
		return true
	case p.TTL() <= 1:
		r.refuse(f, p, &r.stats.TTLExceeded, header.ICMPv4TimeExceeded, codeTTLExceeded, 0, func() string { return fmt.Sprintf("TTL %d exceeded in transit", p.TTL()) })
		return true
	case len(p) > rt.out.mtu && p.DF():
		r.refuse(f, p, &r.stats.FragFails, header.ICMPv4Unreachable, header.ICMPv4FragNeededCode, uint32(rt.out.mtu), func() string {
			return fmt.Sprintf("%d bytes do not fit the MTU %d of %s and DF is set", len(p), rt.out.mtu, rt.out.name)
		})
		return true
	}
	hop := rt.via
	if !hop.IsValid() {
		hop = p.Dst()
	}
	frame, mine := r.fwd.take(stack.Headroom + len(p))
	b := header.IPv4(frame[stack.Headroom:])
	copy(b, p)
	b.SetTTL(b.TTL() - 1) // and the checksum with it (RFC 1624)
	r.stats.Forwarded++
	if r.tracer != nil {
		r.traceRouted(f, rt, p)
	}
	if err := r.send(rt.out, hop, frame); err != nil {
		r.stats.SendErrors++
		if r.tracer != nil {
			r.drop(rt.out, p, func() string { return fmt.Sprintf("not sent out of %s: %v", rt.out.name, err) })
		}
	}
	r.fwd.put(mine)
	return true
}

// checkHeader checks pkt's header as ip_rcv_core does, and returns the
// packet without link-layer padding. A packet that fails is counted,
// traced and dropped (false).
func (r *Router) checkHeader(f *iface, pkt []byte) (header.IPv4, bool) {
	p := header.IPv4(pkt)
	switch p.Check() {
	case header.OK:
	case header.Short:
		r.stats.HeaderErrors++
		r.drop(f, nil, func() string { return fmt.Sprintf("an IPv4 packet of %d bytes is shorter than its header", len(p)) })
		return nil, false
	case header.BadVersion:
		r.stats.HeaderErrors++
		r.drop(f, nil, func() string { return fmt.Sprintf("IP version %d in an IPv4 frame", p.Version()) })
		return nil, false
	case header.BadHeaderLen:
		r.stats.HeaderErrors++
		r.drop(f, p, func() string {
			return fmt.Sprintf("IPv4 header length %d outside 20-%d", p.HeaderLen(), min(len(p), header.IPv4MaxLen))
		})
		return nil, false
	case header.Truncated:
		r.stats.Truncated++
		r.drop(f, p, func() string {
			return fmt.Sprintf("total length %d beyond the %d bytes received", p.TotalLen(), len(p))
		})
		return nil, false
	default: // BadTotalLen
		r.stats.HeaderErrors++
		r.drop(f, p, func() string {
			return fmt.Sprintf("total length %d shorter than its %d-byte header", p.TotalLen(), p.HeaderLen())
		})
		return nil, false
	}
	if !p.ChecksumValid() {
		r.stats.BadChecksum++
		r.drop(f, p, func() string { return fmt.Sprintf("IPv4 header checksum %#04x is wrong", p.Checksum()) })
		return nil, false
	}
	return p[:p.TotalLen()], true
}

// checkAddrs drops, counted and traced, a packet with a martian source or
// destination (RFC 1812 §5.3.7, as ip_route_input_slow).
func (r *Router) checkAddrs(f *iface, p header.IPv4) bool {
	src, dst := p.Src32(), p.Dst32()
	if why, of := r.martianSource(src, dst); why != "" {
		r.stats.MartianSource++
		r.drop(f, p, func() string {
			if of != nil {
				why += " " + of.prefix.Masked().String()
			}
			return fmt.Sprintf("martian source %s on %s: %s", p.Src(), f.name, why)
		})
		return false
	}
	if why := header.MartianDest(dst); why != "" {
		r.stats.MartianDest++
		r.drop(f, p, func() string { return fmt.Sprintf("martian destination %s on %s: %s", p.Dst(), f.name, why) })
		return false
	}
	return true
}

// martianSource says why src cannot be the source of a packet to dst, or
// returns "": header.MartianSource's classes, then the router's own
// addresses and its subnets' broadcasts (of: the interface whose subnet's
// broadcast it is, for the message, built only when traced).
func (r *Router) martianSource(src, dst uint32) (why string, of *iface) {
	if why := header.MartianSource(src, dst); why != "" || dst == header.LimitedBroadcast {
		return why, nil
	}
	for i := range r.ifaces {
		f := &r.ifaces[i]
		switch {
		case src == f.a32:
			return "one of the router's own addresses", nil
		case f.hasBcast && src == f.bcast32:
			return "the broadcast address of", f
		}
	}
	return "", nil
}

// checkOptions reads the header's options: a malformed one is answered
// with parameter problem, a source route dropped, as Linux does with
// accept_source_route 0. Packets without options pass at once.
func (r *Router) checkOptions(f *iface, p header.IPv4) bool {
	if p.HeaderLen() == header.IPv4MinLen {
		return true
	}
	at, srr := scanOptions(p.Options())
	switch {
	case at >= 0:
		r.refuse(f, p, &r.stats.HeaderErrors, header.ICMPv4ParamProblem, 0, uint32(header.IPv4MinLen+at)<<24, func() string { return fmt.Sprintf("malformed IPv4 option at byte %d", header.IPv4MinLen+at) })
		return false
	case srr:
		r.stats.SourceRouted++
		r.drop(f, p, func() string { return "a source route option: source routing is off (accept_source_route 0)" })
		return false
	}
	return true
}

// IPv4 options (RFC 791 §3.1).
const (
	optEnd  = 0
	optNOP  = 1
	optLSRR = 131
	optSSRR = 137
	optCopy = 0x80 // the copied flag: the option goes into every fragment
)

// scanOptions returns the offset within opts of the first malformed
// option (-1: none) and whether a source route is among them.
func scanOptions(opts []byte) (bad int, srr bool) {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case optEnd:
			return -1, srr
		case optNOP:
			i++
			continue
		case optLSRR, optSSRR:
			srr = true
		}
		if i+1 >= len(opts) {
			return i, srr
		}
		if n := int(opts[i+1]); n < 2 || i+n > len(opts) {
			return i + 1, srr
		}
		i += int(opts[i+1])
	}
	return -1, srr
}

// broadcast reports whether dst is a broadcast or multicast address: a
// router forwards neither (no directed broadcasts, RFC 2644; no multicast
// routing).
func (r *Router) broadcast(dst uint32) bool {
	if !header.Routable(dst) {
		return true
	}
	for i := range r.ifaces {
		if r.ifaces[i].hasBcast && dst == r.ifaces[i].bcast32 {
			return true
		}
	}
	return false
}

// owns reports whether a is one of the router's addresses, on any
// interface (Linux's local table).
func (r *Router) owns(a uint32) bool {
	for i := range r.ifaces {
		if r.ifaces[i].a32 == a {
			return true
		}
	}
	return false
}

// send hands the packet after stack.Headroom in frame to the stack, to
// leave by out towards hop: whole, or in fragments when it is bigger than
// out's MTU (the caller has checked DF).
func (r *Router) send(out *iface, hop netip.Addr, frame []byte) error {
	if len(frame)-stack.Headroom <= out.mtu {
		return r.host.SendFrame(out.ifc, hop, frame, link.Offload{}, r.onUnresolved)
	}
	return r.fragment(out, hop, header.IPv4(frame[stack.Headroom:]))
}

// fragment sends pkt, too big for out's MTU and without DF, in fragments
// of at most the MTU (RFC 791 §3.2): the first has the header with every
// option, the others only the options marked to be copied; every piece
// but the last has MF set, and the last keeps the packet's own MF (pkt
// may be a fragment itself).
func (r *Router) fragment(out *iface, hop netip.Addr, pkt header.IPv4) error {
	var rest [header.IPv4MaxLen]byte // the header of the pieces after the first
	restLen := copiedHeader(pkt, rest[:])
	hdr := pkt[:pkt.HeaderLen()]
	data := pkt.Payload()
	base, lastMF := pkt.FragOff(), pkt.MF()
	frame, mine := r.frag.take(stack.Headroom + out.mtu)
	defer r.frag.put(mine)
	for done := 0; done < len(data); hdr = rest[:restLen] {
		n := min((out.mtu-len(hdr))&^7, len(data)-done)
		b := header.IPv4(frame[stack.Headroom : stack.Headroom+len(hdr)+n])
		copy(b, hdr)
		copy(b[len(hdr):], data[done:done+n])
		ff := uint16((base + done) / 8)
		if done+n < len(data) || lastMF {
			ff |= header.IPv4MF
		}
		b.SetTotalLen(len(b))
		b.SetFlagsFrag(ff) // DF is clear: only what may be cut is
		b.FixChecksum()
		r.stats.FragCreates++
		if err := r.host.SendFrame(out.ifc, hop, frame[:stack.Headroom+len(b)], link.Offload{}, r.onUnresolved); err != nil {
			return err
		}
		done += n
	}
	r.stats.FragOKs++
	return nil
}

// copiedHeader writes into dst the header of a fragment after the first:
// the fixed part and the options with the copied flag, padded with
// end-of-options to a multiple of 4 bytes. It returns its length.
func copiedHeader(p header.IPv4, dst []byte) int {
	n := copy(dst, p[:header.IPv4MinLen])
	opts := p.Options()
	for i := 0; i < len(opts); {
		t := opts[i]
		if t == optEnd {
			break
		}
		if t == optNOP {
			i++
			continue
		}
		l := int(opts[i+1]) // checked by scanOptions
		if t&optCopy != 0 {
			n += copy(dst[n:], opts[i:i+l])
		}
		i += l
	}
	for n%4 != 0 {
		dst[n] = optEnd
		n++
	}
	header.IPv4(dst).SetVersionIHL(n) // the checksum is fixed with the piece's length
	return n
}

// unresolved answers a packet whose next hop did not answer ARP with
// host unreachable, as a Linux router does (arp_error_report). pkt is the
// stack's copy, as the router sent it.
func (r *Router) unresolved(pkt []byte, err error) {
	p := header.IPv4(pkt)
	if len(p) < header.IPv4MinLen {
		return
	}
	if r.owns(p.Src32()) {
		r.stats.OwnUndelivered++
		r.drop(nil, p, func() string { return fmt.Sprintf("the router's own packet: %v", err) })
		return
	}
	r.refuse(nil, p, &r.stats.HostUnreachable, header.ICMPv4Unreachable, header.ICMPv4HostUnreachCode, 0, func() string { return fmt.Sprintf("next hop for %s did not answer ARP", p.Dst()) })
}

// traceRouted says what forward sent: the packet's ends, protocol, TCP
// flags and data, ICMP type or echo identifier, where it came in (Port)
// and went out (Ports), the next hop and the TTL it arrived with.
func (r *Router) traceRouted(in *iface, rt *route, p header.IPv4) {
	e := packetEvent(trace.Routed, p)
	e.Port, e.Ports = in.name, []string{rt.out.name}
	e.Via, e.TTL = rt.via, p.TTL()
	if e.Proto == trace.ICMP && e.ICMP == (trace.ICMPType{}) {
		e.SrcPort, e.DstPort = e.ID, e.ID // an echo: its identifier stands for both ports, as the gateway's
	}
	r.event(e)
}

// packetEvent is an event of kind k about the packet p: its addresses,
// protocol, ports, TCP flags and data length, ICMP type and echo
// identifier and sequence.
func packetEvent(k trace.Kind, p header.IPv4) trace.Event {
	e := trace.Event{Kind: k}
	if len(p) < header.IPv4MinLen {
		return e
	}
	e.SrcIP, e.DstIP, e.Proto = p.Src(), p.Dst(), trace.Proto(p.Protocol())
	if p.FragOff() != 0 || p.HeaderLen() > len(p) {
		return e
	}
	l4 := p.Payload()
	switch p.Protocol() {
	case header.ProtocolUDP:
		if u := header.UDP(l4); u.Check() == header.OK {
			e.SrcPort, e.DstPort = u.SrcPort(), u.DstPort()
		}
	case header.ProtocolTCP:
		if t := header.TCP(l4); t.Check() == header.OK {
			e.SrcPort, e.DstPort = t.SrcPort(), t.DstPort()
			e.Flags, e.Len = trace.TCPFlags(t.Flags()), len(t.Payload())
		}
	case header.ProtocolICMP:
		switch m := header.ICMPv4(l4); {
		case m.Check() == header.OK && m.IsEcho():
			e.ID, e.Seq = m.ID(), m.Seq()
		case len(m) >= 2: // an error, or another message: its type (as the gateway's)
			e.ICMP = trace.ICMPType{Type: m.Type(), Code: m.Code()}
		}
	}
	return e
}

// event traces e, stamped with the router's name and the time.
func (r *Router) event(e trace.Event) {
	if r.tracer == nil {
		return
	}
	e.Time, e.Node = r.clk.Now(), r.name
	r.tracer.Trace(e)
}

// drop traces a dropped packet (the caller counts it). p may be nil, for
// a packet whose addresses cannot be read; f nil, for one not received.
func (r *Router) drop(f *iface, p header.IPv4, why func() string) {
	if r.tracer == nil {
		return
	}
	e := packetEvent(trace.Dropped, p)
	e.Reason = why()
	if e.SrcIP.IsValid() {
		e.Src, e.Dst = e.SrcIP.String(), e.DstIP.String() // the narration's
	}
	if f != nil {
		e.Port = f.name
	}
	r.event(e)
}

// protoName names an IP protocol.
func protoName(proto uint8) string {
	switch proto {
	case header.ProtocolICMP:
		return "ICMP"
	case header.ProtocolTCP:
		return "TCP"
	case header.ProtocolUDP:
		return "UDP"
	}
	return fmt.Sprintf("protocol %d", proto)
}
