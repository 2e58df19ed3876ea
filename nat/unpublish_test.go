package nat_test

import (
	"net/netip"
	"testing"

	"github.com/netyard/netyard/nat"
)

func TestRemovePublish(t *testing.T) {
	tb := nat.New(0)
	ext := netip.MustParseAddrPort("192.168.56.11:8080")
	p := nat.Publish{Proto: nat.TCP, Ext: ext, To: netip.MustParseAddrPort("172.18.0.2:80")}
	if err := tb.AddPublish(p); err != nil {
		t.Fatal(err)
	}
	if err := tb.RemovePublish(nat.TCP, ext); err != nil {
		t.Fatal(err)
	}
	if _, ok := tb.Published(nat.TCP, ext); ok {
		t.Error("still published")
	}
	if err := tb.RemovePublish(nat.TCP, ext); err == nil {
		t.Error("removed twice")
	}
	p.To = netip.MustParseAddrPort("172.18.0.3:80") // started again, at another address
	if err := tb.AddPublish(p); err != nil {
		t.Errorf("published again: %v", err)
	}
}

func TestPurge(t *testing.T) {
	tb := nat.New(0)
	ext := netip.MustParseAddrPort("192.168.56.11:8080")
	to := netip.MustParseAddrPort("172.18.0.2:80")
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ext, To: to}); err != nil {
		t.Fatal(err)
	}
	in := pkt(t, nat.TCP, netip.MustParseAddrPort("192.168.56.12:40000"), ext, "syn")
	if _, err := tb.Inbound(in, t0); err != nil {
		t.Fatal(err)
	}
	if tb.Len() != 1 {
		t.Fatalf("%d flows, want 1", tb.Len())
	}
	if n := tb.Purge(netip.MustParseAddr("172.18.0.9")); n != 0 {
		t.Errorf("purged %d flows of another address", n)
	}
	if n := tb.Purge(to.Addr()); n != 1 || tb.Len() != 0 || tb.Stats().Purged != 1 {
		t.Errorf("purged %d, %d left, Purged %d; want 1, 0, 1", n, tb.Len(), tb.Stats().Purged)
	}
}
