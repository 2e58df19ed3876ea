package dnsd

import (
	"errors"
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
	opts     Options

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
	return &Server{networks: map[string][]endpoint{}, opts: o}
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
}

// Remove unregisters a container's endpoint on a network.
func (s *Server) Remove(network, container string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.networks[network] = slices.DeleteFunc(s.networks[network], func(e endpoint) bool { return e.container == container })
}

// scopeLocked returns the networks of the container at src: every network
// it has an endpoint on, whichever address it asked from, as Docker scopes
// names by sandbox.
func (s *Server) scopeLocked(src netip.Addr) []string {
	mine := map[string]bool{}
	for _, eps := range s.networks {
		for _, e := range eps {
			if e.addr == src {
				mine[e.container] = true
			}
		}
	}
	var nets []string
	for net, eps := range s.networks {
		if slices.ContainsFunc(eps, func(e endpoint) bool { return mine[e.container] }) {
			nets = append(nets, net)
		}
	}
	slices.Sort(nets)
	return nets
}

// Answer answers query q from a container at src.
func (s *Server) Answer(src netip.Addr, q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	if len(q.Question) != 1 || q.Opcode != dns.OpcodeQuery {
		r.SetRcodeFormatError(q)
		return r
	}
	r.SetReply(q)
	r.Authoritative = true
	r.RecursionAvailable = len(s.opts.Upstreams) > 0
	qs := q.Question[0]
	name := strings.ToLower(dns.Fqdn(qs.Name))

	s.mu.RLock()
	scope := s.scopeLocked(src)
	var addrs []netip.Addr
	var ptr string
	known := false
	for _, network := range scope {
		if network == DefaultBridge {
			continue
		}
		for _, e := range s.networks[network] {
			if matches(name, network, e) {
				known = true
				addrs = append(addrs, e.addr)
			}
			if qs.Qtype == dns.TypePTR {
				if rev, err := dns.ReverseAddr(e.addr.String()); err == nil && rev == name {
					ptr = e.container + "." + network + "."
				}
			}
		}
	}
	s.mu.RUnlock()

	switch {
	case qs.Qtype == dns.TypePTR && ptr != "":
		r.Answer = append(r.Answer, &dns.PTR{Hdr: hdr(qs.Name, dns.TypePTR), Ptr: ptr})
		return r
	case known && qs.Qtype == dns.TypeA:
		s.shuffle(addrs)
		for _, a := range addrs {
			r.Answer = append(r.Answer, &dns.A{Hdr: hdr(qs.Name, dns.TypeA), A: net.IP(a.AsSlice())})
		}
		return r
	case known: // AAAA and the rest: the name exists, no such record
		return r
	}
	return s.forward(q, r)
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
}

// matches reports whether name (fully qualified, lower case) is e's name
// or an alias, bare or followed by the network's name.
func matches(name, network string, e endpoint) bool {
	for _, n := range append([]string{e.container}, e.aliases...) {
		n = strings.ToLower(n)
		if name == n+"." || name == n+"."+strings.ToLower(network)+"." {
			return true
		}
	}
	return false
}

func (s *Server) shuffle(a []netip.Addr) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.opts.Rand.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
}

// forward asks the upstreams, in order, about a name the server does not
// know: NXDOMAIN without upstreams, SERVFAIL when all fail.
func (s *Server) forward(q, r *dns.Msg) *dns.Msg {
	if len(s.opts.Upstreams) == 0 {
		r.Rcode = dns.RcodeNameError
		return r
	}
	for _, u := range s.opts.Upstreams {
		resp, err := s.opts.Exchanger.Exchange(q, u)
		if err == nil && resp != nil && resp.Rcode != dns.RcodeServerFailure {
			resp.Id = q.Id
			return resp
		}
	}
	r.Rcode = dns.RcodeServerFailure
	r.Authoritative = false
	return r
}

// ErrShort is returned by AnswerBytes for a query too short to answer.
var ErrShort = errors.New("dnsd: query shorter than a DNS header")

// AnswerBytes answers a packed query: FORMERR for one that does not unpack
// (with the query's ID when it has one), nothing at all for one shorter
// than an ID.
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
	return s.Answer(src, q).Pack()
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
