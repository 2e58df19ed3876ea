package dnsd

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// TTL is the time to live of every answer, Docker's.
const TTL = 600

// MaxUpstreams is how many upstream resolvers are tried at most.
const MaxUpstreams = 3

// DefaultBridge is the network on which names do not resolve.
const DefaultBridge = "bridge"

// Exchanger sends a query to an upstream resolver.
type Exchanger interface {
	Exchange(m *dns.Msg, upstream string) (*dns.Msg, error)
}

// udpClient is the default Exchanger.
type udpClient struct{ c *dns.Client }

func (u udpClient) Exchange(m *dns.Msg, upstream string) (*dns.Msg, error) {
	r, _, err := u.c.Exchange(m, upstream)
	return r, err
}

// Options configure a Server.
type Options struct {
	// Upstreams are host:port resolvers for names the server does not know;
	// at most MaxUpstreams are used.
	Upstreams []string
	// Exchanger reaches them; nil means a miekg/dns UDP client.
	Exchanger Exchanger
	// Rand shuffles answers with several addresses; nil means a fixed
	// stream (seed 0), so answers are still reproducible.
	Rand *rand.Rand
	// TCPIdleTimeout closes a TCP connection (ServeTCP, Listen) idle that
	// long after an answer; 0 means DefaultTCPIdleTimeout.
	TCPIdleTimeout time.Duration
	// MaxTCPConns bounds the TCP connections served at once; 0 means
	// DefaultMaxTCPConns.
	MaxTCPConns int
}

// endpoint is one container's endpoint on one network.
type endpoint struct {
	network   string
	container string
	aliases   []string
	addr      netip.Addr
	keys      []string // the distinct lower-case FQDNs it answers to, sorted
	rev       string   // its reverse name (d.c.b.a.in-addr.arpa.), "" if none
	target    string   // its PTR target, container.network.
	slot      *slot    // the endpoints of its network at its address
}

// slot holds the endpoints of a network at one address, sorted by
// container: the first is the PTR record's target.
type slot struct{ eps []*endpoint }

// netIndex answers a network's names: lower-case FQDNs ("web." and
// "web.mynet.") to the endpoints that answer to them, sorted by container,
// and reverse names ("2.0.18.172.in-addr.arpa.") to the endpoints at that
// address.
type netIndex struct {
	eps   map[string]*endpoint   // by container
	names map[string][]*endpoint // by lower-case FQDN, sorted by container
	ptrs  map[string]*slot       // by reverse name
	at    map[netip.Addr]*slot   // by address
}

// use is a container's count of endpoints at one address.
type use struct {
	container string
	n         int
}

// Server is the embedded DNS server.
type Server struct {
	mu sync.RWMutex
	// Indexes, updated in place by Add and Remove (each touches only its
	// endpoint's entries), so that an answer costs a few map lookups
	// whatever the number of containers, and so does a registration.
	index  map[string]*netIndex // guarded by mu; by network
	byAddr map[netip.Addr][]use // guarded by mu; containers at an address
	nets   map[string][]string  // guarded by mu; a container's networks, sorted
	opts   Options

	rmu   sync.Mutex // guards opts.Rand
	stats counters
}

// New returns a server with no endpoints.
func New(o Options) *Server {
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(0, 0))
	}
	if o.Exchanger == nil {
		o.Exchanger = udpClient{&dns.Client{Net: "udp"}}
	}
	if len(o.Upstreams) > MaxUpstreams {
		o.Upstreams = o.Upstreams[:MaxUpstreams]
	}
	return &Server{index: map[string]*netIndex{}, byAddr: map[netip.Addr][]use{}, nets: map[string][]string{}, opts: o}
}

// newEndpoint makes the endpoint with its index keys: its container name
// and aliases, each as name. and name.network., lower-cased, once each.
func newEndpoint(network, container string, addr netip.Addr, aliases []string) *endpoint {
	e := &endpoint{network: network, container: container, aliases: slices.Clone(aliases), addr: addr}
	suffix := "." + strings.ToLower(network) + "."
	e.keys = make([]string, 0, 2+2*len(aliases))
	for _, n := range append([]string{container}, aliases...) {
		n = strings.ToLower(n)
		e.keys = append(e.keys, n+".", n+suffix)
	}
	slices.Sort(e.keys)
	e.keys = slices.Compact(e.keys)
	if rev, err := dns.ReverseAddr(addr.String()); err == nil {
		e.rev = rev
	}
	e.target = container + "." + network + "."
	return e
}

