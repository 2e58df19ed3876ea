package router

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// What the router does for itself: it answers pings to any of its
// addresses, refuses UDP with port unreachable, TCP with a reset and
// other protocols with protocol unreachable (it serves nothing), and
// sends ICMP errors about packets it cannot forward. Everything it makes
// leaves through its own routing table, so that an answer to a sender
// beyond another router goes back the way a forwarded packet would.

// local takes a packet for one of the router's addresses.
func (r *Router) local(f *iface, p header.IPv4) {
	if p.IsFragment() {
		r.stats.LocalFragments++
		r.drop(f, p, func() string { return "a fragment for the router, which does not reassemble" })
		return
	}
	l4 := p.Payload()
	switch p.Protocol() {
	case header.ProtocolICMP:
		m := header.ICMPv4(l4)
		switch {
		case m.Check() != header.OK:
			r.stats.LocalIgnored++
			r.drop(f, p, func() string { return "a truncated ICMP message for the router" })
		case !m.ChecksumValid():
			r.stats.LocalBadChecksum++
			r.drop(f, p, func() string { return "ICMP checksum wrong" })
		case m.Type() != header.ICMPv4EchoRequest:
			r.stats.LocalIgnored++
			r.drop(f, p, func() string {
				return fmt.Sprintf("ICMP %s for the router: nothing waits for it", icmpName(m.Type(), m.Code()))
			})
		default:
			r.echoReply(f, p)
		}
	case header.ProtocolUDP:
		u := header.UDP(l4)
		switch {
		case u.Check() != header.OK || u.Length() < header.UDPLen || u.Length() > len(u):
			r.stats.LocalIgnored++
			r.drop(f, p, func() string { return "a truncated UDP datagram for the router" })
		case u.Checksum() != 0 && !sumsToOnes(u[:u.Length()], p.PseudoSum(header.ProtocolUDP, u.Length())):
			r.stats.LocalBadChecksum++
			r.drop(f, p, func() string { return "UDP checksum wrong" })
		default:
			r.refuse(f, p, &r.stats.Refused, header.ICMPv4Unreachable, codePortUnreach, 0, func() string { return fmt.Sprintf("UDP to port %d: nothing listens on the router", u.DstPort()) })
		}
	case header.ProtocolTCP:
		t := header.TCP(l4)
		switch {
		case t.Check() != header.OK:
			r.stats.LocalIgnored++
			r.drop(f, p, func() string { return "a truncated TCP segment for the router" })
		case !sumsToOnes(t, p.PseudoSum(header.ProtocolTCP, len(t))):
			r.stats.LocalBadChecksum++
			r.drop(f, p, func() string { return "TCP checksum wrong" })
		case t.Flags()&header.TCPRst != 0:
			r.stats.LocalIgnored++
			r.drop(f, p, func() string { return "a TCP reset for the router: it has no connections" })
		case r.group:
			r.stats.LocalIgnored++
			r.drop(f, p, func() string { return "a TCP segment in a link-layer broadcast or multicast frame" })
		default:
			r.reset(f, p)
		}
	default:
		r.refuse(f, p, &r.stats.Refused, header.ICMPv4Unreachable, codeProtoUnreach, 0, func() string { return fmt.Sprintf("%s: the router does not speak it", protoName(p.Protocol())) })
	}
}

// echoReply answers an echo request, from the address it was sent to.
func (r *Router) echoReply(f *iface, p header.IPv4) {
	m := p.Payload()
	frame, mine := r.own.take(stack.Headroom + header.IPv4MinLen + len(m))
	defer r.own.put(mine)
	q := header.ICMPv4(frame[stack.Headroom+header.IPv4MinLen:])
	copy(q, m)
	putICMP(q, header.ICMPv4EchoReply, 0, uint32(q.ID())<<16|uint32(q.Seq())) // the identifier and sequence kept
	r.stats.EchoReplies++
	if r.tracer != nil {
		e := packetEvent(trace.Host, p)
		e.Op, e.Port = trace.OpEchoAnswered, f.name
		r.event(e)
	}
	r.originate(frame, p.Dst(), p.Src(), header.ProtocolICMP, p.TOS())
}

