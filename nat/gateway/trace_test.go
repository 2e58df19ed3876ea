package gateway_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
	"github.com/netyard/netyard/nat/gateway"
)

// checkFields fails for any event missing a field its op or kind sets.
func checkFields(t *testing.T, events []trace.Event) {
	t.Helper()
	for _, e := range events {
		if miss := tracetest.Missing(e); len(miss) > 0 {
			t.Errorf("%s: missing %v", trace.Narrate(e), miss)
		}
	}
}

// TestRoutedFields: a routed packet carries its flow as it arrived, as it
// left translated, its TCP flags and data, the leg out, and what it did to
// its NAT flow, so a program reads the translation from fields.
func TestRoutedFields(t *testing.T) {
	r := newTracedRig(t)
	r.tcpExchange(t)
	var got []trace.Event
	for _, e := range r.events {
		if e.Kind == trace.Routed {
			got = append(got, e)
		}
	}
	checkFields(t, got)
	from, to := netip.AddrPortFrom(ctr, 40000), netip.AddrPortFrom(outer, 80)
	as := netip.AddrPortFrom(lanAddr, 40000)
	for i, want := range []struct {
		flags trace.TCPFlags
		len   int
		flow  trace.FlowChange
	}{
		{trace.SYN, 0, trace.FlowCreated},
		{trace.PSH | trace.ACK, 5, trace.FlowKept},
		{trace.RST | trace.ACK, 0, trace.FlowClosed},
	} {
		if i >= len(got) {
			t.Fatalf("%d routed events, want 3", len(got))
		}
		e := got[i]
		if e.Proto != trace.TCP || netip.AddrPortFrom(e.SrcIP, e.SrcPort) != from || netip.AddrPortFrom(e.DstIP, e.DstPort) != to {
			t.Errorf("routed %d: flow %s %s:%d -> %s:%d, want tcp %s -> %s", i, e.Proto, e.SrcIP, e.SrcPort, e.DstIP, e.DstPort, from, to)
		}
		if e.NATSrc != as || e.NATDst != to {
			t.Errorf("routed %d: as %s -> %s, want %s -> %s", i, e.NATSrc, e.NATDst, as, to)
		}
		if e.Flags != want.flags || e.Len != want.len || e.NATFlow != want.flow || !slices.Equal(e.Ports, []string{"eth0"}) {
			t.Errorf("routed %d: flags %s len %d flow %q out %v, want %s len %d flow %q out [eth0]", i, e.Flags, e.Len, e.NATFlow, e.Ports, want.flags, want.len, want.flow)
		}
	}
}