// byContainer orders endpoints by container name.
func byContainer(e *endpoint, container string) int { return strings.Compare(e.container, container) }

// insertSorted inserts e into list, sorted by container.
func insertSorted(list []*endpoint, e *endpoint) []*endpoint {
	i, _ := slices.BinarySearchFunc(list, e.container, byContainer)
	return slices.Insert(list, i, e)
}

// deleteSorted removes e from list, sorted by container.
func deleteSorted(list []*endpoint, e *endpoint) []*endpoint {
	if i, ok := slices.BinarySearchFunc(list, e.container, byContainer); ok && list[i] == e {
		list = slices.Delete(list, i, i+1)
	}
	return list
}

// addLocked indexes e on x, its network's index: its names, its address
// and PTR, its container's address and networks. O(keys + the endpoints
// sharing one of them).
func (s *Server) addLocked(x *netIndex, e *endpoint) {
	x.eps[e.container] = e
	for _, k := range e.keys {
		x.names[k] = insertSorted(x.names[k], e)
	}
	sl := x.at[e.addr]
	if sl == nil {
		sl = &slot{}
		x.at[e.addr] = sl
		if e.rev != "" {
			x.ptrs[e.rev] = sl
		}
	}
	sl.eps = insertSorted(sl.eps, e)
	e.slot = sl

	us := s.byAddr[e.addr]
	if i := slices.IndexFunc(us, func(u use) bool { return u.container == e.container }); i >= 0 {
		us[i].n++
	} else {
		s.byAddr[e.addr] = append(us, use{e.container, 1})
	}
	ns := s.nets[e.container]
	i, _ := slices.BinarySearch(ns, e.network)
	s.nets[e.container] = slices.Insert(ns, i, e.network)
}

// removeLocked undoes addLocked.
func (s *Server) removeLocked(x *netIndex, e *endpoint) {
	delete(x.eps, e.container)
	for _, k := range e.keys {
		if list := deleteSorted(x.names[k], e); len(list) > 0 {
			x.names[k] = list
		} else {
			delete(x.names, k)
		}
	}
	sl := e.slot
	if sl.eps = deleteSorted(sl.eps, e); len(sl.eps) == 0 {
		delete(x.at, e.addr)
		if e.rev != "" {
			delete(x.ptrs, e.rev)
		}
	}
	e.slot = nil

	us := s.byAddr[e.addr]
	if i := slices.IndexFunc(us, func(u use) bool { return u.container == e.container }); i >= 0 {
		if us[i].n--; us[i].n == 0 {
			us = slices.Delete(us, i, i+1)
		}
	}
	if len(us) > 0 {
		s.byAddr[e.addr] = us
	} else {
		delete(s.byAddr, e.addr)
	}
	ns := s.nets[e.container]
	if i, ok := slices.BinarySearch(ns, e.network); ok {
		ns = slices.Delete(ns, i, i+1)
	}
	if len(ns) > 0 {
		s.nets[e.container] = ns
	} else {
		delete(s.nets, e.container)
	}
}

// Add registers a container's endpoint on a network, replacing the one it
// had there. It updates only that endpoint's index entries: its cost does
// not grow with the number of containers.
func (s *Server) Add(network, container string, addr netip.Addr, aliases ...string) {
	e := newEndpoint(network, container, addr, aliases)
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.index[network]
	if x == nil {
		x = &netIndex{eps: map[string]*endpoint{}, names: map[string][]*endpoint{}, ptrs: map[string]*slot{}, at: map[netip.Addr]*slot{}}
		s.index[network] = x
	}
	if old := x.eps[container]; old != nil {
		s.removeLocked(x, old)
	}
	s.addLocked(x, e)
}

// Remove unregisters a container's endpoint on a network, if it has one.
func (s *Server) Remove(network, container string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.index[network]
	if x == nil {
		return
	}
	if e := x.eps[container]; e != nil {
		s.removeLocked(x, e)
	}
	if len(x.eps) == 0 {
		delete(s.index, network)
	}
}

