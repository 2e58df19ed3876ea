package dnsd

import (
	"net/netip"
	"strconv"
	"testing"
)

// TestRemoveAllLeavesNothing: once every endpoint is removed, no index
// keeps an entry (the indexes are bounded by the endpoints registered).
func TestRemoveAllLeavesNothing(t *testing.T) {
	s := New(Options{})
	shared := netip.MustParseAddr("10.0.0.1")
	for i := range 100 {
		addr := netip.AddrFrom4([4]byte{10, 0, 1, byte(i)})
		if i%10 == 0 {
			addr = shared
		}
		for _, network := range []string{"n1", "n2"} {
			s.Add(network, "c"+strconv.Itoa(i), addr, "web", "db"+strconv.Itoa(i%3))
		}
	}
	s.Add("n1", "c5", shared, "other") // a replacement
	for i := range 100 {
		for _, network := range []string{"n2", "n1"} {
			s.Remove(network, "c"+strconv.Itoa(i))
		}
	}
	s.Remove("n1", "c5")   // twice
	s.Remove("n3", "none") // never there
	if len(s.index) != 0 || len(s.byAddr) != 0 || len(s.nets) != 0 {
		t.Errorf("after removing everything: %d networks, %d addresses, %d containers indexed, want none", len(s.index), len(s.byAddr), len(s.nets))
	}
}
