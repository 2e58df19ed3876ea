package dnsd

import (
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Zone is a small authoritative DNS server a LAN client runs (a
// scenario's serve: {dns: {name: address}}), the Docker hosts' upstream
// resolver: A records for its names, an empty NOERROR for their other
// types, NXDOMAIN for every other name, each answer with aa set and no ra
// (it recurses for nobody). The same code answers in every world: mem
// feeds it the datagrams a simulated host's port 53 receives, netns serves
// it with miekg/dns on a socket in the client's namespace (Handler).
type Zone struct {
	names map[string]netip.Addr // by lower-case FQDN
}

// NewZone returns a zone of names (any case, with or without the final
// dot) to IPv4 addresses.
func NewZone(names map[string]netip.Addr) *Zone {
	z := &Zone{names: make(map[string]netip.Addr, len(names))}
	for n, a := range names {
		z.names[strings.ToLower(dns.Fqdn(n))] = a
	}
	return z
}

// Answer answers q.
func (z *Zone) Answer(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	switch {
	case q.Opcode != dns.OpcodeQuery:
		r.SetRcode(q, dns.RcodeNotImplemented)
		return r
	case len(q.Question) != 1:
		r.SetRcodeFormatError(q)
		return r
	}
	r.SetReply(q)
	r.Authoritative = true
	qs := q.Question[0]
	a, ok := z.names[strings.ToLower(dns.Fqdn(qs.Name))]
	switch {
	case !ok:
		r.Rcode = dns.RcodeNameError
	case qs.Qtype == dns.TypeA && qs.Qclass == dns.ClassINET:
		r.Answer = append(r.Answer, &dns.A{Hdr: hdr(qs.Name, dns.TypeA), A: net.IP(a.AsSlice())})
	}
	return r
}

// AnswerBytes answers a packed query arriving over UDP: FORMERR for one
// that does not unpack (with its ID), nothing for one shorter than an ID
// or a response.
func (z *Zone) AnswerBytes(query []byte) ([]byte, error) {
	q := new(dns.Msg)
	if err := q.Unpack(query); err != nil {
		return formErr(query)
	}
	if q.Response {
		return nil, errors.New("dnsd: a response, not a query")
	}
	return PackUDP(q, z.Answer(q))
}

// Handler serves the zone with miekg/dns (dns.Server's Handler).
func (z *Zone) Handler() dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		pack := PackUDP
		if w.LocalAddr().Network() == "tcp" {
			pack = PackTCP
		}
		if b, err := pack(q, z.Answer(q)); err == nil {
			w.Write(b)
		}
	})
}