// scopeLocked returns the networks of the container at src: every network
// it has an endpoint on, whichever address it asked from, as Docker scopes
// names by sandbox. Sorted.
func (s *Server) scopeLocked(src netip.Addr) []string {
	us := s.byAddr[src]
	if len(us) == 1 {
		return s.nets[us[0].container]
	}
	var nets []string
	for _, u := range us {
		for _, n := range s.nets[u.container] {
			if !slices.Contains(nets, n) {
				nets = append(nets, n)
			}
		}
	}
	slices.Sort(nets)
	return nets
}

// Answer answers query q from a container at src, asking the upstreams
// itself (synchronously, through the Exchanger) for names it does not know.
// A node with its own clock and sockets uses Lookup instead, and forwards
// asynchronously.
func (s *Server) Answer(src netip.Addr, q *dns.Msg) *dns.Msg {
	r, forward := s.Lookup(src, q)
	if !forward {
		return r
	}
	for _, u := range s.opts.Upstreams {
		resp, err := s.opts.Exchanger.Exchange(q, u)
		if err == nil && resp != nil && resp.Rcode != dns.RcodeServerFailure {
			resp.Id = q.Id
			return resp
		}
	}
	return ServFail(q)
}

// Lookup answers q for the container at src from the server's own records.
// It reports forward (and no answer) when the name is not the server's and
// upstreams are configured: the caller then sends q to Upstreams itself, as
// Docker's daemon does from the host's side, relays the first answer that
// is not SERVFAIL, and answers ServFail(q) when none comes. Without
// upstreams, an unknown name is NXDOMAIN.
func (s *Server) Lookup(src netip.Addr, q *dns.Msg) (r *dns.Msg, forward bool) {
	s.mu.RLock()
	nets := s.scopeLocked(src)
	s.mu.RUnlock()
	r, known := s.lookup(nets, q)
	switch {
	case known:
		return r, false
	case len(s.opts.Upstreams) > 0:
		return nil, true
	}
	return NXDomain(q), false
}

// LookupFor answers q for the container named container from the
// server's own records, scoped to the networks the container is on at the
// time of the call (Add and Remove change that at once, as Docker's
// network connect and disconnect do): the embedded resolver of each
// container's sandbox (Resolver) asks this. It reports known false (and
// no answer) when the name is none of theirs: the caller forwards it.
func (s *Server) LookupFor(container string, q *dns.Msg) (r *dns.Msg, known bool) {
	s.mu.RLock()
	nets := s.nets[container]
	s.mu.RUnlock()
	return s.lookup(nets, q)
}

// NXDomain is the answer to q for a name nobody knows, as Docker's
// resolver builds its answers: qr rd ra, not aa.
func NXDomain(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeNameError)
	r.RecursionAvailable = true
	return r
}

// lookup answers q from the records of networks nets (sorted), or reports
// known false. Answers carry Docker's flags, qr rd ra and not aa
// (libnetwork/resolver.go createRespMsg): the embedded server answers as a
// recursive resolver, though it holds the records itself.
func (s *Server) lookup(nets []string, q *dns.Msg) (r *dns.Msg, known bool) {
	r = new(dns.Msg)
	switch {
	case q.Opcode != dns.OpcodeQuery: // RFC 1035 §4.1.1: not implemented
		r.SetRcode(q, dns.RcodeNotImplemented)
		return r, true
	case len(q.Question) != 1 || countOPT(q) > 1: // RFC 6891 §6.1.1: one OPT at most
		r.SetRcodeFormatError(q)
		return r, true
	}
	if opt := q.IsEdns0(); opt != nil && opt.Version() != 0 {
		// RFC 6891 §6.1.3: a version the server does not implement is
		// BADVERS, with an OPT record of the version it does (0).
		r.SetRcode(q, dns.RcodeBadVers)
		r.SetEdns0(uint16(udpSize(q, MaxUDPSize)), false)
		return r, true
	}
	r.SetReply(q)
	r.RecursionAvailable = true
	qs := q.Question[0]
	name := strings.ToLower(dns.Fqdn(qs.Name))

	s.mu.RLock()
	var addrs []netip.Addr
	var ptr string
	for _, network := range nets {
		if network == DefaultBridge {
			continue
		}
		x := s.index[network]
		if x == nil {
			continue
		}
		if eps, ok := x.names[name]; ok {
			known = true
			addrs = appendAddrs(addrs, eps)
		}
		if sl, ok := x.ptrs[name]; ok && qs.Qtype == dns.TypePTR && ptr == "" {
			ptr = sl.eps[0].target
		}
	}
	s.mu.RUnlock()

	switch {
	case qs.Qtype == dns.TypePTR && ptr != "":
		r.Answer = append(r.Answer, &dns.PTR{Hdr: hdr(qs.Name, dns.TypePTR), Ptr: ptr})
		return r, true
	case known && qs.Qtype == dns.TypeA:
		s.shuffle(addrs)
		if len(addrs) > maxA {
			// No transport carries more; the shuffle still picks fairly.
			addrs, r.Truncated = addrs[:maxA], true
		}
		for _, a := range addrs {
			r.Answer = append(r.Answer, &dns.A{Hdr: hdr(qs.Name, dns.TypeA), A: net.IP(a.AsSlice())})
		}
		return r, true
	case known: // AAAA, MX (Docker's "implicit MX", RFC 5321 §5.1) and the rest: the name exists, no such record
		return r, true
	}
	return nil, false
}

