package gateway_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/nat/gateway"
)

// TestDNSAnswersFromAddressAsked: a query to any of the gateway's bridge
// addresses is answered from that address, even when it is another
// network's gateway (a reply from another address is one the client's
// resolver drops).
func TestDNSAnswersFromAddressAsked(t *testing.T) {
	for _, server := range []netip.Addr{gwAddr, gw2Addr} {
		t.Run(server.String(), func(t *testing.T) {
			w := newWorld(t, gateway.Config{})
			// The stub resolver drops an answer from another address than
			// it asked, so an answer at all is the proof; check the
			// frame too.
			r, _ := w.query(server, "a")
			if len(r.Answer) != 1 {
				t.Fatalf("answer %v, want a's address", r)
			}
			var from []netip.Addr
			for _, f := range w.br.drain() {
				if u, _ := decode(f).Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil && u.SrcPort == 53 {
					from = append(from, netip.AddrFrom4([4]byte(ipOf(f).SrcIP)))
				}
			}
			if len(from) != 1 || from[0] != server {
				t.Errorf("answers came from %v, want %v", from, server)
			}
		})
	}
}

// dnsQuery builds a query frame from src to dst:53 on the bridge.
func dnsQuery(t testing.TB, src, dst netip.AddrPort, name string, edns uint16) []byte {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	q.Id = 77
	if edns > 0 {
		q.SetEdns0(edns, false)
	}
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = u.SetNetworkLayerForChecksum(ip)
	return frame(t, ctrMAC, gwMAC, ip, u, gopacket.Payload(wire))
}

// TestDNSNeverAnswersBroadcasts: a query from a broadcast, multicast or
// martian source (or to a broadcast address) gets no answer, and the drop
// is counted and traced.
func TestDNSNeverAnswersBroadcasts(t *testing.T) {
	for _, c := range []struct {
		name     string
		src, dst string
		counter  func(gateway.Stats) uint64
	}{
		{"directed broadcast source", "172.18.255.255:4000", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.MartianSource }},
		{"another network's broadcast", "172.19.255.255:4000", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.MartianSource }},
		{"limited broadcast source", "255.255.255.255:4000", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.MartianSource }},
		{"multicast source", "224.0.0.251:5353", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.MartianSource }},
		{"this-network source", "0.0.0.0:4000", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.MartianSource }},
		{"to the directed broadcast", "172.18.0.2:4000", "172.18.255.255:53", func(s gateway.Stats) uint64 { return s.DNSDropped }},
		{"to the limited broadcast", "172.18.0.2:4000", "255.255.255.255:53", func(s gateway.Stats) uint64 { return s.DNSDropped }},
		{"from port 0", "172.18.0.2:0", "172.18.0.1:53", func(s gateway.Stats) uint64 { return s.DNSDropped }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, gateway.Config{})
			fr := dnsQuery(t, netip.MustParseAddrPort(c.src), netip.MustParseAddrPort(c.dst), "a", 0)
			if c.dst == "255.255.255.255:53" || strings.HasPrefix(c.dst, "172.18.255.255") {
				copy(fr, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			}
			w.gw.Input(1, fr)
			w.e.Advance(time.Second)
			for _, f := range w.br.drain() {
				if u, _ := decode(f).Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil && u.SrcPort == 53 {
					t.Errorf("answered: %v", decode(f))
				}
			}
			st := w.gw.Stats()
			if got := c.counter(st); got != 1 || st.DNSAnswered != 0 {
				t.Errorf("stats %+v: want the drop counted once, nothing answered", st)
			}
			if n := w.gatewayDrops(); n != 1 {
				t.Errorf("%d drops traced, want 1:\n%s", n, w.narration())
			}
		})
	}
}

