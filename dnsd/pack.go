package dnsd

import "github.com/miekg/dns"

// MaxUDPSize is the largest answer sent over UDP whatever a query
// advertises: the most an IPv4 UDP datagram carries (65535 bytes less the
// IPv4 and UDP headers).
const MaxUDPSize = 65535 - 20 - 8

// udpSize is the size an answer to q over UDP must fit: 512 bytes (RFC
// 1035 §4.2.1), or the UDP payload size of q's OPT record (RFC 6891
// §6.2.5, never less than 512), and at most limit (but 512 at least).
func udpSize(q *dns.Msg, limit int) int {
	size := dns.MinMsgSize
	if opt := q.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	return min(size, max(limit, dns.MinMsgSize))
}

// PackUDP packs r, the answer to q, for UDP: it must fit 512 bytes (RFC
// 1035 §4.2.1), or the UDP payload size q advertises in its EDNS0 OPT
// record (RFC 6891 §6.2.5, never less than 512, at most MaxUDPSize);
// records that do not fit are left out and TC is set, so the client
// retries over TCP. The answer carries an OPT record when q did.
func PackUDP(q, r *dns.Msg) ([]byte, error) {
	return PackUDPLimit(q, r, MaxUDPSize)
}

// PackUDPLimit is PackUDP for a path that carries at most limit bytes of
// UDP payload without fragments (a link's MTU less the IPv4 and UDP
// headers, 1472 on Ethernet): the answer fits the smaller of limit and
// what q allows, and never less than 512 bytes, which every path carries
// (RFC 1035 §4.2.1, RFC 791's 576-byte datagrams).
func PackUDPLimit(q, r *dns.Msg, limit int) ([]byte, error) {
	size := udpSize(q, limit)
	if q.IsEdns0() != nil && r.IsEdns0() == nil {
		r.SetEdns0(uint16(size), false)
	}
	return packWithin(r, size)
}

// packWithin packs r to fit size bytes: as it is when it fits (most
// answers, and the cheap case: Truncate measures the message first),
// else cut by Truncate, with TC set.
func packWithin(r *dns.Msg, size int) ([]byte, error) {
	if b, err := r.Pack(); err != nil || len(b) <= size {
		return b, err
	}
	r.Truncate(size)
	return r.Pack()
}

// PackTCP packs r, the answer to q, for TCP: at most 65535 bytes (the
// 2-byte length prefix, RFC 1035 §4.2.2); beyond, records are left out
// and TC is set, so an answer too big for any transport still goes out,
// cut, rather than not at all. The answer carries an OPT record when q
// did.
func PackTCP(q, r *dns.Msg) ([]byte, error) {
	if q.IsEdns0() != nil && r.IsEdns0() == nil {
		r.SetEdns0(uint16(udpSize(q, MaxUDPSize)), false)
	}
	return packWithin(r, dns.MaxMsgSize)
}
