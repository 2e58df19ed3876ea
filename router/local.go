package router

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// What the router does for itself: it answers pings to any of its
// addresses, refuses UDP with port unreachable, TCP with a reset and
// other protocols with protocol unreachable (it serves nothing), and
// sends ICMP errors about packets it cannot forward. Everything it makes
// leaves through its own routing table, so that an answer to a sender
// beyond another router goes back the way a forwarded packet would.

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// local takes a packet for one of the router's addresses.
func (r *Router) local(f *iface, p ipv4) {
	if p.IsFragment() {
		r.stats.LocalFragments++
		r.drop(f, p, "a fragment for the router, which does not reassemble")
		return
	}
	l4 := p.Payload()
	switch p.Protocol() {
	case protocolICMP:
		switch {
		case len(l4) < icmpHeaderLen:
			r.stats.LocalIgnored++
			r.drop(f, p, "a truncated ICMP message for the router")
		case !sumsToOnes(l4, 0):
			r.stats.LocalBadChecksum++
			r.drop(f, p, "ICMP checksum wrong")
		case l4[0] != icmpEchoRequest:
			r.stats.LocalIgnored++
			r.drop(f, p, "ICMP %s for the router: nothing waits for it", icmpName(l4[0], l4[1]))
		default:
			r.echoReply(f, p)
		}
	case protocolUDP:
		n := 0
		if len(l4) >= 8 {
			n = int(binary.BigEndian.Uint16(l4[4:6]))
		}
		switch {
		case n < 8 || n > len(l4):
			r.stats.LocalIgnored++
			r.drop(f, p, "a truncated UDP datagram for the router")
		case binary.BigEndian.Uint16(l4[6:8]) != 0 && !sumsToOnes(l4[:n], pseudoSum(p, protocolUDP, n)):
			r.stats.LocalBadChecksum++
			r.drop(f, p, "UDP checksum wrong")
		default:
			r.refuse(f, p, &r.stats.Refused, icmpDestUnreach, codePortUnreach, 0, "UDP to port %d: nothing listens on the router", binary.BigEndian.Uint16(l4[2:4]))
		}
	case protocolTCP:
		switch {
		case len(l4) < 20 || int(l4[12]>>4)*4 < 20 || int(l4[12]>>4)*4 > len(l4):
			r.stats.LocalIgnored++
			r.drop(f, p, "a truncated TCP segment for the router")
		case !sumsToOnes(l4, pseudoSum(p, protocolTCP, len(l4))):
			r.stats.LocalBadChecksum++
			r.drop(f, p, "TCP checksum wrong")
		case l4[13]&tcpRST != 0:
			r.stats.LocalIgnored++
			r.drop(f, p, "a TCP reset for the router: it has no connections")
		case r.group:
			r.stats.LocalIgnored++
			r.drop(f, p, "a TCP segment in a link-layer broadcast or multicast frame")
		default:
			r.reset(f, p)
		}
	default:
		r.refuse(f, p, &r.stats.Refused, icmpDestUnreach, codeProtoUnreach, 0, "%s: the router does not speak it", protoName(p.Protocol()))
	}
}

// echoReply answers an echo request, from the address it was sent to.
func (r *Router) echoReply(f *iface, p ipv4) {
	m := p.Payload()
	frame, mine := r.own.take(stack.Headroom + ipv4MinLen + len(m))
	defer r.own.put(mine)
	q := frame[stack.Headroom+ipv4MinLen:]
	copy(q, m)
	q[0], q[1] = icmpEchoReply, 0
	icmpChecksum(q)
	r.stats.EchoReplies++
	if r.tracer != nil {
		e := packetEvent(trace.Host, p)
		e.Op, e.Port = trace.OpEchoAnswered, f.name
		r.event(e)
	}
	r.originate(frame, p.Dst(), p.Src(), protocolICMP, p.TOS())
}

// reset answers a TCP segment for the router with a reset, as for a
// closed port (RFC 9293 §3.10.7.1).
func (r *Router) reset(f *iface, p ipv4) {
	t := p.Payload()
	frame, mine := r.own.take(stack.Headroom + ipv4MinLen + 20)
	defer r.own.put(mine)
	h := frame[stack.Headroom+ipv4MinLen:]
	clear(h)
	copy(h[0:2], t[2:4])
	copy(h[2:4], t[0:2])
	if t[13]&tcpACK != 0 {
		copy(h[4:8], t[8:12]) // SEQ = SEG.ACK
		h[13] = tcpRST
	} else {
		n := uint32(len(t) - int(t[12]>>4)*4)
		if t[13]&tcpSYN != 0 {
			n++
		}
		if t[13]&tcpFIN != 0 {
			n++
		}
		binary.BigEndian.PutUint32(h[8:12], binary.BigEndian.Uint32(t[4:8])+n) // ACK = SEG.SEQ + SEG.LEN
		h[13] = tcpRST | tcpACK
	}
	h[12] = 5 << 4
	r.stats.Refused++
	if r.tracer != nil {
		r.drop(f, p, "TCP to port %d: nothing listens on the router: answered with a reset", binary.BigEndian.Uint16(t[2:4]))
	}
	r.originate(frame, p.Dst(), p.Src(), protocolTCP, p.TOS())
}

