package gateway

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// Forwarding to upstream resolvers, with Docker's values
// (libnetwork/resolver.go).
const (
	UpstreamTimeout = 4 * time.Second // extIOTimeout: how long one upstream is waited for
	MaxDNSForwards  = 1024            // maxConcurrent: queries waiting for upstreams at once
)

// dnsForwarder is the state of upstream forwarding.
type dnsForwarder struct {
	ups     []netip.AddrPort
	max     int
	waiting int // queries waiting for an upstream
}

func (f *dnsForwarder) init(ups []netip.AddrPort, max int) { f.ups, f.max = ups, max }

// client is who asked a query, and how its answer goes back.
type client struct {
	addr  netip.AddrPort // who asked
	local netip.Addr     // the address asked: the answer comes from it
	tcp   *dnsConn       // over TCP, the connection; nil over UDP
}

// forwarded is a client's query waiting for upstreams.
type forwarded struct {
	q      *dns.Msg // the client's query, with the client's ID
	client client
	up     int            // the upstream being asked (index into ups)
	id     uint16         // the ID of the query sent to it
	conn   *stack.UDPConn // the socket it was sent from, one per attempt as Docker dials
	timer  clock.Timer
	done   bool
}

// answer serves one DNS query that reached the gateway's UDP port 53.
func (g *Gateway) answer(src, dst netip.AddrPort, b []byte) {
	switch {
	case !g.onBridge(dst.Addr()):
		g.stats.DNSDropped++
		what := "the DNS server answers on bridge networks only"
		if g.notRouted(v4(dst.Addr())) {
			what = "a query to a broadcast address is not answered"
		}
		g.dropf(src.Addr(), dst.Addr(), "DNS query to %s: %s", dst.Addr(), what)
		return
	case g.notRouted(v4(src.Addr())) || g.martianSource(v4(src.Addr()), v4(dst.Addr())) != "" || src.Port() == 0:
		// An answer would go to a broadcast, a group or nowhere: never
		// answer those (amplification, RFC 1122 §4.1.3.6 spirit).
		g.stats.DNSDropped++
		g.dropf(src.Addr(), dst.Addr(), "DNS query from %s: never answered to a broadcast, multicast or martian source", src)
		return
	}
	g.message(b, client{addr: src, local: dst.Addr()})
}

// message answers a message that arrived from c, over either transport:
// a query is looked up; one that does not unpack gets FORMERR with its ID,
// or nothing when it is too short to have one.
func (g *Gateway) message(b []byte, c client) {
	if c.tcp != nil {
		c.tcp.pending++
	}
	q := new(dns.Msg)
	if err := q.Unpack(b); err != nil {
		r, err := g.dns.AnswerBytes(c.addr.Addr(), b)
		if r == nil {
			g.stats.DNSDropped++
			g.dropf(c.addr.Addr(), c.local, "DNS query from %s: %v", c.addr, err)
			c.tcp.done()
			return
		}
		g.sendAnswer(c, r, nil, source{})
		return
	}
	g.query(q, c)
}

// query answers a query that unpacked, from the server's names or the
// upstreams'.
func (g *Gateway) query(q *dns.Msg, c client) {
	if q.Response {
		g.stats.DNSDropped++
		g.dropf(c.addr.Addr(), c.local, "DNS message from %s is a response, not a query", c.addr)
		c.tcp.done()
		return
	}
	r, forward := g.dns.Lookup(c.addr.Addr(), q)
	if forward {
		g.forwardQuery(q, c)
		return
	}
	g.reply(q, r, c, source{})
}

// source is where an answer came from, for the trace: the server's names
// (zero), an upstream, or none of tried upstreams.
type source struct {
	upstream netip.AddrPort
	tried    int
}

// reply packs r, the answer to q, for the client's transport and sends
// it from the address it asked.
func (g *Gateway) reply(q, r *dns.Msg, c client, from source) {
	if c.tcp != nil {
		wire, err := dnsd.PackTCP(q, r)
		if err != nil {
			g.stats.DNSDropped++
			g.dropf(c.addr.Addr(), c.local, "DNS answer to %s does not pack: %v", c.addr, err)
			c.tcp.done()
			return
		}
		g.sendAnswer(c, wire, r, from)
		return
	}
	// What fits the leg towards the client unfragmented, whatever larger
	// size the client offers (as DNS Flag Day 2020 asks of servers).
	mtu := DefaultMTU
	if out, _, err := g.host.Route(c.addr.Addr()); err == nil {
		if l := g.legOf(out); l != nil {
			mtu = l.mtu
		}
	}
	wire, err := dnsd.PackUDPLimit(q, r, mtu-20-8)
	if err != nil {
		g.stats.DNSDropped++
		g.dropf(c.addr.Addr(), c.local, "DNS answer to %s does not pack: %v", c.addr, err)
		return
	}
	g.sendAnswer(c, wire, r, from)
}

