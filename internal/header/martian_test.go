package header_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/netyard/netyard/internal/header"
)

func TestMartians(t *testing.T) {
	a := func(s string) uint32 { return binary.BigEndian.Uint32(netip.MustParseAddr(s).AsSlice()) }
	for _, c := range []struct {
		src, dst string
		src0     bool // a martian source
	}{
		{"10.0.0.1", "10.0.0.2", false},
		{"0.0.0.0", "255.255.255.255", false}, // DHCP
		{"0.0.0.0", "10.0.0.2", true},
		{"127.0.0.1", "10.0.0.2", true},
		{"224.0.0.1", "10.0.0.2", true},
		{"255.255.255.255", "10.0.0.2", true},
		{"240.0.0.1", "255.255.255.255", true},
	} {
		if got := header.MartianSource(a(c.src), a(c.dst)) != ""; got != c.src0 {
			t.Errorf("MartianSource(%s -> %s) = %v, want %v", c.src, c.dst, got, c.src0)
		}
	}
	for _, c := range []struct {
		dst     string
		martian bool
	}{{"10.0.0.1", false}, {"255.255.255.255", false}, {"0.1.2.3", true}, {"127.0.0.1", true}, {"240.0.0.1", true}} {
		if got := header.MartianDest(a(c.dst)) != ""; got != c.martian {
			t.Errorf("MartianDest(%s) = %v, want %v", c.dst, got, c.martian)
		}
	}
	if header.Routable(a("255.255.255.255")) || header.Routable(a("239.1.1.1")) || !header.Routable(a("10.0.0.1")) {
		t.Error("Routable is wrong about broadcast, multicast or unicast")
	}
}
