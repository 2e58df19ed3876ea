package stack

import (
	"net/netip"
	"testing"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
)

func TestRemoveIface(t *testing.T) {
	h := New(Options{Name: "c1", Clock: clock.NewManual()})
	a, _ := h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.2/24"), link.Discard)
	b, _ := h.AddIface("eth1", header.MAC{2, 0, 0, 0, 0, 2}, netip.MustParsePrefix("10.1.0.2/24"), link.Discard)
	// An unresolved neighbour on eth0, with a packet waiting.
	failed := 0
	if err := h.sendVia(a, netip.MustParseAddr("10.0.0.9"), make([]byte, 20), func([]byte, error) { failed++ }); err != nil {
		t.Fatal(err)
	}
	if err := h.RemoveIface("eth0"); err != nil {
		t.Fatal(err)
	}
	if failed != 1 || h.arp.len() != 0 {
		t.Errorf("after removing eth0: %d waiting packets failed, %d neighbours left; want 1 and 0", failed, h.arp.len())
	}
	if len(h.Ifaces()) != 1 || h.Ifaces()[0] != b || b.Index() != 0 {
		t.Errorf("interfaces %v, eth1 at %d; want eth1 alone at 0", h.Ifaces(), b.Index())
	}
	if _, _, err := h.Route(netip.MustParseAddr("10.0.0.9")); err == nil {
		t.Error("10.0.0.0/24 is still routed")
	}
	if err := h.RemoveIface("eth0"); err == nil {
		t.Error("removing it twice was accepted")
	}
}
