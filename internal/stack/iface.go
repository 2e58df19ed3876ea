package stack

import (
	"fmt"
	"net/netip"
	"slices"
)

// RemoveIface takes interface name away, as deleting a device does (a
// container disconnected from a network, or stopped): it goes down, its
// neighbour entries go (packets waiting on them fail as host
// unreachable), and the interfaces after it move down one index, so that
// Input's indexes stay those of Ifaces. Sockets stay, as the kernel keeps
// them when an address goes.
func (h *Host) RemoveIface(name string) error {
	k := slices.IndexFunc(h.ifaces, func(i *Iface) bool { return i.name == name })
	if k < 0 {
		return fmt.Errorf("stack: %s has no interface %s", h.name, name)
	}
	i := h.ifaces[k]
	i.SetUp(false)
	var gone []*neighbour
	for _, n := range h.arp.all() {
		if n.iface == i {
			gone = append(gone, n)
		}
	}
	slices.SortFunc(gone, func(a, b *neighbour) int { return a.addr.Compare(b.addr) }) // the order failures are told in
	for _, n := range gone {
		h.removeNeighbour(n)
		h.failQueue(n, "its interface "+name+" was removed")
	}
	h.ifaces = slices.Delete(h.ifaces, k, k+1)
	for j := k; j < len(h.ifaces); j++ {
		h.ifaces[j].idx = j
	}
	i.idx = -2 // neither an interface nor loopback: Input ignores it
	return nil
}

// Gateway returns the default gateway (invalid: none).
func (h *Host) Gateway() netip.Addr { return h.gw }

// SetPrefix changes the interface's address and on-link prefix (a
// router's leg retired: 0.0.0.0/32, which routes nothing).
func (i *Iface) SetPrefix(p netip.Prefix) { i.setPrefix(p) }

// setPrefix sets the prefix and what every frame received or sent asks
// of it: its directed broadcast address.
func (i *Iface) setPrefix(p netip.Prefix) {
	i.prefix, i.bcast = p, netip.Addr{}
	if p.IsValid() && p.Addr().Is4() {
		i.bcast = lastAddr(p)
	}
}

// broadcast returns the directed broadcast address of the interface's
// prefix (lastAddr).
func (i *Iface) broadcast() netip.Addr {
	if i.bcast.IsValid() {
		return i.bcast
	}
	return lastAddr(i.prefix) // as it always did with such a prefix
}
