package stack

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/trace"
)

// QueryTCP asks server for name's records of type qtype over TCP (RFC
// 7766), as a resolver does after a truncated answer: one connection, one
// length-prefixed query, the answer matched by ID and question, then the
// connection closed by the client. done is called once with the answer, or with an
// error (refused, reset, timed out, unreachable, closed without an
// answer), unless cancel is called first, which resets the connection.
// Like Query, it keeps no timeout of its own.
func (h *Host) QueryTCP(server netip.Addr, name string, qtype uint16, done func(*dns.Msg, error)) (cancel func(), err error) {
	h.dnsID++
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.Id = h.dnsID
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("stack: query %q: %w", name, err)
	}
	framed, _ := AppendFramed(nil, wire)
	c, err := h.ConnectTCPStream(netip.AddrPortFrom(server, DNSPort))
	if err != nil {
		return nil, err
	}
	finished := false
	finish := func(m *dns.Msg, err error) {
		if !finished {
			finished = true
			done(m, err)
		}
	}
	var f Framer
	c.OnData = func(b []byte) {
		f.Feed(b, func(m []byte) {
			if finished {
				return
			}
			r := new(dns.Msg)
			if r.Unpack(m) != nil || !Answers(r, q.Id, q.Question[0]) {
				h.droppedf("", "DNS answer over TCP from %s does not match query %d for %s", server, q.Id, q.Question[0].Name)
				return
			}
			finish(r, nil)
			c.Close()
		})
	}
	c.OnClose = func(err error) {
		if err == nil {
			err = fmt.Errorf("stack: DNS over TCP: %s closed the connection without an answer", server)
		}
		finish(nil, err)
	}
	h.event("", trace.Event{Op: trace.OpDNSQuery, Proto: trace.TCP, ID: q.Id, DstIP: server, DstPort: DNSPort, QType: dns.TypeToString[qtype], Name: q.Question[0].Name})
	_ = c.Write(framed) // sent once connected
	return func() {
		if !finished {
			finished = true
			c.Abort()
		}
	}, nil
}
