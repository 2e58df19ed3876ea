package vswitch

import (
	"testing"
	"unsafe"
)

// TestPortHotLine checks what the port's layout is for: the fields a
// frame leaving by a port reads, up to the first word of its VLAN set,
// share one cache line in every port the allocator hands out.
func TestPortHotLine(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("laid out for 64-bit words")
	}
	s := New(Options{})
	for range 8 {
		if _, err := s.AddPort(PortConfig{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range *s.ports.Load() {
		first, last := uintptr(unsafe.Pointer(&p.state)), uintptr(unsafe.Pointer(&p.member[0]))+7
		if first/64 != last/64 {
			t.Errorf("port %s: state at %#x and member[0] up to %#x are on different cache lines (size %d)", p.name, first, last, unsafe.Sizeof(*p))
		}
	}
}
