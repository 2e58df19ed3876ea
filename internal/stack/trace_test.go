package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
)

// find returns the first event of node and op whose fields match, or fails.
func find(t *testing.T, events []trace.Event, node string, op trace.Op, match func(trace.Event) bool) {
	t.Helper()
	for _, e := range events {
		if e.Node == node && e.Op == op && match(e) {
			return
		}
	}
	var same []string
	for _, e := range events {
		if e.Op == op {
			same = append(same, trace.Narrate(e))
		}
	}
	t.Errorf("no %s event of %s with the fields wanted; the %s events: %q", op, node, op, same)
}

// checkFields fails for any event missing a field its op or kind sets.
func checkFields(t *testing.T, events []trace.Event) {
	t.Helper()
	for _, e := range events {
		if miss := tracetest.Missing(e); len(miss) > 0 {
			t.Errorf("%s: missing %v", trace.Narrate(e), miss)
		}
	}
}

// TestHostEventFields: the host's ARP, ICMP, UDP and TCP events carry
// their addresses, ports, codes and flags as fields.
func TestHostEventFields(t *testing.T) {
	dropped := false
	p := newTCPPair(t, func(s segment) bool {
		if s.dir == 0 && s.data > 0 && !dropped {
			dropped = true
			return true
		}
		return false
	})
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if _, err := p.a.Ping(a2, 7, 1, 8, func(stack.PingResult) {}); err != nil {
		t.Fatal(err)
	}
	p.e.Advance(time.Second)
	u, err := p.a.ListenUDP(5000)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.SendTo(netip.AddrPortFrom(a2, 9), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.b.ListenTCPStream(80, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := p.a.ConnectTCPStream(netip.AddrPortFrom(a2, 80))
	_ = c.Write([]byte("hello"))
	c.Close()
	_, _ = p.a.ConnectTCPStream(netip.MustParseAddrPort("192.0.2.1:80")) // no gateway: no route
	_, _ = p.a.Ping(netip.MustParseAddr("10.0.0.9"), 7, 2, 8, func(stack.PingResult) {})
	p.e.Advance(2 * time.Minute)
	ev := p.events
	checkFields(t, ev)

	find(t, ev, "a", trace.OpARPRequest, func(e trace.Event) bool {
		return e.DstIP == a2 && e.SrcIP == a1 && e.Try == 1 && e.Tries == stack.ARPRetries
	})
	find(t, ev, "b", trace.OpARPReply, func(e trace.Event) bool { return e.DstIP == a1 && e.SrcIP == a2 && e.MAC == "02:00:00:00:00:02" })
	find(t, ev, "a", trace.OpARPResolved, func(e trace.Event) bool { return e.SrcIP == a2 && e.MAC == "02:00:00:00:00:02" })
	find(t, ev, "a", trace.OpARPFailed, func(e trace.Event) bool {
		return e.DstIP == netip.MustParseAddr("10.0.0.9") && e.Tries == stack.ARPRetries
	})
	find(t, ev, "a", trace.OpEchoRequest, func(e trace.Event) bool { return e.DstIP == a2 && e.ID == 7 && e.Seq == 1 })
	find(t, ev, "b", trace.OpEchoAnswered, func(e trace.Event) bool { return e.SrcIP == a1 && e.DstIP == a2 && e.ID == 7 && e.Seq == 1 })
	find(t, ev, "a", trace.OpEchoReply, func(e trace.Event) bool { return e.SrcIP == a2 && e.Seq == 1 && e.Dur > 0 })
	find(t, ev, "a", trace.OpUDPSent, func(e trace.Event) bool {
		return e.SrcPort == 5000 && e.DstIP == a2 && e.DstPort == 9 && e.Len == 2 && !e.SrcIP.IsValid()
	})
	find(t, ev, "b", trace.OpUDPUnreachable, func(e trace.Event) bool { return e.SrcIP == a1 && e.SrcPort == 5000 && e.DstPort == 9 })
	find(t, ev, "a", trace.OpICMPError, func(e trace.Event) bool { return e.SrcIP == a2 && e.ICMP == trace.ICMPType{Type: 3, Code: 3} })
	find(t, ev, "a", trace.OpTCPSent, func(e trace.Event) bool {
		return e.SrcIP == a1 && e.SrcPort == 32768 && e.DstIP == a2 && e.DstPort == 80 && e.Flags == trace.PSH|trace.ACK && e.Len == 5 && e.Reason == "retransmitted"
	})
	find(t, ev, "b", trace.OpTCPReceived, func(e trace.Event) bool {
		return e.SrcIP == a1 && e.SrcPort == 32768 && e.DstPort == 80 && e.Flags == trace.FIN|trace.ACK && e.Reason == "the peer has finished sending" && e.Port == "eth0"
	})
	find(t, ev, "a", trace.OpTCPNote, func(e trace.Event) bool {
		return e.SrcPort == 32768 && e.DstIP == a2 && e.DstPort == 80 && e.Reason == "TIME-WAIT over: connection closed"
	})
	find(t, ev, "a", trace.OpTCPNoRoute, func(e trace.Event) bool {
		return e.DstIP == netip.MustParseAddr("192.0.2.1") && e.DstPort == 80 && e.Reason != ""
	})
}

// TestEvictionAndCarrierFields: an evicted neighbour and a carrier change
// are events with their address and state.
func TestEvictionAndCarrierFields(t *testing.T) {
	e := clock.NewManual()
	var events []trace.Event
	h := stack.New(stack.Options{Name: "gw", Clock: e, Tracer: trace.Func(func(ev trace.Event) { events = append(events, ev) })})
	i, err := h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/16"), link.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for n := range stack.MaxARPEntries {
		h.Input(0, whoHasFrom(n))
	}
	e.Advance(stack.ARPGCProtect)
	h.Input(0, whoHasFrom(stack.MaxARPEntries))
	i.SetUp(false)
	checkFields(t, events)
	first, _ := source(0)
	find(t, events, "gw", trace.OpNeighbourEvicted, func(e trace.Event) bool { return e.DstIP == first && e.Port == "eth0" })
	find(t, events, "gw", trace.OpCarrier, func(e trace.Event) bool { return e.State == "down" && e.Port == "eth0" })
}