// TestDNSForwardingFields: each step of forwarding a query (sent
// upstream, timed out, failed, answered SERVFAIL, relayed, given up) is an
// event with its fields.
func TestDNSForwardingFields(t *testing.T) {
	const u1, u2 = "192.168.56.53", "192.168.56.54"
	up1, up2 := netip.MustParseAddrPort(u1+":53"), netip.MustParseAddrPort(u2+":53")
	for _, c := range []struct {
		name      string
		behaviour []string
		want      []trace.Event // in order, compared on the fields set here
	}{
		{"first answers", []string{answers}, []trace.Event{
			{Op: trace.OpDNSForwarded, Upstream: up1, Try: 1, Tries: 1, Name: "outside.test.", QType: "A"},
			{Op: trace.OpDNSAnswer, Upstream: up1, Rcode: "NOERROR", Name: "outside.test.", Answers: []string{"A 10.1.2.3"}},
		}},
		{"first silent", []string{silent, answers}, []trace.Event{
			{Op: trace.OpDNSForwarded, Upstream: up1, Try: 1, Tries: 2},
			{Op: trace.OpDNSUpstreamTimeout, Upstream: up1, Dur: gateway.UpstreamTimeout, Name: "outside.test."},
			{Op: trace.OpDNSForwarded, Upstream: up2, Try: 2, Tries: 2},
			{Op: trace.OpDNSAnswer, Upstream: up2, Rcode: "NOERROR"},
		}},
		{"first SERVFAIL", []string{servfail, answers}, []trace.Event{
			{Op: trace.OpDNSForwarded, Upstream: up1, Try: 1, Tries: 2},
			{Op: trace.OpDNSUpstreamRcode, Upstream: up1, Rcode: "SERVFAIL", Name: "outside.test."},
			{Op: trace.OpDNSForwarded, Upstream: up2, Try: 2, Tries: 2},
			{Op: trace.OpDNSAnswer, Upstream: up2, Rcode: "NOERROR"},
		}},
		{"first port unreachable", []string{closed, answers}, []trace.Event{
			{Op: trace.OpDNSForwarded, Upstream: up1, Try: 1, Tries: 2},
			{Op: trace.OpDNSUpstreamFailed, Upstream: up1, Reason: "port unreachable from 192.168.56.53"},
			{Op: trace.OpDNSForwarded, Upstream: up2, Try: 2, Tries: 2},
			{Op: trace.OpDNSAnswer, Upstream: up2, Rcode: "NOERROR"},
		}},
		{"only SERVFAIL", []string{servfail}, []trace.Event{
			{Op: trace.OpDNSForwarded, Upstream: up1, Try: 1, Tries: 1},
			{Op: trace.OpDNSUpstreamRcode, Upstream: up1, Rcode: "SERVFAIL"},
			{Op: trace.OpDNSAnswer, Rcode: "SERVFAIL", Tries: 1},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ups := []string{u1 + ":53", u2 + ":53"}[:len(c.behaviour)]
			w := newWorld(t, gateway.Config{}, ups...)
			for i, b := range c.behaviour {
				w.upstream(strings.TrimSuffix(ups[i], ":53"), b, nil)
			}
			w.query(gwAddr, "outside.test")
			checkFields(t, w.events)
			var got []trace.Event
			for _, e := range w.events {
				if e.Node == "host1" && e.Kind == trace.Host && strings.HasPrefix(e.Op.String(), "dns-") {
					got = append(got, e)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d DNS events, want %d:\n%s", len(got), len(c.want), w.narration())
			}
			for i, want := range c.want {
				if g := got[i]; !matches(g, want) {
					t.Errorf("event %d = %+v\nwant the fields of %+v", i, g, want)
				}
			}
			if a := got[len(got)-1]; a.DstIP != ctr || a.Proto != trace.UDP || a.SrcIP != gwAddr {
				t.Errorf("answer to %s from %s over %s, want to %s from %s over udp", a.DstIP, a.SrcIP, a.Proto, ctr, gwAddr)
			}
		})
	}
}

// matches reports whether got has the values of every field want sets.
func matches(got, want trace.Event) bool {
	return got.Op == want.Op &&
		(want.Upstream == netip.AddrPort{} || got.Upstream == want.Upstream) &&
		(want.Try == 0 || got.Try == want.Try) && (want.Tries == 0 || got.Tries == want.Tries) &&
		(want.Name == "" || got.Name == want.Name) && (want.QType == "" || got.QType == want.QType) &&
		(want.Rcode == "" || got.Rcode == want.Rcode) && (want.Dur == 0 || got.Dur == want.Dur) &&
		(want.Reason == "" || got.Reason == want.Reason) &&
		(want.Answers == nil || slices.Equal(got.Answers, want.Answers))
}

// TestReassembledFields: a datagram put back together says its ID, ends,
// protocol, how many fragments and how many bytes.
func TestReassembledFields(t *testing.T) {
	r := newTracedRig(t)
	r.introduce(t)
	r.resolveLAN(t)
	for _, f := range cut(bigUDP(t, ctrMAC, gwMAC, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 9000), 4000, 1000, false), 1480) {
		r.gw.Input(1, f)
	}
	var got []trace.Event
	for _, e := range r.events {
		if e.Op == trace.OpReassembled {
			got = append(got, e)
		}
	}
	checkFields(t, got)
	if len(got) != 1 {
		t.Fatalf("%d reassembled events, want 1", len(got))
	}
	if e := got[0]; e.SrcIP != ctr || e.DstIP != outer || e.Proto != trace.UDP || e.Count != 3 || e.Len != 20+8+4000 {
		t.Errorf("reassembled %s -> %s %s: %d fragments, %d bytes; want %s -> %s udp: 3 fragments, %d bytes", e.SrcIP, e.DstIP, e.Proto, e.Count, e.Len, ctr, outer, 20+8+4000)
	}
}
