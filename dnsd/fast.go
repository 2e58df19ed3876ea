package dnsd

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// The fast path answers, wire to wire and without allocating, the queries
// that make up nearly all of a container's traffic, and only those: a plain
// QUERY (RD and nothing else among the flags, one question, no other
// record, so no EDNS0) for class IN, type A or AAAA, whose name is plain
// labels of letters, digits, '-' and '_' (no compression pointer), sent by
// an address that is one container's, and whose answer is one of:
//
//   - A, the name known on the querier's networks with exactly one address
//     (several are shuffled, which the general path does: the random
//     stream stays the same whichever path answers);
//   - AAAA, the name known: NOERROR, no records;
//   - the name unknown and no upstreams: NXDOMAIN.
//
// The answer is the bytes the general path packs for the same query (miekg
// /dns packs without compression): the same header flags, the question as
// sent, the A record with the name as sent, TTL 600. Every other query,
// and an answer over 512 bytes, is the general path's (fastAnswer reports
// false): EDNS0, other types and classes, PTR, NXDOMAIN forwarded
// upstream, FORMERR, NOTIMP, truncation. TestFastMatchesGeneral and
// FuzzFastAnswer hold the two paths to the same bytes.

// maxFastName is the longest name the fast path reads, in wire bytes
// (RFC 1035 §2.3.4: 255).
const maxFastName = 255

// fastAnswer appends to dst the answer to query, a UDP query from src, and
// reports true; or reports false, with dst as it was, when the general
// path must answer it.
func (s *Server) fastAnswer(dst []byte, src netip.Addr, query []byte) ([]byte, bool) {
	// Header: ID, flags (QR=0, opcode QUERY, AA=TC=0, RD either; RA, Z, AD,
	// CD, rcode all 0), QDCOUNT 1, ANCOUNT NSCOUNT ARCOUNT 0.
	if len(query) < 12+1+4 || query[2]&^0x01 != 0 || query[3] != 0 ||
		binary.BigEndian.Uint64(query[4:12]) != 1<<48 {
		return dst, false
	}
	var lower [maxFastName]byte
	off, n := 12, 0
	for {
		if off >= len(query) {
			return dst, false
		}
		l := int(query[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(query) || n+l+1 > maxFastName-1 {
			return dst, false
		}
		for _, c := range query[off+1 : off+1+l] {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				return dst, false
			}
			lower[n] = c
			n++
		}
		lower[n] = '.'
		n++
		off += 1 + l
	}
	if n == 0 || off+4 != len(query) {
		return dst, false // the root, or a question not ending the query
	}
	qtype := binary.BigEndian.Uint16(query[off:])
	if binary.BigEndian.Uint16(query[off+2:]) != dns.ClassINET || (qtype != dns.TypeA && qtype != dns.TypeAAAA) {
		return dst, false
	}
	name := lower[:n]
	qlen := off - 12 // the name's wire length

	var addr netip.Addr
	known, count := false, 0
	s.mu.RLock()
	us := s.byAddr[src]
	if len(us) > 1 {
		s.mu.RUnlock()
		return dst, false // scopeLocked would merge several containers' networks
	}
	var nets []string
	if len(us) == 1 {
		nets = s.nets[us[0].container]
	}
	for _, network := range nets {
		if network == DefaultBridge {
			continue
		}
		x := s.index[network]
		if x == nil {
			continue
		}
		if eps, ok := x.names[string(name)]; ok {
			known = true
			count += len(eps)
			addr = eps[0].addr
		}
	}
	s.mu.RUnlock()

	rcode := byte(dns.RcodeSuccess)
	switch {
	case !known && len(s.opts.Upstreams) > 0:
		return dst, false // forwarded
	case !known:
		rcode = dns.RcodeNameError
	case qtype == dns.TypeA && (count != 1 || !addr.Is4()):
		return dst, false // shuffled, or an address only the general path packs
	}
	answers := 0
	size := len(query)
	if known && qtype == dns.TypeA {
		answers = 1
		size += qlen + 10 + 4
	}
	if size > dns.MinMsgSize {
		return dst, false // truncated
	}
	// ID, QR and RD (the query's), RA, the rcode; QDCOUNT 1, ANCOUNT.
	dst = append(dst, query[0], query[1], 0x80|query[2]&0x01, 0x80|rcode, 0, 1, 0, byte(answers), 0, 0, 0, 0)
	dst = append(dst, query[12:]...) // the question as sent
	if answers == 1 {
		dst = append(dst, query[12:12+qlen]...)
		a := addr.As4()
		dst = append(dst, 0, byte(dns.TypeA), 0, byte(dns.ClassINET),
			byte(TTL>>24), byte(TTL>>16), byte(TTL>>8), byte(TTL&0xff), 0, 4, a[0], a[1], a[2], a[3])
	}
	return dst, true
}
