package dnsd

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
)

// Docker's embedded resolver, as libnetwork/resolver.go has it: the
// address it answers at in every container's sandbox, how long one
// upstream is waited for (extIOTimeout), how many queries may wait for
// upstreams at once (maxConcurrent).
var EmbeddedAddr = netip.MustParseAddr("127.0.0.11")

const (
	UpstreamTimeout = 4 * time.Second
	MaxForwards     = 1024
)

// Transport sends a forwarded query from the container's own sandbox, as
// Docker's resolver dials its upstreams inside the container's network
// namespace (libnetwork/resolver.go dialExtDNS, through the sandbox's
// ExecFunc): the query leaves by the container's interface, crosses its
// bridge and is masqueraded like any of its packets. Exchange sends q to
// up and calls done once, with the answer or an error (an ICMP error, a
// socket's), unless cancel is called first; an answer that never comes
// never calls done (the Resolver keeps the timeout). done may run on
// another goroutine (netns).
type Transport interface {
	Exchange(q *dns.Msg, up netip.AddrPort, done func(*dns.Msg, error)) (cancel func())
}

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	Server    *Server          // the Docker host's records
	Container string           // whose sandbox the resolver answers in
	Host      string           // the Docker host whose daemon it belongs to, for the trace
	Upstreams []netip.AddrPort // the host's resolvers, in order; at most MaxUpstreams used
	Transport Transport        // reaches them from the sandbox
	Clock     clock.Clock      // times upstreams out; nil: the real clock
	Tracer    trace.Tracer     // nil: none; must be safe for concurrent use where Serve is called concurrently
}

// ResolverStats counts what a Resolver did.
type ResolverStats struct {
	Answered  uint64 // answers given, from any source
	Malformed uint64 // messages that did not unpack (FORMERR, or nothing when too short)
	Forwarded uint64 // queries sent upstream (each once, however many upstreams it tried)
	Relayed   uint64 // of Forwarded: answered with an upstream's answer
	ServFail  uint64 // of Forwarded: no upstream answered, SERVFAIL
	Refused   uint64 // queries answered REFUSED: MaxForwards were waiting
	Timeouts  uint64 // upstream attempts that timed out
	Failures  uint64 // upstream attempts that failed otherwise (an error, SERVFAIL, REFUSED)
}

// Resolver is Docker's embedded DNS server as one container sees it, at
// 127.0.0.11 in its own sandbox: the names of the containers on the
// networks it is on now (Server.LookupFor, by container, so a network
// connect or disconnect, which only calls the host's Server Add or
// Remove, changes what it resolves at once), and the host's upstream
// resolvers, asked from the sandbox, for the rest. Answers carry qr rd ra.
// Every world uses this code: mem hands it the datagrams its simulated
// stack receives on 127.0.0.11:53, netns those of a socket bound there in
// the container's namespace. Safe for concurrent use.
type Resolver struct {
	o       ResolverOptions
	waiting atomic.Int64
	stats   struct{ answered, malformed, forwarded, relayed, servfail, refused, timeouts, failures atomic.Uint64 }
}

// NewResolver returns the resolver of one container's sandbox.
func NewResolver(o ResolverOptions) *Resolver {
	o.Clock = clock.Or(o.Clock)
	if len(o.Upstreams) > MaxUpstreams {
		o.Upstreams = o.Upstreams[:MaxUpstreams]
	}
	return &Resolver{o: o}
}

// Stats returns the resolver's counters.
func (r *Resolver) Stats() ResolverStats {
	s := &r.stats
	return ResolverStats{Answered: s.answered.Load(), Malformed: s.malformed.Load(), Forwarded: s.forwarded.Load(), Relayed: s.relayed.Load(),
		ServFail: s.servfail.Load(), Refused: s.refused.Load(), Timeouts: s.timeouts.Load(), Failures: s.failures.Load()}
}

// Client is who asked a query, over which transport.
type Client struct {
	Addr netip.AddrPort
	TCP  bool
}