// TestDNSTruncates: an answer too big for UDP leaves in one frame that
// fits the leg, with TC set: 512 bytes for a query without EDNS0, the
// client's EDNS0 size capped at what fits the MTU unfragmented.
func TestDNSTruncates(t *testing.T) {
	for _, c := range []struct {
		name    string
		edns    uint16
		maxWire int
	}{{"no EDNS0", 0, 512}, {"EDNS0 1232", 1232, 1232}, {"EDNS0 65000", 65000, 1472}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, gateway.Config{})
			for i := range 150 { // 150 A records: about 2.4 KB
				w.dns.Add("net1", fmt.Sprintf("web%d", i), netip.AddrFrom4([4]byte{172, 18, 1, byte(i)}), "web")
			}
			w.gw.Input(1, dnsQuery(t, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(gwAddr, 53), "web", c.edns))
			w.e.Advance(time.Second)
			var answers []*dns.Msg
			for _, f := range w.br.drain() {
				u, _ := decode(f).Layer(layers.LayerTypeUDP).(*layers.UDP)
				if u == nil || u.SrcPort != 53 {
					continue
				}
				if len(f) > 14+gateway.DefaultMTU {
					t.Errorf("answer frame of %d bytes, over the MTU", len(f))
				}
				if len(u.Payload) > c.maxWire {
					t.Errorf("answer of %d bytes, want at most %d", len(u.Payload), c.maxWire)
				}
				m := new(dns.Msg)
				if err := m.Unpack(u.Payload); err != nil {
					t.Fatal(err)
				}
				answers = append(answers, m)
			}
			if len(answers) != 1 || !answers[0].Truncated || answers[0].Id != 77 || len(answers[0].Answer) == 0 {
				t.Fatalf("answers %v, want one with TC set", answers)
			}
			if !strings.Contains(w.narration(), "web. A") || !strings.Contains(w.narration(), "(NOERROR, TC)") {
				t.Errorf("narration does not say TC:\n%s", w.narration())
			}
		})
	}
}

// TestDNSForwarding: a name the server does not know goes to the
// upstreams in order, each waited for UpstreamTimeout; the first answer
// that is not SERVFAIL or REFUSED is relayed with the client's ID,
// SERVFAIL after the last.
func TestDNSForwarding(t *testing.T) {
	const u1, u2, u3 = "192.168.56.53", "192.168.56.54", "192.168.56.55"
	for _, c := range []struct {
		name      string
		behaviour []string
		rcode     int
		took      time.Duration // at least
		timeouts  uint64
		failures  uint64
	}{
		{"first answers", []string{answers}, dns.RcodeSuccess, 0, 0, 0},
		{"first silent", []string{silent, answers}, dns.RcodeSuccess, gateway.UpstreamTimeout, 1, 0},
		{"first SERVFAIL", []string{servfail, answers}, dns.RcodeSuccess, 0, 0, 1},
		{"first port unreachable", []string{closed, answers}, dns.RcodeSuccess, 0, 0, 1},
		{"first absent", []string{"absent", answers}, dns.RcodeSuccess, stack.ARPRetries * stack.ARPRetry, 0, 1},
		{"only SERVFAIL", []string{servfail}, dns.RcodeServerFailure, 0, 0, 1},
		{"all silent", []string{silent, silent, silent}, dns.RcodeServerFailure, 3 * gateway.UpstreamTimeout, 3, 0},
		{"silent, SERVFAIL, answers", []string{silent, servfail, answers}, dns.RcodeSuccess, gateway.UpstreamTimeout, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			addrs := []string{u1, u2, u3}[:len(c.behaviour)]
			var ups []string
			for _, a := range addrs {
				ups = append(ups, a+":53")
			}
			w := newWorld(t, gateway.Config{}, ups...)
			for i, b := range c.behaviour {
				if b != "absent" {
					w.upstream(addrs[i], b, nil)
				}
			}
			r, took := w.query(gwAddr, "outside.test")
			if r.Rcode != c.rcode {
				t.Fatalf("rcode %s, want %s:\n%s", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], w.narration())
			}
			if c.rcode == dns.RcodeSuccess && (len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.1.2.3") {
				t.Errorf("answer %v, want outside.test A 10.1.2.3", r)
			}
			if took < c.took || took > c.took+time.Second {
				t.Errorf("answered after %v, want %v and a few hops", took, c.took)
			}
			st := w.gw.Stats()
			want := gateway.Stats{DNSAnswered: 1, DNSForwarded: 1, DNSUpstreamTimeouts: c.timeouts, DNSUpstreamFailures: c.failures}
			if c.rcode == dns.RcodeSuccess {
				want.DNSRelayed = 1
			} else {
				want.DNSServFail = 1
			}
			got := gateway.Stats{DNSAnswered: st.DNSAnswered, DNSForwarded: st.DNSForwarded, DNSRelayed: st.DNSRelayed, DNSServFail: st.DNSServFail,
				DNSUpstreamTimeouts: st.DNSUpstreamTimeouts, DNSUpstreamFailures: st.DNSUpstreamFailures}
			if got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
			if p := w.gw.Pending(); p.DNSQueries != 0 {
				t.Errorf("%d queries still waiting", p.DNSQueries)
			}
			// Every query left from the LAN address, to the upstreams in order.
			var to []string
			for _, f := range w.lan.drain() {
				p := decode(f)
				if u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil && u.DstPort == 53 {
					ip := ipOf(f)
					if !ip.SrcIP.Equal(lanAddr.AsSlice()) {
						t.Errorf("query to an upstream from %s, want %s", ip.SrcIP, lanAddr)
					}
					to = append(to, ip.DstIP.String())
				}
			}
			var reached []string // an absent upstream's query never leaves: ARP fails
			for i, a := range addrs {
				if c.behaviour[i] != "absent" {
					reached = append(reached, a)
				}
			}
			if want := strings.Join(reached[:min(len(to), len(reached))], " "); strings.Join(to, " ") != want || len(to) == 0 {
				t.Errorf("queries went to %v, want %v in order", to, reached)
			}
		})
	}
}

