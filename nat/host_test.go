package nat_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/netyard/netyard/nat"
)

// TestRouted: a packet from outside straight to a container's published
// port is tracked, not translated, and so is its reply; one to any other
// port, or an echo, may not start a flow.
func TestRouted(t *testing.T) {
	tb := nat.New(0)
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(host, 8080), To: ap(container, 80)}); err != nil {
		t.Fatal(err)
	}
	if !tb.PublishedTo(nat.TCP, ap(container, 80)) || tb.PublishedTo(nat.UDP, ap(container, 80)) || tb.PublishedTo(nat.TCP, ap(container, 81)) {
		t.Error("PublishedTo answers for the wrong ports")
	}
	in := pkt(t, nat.TCP, ap(outside, 40000), ap(container, 80), "syn")
	if _, err := tb.Translate(in, nat.Routed, netip.Addr{}, t0, false); err != nil {
		t.Fatal(err)
	}
	check(t, in, nat.TCP, ap(outside, 40000), ap(container, 80), "syn")
	resp := pkt(t, nat.TCP, ap(container, 80), ap(outside, 40000), "synack")
	if _, err := tb.Outbound(resp, host, t0); err != nil { // not masqueraded: it belongs to the routed flow
		t.Fatal(err)
	}
	check(t, resp, nat.TCP, ap(container, 80), ap(outside, 40000), "synack")
	if f := tb.Dump(t0); len(f) != 1 || f[0].Kind != "routed" {
		t.Errorf("dump %+v", f)
	}
	for _, p := range [][]byte{
		pkt(t, nat.TCP, ap(outside, 40001), ap(container, 81), "syn"),
		pkt(t, nat.ICMP, ap(outside, 7), ap(container, 7), ""),
	} {
		if _, err := tb.Translate(p, nat.Routed, netip.Addr{}, t0, false); !errors.Is(err, nat.ErrRefused) {
			t.Errorf("unpublished: %v, want refused", err)
		}
	}
}

// TestFromHost: the host's own connection to a published port is
// translated as the hairpin is, but behind a port of the table's own
// choosing, never the host's source port, which the host may use again.
func TestFromHost(t *testing.T) {
	tb := nat.New(0)
	gw := netip.MustParseAddr("172.18.0.1")
	lo := netip.MustParseAddr("127.0.0.1")
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(lo, 8080), To: ap(container, 80)}); err != nil {
		t.Fatal(err)
	}
	in := pkt(t, nat.TCP, ap(lo, 32768), ap(lo, 8080), "syn")
	if _, err := tb.Translate(in, nat.FromHost, gw, t0, false); err != nil {
		t.Fatal(err)
	}
	check(t, in, nat.TCP, ap(gw, 1024), ap(container, 80), "syn")
	resp := pkt(t, nat.TCP, ap(container, 80), ap(gw, 1024), "synack")
	if _, err := tb.Hairpin(resp, gw, t0); err != nil {
		t.Fatal(err)
	}
	check(t, resp, nat.TCP, ap(lo, 8080), ap(lo, 32768), "synack")
}
