package dnsd_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
)

// refServer is the slow, readable reference for the server's indexes: the
// endpoints of each network, sorted by container, scanned on every query,
// as the server once rebuilt its indexes from on every Add.
type refServer struct {
	networks map[string][]refEndpoint
	rnd      *rand.Rand
}

type refEndpoint struct {
	container string
	aliases   []string
	addr      netip.Addr
}

func newRef(rnd *rand.Rand) *refServer {
	return &refServer{networks: map[string][]refEndpoint{}, rnd: rnd}
}

func (r *refServer) add(network, container string, addr netip.Addr, aliases ...string) {
	r.remove(network, container)
	eps := append(r.networks[network], refEndpoint{container, slices.Clone(aliases), addr})
	slices.SortFunc(eps, func(a, b refEndpoint) int { return strings.Compare(a.container, b.container) })
	r.networks[network] = eps
}

func (r *refServer) remove(network, container string) {
	r.networks[network] = slices.DeleteFunc(r.networks[network], func(e refEndpoint) bool { return e.container == container })
}

// answer is what Lookup answers, from a scan of every endpoint.
func (r *refServer) answer(src netip.Addr, q *dns.Msg) *dns.Msg {
	qs := q.Question[0]
	name := strings.ToLower(qs.Name)
	// The querier's networks: those of every container at src.
	var scope []string
	for _, eps := range r.networks {
		for _, e := range eps {
			if e.addr != src {
				continue
			}
			for network, eps2 := range r.networks {
				for _, e2 := range eps2 {
					if e2.container == e.container && !slices.Contains(scope, network) {
						scope = append(scope, network)
					}
				}
			}
		}
	}
	slices.Sort(scope)
	var addrs []netip.Addr
	ptr, known := "", false
	for _, network := range scope {
		if network == dnsd.DefaultBridge {
			continue
		}
		var mine []netip.Addr
		for _, e := range r.networks[network] {
			for _, n := range append([]string{e.container}, e.aliases...) {
				n = strings.ToLower(n)
				if name == n+"." || name == n+"."+strings.ToLower(network)+"." {
					known = true
					if !slices.Contains(mine, e.addr) {
						mine = append(mine, e.addr)
					}
				}
			}
			if rev, _ := dns.ReverseAddr(e.addr.String()); rev == name && ptr == "" && qs.Qtype == dns.TypePTR {
				ptr = e.container + "." + network + "."
			}
		}
		addrs = append(addrs, mine...)
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true // Docker's flags: qr rd ra, not aa
	switch {
	case qs.Qtype == dns.TypePTR && ptr != "":
		m.Answer = append(m.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: qs.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: dnsd.TTL}, Ptr: ptr})
	case known && qs.Qtype == dns.TypeA:
		r.rnd.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
		for _, a := range addrs {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qs.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: dnsd.TTL}, A: a.AsSlice()})
		}
	case known:
	default:
		m.Rcode = dns.RcodeNameError
	}
	return m
}

// The universe of the reference tests: few names and addresses, so that
// endpoints share aliases, addresses and containers across networks.
var (
	uNetworks   = []string{"n1", "N2", "bridge"}
	uContainers = []string{"a", "b", "B", "web"}
	uAliases    = []string{"web", "db", "a", "WEB", "n1"}
	uAddrs      = []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")}
)

// uQueries are every name of the universe, asked for A, AAAA and PTR.
func uQueries() []*dns.Msg {
	var names []string
	for _, n := range append(slices.Clone(uContainers), uAliases...) {
		names = append(names, n+".", strings.ToUpper(n)+".")
		for _, network := range uNetworks {
			names = append(names, n+"."+network+".")
		}
	}
	for _, a := range uAddrs {
		rev, _ := dns.ReverseAddr(a.String())
		names = append(names, rev)
	}
	names = append(names, "nosuch.")
	var qs []*dns.Msg
	for _, n := range names {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypePTR} {
			q := new(dns.Msg)
			q.SetQuestion(n, t)
			qs = append(qs, q)
		}
	}
	return qs
}

// checkAgainstRef asks s and ref every query from every source and fails
// on the first difference.
func checkAgainstRef(t *testing.T, s *dnsd.Server, ref *refServer, qs []*dns.Msg, after string) {
	t.Helper()
	for _, src := range append(slices.Clone(uAddrs), netip.MustParseAddr("10.9.9.9")) {
		for _, q := range qs {
			got, fwd := s.Lookup(src, q)
			want := ref.answer(src, q)
			if fwd || got.String() != want.String() {
				t.Fatalf("after %s: Lookup(%s, %s) =\n%v\nwant\n%v", after, src, q.Question[0].String(), got, want)
			}
		}
	}
}