// TestDNSForwardingDoesNotBlock: while a query waits for a silent
// upstream, the gateway goes on routing: a ping to the outside is
// answered long before the query times out.
func TestDNSForwardingDoesNotBlock(t *testing.T) {
	w := newWorld(t, gateway.Config{}, "192.168.56.53:53", "192.168.56.54:53")
	w.upstream("192.168.56.53", silent, nil)
	w.upstream("192.168.56.54", answers, nil)
	var answered time.Duration
	if _, err := w.client.Query(gwAddr, "outside.test", dns.TypeA, func(*dns.Msg, error) { answered = w.e.Elapsed() }); err != nil {
		t.Fatal(err)
	}
	w.e.Advance(100 * time.Millisecond)
	var pong *stack.PingResult
	if _, err := w.client.Ping(netip.MustParseAddr("192.168.56.54"), 1, 1, 56, func(r stack.PingResult) { pong = &r }); err != nil {
		t.Fatal(err)
	}
	w.e.Advance(time.Second)
	if pong == nil || !pong.Reply || answered != 0 {
		t.Fatalf("ping %+v (answer at %v): want a reply while the query waits", pong, answered)
	}
	w.e.Advance(10 * time.Second)
	if answered < gateway.UpstreamTimeout {
		t.Errorf("answered at %v, want after the first upstream's timeout", answered)
	}
}

// TestDNSForwardsBounded: with MaxDNSForwards waiting, one more query is
// answered REFUSED at once, counted; the waiting ones go on.
func TestDNSForwardsBounded(t *testing.T) {
	w := newWorld(t, gateway.Config{MaxDNSForwards: 2}, "192.168.56.53:53")
	w.upstream("192.168.56.53", silent, nil)
	var rcodes []int
	for i := range 3 {
		if _, err := w.client.Query(gwAddr, fmt.Sprintf("n%d.outside.test", i), dns.TypeA, func(m *dns.Msg, _ error) { rcodes = append(rcodes, m.Rcode) }); err != nil {
			t.Fatal(err)
		}
	}
	w.e.Advance(time.Second)
	if len(rcodes) != 1 || rcodes[0] != dns.RcodeRefused {
		t.Fatalf("after a second: rcodes %v, want one REFUSED", rcodes)
	}
	if p := w.gw.Pending(); p.DNSQueries != 2 {
		t.Errorf("%d queries waiting, want 2", p.DNSQueries)
	}
	w.e.Advance(10 * time.Second)
	st := w.gw.Stats()
	if len(rcodes) != 3 || rcodes[1] != dns.RcodeServerFailure || rcodes[2] != dns.RcodeServerFailure || st.DNSRefused != 1 || st.DNSServFail != 2 {
		t.Errorf("rcodes %v, stats %+v: want REFUSED, SERVFAIL, SERVFAIL", rcodes, st)
	}
	if n := w.gatewayDrops(); n != 1 {
		t.Errorf("%d drops traced, want the refusal:\n%s", n, w.narration())
	}
}

