package nat

import (
	"net/netip"
	"time"

	"github.com/netyard/netyard/internal/header"
)

// ICMP errors (destination unreachable, time exceeded, parameter problem)
// quote the IP header and first 8 bytes of the packet that caused them (RFC
// 792). Through NAT the quoted packet must be translated too, or the sender
// could not match the error to its socket (RFC 5508 §4.1; Linux's
// nf_nat_icmp_reply_translation).

// quoted is the packet inside an ICMP error.
type quoted struct {
	ip    header.IPv4 // in the outer packet: at least its header and 8 bytes
	proto uint8
	tuple Tuple // as it was sent
}

func parseQuoted(p packet) (quoted, bool) {
	ip := header.IPv4(header.ICMPv4(p.ip.Payload()).Payload())
	if !header.IsIPv4(ip) {
		return quoted{}, false
	}
	if hl := ip.HeaderLen(); hl < header.IPv4MinLen || len(ip) < hl+8 {
		return quoted{}, false
	}
	q := quoted{ip: ip, proto: ip.Protocol()}
	l4 := ip.Payload()
	var sport, dport uint16
	switch q.proto {
	case TCP:
		sport, dport = header.TCP(l4).SrcPort(), header.TCP(l4).DstPort()
	case UDP:
		sport, dport = header.UDP(l4).SrcPort(), header.UDP(l4).DstPort()
	case ICMP:
		m := header.ICMPv4(l4)
		if !m.IsEcho() {
			return quoted{}, false
		}
		sport, dport = m.ID(), m.ID()
	default:
		return quoted{}, false
	}
	q.tuple = Tuple{q.proto, netip.AddrPortFrom(ip.Src(), sport), netip.AddrPortFrom(ip.Dst(), dport)}
	return q, true
}

// icmpError translates an ICMP error about a tracked flow: the quoted
// packet back to what its sender sent, the outer header with it. Errors
// about no flow are refused.
func (t *Table) icmpError(p packet, now time.Time) (Tuple, error) {
	q, ok := parseQuoted(p)
	if !ok {
		t.count(&t.stats.Malformed)
		return Tuple{}, ErrMalformed
	}
	// The error travels against the quoted packet: its flow tuple is the
	// quoted one reversed.
	k := Tuple{q.proto, q.tuple.Dst, q.tuple.Src}
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.liveLocked(k, now)
	if f == nil {
		t.stats.Refused++
		return k, ErrRefused
	}
	// The quoted packet went the other way than k: find what it looked
	// like on the other side of the NAT.
	var innerSrc, innerDst netip.AddrPort
	if k == f.reply { // the quoted packet was f.orig's direction, translated
		innerSrc, innerDst = f.orig.Src, f.orig.Dst
	} else { // k == f.orig: the quoted packet was the reply's direction
		innerSrc, innerDst = f.reply.Src, f.reply.Dst
	}
	// The quoted packet becomes what its sender sent; the error goes to
	// that sender, and comes from the address the sender sent to when the
	// destination itself reported it (a router on the way keeps its own).
	if p.dst != innerSrc.Addr() {
		p.ip.SetDst(innerSrc.Addr())
	}
	if p.src == q.tuple.Dst.Addr() && p.src != innerDst.Addr() {
		p.ip.SetSrc(innerDst.Addr())
	}
	if q.tuple.Src != innerSrc {
		q.setEnd(true, innerSrc)
	}
	if q.tuple.Dst != innerDst && q.proto != ICMP { // ICMP echo: the identifier is the source's
		q.setEnd(false, innerDst)
	} else if q.tuple.Dst.Addr() != innerDst.Addr() {
		q.setEnd(false, netip.AddrPortFrom(innerDst.Addr(), innerSrc.Port()))
	}
	// The ICMP checksum covers the whole quoted packet: compute it afresh.
	header.ICMPv4(p.ip.Payload()).FixChecksum()
	return k, nil
}

// setEnd rewrites the quoted packet's source (src) or destination address
// and port, with its IP checksum and, where the 8 quoted bytes hold it, its
// L4 checksum (UDP, ICMP echo; TCP's lies beyond them).
func (q quoted) setEnd(src bool, to netip.AddrPort) {
	ip, l4 := q.ip, q.ip.Payload()
	var ck header.Checksum // UDP's: it covers the addresses and the ports
	if q.proto == UDP {
		ck = header.UDP(l4).Sum()
	}
	if src {
		ip.SetSrcL4(to.Addr(), ck)
	} else {
		ip.SetDstL4(to.Addr(), ck)
	}
	switch {
	case q.proto == ICMP: // the identifier, whichever end
		header.ICMPv4(l4).SetID(to.Port())
	case q.proto == UDP && src:
		header.UDP(l4).SetSrcPortSum(to.Port(), ck)
	case q.proto == UDP:
		header.UDP(l4).SetDstPortSum(to.Port(), ck)
	case src:
		header.TCP(l4).SetSrcPortSum(to.Port(), ck)
	default:
		header.TCP(l4).SetDstPortSum(to.Port(), ck)
	}
}