// runOps applies the operations encoded in ops (4 bytes each) to s and
// ref, checking every answer after each.
func runOps(t *testing.T, ops []byte) {
	s := dnsd.New(dnsd.Options{Rand: rand.New(rand.NewPCG(7, 7))})
	ref := newRef(rand.New(rand.NewPCG(7, 7)))
	qs := uQueries()
	for i := 0; i+4 <= len(ops); i += 4 {
		network := uNetworks[int(ops[i+1])%len(uNetworks)]
		container := uContainers[int(ops[i+2])%len(uContainers)]
		var op string
		if ops[i]%3 == 0 {
			s.Remove(network, container)
			ref.remove(network, container)
			op = fmt.Sprintf("Remove(%s, %s)", network, container)
		} else {
			addr := uAddrs[int(ops[i]>>2)%len(uAddrs)]
			var aliases []string
			for j, a := range uAliases {
				if ops[i+3]&(1<<j) != 0 {
					aliases = append(aliases, a)
				}
			}
			s.Add(network, container, addr, aliases...)
			ref.add(network, container, addr, aliases...)
			op = fmt.Sprintf("Add(%s, %s, %s, %v)", network, container, addr, aliases)
		}
		checkAgainstRef(t, s, ref, qs, fmt.Sprintf("op %d %s", i/4, op))
	}
}

// TestIndexMatchesReference: after each of 150 random Adds and
// Removes (shared aliases and addresses, containers on several networks,
// replaced endpoints), every answer is the reference's, shuffles included.
func TestIndexMatchesReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	ops := make([]byte, 4*150)
	for i := range ops {
		ops[i] = byte(rnd.Uint32())
	}
	runOps(t, ops)
}

// FuzzIndex: the incremental indexes answer as the reference does, for
// any sequence of Adds and Removes.
func FuzzIndex(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 5, 0, 1, 3, 2, 1, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 3, 0, 0, 0, 3, 1, 0, 0})
	f.Add([]byte{1, 2, 0, 0, 1, 2, 1, 0, 4, 0, 2, 2, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 4*64 {
			ops = ops[:4*64]
		}
		runOps(t, ops)
	})
}

// snapshot asks s every query of qs from every source, in order.
func snapshot(s *dnsd.Server, srcs []netip.Addr, qs []*dns.Msg) []string {
	var out []string
	for _, src := range srcs {
		for _, q := range qs {
			out = append(out, s.Answer(src, q).String())
		}
	}
	return out
}

// TestAddThenRemoveRestores: adding an endpoint and removing it again, or
// replacing one and putting it back, leaves every answer as it was (the
// shuffles included: a server that never saw the change, with the same
// seed, answers the same).
func TestAddThenRemoveRestores(t *testing.T) {
	srcs := []netip.Addr{a, b, c, d1, netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("172.18.0.3"), netip.MustParseAddr("172.20.0.2")}
	var qs []*dns.Msg
	for _, n := range []string{"containerA.", "containerB.", "containerB.mybridge.", "db.", "db.backend.", "containerC.", "aaa.", "new.", "d2.",
		"2.0.18.172.in-addr.arpa.", "10.0.18.172.in-addr.arpa.", "2.0.19.172.in-addr.arpa.", "3.0.18.172.in-addr.arpa."} {
		for _, typ := range []uint16{dns.TypeA, dns.TypePTR} {
			q := new(dns.Msg)
			q.SetQuestion(n, typ)
			qs = append(qs, q)
		}
	}
	seeded := func() *dnsd.Server { return server(dnsd.Options{Rand: rand.New(rand.NewPCG(3, 4))}) }
	changes := []struct {
		name     string
		do, undo func(s *dnsd.Server)
	}{
		{"a new container on a new network",
			func(s *dnsd.Server) { s.Add("other", "new", netip.MustParseAddr("172.20.0.2"), "db") },
			func(s *dnsd.Server) { s.Remove("other", "new") }},
		{"a second holder of an alias",
			func(s *dnsd.Server) { s.Add("mybridge", "new", netip.MustParseAddr("172.18.0.3"), "db") },
			func(s *dnsd.Server) { s.Remove("mybridge", "new") }},
		{"a container at another's address, first in PTR order",
			func(s *dnsd.Server) { s.Add("mybridge", "aaa", a, "db") },
			func(s *dnsd.Server) { s.Remove("mybridge", "aaa") }},
		{"a container joining a second network",
			func(s *dnsd.Server) { s.Add("backend", "containerA", netip.MustParseAddr("172.19.0.3")) },
			func(s *dnsd.Server) { s.Remove("backend", "containerA") }},
		{"an endpoint replaced, then put back",
			func(s *dnsd.Server) { s.Add("mybridge", "containerB", netip.MustParseAddr("172.18.0.3"), "new") },
			func(s *dnsd.Server) { s.Add("mybridge", "containerB", b, "db") }},
		{"the last endpoint of a network removed, then put back",
			func(s *dnsd.Server) { s.Remove("backend", "containerC") },
			func(s *dnsd.Server) { s.Add("backend", "containerC", c, "db") }},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			want := snapshot(seeded(), srcs, qs)
			s := seeded()
			tc.do(s)
			changed := seeded()
			tc.do(changed)
			if slices.Equal(snapshot(changed, srcs, qs), want) {
				t.Fatalf("the change made no difference to any answer: a useless case")
			}
			tc.undo(s)
			got := snapshot(s, srcs, qs)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("after undoing, answer %d =\n%s\nwant\n%s", i, got[i], want[i])
				}
			}
		})
	}
}