// ServeBytes answers a packed message from c: reply gets the packed
// answer (for UDP within the 512 bytes or EDNS0 size the query allows,
// for TCP within 65535), at once or when an upstream answers. A message
// that does not unpack gets FORMERR with its ID; one shorter than an ID,
// or a response, gets nothing, and is counted. It reports whether reply
// will be called (once).
func (r *Resolver) ServeBytes(b []byte, c Client, reply func([]byte)) bool {
	q := new(dns.Msg)
	if err := q.Unpack(b); err != nil {
		r.stats.malformed.Add(1)
		if len(b) < 2 {
			r.event(trace.Event{Kind: trace.Dropped, Reason: "DNS message from " + c.Addr.String() + ": shorter than a DNS ID, not answered"})
			return false
		}
		m := new(dns.Msg)
		m.Id = uint16(b[0])<<8 | uint16(b[1])
		m.Response, m.Rcode = true, dns.RcodeFormatError
		w, err := m.Pack()
		if err != nil { // cannot happen: a header alone
			return false
		}
		r.answered(nil, c, source{})
		reply(w)
		return true
	}
	if q.Response {
		r.stats.malformed.Add(1)
		r.event(trace.Event{Kind: trace.Dropped, Reason: "DNS message from " + c.Addr.String() + ": a response, not a query"})
		return false
	}
	r.Serve(q, c, func(m *dns.Msg) {
		pack := PackUDP
		if c.TCP {
			pack = PackTCP
		}
		w, err := pack(q, m)
		if err != nil { // an upstream's answer that does not pack: SERVFAIL instead
			w, _ = pack(q, ServFail(q))
		}
		reply(w)
	})
	return true
}

// Serve answers q from c: reply gets the answer once, at once for the
// container's names, when an upstream answers for the rest.
func (r *Resolver) Serve(q *dns.Msg, c Client, reply func(*dns.Msg)) {
	if m, known := r.o.Server.LookupFor(r.o.Container, q); known {
		r.answered(m, c, source{})
		reply(m)
		return
	}
	if len(r.o.Upstreams) == 0 {
		// No resolver on the host (a scenario's host without dns:): Docker
		// would ask 8.8.8.8 and 8.8.4.4, which no scenario has; netyard
		// answers for them, NXDOMAIN, as they would for a container's name.
		m := NXDomain(q)
		r.answered(m, c, source{})
		reply(m)
		return
	}
	if r.waiting.Add(1) > MaxForwards {
		r.waiting.Add(-1)
		r.stats.refused.Add(1)
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused) // as forwardExtDNS when its semaphore is full
		r.answered(m, c, source{})
		reply(m)
		return
	}
	r.stats.forwarded.Add(1)
	f := &forward{r: r, q: q, c: c, reply: reply, up: -1}
	f.mu.Lock()
	f.next()
	f.mu.Unlock()
}

// forward is a query waiting for upstreams.
type forward struct {
	r      *Resolver
	q      *dns.Msg
	c      Client
	reply  func(*dns.Msg)
	mu     sync.Mutex // guards the rest: the transport and the timer call in from elsewhere in netns
	up     int        // the upstream asked, index into Upstreams
	try    int        // the attempt under way; a callback of an earlier one is stale
	cancel func()
	timer  clock.Timer
	done   bool
}

// next asks the next upstream, or answers SERVFAIL after the last.
// Called with f.mu held.
func (f *forward) next() {
	r := f.r
	f.up++
	f.try++
	if f.up >= len(r.o.Upstreams) {
		f.finishLocked()
		r.stats.servfail.Add(1)
		m := ServFail(f.q)
		r.answered(m, f.c, source{tried: len(r.o.Upstreams)})
		f.reply(m)
		return
	}
	up, try := r.o.Upstreams[f.up], f.try
	qs := f.q.Question[0]
	r.event(trace.Event{Op: trace.OpDNSForwarded, ID: f.q.Id, SrcIP: f.c.Addr.Addr(), SrcPort: f.c.Addr.Port(), QType: dns.TypeToString[qs.Qtype], Name: qs.Name,
		Upstream: up, Try: f.up + 1, Tries: len(r.o.Upstreams)})
	f.timer = r.o.Clock.AfterFunc(UpstreamTimeout, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.done || f.try != try {
			return
		}
		r.stats.timeouts.Add(1)
		r.event(trace.Event{Op: trace.OpDNSUpstreamTimeout, Upstream: up, ID: f.q.Id, Name: qs.Name, Dur: UpstreamTimeout})
		f.endAttemptLocked()
		f.next()
	})
	// The query goes as the client sent it, ID included, as Docker's
	// exchange does (ExchangeWithConn). The lock is let go meanwhile: a
	// transport may call done before Exchange returns (a send error).
	f.mu.Unlock()
	cancel := r.o.Transport.Exchange(f.q, up, func(m *dns.Msg, err error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.done || f.try != try {
			return
		}
		f.answerLocked(up, m, err)
	})
	f.mu.Lock()
	if f.done || f.try != try {
		if cancel != nil {
			cancel() // that attempt is over already
		}
		return
	}
	f.cancel = cancel
}