// sendAnswer sends a packed answer r (nil: a FORMERR for a query that did
// not unpack): a datagram, or a length-prefixed message on the client's
// TCP connection.
func (g *Gateway) sendAnswer(c client, wire []byte, r *dns.Msg, from source) {
	g.stats.DNSAnswered++
	if g.tracer != nil {
		e := answered(r, from)
		e.SrcIP, e.DstIP, e.DstPort, e.Proto = c.local, c.addr.Addr(), c.addr.Port(), trace.UDP
		if c.tcp != nil {
			e.Proto = trace.TCP
		}
		g.event(e)
	}
	if c.tcp != nil {
		framed, err := stack.AppendFramed(nil, wire)
		if err == nil {
			err = c.tcp.s.Write(framed)
		}
		if err != nil {
			g.stats.SendErrors++
			g.dropf(c.local, c.addr.Addr(), "DNS answer over TCP to %s: %v", c.addr, err)
		}
		c.tcp.done()
		return
	}
	if err := g.dnsUDP.SendFromTo(c.local, c.addr, wire); err != nil {
		g.stats.SendErrors++
		g.dropf(c.local, c.addr.Addr(), "DNS answer to %s: %v", c.addr, err)
	}
}

// answered describes a DNS answer m for the trace: the name, the records,
// the rcode, TC when records were left out, and where it came from. A nil
// m is the FORMERR answer to a query that did not unpack.
func answered(m *dns.Msg, from source) trace.Event {
	e := trace.Event{Kind: trace.Host, Op: trace.OpDNSAnswer, Upstream: from.upstream, Tries: from.tried}
	if m == nil {
		e.Rcode, e.Reason = dns.RcodeToString[dns.RcodeFormatError], "the query did not unpack"
		return e
	}
	dnsd.DescribeAnswer(&e, m)
	return e
}

// forwardQuery sends a query the server does not know to the upstreams,
// and answers it when one answers, or when none did.
func (g *Gateway) forwardQuery(q *dns.Msg, c client) {
	if g.fwd.waiting >= g.fwd.max {
		g.stats.DNSRefused++
		g.dropf(c.addr.Addr(), c.local, "DNS query from %s for %s: %d queries wait for upstreams already: answered REFUSED", c.addr, q.Question[0].Name, g.fwd.waiting)
		r := new(dns.Msg)
		r.SetRcode(q, dns.RcodeRefused)
		r.RecursionAvailable = true
		g.reply(q, r, c, source{})
		return
	}
	g.stats.DNSForwarded++
	g.fwd.waiting++
	g.tryNext(&forwarded{q: q, client: c, up: -1})
}

// tryNext sends f to the next upstream, or answers SERVFAIL after the
// last.
func (g *Gateway) tryNext(f *forwarded) {
	for {
		f.up++
		if f.up >= len(g.fwd.ups) {
			g.finish(f)
			g.stats.DNSServFail++
			g.reply(f.q, dnsd.ServFail(f.q), f.client, source{tried: len(g.fwd.ups)})
			return
		}
		up := g.fwd.ups[f.up]
		m := f.q.Copy()
		m.Id = uint16(g.ids.UintN(1 << 16))
		wire, err := m.Pack()
		var conn *stack.UDPConn
		if err == nil {
			conn, err = g.host.ListenUDP(0)
		}
		if err != nil {
			g.stats.DNSUpstreamFailures++
			g.upstreamError(f, up, err)
			continue
		}
		f.id, f.conn = m.Id, conn
		conn.OnRecv = func(src, _ netip.AddrPort, b []byte) { g.upstreamAnswer(f, conn, src, b) }
		conn.OnError = func(err error) { g.upstreamFailed(f, conn, err) }
		g.event(trace.Event{Kind: trace.Host, Op: trace.OpDNSForwarded, ID: f.q.Id, SrcIP: f.client.addr.Addr(), SrcPort: f.client.addr.Port(),
			QType: dns.TypeToString[f.q.Question[0].Qtype], Name: f.q.Question[0].Name, Upstream: up, Try: f.up + 1, Tries: len(g.fwd.ups), NewID: m.Id})
		f.timer = g.clk.AfterFunc(UpstreamTimeout, func() { g.upstreamTimeout(f, conn) })
		if err := conn.SendFromTo(g.legs[0].addr, up, wire); err != nil {
			g.endAttempt(f)
			g.stats.DNSUpstreamFailures++
			g.upstreamError(f, up, err)
			continue
		}
		return
	}
}

// upstreamError traces a query that could not be sent to up.
func (g *Gateway) upstreamError(f *forwarded, up netip.AddrPort, err error) {
	if g.tracer != nil {
		g.event(trace.Event{Kind: trace.Host, Op: trace.OpDNSUpstreamError, ID: f.q.Id, Name: f.q.Question[0].Name, Upstream: up, Reason: err.Error()})
	}
}

