package dnsd_test

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/leak"
)

var (
	a  = netip.MustParseAddr("172.18.0.2")  // containerA on mybridge
	b  = netip.MustParseAddr("172.18.0.10") // containerB on mybridge, alias db
	c  = netip.MustParseAddr("172.19.0.2")  // containerC on backend only
	d1 = netip.MustParseAddr("172.17.0.2")  // on the default bridge
	d2 = netip.MustParseAddr("172.17.0.3")
)

func server(o dnsd.Options) *dnsd.Server {
	s := dnsd.New(o)
	s.Add("mybridge", "containerA", a)
	s.Add("mybridge", "containerB", b, "db")
	s.Add("backend", "containerC", c, "db")
	s.Add("bridge", "d1", d1)
	s.Add("bridge", "d2", d2)
	return s
}

func ask(s *dnsd.Server, src netip.Addr, name string, t uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, t)
	return s.Answer(src, q)
}

func addrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.PTR:
			out = append(out, rr.Ptr)
		}
	}
	return out
}

func TestAnswers(t *testing.T) {
	s := server(dnsd.Options{})
	tests := []struct {
		name  string
		src   netip.Addr
		q     string
		qtype uint16
		rcode int
		want  []string
	}{
		{"by name", a, "containerB.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.10"}},
		{"name.network", a, "containerB.mybridge.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.10"}},
		{"case-insensitive", a, "CONTAINERB.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.10"}},
		{"alias", a, "db.", dns.TypeA, dns.RcodeSuccess, []string{"172.18.0.10"}},
		{"not on my network", a, "containerC.", dns.TypeA, dns.RcodeNameError, nil},
		{"other network's alias holder is not mine", c, "db.", dns.TypeA, dns.RcodeSuccess, []string{"172.19.0.2"}},
		{"AAAA of a known name", a, "containerB.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"PTR", a, "10.0.18.172.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"containerB.mybridge."}},
		{"default bridge resolves no names", d1, "d2.", dns.TypeA, dns.RcodeNameError, nil},
		{"unknown without upstream", a, "example.com.", dns.TypeA, dns.RcodeNameError, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(s, tc.src, tc.q, tc.qtype)
			if r.Rcode != tc.rcode || !slices.Equal(addrs(r), tc.want) {
				t.Errorf("%s from %s = %s %v, want %s %v", tc.q, tc.src, dns.RcodeToString[r.Rcode], addrs(r), dns.RcodeToString[tc.rcode], tc.want)
			}
			for _, rr := range r.Answer {
				if rr.Header().Ttl != dnsd.TTL {
					t.Errorf("TTL %d, want %d", rr.Header().Ttl, dnsd.TTL)
				}
			}
		})
	}
}

func TestSharedAliasShuffledBySeed(t *testing.T) {
	order := func(seed uint64) []string {
		s := dnsd.New(dnsd.Options{Rand: rand.New(rand.NewPCG(seed, 0))})
		for i, n := range []string{"w1", "w2", "w3", "w4"} {
			s.Add("web", n, netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 2)}), "web")
		}
		var all []string
		for range 4 {
			all = append(all, addrs(ask(s, netip.MustParseAddr("10.0.0.2"), "web.", dns.TypeA))...)
		}
		return all
	}
	if !slices.Equal(order(1), order(1)) {
		t.Error("the same seed gave different orders")
	}
	if slices.Equal(order(1), order(2)) {
		t.Error("seeds 1 and 2 gave the same orders")
	}
	if n := len(order(1)); n != 16 {
		t.Errorf("got %d answers, want 4 x 4", n)
	}
}

type fakeUpstream map[string]*dns.Msg

func (f fakeUpstream) Exchange(m *dns.Msg, u string) (*dns.Msg, error) {
	r := f[u]
	if r == nil {
		return nil, errors.New("unreachable")
	}
	return r.Copy(), nil
}

func TestUpstreams(t *testing.T) {
	good := new(dns.Msg)
	good.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IP{192, 0, 2, 1}}}
	s := server(dnsd.Options{Upstreams: []string{"u1:53", "u2:53", "u3:53", "u4:53"}, Exchanger: fakeUpstream{"u3:53": good, "u4:53": good}})
	if r := ask(s, a, "example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("third upstream's answer not relayed: %v", r)
	}
	s = server(dnsd.Options{Upstreams: []string{"u1:53", "u2:53", "u3:53", "u4:53"}, Exchanger: fakeUpstream{"u4:53": good}})
	if r := ask(s, a, "example.com.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("a fourth upstream was asked, or failure not SERVFAIL: %s", dns.RcodeToString[r.Rcode])
	}
}

// TestServeUDP serves on a loopback socket, answers a real query, answers a
// malformed one with FORMERR and keeps answering.
func TestServeUDP(t *testing.T) {
	leak.Check(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := server(dnsd.Options{})
	s.Add("lo", "me", netip.MustParseAddr("127.0.0.1"))
	s.Add("lo", "peer", netip.MustParseAddr("127.0.0.9"))
	started := make(chan struct{})
	srv := s.Serve(pc, func() { close(started) })
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })

	conn, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	garbage := []byte{0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xff}
	if _, err := conn.Write(garbage); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil || r.Rcode != dns.RcodeFormatError || r.Id != 0xabcd {
		t.Errorf("malformed query answered %v %v", r, err)
	}
	q := new(dns.Msg)
	q.SetQuestion("peer.", dns.TypeA)
	resp, err := dns.Exchange(q, pc.LocalAddr().String())
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "127.0.0.9" {
		t.Errorf("after the malformed query: %v %v", resp, err)
	}
}

// FuzzAnswerBytes: any bytes get FORMERR, an answer, or nothing, and never
// a panic.
func FuzzAnswerBytes(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("containerB.", dns.TypeA)
	b1, _ := q.Pack()
	q.SetQuestion("10.0.18.172.in-addr.arpa.", dns.TypePTR)
	b2, _ := q.Pack()
	f.Add(b1)
	f.Add(b2)
	f.Add([]byte{1, 2, 3})
	s := server(dnsd.Options{})
	f.Fuzz(func(t *testing.T, query []byte) {
		out, err := s.AnswerBytes(a, query)
		if err != nil {
			return
		}
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil {
			t.Fatalf("the answer does not unpack: %v", err)
		}
		if len(query) >= 2 && r.Id != uint16(query[0])<<8|uint16(query[1]) {
			t.Fatalf("answer ID %#x for query ID %#x", r.Id, uint16(query[0])<<8|uint16(query[1]))
		}
	})
}

// BenchmarkAnswerBytes: one A query among 1000 containers, wire to wire,
// as the gateway's stack hands it over.
func BenchmarkAnswerBytes(b *testing.B) {
	s := dnsd.New(dnsd.Options{})
	for i := range 1000 {
		s.Add("net1", "c"+strconv.Itoa(i), netip.AddrFrom4([4]byte{172, 18, byte(i >> 8), byte(i)}))
	}
	q := new(dns.Msg)
	q.SetQuestion("c500.", dns.TypeA)
	wire, _ := q.Pack()
	src := netip.AddrFrom4([4]byte{172, 18, 0, 7})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AnswerBytes(src, wire); err != nil {
			b.Fatal(err)
		}
	}
}