// addr20k is endpoint i's address among 20 000 (bench/dns.sh's plan).
func addr20k(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{172, 18, byte(i / 250), byte(i%250 + 2)})
}

// add20k registers 20 000 containers on one network, as netyard dnsd does
// with bench/dns.sh's file, with the client at 127.0.0.1.
func add20k(s *dnsd.Server) {
	for i := range 20000 {
		s.Add("net1", "c"+strconv.Itoa(i), addr20k(i))
	}
	s.Add("net1", "_client", netip.MustParseAddr("127.0.0.1"))
}

// TestTwentyThousandEndpoints: 20 000 endpoints register quickly (the
// test would take hours with indexes rebuilt on every Add), each resolves
// by name and address, and removing half leaves the other half answering.
func TestTwentyThousandEndpoints(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	add20k(s)
	client := netip.MustParseAddr("127.0.0.1")
	for i := 0; i < 20000; i += 2 {
		s.Remove("net1", "c"+strconv.Itoa(i))
	}
	for _, i := range []int{0, 1, 2, 9999, 10000, 19998, 19999} {
		name := "c" + strconv.Itoa(i) + "."
		rev, _ := dns.ReverseAddr(addr20k(i).String())
		gotA, gotPTR := addrs(ask(s, client, name, dns.TypeA)), addrs(ask(s, client, rev, dns.TypePTR))
		wantA, wantPTR := []string{addr20k(i).String()}, []string{"c" + strconv.Itoa(i) + ".net1."}
		if i%2 == 0 {
			wantA, wantPTR = nil, nil
		}
		if !slices.Equal(gotA, wantA) || !slices.Equal(gotPTR, wantPTR) {
			t.Errorf("%s = %v and %s = %v, want %v and %v", name, gotA, rev, gotPTR, wantA, wantPTR)
		}
	}
}

// TestAddCostIndependentOfSize: adding and removing one endpoint allocates
// as much with 20 000 endpoints registered as with 10: Add and Remove
// touch only that endpoint's entries.
func TestAddCostIndependentOfSize(t *testing.T) {
	cost := func(s *dnsd.Server) float64 {
		addr := netip.MustParseAddr("172.30.0.2")
		return testing.AllocsPerRun(100, func() {
			s.Add("net1", "extra", addr, "db")
			s.Remove("net1", "extra")
		})
	}
	small := dnsd.New(dnsd.Options{})
	for i := range 10 {
		small.Add("net1", "c"+strconv.Itoa(i), addr20k(i))
	}
	big := dnsd.New(dnsd.Options{})
	add20k(big)
	if cs, cb := cost(small), cost(big); cb > cs+1 {
		t.Errorf("Add+Remove allocates %.1f times with 20 000 endpoints, %.1f with 10", cb, cs)
	}
}

// BenchmarkAdd20000: netyard dnsd's start with 20 000 names, one
// operation.
func BenchmarkAdd20000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		add20k(dnsd.New(dnsd.Options{}))
	}
}

// BenchmarkAddRemove: one endpoint added and removed among 20 000.
func BenchmarkAddRemove(b *testing.B) {
	s := dnsd.New(dnsd.Options{})
	add20k(s)
	addr := netip.MustParseAddr("172.30.0.2")
	b.ReportAllocs()
	for b.Loop() {
		s.Add("net1", "extra", addr, "db")
		s.Remove("net1", "extra")
	}
}

// BenchmarkAddSharedAlias20000: 20 000 containers answering to one alias
// (the worst case: each Add inserts into one sorted list).
func BenchmarkAddSharedAlias20000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := dnsd.New(dnsd.Options{})
		for i := range 20000 {
			s.Add("net1", "c"+strconv.Itoa(i), addr20k(i), "web")
		}
	}
}