// finish ends f's attempt in flight, and f itself.
func (g *Gateway) finish(f *forwarded) {
	g.endAttempt(f)
	if !f.done {
		f.done = true
		g.fwd.waiting--
	}
}

// endAttempt closes the attempt in flight, if any.
func (g *Gateway) endAttempt(f *forwarded) {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// upstreamTimeout runs UpstreamTimeout after a query was sent upstream.
func (g *Gateway) upstreamTimeout(f *forwarded, conn *stack.UDPConn) {
	if f.done || f.conn != conn {
		return
	}
	g.stats.DNSUpstreamTimeouts++
	g.event(trace.Event{Kind: trace.Host, Op: trace.OpDNSUpstreamTimeout, Upstream: g.fwd.ups[f.up], ID: f.id, Name: f.q.Question[0].Name, Dur: UpstreamTimeout})
	f.timer = nil
	g.endAttempt(f)
	g.tryNext(f)
}

// upstreamFailed takes an ICMP error or an unresolved next hop for the
// attempt on conn.
func (g *Gateway) upstreamFailed(f *forwarded, conn *stack.UDPConn, err error) {
	if f.done || f.conn != conn {
		return
	}
	g.stats.DNSUpstreamFailures++
	if g.tracer != nil {
		g.event(trace.Event{Kind: trace.Host, Op: trace.OpDNSUpstreamFailed, Upstream: g.fwd.ups[f.up], ID: f.id, Name: f.q.Question[0].Name, Reason: err.Error()})
	}
	g.endAttempt(f)
	g.tryNext(f)
}

// upstreamAnswer takes a datagram on an attempt's socket.
func (g *Gateway) upstreamAnswer(f *forwarded, conn *stack.UDPConn, src netip.AddrPort, b []byte) {
	if f.done || f.conn != conn {
		return
	}
	up := g.fwd.ups[f.up]
	r := new(dns.Msg)
	if src != up || r.Unpack(b) != nil || !stack.Answers(r, f.id, f.q.Question[0]) {
		g.stats.DNSStray++
		g.dropf(src.Addr(), g.legs[0].addr, "DNS datagram from %s is no answer to query %d for %s sent to %s", src, f.id, f.q.Question[0].Name, up)
		return
	}
	if r.Rcode == dns.RcodeServerFailure || r.Rcode == dns.RcodeRefused {
		// Docker's rule: the next upstream may know better.
		g.stats.DNSUpstreamFailures++
		g.event(trace.Event{Kind: trace.Host, Op: trace.OpDNSUpstreamRcode, Upstream: up, ID: f.id, Name: f.q.Question[0].Name, Rcode: dns.RcodeToString[r.Rcode]})
		g.endAttempt(f)
		g.tryNext(f)
		return
	}
	g.finish(f)
	g.stats.DNSRelayed++
	r.Id = f.q.Id
	r.Compress = true // as Docker relays: more records fit before TC
	g.reply(f.q, r, f.client, source{upstream: up})
}

// DNS over TCP (RFC 7766), as Docker's embedded server serves it: several
// queries on a connection, pipelined or not, each answered when its answer
// is known (so out of order when one waits for an upstream), the
// connection closed by the client or after DNSIdleTimeout.
const (
	DNSIdleTimeout = 8 * time.Second // miekg/dns's and RFC 7766 §6.2.3's order of seconds
	MaxDNSConns    = 256             // connections to port 53, in any state
)

// dnsConn is a client's TCP connection to port 53.
type dnsConn struct {
	s       *stack.TCPStream
	framer  stack.Framer
	pending int  // queries not answered yet
	eof     bool // the client sent FIN: close once pending answers are out
}

// done notes that one query of the connection is answered (or dropped),
// and closes a connection the client has finished with. A nil connection
// (UDP) does nothing.
func (c *dnsConn) done() {
	if c == nil {
		return
	}
	c.pending--
	if c.eof && c.pending == 0 {
		c.s.Close()
	}
}

// acceptDNS takes a TCP connection to port 53.
func (g *Gateway) acceptDNS(s *stack.TCPStream) {
	local, peer := s.Local(), s.Peer()
	if !g.onBridge(local.Addr()) || g.notRouted(v4(peer.Addr())) || g.martianSource(v4(peer.Addr()), v4(local.Addr())) != "" {
		g.stats.DNSDropped++
		g.dropf(peer.Addr(), local.Addr(), "DNS over TCP to %s from %s: the DNS server answers on bridge networks only, to unicast clients", local, peer)
		s.Abort()
		return
	}
	c := &dnsConn{s: s}
	s.OnData = func(b []byte) {
		c.framer.Feed(b, func(m []byte) { g.message(m, client{addr: peer, local: local.Addr(), tcp: c}) })
	}
	s.OnEOF = func() {
		c.eof = true
		if c.pending == 0 {
			s.Close()
		}
	}
}
