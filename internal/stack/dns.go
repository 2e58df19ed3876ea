package stack

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/trace"
)

// A DNS stub resolver over the host's UDP, as a container's libc resolver
// would ask: one query to one server, the answer matched by ID and
// question, nothing cached.

// DNSPort is the port DNS servers listen on.
const DNSPort = 53

// Query asks server for name's records of type qtype (dns.TypeA, ...) from
// an ephemeral UDP port. done is called once with the answer, or with an
// error (an ICMP error, an unresolvable next hop), unless cancel is called
// first; like Ping, a query nobody answers never calls done.
func (h *Host) Query(server netip.Addr, name string, qtype uint16, done func(*dns.Msg, error)) (cancel func(), err error) {
	c, err := h.ListenUDP(0)
	if err != nil {
		return nil, err
	}
	h.dnsID++
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.Id = h.dnsID
	wire, err := q.Pack()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("stack: query %q: %w", name, err)
	}
	finished := false
	finish := func(m *dns.Msg, err error) {
		if finished {
			return
		}
		finished = true
		c.Close()
		done(m, err)
	}
	c.OnRecv = func(src, _ netip.AddrPort, payload []byte) {
		r := new(dns.Msg)
		if src != netip.AddrPortFrom(server, DNSPort) || r.Unpack(payload) != nil || !Answers(r, q.Id, q.Question[0]) {
			h.droppedf("", "DNS answer from %s does not match query %d for %s", src, q.Id, q.Question[0].Name)
			return
		}
		finish(r, nil)
	}
	c.OnError = func(err error) { finish(nil, err) }
	h.event("", trace.Event{Op: trace.OpDNSQuery, Proto: trace.UDP, ID: q.Id, DstIP: server, DstPort: DNSPort, QType: dns.TypeToString[qtype], Name: q.Question[0].Name})
	if err := c.SendTo(netip.AddrPortFrom(server, DNSPort), wire); err != nil {
		c.Close()
		return nil, err
	}
	return func() {
		if !finished {
			finished = true
			c.Close()
		}
	}, nil
}

// Exchange sends q as it is (its ID included) to server from an
// ephemeral UDP port and calls done once with the answer (matched by
// source, ID and question; anything else is dropped and traced), or with
// an error (an ICMP error, no route), unless cancel is called first. An
// upstream that never answers never calls done. It makes a Host a
// forwarder's transport (dnsd.Transport): Docker's embedded resolver
// forwards from the container's own sandbox.
func (h *Host) Exchange(q *dns.Msg, server netip.AddrPort, done func(*dns.Msg, error)) (cancel func()) {
	c, err := h.ListenUDP(0)
	if err != nil {
		done(nil, err)
		return func() {}
	}
	wire, err := q.Pack()
	if err != nil {
		c.Close()
		done(nil, fmt.Errorf("stack: query %q: %w", q.Question[0].Name, err))
		return func() {}
	}
	finished := false
	finish := func(m *dns.Msg, err error) {
		if !finished {
			finished = true
			c.Close()
			done(m, err)
		}
	}
	c.OnRecv = func(src, _ netip.AddrPort, payload []byte) {
		r := new(dns.Msg)
		if src != server || r.Unpack(payload) != nil || !Answers(r, q.Id, q.Question[0]) {
			h.droppedf("", "DNS answer from %s does not match query %d for %s", src, q.Id, q.Question[0].Name)
			return
		}
		finish(r, nil)
	}
	c.OnError = func(err error) { finish(nil, err) }
	if err := c.SendTo(server, wire); err != nil {
		finish(nil, err)
	}
	return func() {
		if !finished {
			finished = true
			c.Close()
		}
	}
}

// Answers reports whether r answers the query id asked about question: a
// response with that ID and that one question (the name compared without
// case, RFC 4343), as a resolver checks before believing it.
func Answers(r *dns.Msg, id uint16, question dns.Question) bool {
	if !r.Response || r.Id != id || len(r.Question) != 1 {
		return false
	}
	a := r.Question[0]
	return dns.IsFqdn(a.Name) && strings.EqualFold(a.Name, question.Name) && a.Qtype == question.Qtype && a.Qclass == question.Qclass
}
