package stack

import (
	"net/netip"
	"testing"
	"unsafe"
)

// TestHotLines checks what the layouts of Host and Iface are for: what a
// frame dropped as not for the host reads of each shares one cache line,
// in every host and interface the allocator hands out.
func TestHotLines(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("laid out for 64-bit words")
	}
	line := func(p unsafe.Pointer) uintptr { return uintptr(p) / 64 }
	for n := range 8 {
		h := New(Options{})
		if a, b := line(unsafe.Pointer(&h.forward)), line(unsafe.Pointer(uintptr(unsafe.Pointer(&h.stats.Dropped))+7)); a != b {
			t.Errorf("host %d: forward and stats.Dropped are on different cache lines (size %d)", n, unsafe.Sizeof(*h))
		}
		i, err := h.AddIface("eth0", [6]byte{2, 0, 0, 0, 0, byte(n)}, netip.MustParsePrefix("10.0.0.1/24"), nil)
		if err != nil {
			t.Fatal(err)
		}
		addrEnd := uintptr(unsafe.Pointer(&i.prefix)) + unsafe.Sizeof(netip.Addr{}) - 1
		if a, b := line(unsafe.Pointer(&i.ep)), addrEnd/64; a != b {
			t.Errorf("interface %d: ep and prefix's address are on different cache lines (size %d)", n, unsafe.Sizeof(*i))
		}
	}
}