// answerLocked takes the outcome of the attempt on up.
func (f *forward) answerLocked(up netip.AddrPort, m *dns.Msg, err error) {
	r, qs := f.r, f.q.Question[0]
	switch {
	case err == nil && m == nil:
		err = errors.New("no answer")
		fallthrough
	case err != nil:
		r.stats.failures.Add(1)
		r.event(trace.Event{Op: trace.OpDNSUpstreamFailed, Upstream: up, ID: f.q.Id, Name: qs.Name, Reason: err.Error()})
		f.endAttemptLocked()
		f.next()
		return
	case m.Rcode == dns.RcodeServerFailure || m.Rcode == dns.RcodeRefused:
		// Docker's rule (forwardExtDNS): the next upstream may know better.
		r.stats.failures.Add(1)
		r.event(trace.Event{Op: trace.OpDNSUpstreamRcode, Upstream: up, ID: f.q.Id, Name: qs.Name, Rcode: dns.RcodeToString[m.Rcode]})
		f.endAttemptLocked()
		f.next()
		return
	}
	f.finishLocked()
	r.stats.relayed.Add(1)
	m.Id = f.q.Id
	m.Compress = true // as Docker relays: more records fit before TC
	r.answered(m, f.c, source{upstream: up})
	f.reply(m)
}

// endAttemptLocked stops the attempt under way.
func (f *forward) endAttemptLocked() {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
}

// finishLocked ends the attempt under way and the forward.
func (f *forward) finishLocked() {
	f.endAttemptLocked()
	if !f.done {
		f.done = true
		f.r.waiting.Add(-1)
	}
}

// source is where an answer came from, for the trace: the server's names
// (zero), an upstream, or none of tried upstreams.
type source struct {
	upstream netip.AddrPort
	tried    int
}

// answered counts and traces an answer m to c (nil: FORMERR to a message
// that did not unpack).
func (r *Resolver) answered(m *dns.Msg, c Client, from source) {
	r.stats.answered.Add(1)
	if r.o.Tracer == nil {
		return
	}
	e := trace.Event{Op: trace.OpDNSAnswer, SrcIP: EmbeddedAddr, DstIP: c.Addr.Addr(), DstPort: c.Addr.Port(), Proto: trace.UDP, Upstream: from.upstream, Tries: from.tried}
	if c.TCP {
		e.Proto = trace.TCP
	}
	if m == nil {
		e.Rcode, e.Reason = dns.RcodeToString[dns.RcodeFormatError], "the query did not unpack"
	} else {
		DescribeAnswer(&e, m)
	}
	r.event(e)
}

// DescribeAnswer fills e with what m says: its name and type, rcode, TC
// and records.
func DescribeAnswer(e *trace.Event, m *dns.Msg) {
	e.Rcode, e.TC = dns.RcodeToString[m.Rcode], m.Truncated
	if len(m.Question) == 1 {
		e.Name, e.QType = m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype]
	}
	for _, rr := range m.Answer {
		switch v := rr.(type) {
		case *dns.A:
			e.Answers = append(e.Answers, "A "+v.A.String())
		case *dns.PTR:
			e.Answers = append(e.Answers, "PTR "+v.Ptr)
		case *dns.MX:
			e.Answers = append(e.Answers, "MX "+v.Mx)
		}
	}
}

// event traces e as the embedded server's: on the container's node, with
// the Docker host whose daemon it is (Member), which the narration names.
func (r *Resolver) event(e trace.Event) {
	if r.o.Tracer == nil {
		return
	}
	e.Node, e.Member, e.Container = r.o.Container, r.o.Host, r.o.Container
	if e.Kind == "" {
		e.Kind = trace.Host
	}
	e.Time = r.o.Clock.Now()
	r.o.Tracer.Trace(e)
}
