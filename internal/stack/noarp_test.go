package stack_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/stack"
)

// TestNoARPDefaultDev: an ipvlan l3 child, NOARP with "default dev eth0",
// sends a packet for another subnet at once, to its own MAC, with no ARP;
// and drops the ARP it is sent.
func TestNoARPDefaultDev(t *testing.T) {
	e, w, a, _ := twoHostsLink(t)
	var sent [][]byte
	w.capture = func(f []byte) { sent = append(sent, append([]byte(nil), f...)) }
	if r := ping(t, e, a, "192.0.2.1"); r.Err == nil {
		t.Fatalf("no route yet: %+v", r)
	}
	eth0 := a.Ifaces()[0]
	eth0.SetNoARP(true)
	a.SetDefaultDev(eth0)
	cancel, err := a.Ping(mustAddr("192.0.2.1"), 1, 1, 56, func(stack.PingResult) {})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if len(sent) != 1 || header.Ethernet(sent[0]).EtherType() != header.EtherTypeIPv4 || !bytes.Equal(sent[0][:6], sent[0][6:12]) {
		t.Fatalf("sent %d frames, want one IPv4 frame to its own MAC: %x", len(sent), sent)
	}
	before := a.Stats().Dropped
	a.Input(0, arpRequestFrame())
	if a.Stats().Dropped != before+1 {
		t.Error("ARP on a NOARP interface not dropped")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// arpRequestFrame is b's who-has for a's 10.0.0.1.
func arpRequestFrame() []byte {
	f := make([]byte, header.EthernetLen+header.ARPLen)
	header.PutEthernet(f, header.Broadcast, header.MAC{2, 0, 0, 0, 0, 2}, header.EtherTypeARP)
	header.PutARP(f[header.EthernetLen:], header.ARPRequest, header.MAC{2, 0, 0, 0, 0, 2}, mustAddr("10.0.0.2"), header.MAC{}, mustAddr("10.0.0.1"))
	return f
}
