package dnsd_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
)

// fakeUpstreams answers forwarded queries by upstream: an rcode and an
// address, an error, or nothing at all (a dead upstream).
type fakeUpstreams struct {
	answer map[netip.AddrPort]func(q *dns.Msg) (*dns.Msg, error) // nil entry: never answers
	asked  []netip.AddrPort
}

func (f *fakeUpstreams) Exchange(q *dns.Msg, up netip.AddrPort, done func(*dns.Msg, error)) func() {
	f.asked = append(f.asked, up)
	if a := f.answer[up]; a != nil {
		done(a(q)) // at once, as a send error would: the resolver must cope
	}
	return func() {}
}

var (
	up1 = netip.MustParseAddrPort("192.168.56.12:53")
	up2 = netip.MustParseAddrPort("192.168.56.99:53")
)

func newResolver(t *testing.T, ups []netip.AddrPort, f *fakeUpstreams, clk clock.Clock) (*dnsd.Server, *dnsd.Resolver) {
	t.Helper()
	s := dnsd.New(dnsd.Options{})
	s.Add("mybridge", "a", netip.MustParseAddr("172.18.0.2"))
	s.Add("mybridge", "b", netip.MustParseAddr("172.18.0.3"), "web")
	s.Add("other", "c", netip.MustParseAddr("172.19.0.2"))
	return s, dnsd.NewResolver(dnsd.ResolverOptions{Server: s, Container: "a", Host: "host1", Upstreams: ups, Transport: f, Clock: clk})
}

func askR(r *dnsd.Resolver, name string, qtype uint16) (got *dns.Msg, n int) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	r.Serve(q, dnsd.Client{Addr: netip.MustParseAddrPort("127.0.0.1:40000")}, func(m *dns.Msg) { got = m; n++ })
	return got, n
}

func TestResolverScopesByContainerNow(t *testing.T) {
	f := &fakeUpstreams{}
	s, r := newResolver(t, nil, f, clock.NewManual())
	m, _ := askR(r, "web", dns.TypeA)
	if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Authoritative || !m.RecursionAvailable || !m.RecursionDesired || !m.Response {
		t.Fatalf("web from a = %v, want one A with qr rd ra, not aa", m)
	}
	if m, _ := askR(r, "c", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("c (another network) from a = %v, want NXDOMAIN", m)
	}
	s.Add("other", "a", netip.MustParseAddr("172.19.0.3")) // network connect
	if m, _ := askR(r, "c", dns.TypeA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("c after connecting a to other = %v, want its A", m)
	}
	s.Remove("mybridge", "a") // network disconnect
	if m, _ := askR(r, "web", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("web after disconnecting a from mybridge = %v, want NXDOMAIN", m)
	}
	if m, _ := askR(r, "c", dns.TypeMX); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Fatalf("MX c = %v, want Docker's implicit MX: NOERROR, no records", m)
	}
	if len(f.asked) != 0 {
		t.Errorf("asked upstreams %v without any", f.asked)
	}
}

func TestResolverForwards(t *testing.T) {
	clk := clock.NewManual()
	f := &fakeUpstreams{answer: map[netip.AddrPort]func(*dns.Msg) (*dns.Msg, error){
		up1: func(q *dns.Msg) (*dns.Msg, error) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Authoritative = true
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: netip.MustParseAddr("192.168.56.50").AsSlice()})
			return m, nil
		},
	}}
	_, r := newResolver(t, []netip.AddrPort{up2, up1}, f, clk)
	m, n := askR(r, "outside.test", dns.TypeA)
	if n != 0 {
		t.Fatalf("answered %v before the dead upstream timed out", m)
	}
	clk.Advance(dnsd.UpstreamTimeout - time.Millisecond)
	if n != 0 {
		t.Fatalf("gave up on %v before %v", up2, dnsd.UpstreamTimeout)
	}
	var got *dns.Msg
	q := new(dns.Msg)
	q.SetQuestion("outside.test.", dns.TypeA)
	r.Serve(q, dnsd.Client{}, func(m *dns.Msg) { got = m })
	clk.Advance(dnsd.UpstreamTimeout)
	if got == nil || len(got.Answer) != 1 || got.Answer[0].Header().Ttl != 300 || got.Id != q.Id {
		t.Fatalf("relayed %v, want the upstream's answer as it gave it, with the query's ID", got)
	}
	if st := r.Stats(); st.Timeouts != 2 || st.Relayed != 2 || st.Forwarded != 2 {
		t.Errorf("stats %+v, want 2 forwarded, 2 timeouts, 2 relayed", st)
	}
}