// refuse drops a packet the router cannot take, counted in *n and traced
// with why, and answers it with an ICMP error unless RFC 1812 forbids
// one. rest is the error's second word (the MTU of fragmentation needed,
// the pointer of parameter problem).
func (r *Router) refuse(f *iface, p ipv4, n *uint64, typ, code uint8, rest uint32, format string, args ...any) {
	*n++
	not := r.noError(p)
	if r.tracer != nil {
		reason := fmt.Sprintf(format, args...)
		if not == "" {
			reason += ": answered with ICMP " + icmpName(typ, code)
		} else {
			reason += ": no ICMP error, " + not
		}
		r.drop(f, p, "%s", reason)
	}
	if not == "" {
		r.sendError(p, typ, code, rest)
	}
}

// noError says why no ICMP error may be sent about p (RFC 1812
// §4.3.2.7, and Linux's icmp_send), or returns "".
func (r *Router) noError(p ipv4) string {
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
	case p.Protocol() == protocolICMP:
		l4 := p.Payload()
		if len(l4) == 0 {
			return "as its ICMP type cannot be read"
		}
		if isICMPError(l4[0]) {
			return "as it is an ICMP error itself"
		}
	}
	return ""
}

// sendError sends an ICMP error about p to its source, quoting as much of
// it as fits in 576 bytes (RFC 1812 §4.3.2.3). It comes from the address
// p was sent to when that is the router's, else from the address of the
// interface it leaves by (icmp_send).
func (r *Router) sendError(p ipv4, typ, code uint8, rest uint32) {
	q := min(len(p), icmpErrorMaxLength-ipv4MinLen-icmpHeaderLen)
	frame, mine := r.own.take(stack.Headroom + ipv4MinLen + icmpHeaderLen + q)
	defer r.own.put(mine)
	m := frame[stack.Headroom+ipv4MinLen:]
	m[0], m[1] = typ, code
	binary.BigEndian.PutUint32(m[4:8], rest)
	copy(m[icmpHeaderLen:], p[:q])
	icmpChecksum(m)
	var src netip.Addr
	if r.owns(p.Dst32()) {
		src = p.Dst()
	}
	r.stats.ICMPErrors++
	// RFC 1812 §4.3.2.5: the TOS of an error is the packet's, with the
	// precedence of internetwork control (Linux: IPTOS_PREC_INTERNETCONTROL).
	r.originate(frame, src, p.Src(), protocolICMP, p.TOS()&0x1e|0xc0)
}

// originate sends a packet the router made, whose payload is in frame
// after stack.Headroom and room for a 20-byte header: to dst from src (the
// zero Addr: from the address of the interface it leaves by), by the
// routing table. A TCP or UDP payload's checksum is filled here.
func (r *Router) originate(frame []byte, src, dst netip.Addr, proto, tos uint8) {
	p := ipv4(frame[stack.Headroom:])
	rt := r.table.lookup(v4(dst))
	if rt == nil {
		r.stats.OwnUndelivered++
		r.drop(nil, nil, "no route back to %s for the router's own %s packet", dst, protoName(proto))
		return
	}
	if !src.IsValid() {
		src = rt.out.prefix.Addr()
	}
	r.ipID++
	putIPv4(p, ipv4Fields{TOS: tos, TotalLen: len(p), ID: r.ipID, TTL: DefaultTTL, Protocol: proto, Src: src, Dst: dst})
	switch l4 := p.Payload(); proto {
	case protocolTCP:
		l4[16], l4[17] = 0, 0
		binary.BigEndian.PutUint16(l4[16:18], ^csum.Fold(csum.Sum(l4, pseudoSum(p, proto, len(l4)))))
	case protocolUDP:
		l4[6], l4[7] = 0, 0
		binary.BigEndian.PutUint16(l4[6:8], ^csum.Fold(csum.Sum(l4, pseudoSum(p, proto, len(l4)))))
	}
	hop := rt.via
	if !hop.IsValid() {
		hop = dst
	}
	if err := r.send(rt.out, hop, frame); err != nil {
		r.stats.OwnUndelivered++
		r.drop(nil, p, "the router's own %s packet not sent out of %s: %v", protoName(proto), rt.out.name, err)
	}
}

// pseudoSum returns the sum of the pseudo-header a TCP or UDP checksum
// covers (RFC 9293 §3.1, RFC 768).
func pseudoSum(p ipv4, proto uint8, length int) uint64 {
	return csum.Sum(p[12:20], 0) + uint64(proto) + uint64(length)
}

// sumsToOnes reports whether b, with acc, sums to all ones: a valid
// Internet checksum.
func sumsToOnes(b []byte, acc uint64) bool { return csum.Fold(csum.Sum(b, acc)) == 0xffff }

// icmpName names an ICMP type and code as a kernel's messages do.
func icmpName(typ, code uint8) string {
	switch typ {
	case icmpEchoReply:
		return "echo reply"
	case icmpEchoRequest:
		return "echo request"
	case icmpTimeExceeded:
		if code == codeTTLExceeded {
			return "time exceeded"
		}
		return "time exceeded (reassembly)"
	case icmpParamProblem:
		return "parameter problem"
	case icmpRedirect:
		return "redirect"
	case icmpSourceQuench:
		return "source quench"
	case icmpDestUnreach:
		switch code {
		case codeNetUnreach:
			return "network unreachable"
		case codeHostUnreach:
			return "host unreachable"
		case codeProtoUnreach:
			return "protocol unreachable"
		case codePortUnreach:
			return "port unreachable"
		case codeFragNeeded:
			return "fragmentation needed"
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	}
	return fmt.Sprintf("type %d code %d", typ, code)
}
