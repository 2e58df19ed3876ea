package nat

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/netyard/netyard/internal/csum"
)

// ICMP errors (destination unreachable, time exceeded, parameter problem)
// quote the IP header and first 8 bytes of the packet that caused them (RFC
// 792). Through NAT the quoted packet must be translated too, or the sender
// could not match the error to its socket (RFC 5508 §4.1; Linux's
// nf_nat_icmp_reply_translation).

func isICMPError(typ uint8) bool { return typ == 3 || typ == 11 || typ == 12 }

// quoted is the packet inside an ICMP error.
type quoted struct {
	off   int // offset of the inner IP header in the outer packet
	ihl   int
	proto uint8
	tuple Tuple // as it was sent
}

func parseQuoted(p packet) (quoted, bool) {
	off := p.ihl + 8
	b := p.b
	if len(b) < off+20 || b[off]>>4 != 4 {
		return quoted{}, false
	}
	q := quoted{off: off, ihl: int(b[off]&0xf) * 4, proto: b[off+9]}
	if q.ihl < 20 || len(b) < off+q.ihl+8 {
		return quoted{}, false
	}
	l4 := b[off+q.ihl:]
	var sport, dport uint16
	switch q.proto {
	case TCP, UDP:
		sport, dport = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	case ICMP:
		if l4[0] != 8 && l4[0] != 0 {
			return quoted{}, false
		}
		sport = binary.BigEndian.Uint16(l4[4:])
		dport = sport
	default:
		return quoted{}, false
	}
	src := netip.AddrFrom4([4]byte(b[off+12 : off+16]))
	dst := netip.AddrFrom4([4]byte(b[off+16 : off+20]))
	q.tuple = Tuple{q.proto, netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)}
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
	b := p.b
	if p.dst != innerSrc.Addr() {
		setAddrL4(b, 16, innerSrc.Addr(), nil)
	}
	if p.src == q.tuple.Dst.Addr() && p.src != innerDst.Addr() {
		setAddrL4(b, 12, innerDst.Addr(), nil)
	}
	if q.tuple.Src != innerSrc {
		q.setEnd(b, true, innerSrc)
	}
	if q.tuple.Dst != innerDst && q.proto != ICMP { // ICMP echo: the identifier is the source's
		q.setEnd(b, false, innerDst)
	} else if q.tuple.Dst.Addr() != innerDst.Addr() {
		q.setEnd(b, false, netip.AddrPortFrom(innerDst.Addr(), innerSrc.Port()))
	}
	// The ICMP checksum covers the whole quoted packet: compute it afresh.
	icmp := b[p.ihl:]
	icmp[2], icmp[3] = 0, 0
	binary.BigEndian.PutUint16(icmp[2:], ^csum.Fold(csum.Sum(icmp, 0)))
	return k, nil
}

// setEnd rewrites the quoted packet's source (src) or destination address
// and port, with its IP checksum and, where the 8 quoted bytes hold it, its
// L4 checksum (UDP, ICMP echo; TCP's lies beyond them).
func (q quoted) setEnd(b []byte, src bool, to netip.AddrPort) {
	ip := b[q.off:]
	l4 := ip[q.ihl:]
	addrOff, portOff := 16, 2
	if src {
		addrOff, portOff = 12, 0
	}
	old := [4]byte(ip[addrOff : addrOff+4])
	nu := to.Addr().As4()
	var ck []byte
	switch q.proto {
	case UDP:
		if binary.BigEndian.Uint16(l4[6:]) != 0 {
			ck = l4[6:8]
		}
	case ICMP:
		ck, portOff = l4[2:4], 4
	}
	csum.Update(ip[10:12], binary.BigEndian.Uint16(old[0:]), binary.BigEndian.Uint16(nu[0:]))
	csum.Update(ip[10:12], binary.BigEndian.Uint16(old[2:]), binary.BigEndian.Uint16(nu[2:]))
	if ck != nil && q.proto == UDP {
		csum.Update(ck, binary.BigEndian.Uint16(old[0:]), binary.BigEndian.Uint16(nu[0:]))
		csum.Update(ck, binary.BigEndian.Uint16(old[2:]), binary.BigEndian.Uint16(nu[2:]))
	}
	copy(ip[addrOff:], nu[:])
	oldPort := binary.BigEndian.Uint16(l4[portOff:])
	binary.BigEndian.PutUint16(l4[portOff:], to.Port())
	if ck != nil {
		csum.Update(ck, oldPort, to.Port())
	}
}