// TestDNSStrayAnswers: on the socket a query went upstream from, only the
// upstream asked, with the query's ID and question, is believed; the rest
// is dropped and counted, and the real answer still gets through.
func TestDNSStrayAnswers(t *testing.T) {
	w := newWorld(t, gateway.Config{}, "192.168.56.53:53")
	spoofer := w.host("spoofer", w.lan, []byte{2, 0, 0, 0, 0x66, 6}, netip.MustParsePrefix("192.168.56.66/24"))
	spoof, err := spoofer.ListenUDP(53)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spoofer.Ping(lanAddr, 1, 1, 0, func(stack.PingResult) {}); err != nil { // ARP both ways
		t.Fatal(err)
	}
	w.e.Advance(time.Second)
	answer := func(q *dns.Msg, a string, edit func(m *dns.Msg)) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A " + a)
		m.Answer = append(m.Answer, rr)
		edit(m)
		return m
	}
	w.upstream("192.168.56.53", "", func(q *dns.Msg, reply func(*dns.Msg, time.Duration)) {
		to := netip.AddrPortFrom(lanAddr, 0)
		for _, f := range w.lan.frames { // the port the query came from
			if u, _ := decode(f).Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil && u.DstPort == 53 {
				to = netip.AddrPortFrom(lanAddr, uint16(u.SrcPort))
			}
		}
		b, _ := answer(q, "6.6.6.6", func(*dns.Msg) {}).Pack()
		_ = spoof.SendTo(to, b)                                                           // another address
		reply(answer(q, "6.6.6.7", func(m *dns.Msg) { m.Id++ }), 0)                       // another ID
		reply(answer(q, "6.6.6.8", func(m *dns.Msg) { m.Question[0].Name = "evil." }), 0) // another question
		reply(answer(q, "10.1.2.3", func(*dns.Msg) {}), 10*time.Millisecond)
	})
	r, _ := w.query(gwAddr, "outside.test")
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.1.2.3" {
		t.Fatalf("answer %v, want the upstream's", r)
	}
	if st := w.gw.Stats(); st.DNSStray != 3 || st.DNSRelayed != 1 {
		t.Errorf("stats %+v: want 3 stray answers and 1 relayed", st)
	}
}

// TestDNSRelayTruncates: an upstream's answer too big for the client's UDP
// is relayed cut to 512 bytes with TC set.
func TestDNSRelayTruncates(t *testing.T) {
	w := newWorld(t, gateway.Config{}, "192.168.56.53:53")
	w.upstream("192.168.56.53", "", func(q *dns.Msg, reply func(*dns.Msg, time.Duration)) {
		r := new(dns.Msg)
		r.SetReply(q)
		for i := range 120 {
			rr, _ := dns.NewRR(fmt.Sprintf("%s 60 IN A 10.1.%d.%d", q.Question[0].Name, i/250, i%250))
			r.Answer = append(r.Answer, rr)
		}
		reply(r, 0)
	})
	r, _ := w.query(gwAddr, "big.outside.test")
	if !r.Truncated || r.Id == 0 {
		t.Errorf("answer TC=%v, want truncated", r.Truncated)
	}
	for _, f := range w.br.drain() {
		if u, _ := decode(f).Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil && u.SrcPort == 53 && len(u.Payload) > 512 {
			t.Errorf("relayed %d bytes to a client without EDNS0", len(u.Payload))
		}
	}
}
