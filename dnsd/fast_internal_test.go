package dnsd

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// fastWorld is a server with the cases the fast path must tell apart: a
// name with one address, an alias with several (shuffled), a name on two
// networks at one address, the default bridge, and two containers at one
// address (their networks merged).
func fastWorld() *Server {
	s := New(Options{})
	s.Add("net1", "web", netip.MustParseAddr("172.18.0.2"), "www", "Front_1")
	s.Add("net1", "db", netip.MustParseAddr("172.18.0.3"), "pool")
	s.Add("net1", "db2", netip.MustParseAddr("172.18.0.4"), "pool")
	s.Add("net1", "client", netip.MustParseAddr("172.18.0.9"))
	s.Add("net2", "client", netip.MustParseAddr("172.19.0.9"))
	s.Add("net2", "both", netip.MustParseAddr("172.19.0.5"))
	s.Add("net1", "both", netip.MustParseAddr("172.18.0.5"))
	s.Add("bridge", "client", netip.MustParseAddr("172.17.0.9"))
	s.Add("bridge", "other", netip.MustParseAddr("172.17.0.10"))
	s.Add("net1", "v6", netip.MustParseAddr("fd00::6"))
	s.Add("net3", "twin1", netip.MustParseAddr("10.0.0.1"))
	s.Add("net4", "twin2", netip.MustParseAddr("10.0.0.1"))
	return s
}

// fastSources are the queriers: a container on two networks, one with no
// endpoint, two containers at one address.
var fastSources = []netip.Addr{
	netip.MustParseAddr("172.18.0.9"),
	netip.MustParseAddr("172.19.0.9"),
	netip.MustParseAddr("192.0.2.1"),
	netip.MustParseAddr("10.0.0.1"),
}

func query(name string, t uint16, edit func(*dns.Msg)) []byte {
	q := new(dns.Msg)
	q.SetQuestion(name, t)
	q.Id = 0x1234
	if edit != nil {
		edit(q)
	}
	b, err := q.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

func fastQueries() [][]byte {
	var qs [][]byte
	for _, n := range []string{"web.", "WEB.net1.", "www.", "front_1.", "pool.", "db.", "both.", "both.net2.",
		"other.", "v6.", "twin1.", "twin2.", "nosuch.", "web.net2.", "a-b.c.", "x."} {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypePTR} {
			qs = append(qs, query(n, t, nil))
		}
	}
	qs = append(qs,
		query("web.", dns.TypeA, func(q *dns.Msg) { q.RecursionDesired = false }),
		query("web.", dns.TypeA, func(q *dns.Msg) { q.CheckingDisabled = true }),
		query("web.", dns.TypeA, func(q *dns.Msg) { q.AuthenticatedData = true }),
		query("web.", dns.TypeA, func(q *dns.Msg) { q.SetEdns0(1232, false) }),
		query("web.", dns.TypeA, func(q *dns.Msg) { q.Opcode = dns.OpcodeStatus }),
		query("web.", dns.TypeA, func(q *dns.Msg) { q.Question[0].Qclass = dns.ClassCHAOS }),
		query("2.0.18.172.in-addr.arpa.", dns.TypePTR, nil),
		query(".", dns.TypeA, nil),
		query("w\\.eb.", dns.TypeA, nil),
	)
	return qs
}

// TestFastMatchesGeneral: whatever the fast path answers, it answers with
// the general path's bytes; and it answers the plain A, AAAA and NXDOMAIN
// cases it claims.
func TestFastMatchesGeneral(t *testing.T) {
	s := fastWorld()
	answered := 0
	for _, src := range fastSources {
		for _, q := range fastQueries() {
			fast, ok := s.fastAnswer(nil, src, q)
			if !ok {
				continue
			}
			answered++
			general, err := s.generalAnswerBytes(src, q)
			if err != nil {
				t.Fatalf("%v %x: general path: %v", src, q, err)
			}
			if !bytes.Equal(fast, general) {
				var m dns.Msg
				_ = m.Unpack(q)
				t.Errorf("%v %v:\nfast    %x\ngeneral %x", src, m.Question, fast, general)
			}
		}
	}
	client := fastSources[0]
	for _, c := range []struct {
		name string
		t    uint16
		want bool
	}{
		{"web.", dns.TypeA, true}, {"WEB.net1.", dns.TypeA, true}, {"web.", dns.TypeAAAA, true},
		{"nosuch.", dns.TypeA, true}, {"pool.", dns.TypeA, false}, {"both.", dns.TypeA, false},
		{"web.", dns.TypeMX, false}, {"v6.", dns.TypeA, false},
	} {
		if _, ok := s.fastAnswer(nil, client, query(c.name, c.t, nil)); ok != c.want {
			t.Errorf("fast path takes %s %s: %v, want %v", c.name, dns.TypeToString[c.t], ok, c.want)
		}
	}
	if _, ok := s.fastAnswer(nil, fastSources[3], query("twin1.", dns.TypeA, nil)); ok {
		t.Error("fast path answers for an address two containers share")
	}
	up := New(Options{Upstreams: []string{"192.0.2.53:53"}})
	if _, ok := up.fastAnswer(nil, client, query("nosuch.", dns.TypeA, nil)); ok {
		t.Error("fast path answers NXDOMAIN for a name it should forward")
	}
	if answered < 20 {
		t.Errorf("fast path answered %d queries, want 20 at least", answered)
	}
}

// TestFastAllocatesNothing: a known A query answered into a reused buffer
// allocates nothing.
func TestFastAllocatesNothing(t *testing.T) {
	s := fastWorld()
	q := query("web.net1.", dns.TypeA, nil)
	nx := query("nosuch.", dns.TypeA, nil)
	buf := make([]byte, 0, dns.MinMsgSize)
	for _, c := range [][]byte{q, nx} {
		if n := testing.AllocsPerRun(1000, func() {
			if _, ok := s.fastAnswer(buf[:0], fastSources[0], c); !ok {
				t.Fatal("not on the fast path")
			}
		}); n != 0 {
			t.Errorf("fastAnswer allocates %v times a query, want 0", n)
		}
	}
}

// FuzzFastAnswer: on any bytes, the fast path answers exactly what the
// general path would, or leaves the query to it, and never panics.
func FuzzFastAnswer(f *testing.F) {
	for _, q := range fastQueries() {
		f.Add(q, uint8(0))
	}
	f.Add([]byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'e', 'b', 0xc0, 12, 0, 1, 0, 1}, uint8(1))
	f.Add([]byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'e', 'b', 0, 0, 1, 0, 1, 0}, uint8(2))
	s := fastWorld()
	f.Fuzz(func(t *testing.T, q []byte, who uint8) {
		src := fastSources[int(who)%len(fastSources)]
		fast, ok := s.fastAnswer(nil, src, q)
		if !ok {
			return
		}
		general, err := s.generalAnswerBytes(src, q)
		if err != nil || !bytes.Equal(fast, general) {
			t.Fatalf("query %x from %v:\nfast    %x\ngeneral %x (%v)", q, src, fast, general, err)
		}
	})
}
