package dnsd

import (
	"errors"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

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
}

type endpoint struct {
	container string
	aliases   []string
	addr      netip.Addr
}

// Server is the embedded DNS server.
type Server struct {
	mu       sync.RWMutex
	networks map[string][]endpoint // guarded by mu; by network, sorted by container
	// Indexes, rebuilt by Add and Remove, so that an answer costs a few
	// map lookups whatever the number of containers.
	index  map[string]*netIndex    // guarded by mu; by network
	byAddr map[netip.Addr][]string // guarded by mu; containers at an address
	nets   map[string][]string     // guarded by mu; a container's networks, sorted
	opts   Options

	rmu sync.Mutex // guards opts.Rand
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
	return &Server{networks: map[string][]endpoint{}, index: map[string]*netIndex{}, opts: o}
}

// netIndex answers a network's names: lower-case FQDNs ("web." and
// "web.mynet.") to addresses in container order, and reverse names
// ("2.0.18.172.in-addr.arpa.") to PTR targets.
type netIndex struct {
	names map[string][]netip.Addr
	ptrs  map[string]string
}

// reindexLocked rebuilds the index of network and the global ones.
func (s *Server) reindexLocked(network string) {
	x := &netIndex{names: map[string][]netip.Addr{}, ptrs: map[string]string{}}
	suffix := "." + strings.ToLower(network) + "."
	for _, e := range s.networks[network] {
		for _, n := range append([]string{e.container}, e.aliases...) {
			n = strings.ToLower(n)
			for _, fq := range []string{n + ".", n + suffix} {
				if !slices.Contains(x.names[fq], e.addr) {
					x.names[fq] = append(x.names[fq], e.addr)
				}
			}
		}
		if rev, err := dns.ReverseAddr(e.addr.String()); err == nil {
			if _, dup := x.ptrs[rev]; !dup {
				x.ptrs[rev] = e.container + "." + network + "."
			}
		}
	}
	s.index[network] = x
	s.byAddr = map[netip.Addr][]string{}
	s.nets = map[string][]string{}
	for _, net := range slices.Sorted(maps.Keys(s.networks)) {
		for _, e := range s.networks[net] {
			if !slices.Contains(s.byAddr[e.addr], e.container) {
				s.byAddr[e.addr] = append(s.byAddr[e.addr], e.container)
			}
			if !slices.Contains(s.nets[e.container], net) {
				s.nets[e.container] = append(s.nets[e.container], net)
			}
		}
	}
}

// Add registers a container's endpoint on a network.
func (s *Server) Add(network, container string, addr netip.Addr, aliases ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	eps := s.networks[network]
	eps = slices.DeleteFunc(eps, func(e endpoint) bool { return e.container == container })
	eps = append(eps, endpoint{container: container, aliases: slices.Clone(aliases), addr: addr})
	slices.SortFunc(eps, func(a, b endpoint) int { return strings.Compare(a.container, b.container) })
	s.networks[network] = eps
	s.reindexLocked(network)
}

// Remove unregisters a container's endpoint on a network.
func (s *Server) Remove(network, container string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.networks[network] = slices.DeleteFunc(s.networks[network], func(e endpoint) bool { return e.container == container })
	s.reindexLocked(network)
}

// scopeLocked returns the networks of the container at src: every network
// it has an endpoint on, whichever address it asked from, as Docker scopes
// names by sandbox. Sorted.
func (s *Server) scopeLocked(src netip.Addr) []string {
	cs := s.byAddr[src]
	if len(cs) == 1 {
		return s.nets[cs[0]]
	}
	var nets []string
	for _, c := range cs {
		for _, n := range s.nets[c] {
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
	r = new(dns.Msg)
	if len(q.Question) != 1 || q.Opcode != dns.OpcodeQuery {
		r.SetRcodeFormatError(q)
		return r, false
	}
	r.SetReply(q)
	r.Authoritative = true
	r.RecursionAvailable = len(s.opts.Upstreams) > 0
	qs := q.Question[0]
	name := strings.ToLower(dns.Fqdn(qs.Name))

	s.mu.RLock()
	var addrs []netip.Addr
	var ptr string
	known := false
	for _, network := range s.scopeLocked(src) {
		if network == DefaultBridge {
			continue
		}
		x := s.index[network]
		if a, ok := x.names[name]; ok {
			known = true
			addrs = append(addrs, a...)
		}
		if p, ok := x.ptrs[name]; ok && qs.Qtype == dns.TypePTR && ptr == "" {
			ptr = p
		}
	}
	s.mu.RUnlock()

	switch {
	case qs.Qtype == dns.TypePTR && ptr != "":
		r.Answer = append(r.Answer, &dns.PTR{Hdr: hdr(qs.Name, dns.TypePTR), Ptr: ptr})
		return r, false
	case known && qs.Qtype == dns.TypeA:
		s.shuffle(addrs)
		for _, a := range addrs {
			r.Answer = append(r.Answer, &dns.A{Hdr: hdr(qs.Name, dns.TypeA), A: net.IP(a.AsSlice())})
		}
		return r, false
	case known: // AAAA and the rest: the name exists, no such record
		return r, false
	case len(s.opts.Upstreams) > 0:
		return nil, true
	}
	r.Rcode = dns.RcodeNameError
	return r, false
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

// ServFail returns the answer to q when no upstream answered.
func ServFail(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeServerFailure)
	r.RecursionAvailable = true
	return r
}

// PackUDP packs r, the answer to q, for UDP: it must fit 512 bytes (RFC
// 1035 §4.2.1), or the UDP payload size q advertises in its EDNS0 OPT
// record (RFC 6891 §6.2.5, never less than 512); records that do not fit
// are left out and TC is set, so the client retries over TCP. The answer
// carries an OPT record when q did.
func PackUDP(q, r *dns.Msg) ([]byte, error) {
	size := dns.MinMsgSize
	if opt := q.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		if r.IsEdns0() == nil {
			r.SetEdns0(uint16(size), false)
		}
	}
	r.Truncate(size)
	return r.Pack()
}

// PackTCP packs r, the answer to q, for TCP: at most 65535 bytes (the
// 2-byte length prefix, RFC 1035 §4.2.2); beyond, records are left out
// and TC is set.
func PackTCP(q, r *dns.Msg) ([]byte, error) {
	if q.IsEdns0() != nil && r.IsEdns0() == nil {
		r.SetEdns0(dns.MaxMsgSize, false)
	}
	r.Truncate(dns.MaxMsgSize)
	return r.Pack()
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
	q := new(dns.Msg)
	if err := q.Unpack(query); err != nil {
		if len(query) < 2 {
			return nil, ErrShort
		}
		r := new(dns.Msg)
		r.Id = uint16(query[0])<<8 | uint16(query[1])
		r.Response = true
		r.Rcode = dns.RcodeFormatError
		return r.Pack()
	}
	if q.Response {
		return nil, errors.New("dnsd: a response, not a query")
	}
	return PackUDP(q, s.Answer(src, q))
}

// handler adapts a Server to miekg/dns.
type handler struct{ s *Server }

func (h handler) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	var src netip.Addr
	if ua, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		src, _ = netip.AddrFromSlice(ua.IP.To4())
	}
	_ = w.WriteMsg(h.s.Answer(src, q))
}

// Serve answers queries arriving on pc until Shutdown is called on the
// returned server. started, if not nil, is called once it listens.
func (s *Server) Serve(pc net.PacketConn, started func()) *dns.Server {
	srv := &dns.Server{PacketConn: pc, Handler: handler{s}, NotifyStartedFunc: started}
	go func() { _ = srv.ActivateAndServe() }()
	return srv
}