// putICMP writes an ICMP message's header (type, code, the second word)
// and its checksum over all of m. (internal/header has no writer for an
// ICMP header.)
func putICMP(m header.ICMPv4, typ, code uint8, rest uint32) {
	m[0], m[1] = typ, code
	binary.BigEndian.PutUint32(m[4:8], rest)
	m.FixChecksum()
}

// reset answers a TCP segment for the router with a reset, as for a
// closed port (RFC 9293 §3.10.7.1).
func (r *Router) reset(f *iface, p header.IPv4) {
	t := header.TCP(p.Payload())
	frame, mine := r.own.take(stack.Headroom + header.IPv4MinLen + header.TCPMinLen)
	defer r.own.put(mine)
	h := header.TCP(frame[stack.Headroom+header.IPv4MinLen:])
	if t.Flags()&header.TCPAck != 0 {
		putTCP(h, t.DstPort(), t.SrcPort(), t.Ack(), 0, header.TCPRst) // SEQ = SEG.ACK
	} else {
		n := uint32(len(t.Payload()))
		if t.Flags()&header.TCPSyn != 0 {
			n++
		}
		if t.Flags()&header.TCPFin != 0 {
			n++
		}
		putTCP(h, t.DstPort(), t.SrcPort(), 0, t.Seq()+n, header.TCPRst|header.TCPAck) // ACK = SEG.SEQ + SEG.LEN
	}
	r.stats.Refused++
	if r.tracer != nil {
		r.drop(f, p, func() string {
			return fmt.Sprintf("TCP to port %d: nothing listens on the router: answered with a reset", t.DstPort())
		})
	}
	r.originate(frame, p.Dst(), p.Src(), header.ProtocolTCP, p.TOS())
}

// putTCP writes a 20-byte TCP header without options and a window of 0;
// originate fills its checksum. (internal/header has no writer for a TCP
// header.)
func putTCP(h header.TCP, src, dst uint16, seq, ack uint32, flags uint8) {
	clear(h[:header.TCPMinLen])
	binary.BigEndian.PutUint16(h[0:2], src)
	binary.BigEndian.PutUint16(h[2:4], dst)
	binary.BigEndian.PutUint32(h[4:8], seq)
	binary.BigEndian.PutUint32(h[8:12], ack)
	h[12], h[13] = header.TCPMinLen/4<<4, flags
}

// refuse drops a packet the router cannot take, counted in *n and traced
// with why, and answers it with an ICMP error unless RFC 1812 forbids
// one. rest is the error's second word (the MTU of fragmentation needed,
// the pointer of parameter problem).
func (r *Router) refuse(f *iface, p header.IPv4, n *uint64, typ, code uint8, rest uint32, why func() string) {
	*n++
	not := r.noError(p)
	if r.tracer != nil {
		reason := why()
		if not == "" {
			reason += ": answered with ICMP " + icmpName(typ, code)
		} else {
			reason += ": no ICMP error, " + not
		}
		r.drop(f, p, func() string { return reason })
	}
	if not == "" {
		r.sendError(p, typ, code, rest)
	}
}

// noError says why no ICMP error may be sent about p (RFC 1812
// §4.3.2.7, and Linux's icmp_send), or returns "".
func (r *Router) noError(p header.IPv4) string {
	src, dst := p.Src32(), p.Dst32()
	switch {
	case r.group:
		return "as it came in a link-layer broadcast or multicast frame"
	case p.FragOff() != 0:
		return "as it is not a first fragment"
	case r.broadcast(dst):
		return "as it went to a broadcast or multicast address"
	case src == 0 || src>>24 == 127 || src>>28 >= 0xe || r.owns(src) || r.broadcast(src):
		return "as its source " + p.Src().String() + " is not one host"
	case p.Protocol() == header.ProtocolICMP:
		m := header.ICMPv4(p.Payload())
		if len(m) == 0 {
			return "as its ICMP type cannot be read"
		}
		if isICMPError(m.Type()) {
			return "as it is an ICMP error itself"
		}
	}
	return ""
}

