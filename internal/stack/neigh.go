package stack

import (
	"encoding/binary"
	"net/netip"
)

// neighbours indexes the ARP cache by address. Every ARP request a host
// hears on its segment asks it whether the sender is known (arpNotForMe),
// and mostly it is not: so an IPv4 address is keyed by its 32 bits, which
// the map compares without hashing while the table is small (a netip.Addr,
// 24 bytes with its zone handle, is hashed on every look-up), and a bloom
// filter (Host.arpBloom) answers most misses before the map is touched.
// The few other next hops (an address that is not plain IPv4, reached by
// a default device route) go in a map of their own, made when first
// needed.
type neighbours struct {
	v4    map[uint32]*neighbour
	other map[netip.Addr]*neighbour
	// count[b] is how many IPv4 entries have bloomBit b; bit b of the
	// bloom filter is set while it is not 0. Made with the first entry.
	count *[64]uint16
}

// key4 returns a's 32 bits, when a is a plain IPv4 address.
func key4(a netip.Addr) (uint32, bool) {
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:]), true
}

// bloomBit spreads IPv4 keys over 64 bits (Fibonacci hashing): the
// addresses of a segment differ in their last bits.
func bloomBit(k uint32) uint { return uint(k * 0x9E3779B9 >> 26) }

// getKey4 returns the entry of the IPv4 address whose 32 bits are k, if
// any, given bloom, the table's bloom filter: a miss there is answered
// without the map.
func (t *neighbours) getKey4(k uint32, bloom uint64) *neighbour {
	if bloom&(1<<bloomBit(k)) == 0 {
		return nil
	}
	return t.v4[k]
}

func (t *neighbours) get(a netip.Addr) *neighbour {
	if k, ok := key4(a); ok {
		return t.v4[k]
	}
	return t.other[a]
}

// put adds n, and its bit to the bloom filter *bloom.
func (t *neighbours) put(n *neighbour, bloom *uint64) {
	k, ok := key4(n.addr)
	if !ok {
		if t.other == nil {
			t.other = map[netip.Addr]*neighbour{}
		}
		t.other[n.addr] = n
		return
	}
	if t.v4 == nil {
		t.v4, t.count = map[uint32]*neighbour{}, new([64]uint16)
	}
	if _, had := t.v4[k]; !had {
		b := bloomBit(k)
		t.count[b]++
		*bloom |= 1 << b
	}
	t.v4[k] = n
}

// del removes the entry for a, if any, and clears its bit in the bloom
// filter *bloom when no other entry has it.
func (t *neighbours) del(a netip.Addr, bloom *uint64) {
	k, ok := key4(a)
	if !ok {
		delete(t.other, a)
		return
	}
	if _, had := t.v4[k]; !had {
		return
	}
	delete(t.v4, k)
	b := bloomBit(k)
	t.count[b]--
	if t.count[b] == 0 {
		*bloom &^= 1 << b
	}
}

func (t *neighbours) len() int { return len(t.v4) + len(t.other) }

// all returns the entries in no particular order: callers sort them.
func (t *neighbours) all() []*neighbour {
	out := make([]*neighbour, 0, t.len())
	for _, n := range t.v4 {
		out = append(out, n)
	}
	for _, n := range t.other {
		out = append(out, n)
	}
	return out
}
