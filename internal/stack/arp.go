package stack

import (
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
)

// neighbour is an ARP cache entry.
type neighbour struct {
	addr      netip.Addr
	iface     *Iface
	mac       net.HardwareAddr // nil while unresolved
	confirmed time.Time
	tries     int
	timer     clock.Timer
	queue     []queued
}

// queued is a packet waiting for its next hop to resolve.
type queued struct {
	ls   []gopacket.SerializableLayer
	fail func(error)
}

// ARPEntry is a resolved neighbour, as reported by ARPCache.
type ARPEntry struct {
	Addr netip.Addr
	MAC  net.HardwareAddr
}

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ARPCache returns the resolved, unexpired entries, sorted by address.
func (h *Host) ARPCache() []ARPEntry {
	var out []ARPEntry
	now := h.clk.Now()
	for _, n := range h.arp {
		if n.mac != nil && now.Sub(n.confirmed) < ARPLifetime {
			out = append(out, ARPEntry{n.addr, n.mac})
		}
	}
	sortBy(out, func(e ARPEntry) netip.Addr { return e.Addr })
	return out
}

// resolveAndSend sends the layers (starting with IPv4) to hop out of i,
// resolving hop's MAC first if needed.
func (h *Host) resolveAndSend(i *Iface, hop netip.Addr, ls []gopacket.SerializableLayer, fail func(error)) error {
	if i == h.lo {
		return h.transmit(i, h.eth(i, i.mac, layers.EthernetTypeIPv4, ls)...)
	}
	if hop == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || hop == lastAddr(i.prefix) {
		return h.transmit(i, h.eth(i, broadcastMAC, layers.EthernetTypeIPv4, ls)...)
	}
	now := h.clk.Now()
	n := h.arp[hop]
	if n != nil && n.mac != nil && now.Sub(n.confirmed) < ARPLifetime {
		return h.transmit(i, h.eth(i, n.mac, layers.EthernetTypeIPv4, ls)...)
	}
	if n == nil {
		n = h.newNeighbour(hop, i)
	}
	if n.mac != nil { // expired: resolve again
		n.mac = nil
		n.tries = 0
	}
	if len(n.queue) >= ARPQueue {
		h.stats.ARPQueueDrops++
		h.droppedf(i.name, "ARP queue for %s full: oldest waiting packet dropped", hop)
		n.queue = n.queue[1:]
	}
	n.queue = append(n.queue, queued{ls, fail})
	if n.tries == 0 {
		h.solicit(n)
	}
	return nil
}

// newNeighbour adds an entry, evicting the least recently confirmed one if
// the cache is full.
func (h *Host) newNeighbour(a netip.Addr, i *Iface) *neighbour {
	if len(h.arp) >= MaxARPEntries {
		var old *neighbour
		for _, n := range h.arp {
			if n.tries == 0 && (old == nil || n.confirmed.Before(old.confirmed) ||
				n.confirmed.Equal(old.confirmed) && n.addr.Less(old.addr)) {
				old = n
			}
		}
		if old != nil {
			delete(h.arp, old.addr)
			h.stats.ARPEvictions++
		}
	}
	n := &neighbour{addr: a, iface: i}
	h.arp[a] = n
	return n
}

// solicit sends one ARP request for n and arms the retry timer.
func (h *Host) solicit(n *neighbour) {
	n.tries++
	i := n.iface
	h.eventf(i.name, "ARP who-has %s? tell %s (request %d of %d)", n.addr, i.prefix.Addr(), n.tries, ARPRetries)
	_ = h.transmit(i,
		&layers.Ethernet{SrcMAC: i.mac, DstMAC: broadcastMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: i.mac, SourceProtAddress: i.prefix.Addr().AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: n.addr.AsSlice(),
		})
	if n.timer == nil {
		n.timer = h.clk.AfterFunc(ARPRetry, func() { h.retry(n) })
	} else {
		n.timer.Reset(ARPRetry)
	}
}

// retry runs ARPRetry after a request went unanswered.
func (h *Host) retry(n *neighbour) {
	if n.mac != nil || h.arp[n.addr] != n {
		return
	}
	if n.tries < ARPRetries {
		h.solicit(n)
		return
	}
	h.stats.ARPFailures++
	delete(h.arp, n.addr)
	h.eventf(n.iface.name, "ARP for %s got no answer after %d requests: host unreachable", n.addr, ARPRetries)
	for _, q := range n.queue {
		if q.fail != nil {
			q.fail(ErrHostUnreach)
		}
	}
}

func (h *Host) inputARP(i *Iface, a *layers.ARP) {
	if len(a.SourceProtAddress) != 4 || len(a.DstProtAddress) != 4 || len(a.SourceHwAddress) != 6 {
		h.stats.Malformed++
		h.droppedf(i.name, "malformed ARP")
		return
	}
	sender := netip.AddrFrom4([4]byte(a.SourceProtAddress))
	target := netip.AddrFrom4([4]byte(a.DstProtAddress))
	forMe := target == i.prefix.Addr()
	mac := append(net.HardwareAddr(nil), a.SourceHwAddress...)
	if n := h.arp[sender]; n != nil || forMe {
		if n == nil {
			n = h.newNeighbour(sender, i)
		}
		n.mac, n.confirmed, n.tries = mac, h.clk.Now(), 0
		if n.timer != nil {
			n.timer.Stop()
		}
		q := n.queue
		n.queue = nil
		if a.Operation == layers.ARPReply {
			h.eventf(i.name, "ARP %s is-at %s", sender, mac)
		}
		for _, p := range q {
			_ = h.transmit(n.iface, h.eth(n.iface, mac, layers.EthernetTypeIPv4, p.ls)...)
		}
	}
	if a.Operation != layers.ARPRequest {
		return
	}
	if !forMe {
		h.droppedf(i.name, "ARP who-has %s is not for me", target)
		return
	}
	h.eventf(i.name, "ARP reply to %s: %s is-at %s", sender, target, i.mac)
	_ = h.transmit(i,
		&layers.Ethernet{SrcMAC: i.mac, DstMAC: mac, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: i.mac, SourceProtAddress: i.prefix.Addr().AsSlice(),
			DstHwAddress: mac, DstProtAddress: sender.AsSlice(),
		})
}

// eth prepends an Ethernet header to ls.
func (h *Host) eth(i *Iface, dst net.HardwareAddr, et layers.EthernetType, ls []gopacket.SerializableLayer) []gopacket.SerializableLayer {
	return append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: i.mac, DstMAC: dst, EthernetType: et}}, ls...)
}