// sendError sends an ICMP error about p to its source, quoting as much of
// it as fits in 576 bytes (RFC 1812 §4.3.2.3). It comes from the address
// p was sent to when that is the router's, else from the address of the
// interface it leaves by (icmp_send).
func (r *Router) sendError(p header.IPv4, typ, code uint8, rest uint32) {
	q := min(len(p), icmpErrorMaxLength-header.IPv4MinLen-header.ICMPv4Len)
	frame, mine := r.own.take(stack.Headroom + header.IPv4MinLen + header.ICMPv4Len + q)
	defer r.own.put(mine)
	m := header.ICMPv4(frame[stack.Headroom+header.IPv4MinLen:])
	copy(m[header.ICMPv4Len:], p[:q])
	putICMP(m, typ, code, rest)
	var src netip.Addr
	if r.owns(p.Dst32()) {
		src = p.Dst()
	}
	r.stats.ICMPErrors++
	// RFC 1812 §4.3.2.5: the TOS of an error is the packet's, with the
	// precedence of internetwork control (Linux: IPTOS_PREC_INTERNETCONTROL).
	r.originate(frame, src, p.Src(), header.ProtocolICMP, p.TOS()&0x1e|0xc0)
}

// originate sends a packet the router made, whose payload is in frame
// after stack.Headroom and room for a 20-byte header: to dst from src (the
// zero Addr: from the address of the interface it leaves by), by the
// routing table. A TCP or UDP payload's checksum is filled here.
func (r *Router) originate(frame []byte, src, dst netip.Addr, proto, tos uint8) {
	p := header.IPv4(frame[stack.Headroom:])
	rt := r.table.lookup(v4(dst))
	if rt == nil {
		r.stats.OwnUndelivered++
		r.drop(nil, nil, func() string {
			return fmt.Sprintf("no route back to %s for the router's own %s packet", dst, protoName(proto))
		})
		return
	}
	if !src.IsValid() {
		src = rt.out.prefix.Addr()
	}
	r.ipID++
	header.PutIPv4(p, header.IPv4Fields{TOS: tos, TotalLen: len(p), ID: r.ipID, TTL: DefaultTTL, Protocol: proto, Src: src, Dst: dst})
	switch l4 := p.Payload(); proto {
	case header.ProtocolTCP:
		header.TCP(l4).FixChecksum(p.PseudoSum(proto, len(l4)))
	case header.ProtocolUDP:
		header.UDP(l4).FixChecksum(p.PseudoSum(proto, len(l4)))
	}
	hop := rt.via
	if !hop.IsValid() {
		hop = dst
	}
	if err := r.send(rt.out, hop, frame); err != nil {
		r.stats.OwnUndelivered++
		r.drop(nil, p, func() string {
			return fmt.Sprintf("the router's own %s packet not sent out of %s: %v", protoName(proto), rt.out.name, err)
		})
	}
}

// sumsToOnes reports whether b, with acc, sums to all ones: a valid
// Internet checksum.
func sumsToOnes(b []byte, acc uint64) bool { return csum.Fold(csum.Sum(b, acc)) == 0xffff }

// icmpName names an ICMP type and code as a kernel's messages do.
func icmpName(typ, code uint8) string {
	switch typ {
	case header.ICMPv4EchoReply:
		return "echo reply"
	case header.ICMPv4EchoRequest:
		return "echo request"
	case header.ICMPv4TimeExceeded:
		if code == codeTTLExceeded {
			return "time exceeded"
		}
		return "time exceeded (reassembly)"
	case header.ICMPv4ParamProblem:
		return "parameter problem"
	case icmpRedirect:
		return "redirect"
	case icmpSourceQuench:
		return "source quench"
	case header.ICMPv4Unreachable:
		switch code {
		case codeNetUnreach:
			return "network unreachable"
		case header.ICMPv4HostUnreachCode:
			return "host unreachable"
		case codeProtoUnreach:
			return "protocol unreachable"
		case codePortUnreach:
			return "port unreachable"
		case header.ICMPv4FragNeededCode:
			return "fragmentation needed"
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	}
	return fmt.Sprintf("type %d code %d", typ, code)
}