// maxA is more A records than a 65535-byte message can hold (each takes 15
// bytes at least, with its name compressed to the root or a pointer), so
// cutting an answer there keeps every record any transport could send, and
// truncation still sets TC.
const maxA = dns.MaxMsgSize/15 + 1

// countOPT returns the number of OPT records of q.
func countOPT(q *dns.Msg) int {
	n := 0
	for _, rr := range q.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			n++
		}
	}
	return n
}

// appendAddrs appends the addresses of eps (sorted by container) to dst,
// each once: a second endpoint at an address already appended from eps
// adds nothing.
func appendAddrs(dst []netip.Addr, eps []*endpoint) []netip.Addr {
	start := len(dst)
	for _, e := range eps {
		if len(e.slot.eps) > 1 && slices.Contains(dst[start:], e.addr) {
			continue
		}
		dst = append(dst, e.addr)
	}
	return dst
}

// Upstreams returns the upstream resolvers that parse as address:port, in
// order (at most MaxUpstreams).
func (s *Server) Upstreams() []netip.AddrPort {
	var out []netip.AddrPort
	for _, u := range s.opts.Upstreams {
		if ap, err := netip.ParseAddrPort(u); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// ServFail returns the answer to q when no upstream answered: Docker's
// new(dns.Msg).SetRcode(query, dns.RcodeServerFailure), qr rd only
// (libnetwork/resolver.go serveDNS).
func ServFail(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeServerFailure)
	return r
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
}

func (s *Server) shuffle(a []netip.Addr) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.opts.Rand.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
}

// ErrShort is returned by AnswerBytes for a query too short to answer.
var ErrShort = errors.New("dnsd: query shorter than a DNS header")

// AnswerBytes answers a packed query arriving over UDP (packed by PackUDP):
// FORMERR for one that does not unpack (with the query's ID when it has
// one), nothing at all for one shorter than an ID.
func (s *Server) AnswerBytes(src netip.Addr, query []byte) ([]byte, error) {
	// The fast path's answer is the query and at most its name and 14
	// bytes more.
	if b, ok := s.fastAnswer(make([]byte, 0, min(2*len(query)+14, dns.MinMsgSize)), src, query); ok {
		return b, nil
	}
	return s.generalAnswerBytes(src, query)
}

// generalAnswerBytes is AnswerBytes without the fast path: miekg/dns
// unpacks the query and packs the answer.
func (s *Server) generalAnswerBytes(src netip.Addr, query []byte) ([]byte, error) {
	q := new(dns.Msg)
	if err := q.Unpack(query); err != nil {
		return formErr(query)
	}
	if q.Response {
		return nil, errors.New("dnsd: a response, not a query")
	}
	return PackUDP(q, s.Answer(src, q))
}

// formErr is the answer to a query that does not unpack: FORMERR with its
// ID, or ErrShort when it is shorter than an ID.
func formErr(query []byte) ([]byte, error) {
	if len(query) < 2 {
		return nil, ErrShort
	}
	r := new(dns.Msg)
	r.Id = uint16(query[0])<<8 | uint16(query[1])
	r.Response, r.Rcode = true, dns.RcodeFormatError
	return r.Pack()
}