func TestResolverDeadUpstreamsServFail(t *testing.T) {
	clk := clock.NewManual()
	f := &fakeUpstreams{answer: map[netip.AddrPort]func(*dns.Msg) (*dns.Msg, error){
		up1: func(*dns.Msg) (*dns.Msg, error) { return nil, errors.New("port unreachable from 192.168.56.12") },
	}}
	_, r := newResolver(t, []netip.AddrPort{up1, up2}, f, clk)
	var got *dns.Msg
	q := new(dns.Msg)
	q.SetQuestion("outside.test.", dns.TypeA)
	r.Serve(q, dnsd.Client{}, func(m *dns.Msg) { got = m })
	clk.Advance(dnsd.UpstreamTimeout)
	if got == nil || got.Rcode != dns.RcodeServerFailure {
		t.Fatalf("after every upstream failed: %v, want SERVFAIL as current moby answers", got)
	}
	if len(f.asked) != 2 {
		t.Errorf("asked %v, want both upstreams in order", f.asked)
	}
}

func TestZone(t *testing.T) {
	z := dnsd.NewZone(map[string]netip.Addr{"Outside.Test": netip.MustParseAddr("192.168.56.12")})
	q := new(dns.Msg)
	q.SetQuestion("outside.test.", dns.TypeA)
	if m := z.Answer(q); len(m.Answer) != 1 || !m.Authoritative || m.RecursionAvailable || m.Answer[0].Header().Ttl != dnsd.TTL {
		t.Fatalf("A outside.test = %v, want one A, aa, no ra", m)
	}
	q.SetQuestion("outside.test.", dns.TypeMX)
	if m := z.Answer(q); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Fatalf("MX outside.test = %v, want NOERROR without records", m)
	}
	q.SetQuestion("db.", dns.TypeA)
	if m := z.Answer(q); m.Rcode != dns.RcodeNameError || !m.Authoritative {
		t.Fatalf("A db = %v, want NXDOMAIN, aa", m)
	}
}

// FuzzResolverBytes feeds the embedded resolver arbitrary messages: it
// answers each at most once (FORMERR for what does not unpack), never
// panics, and what it sends back unpacks.
func FuzzResolverBytes(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("web.", dns.TypeA)
	b, _ := q.Pack()
	f.Add(b, false)
	q.SetQuestion("outside.test.", dns.TypeMX)
	q.SetEdns0(4096, true)
	b, _ = q.Pack()
	f.Add(b, true)
	f.Add([]byte{0, 1}, false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		up := &fakeUpstreams{answer: map[netip.AddrPort]func(*dns.Msg) (*dns.Msg, error){
			up1: func(q *dns.Msg) (*dns.Msg, error) { m := new(dns.Msg); m.SetReply(q); return m, nil },
		}}
		_, r := newResolver(t, []netip.AddrPort{up1}, up, clock.NewManual())
		n := 0
		will := r.ServeBytes(b, dnsd.Client{TCP: tcp}, func(w []byte) {
			n++
			if err := new(dns.Msg).Unpack(w); err != nil {
				t.Fatalf("answer does not unpack: %v", err)
			}
		})
		if n > 1 || will != (n == 1) { // the fake upstream answers at once
			t.Fatalf("answered %d times, ServeBytes said %v", n, will)
		}
	})
}

// FuzzZoneBytes feeds the LAN's DNS server arbitrary messages.
func FuzzZoneBytes(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("outside.test.", dns.TypeA)
	b, _ := q.Pack()
	f.Add(b)
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		z := dnsd.NewZone(map[string]netip.Addr{"outside.test": netip.MustParseAddr("192.168.56.12")})
		w, err := z.AnswerBytes(b)
		if err == nil {
			if err := new(dns.Msg).Unpack(w); err != nil {
				t.Fatalf("answer does not unpack: %v", err)
			}
		}
	})
}
