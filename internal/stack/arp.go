package stack

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
)

// The neighbour table follows Linux's (net/core/neighbour.c) where a flood
// can see the difference:
//
//   - It never holds more than MaxARPEntries entries, whatever their state
//     (gc_thresh3, a hard limit).
//   - A new entry in a full table first tries a forced collection
//     (neigh_forced_gc): the least recently updated entry goes if it was
//     last updated ARPGCProtect ago or more. Linux guarantees every entry
//     that much life since 58956317c8de ("neighbor: Improve garbage
//     collection"), so resolutions in progress are never cut short. The
//     evicted entry's waiting packets fail as host unreachable.
//   - When no entry can go, the new one is refused: the packet that needed
//     it is dropped and its sender told ErrNeighbourTableFull (Linux:
//     "neighbor table overflow!", table_fulls, ENOBUFS), and an ARP
//     request for one of our addresses from that neighbour is not answered
//     (arp_process replies only when neigh_event_ns made an entry).
//
// Linux has no separate rate limit on solicitations: each entry sends at
// most mcast_solicit requests retrans_time apart and then fails, and the
// table bound with the guaranteed lifetime caps how many entries can be
// resolving at once. So the requests a host sends are bounded by
// MaxARPEntries x ARPRetries per ARPRetries x ARPRetry (256 a second), however
// many sources a flood spoofs.
//
// Entries are kept in a list ordered by their last update, so the victim is
// found in O(1) and the choice never depends on map order.

// ARPGCProtect is how long after its last update an entry cannot be
// evicted to make room (Linux's forced GC spares entries updated in the
// last 5 s).
const ARPGCProtect = 5 * time.Second

// ErrNeighbourTableFull is returned for a packet whose next hop needed a
// new neighbour entry when none could be made.
var ErrNeighbourTableFull = errors.New("stack: neighbour table full")

// neighbour is an ARP cache entry.
type neighbour struct {
	addr      netip.Addr
	iface     *Iface
	mac       net.HardwareAddr // nil while unresolved
	confirmed time.Time
	updated   time.Time // created, resolved, confirmed or resolving again
	tries     int
	timer     clock.Timer
	queue     []queued

	elem *list.Element // on the host's arpOrder
}

// queued is a packet waiting for its next hop to resolve, serialised from
// its IPv4 header on.
type queued struct {
	pkt  []byte
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
	for _, n := range h.arp.all() {
		if n.mac != nil && now.Sub(n.confirmed) < ARPLifetime {
			out = append(out, ARPEntry{n.addr, n.mac})
		}
	}
	sortBy(out, func(e ARPEntry) netip.Addr { return e.Addr })
	return out
}

// ARPEntries reports how many entries the neighbour table holds, resolved
// or not.
func (h *Host) ARPEntries() int { return h.arp.len() }

// resolveAndSend sends the layers (starting with IPv4) to hop out of i,
// resolving hop's MAC first if needed.
func (h *Host) resolveAndSend(i *Iface, hop netip.Addr, ls []gopacket.SerializableLayer, fail func(error)) error {
	if i == h.lo {
		return h.transmit(i, h.eth(i, i.hw, layers.EthernetTypeIPv4, ls)...)
	}
	if mac, ok := h.resolved(i, hop); ok {
		return h.transmit(i, h.eth(i, mac, layers.EthernetTypeIPv4, ls)...)
	}
	now := h.clk.Now()
	n := h.arp.get(hop)
	if n == nil {
		if n = h.newNeighbour(hop, i); n == nil {
			return ErrNeighbourTableFull
		}
	}
	if n.mac != nil { // expired: resolve again
		n.mac = nil
		n.tries = 0
		h.touch(n, now)
	}
	pkt, err := serialize(ls)
	if err != nil {
		return err
	}
	if len(n.queue) >= ARPQueue {
		h.stats.ARPQueueDrops++
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "ARP queue for %s full: oldest waiting packet dropped", hop)
		}
		n.queue = append(n.queue[:0], n.queue[1:]...)
	}
	n.queue = append(n.queue, queued{pkt, fail})
	if n.tries == 0 {
		h.solicit(n)
	}
	return nil
}

// serialize builds the bytes of ls, for a packet that has to wait.
func serialize(ls []gopacket.SerializableLayer) ([]byte, error) {
	if len(ls) == 1 {
		if p, ok := ls[0].(gopacket.Payload); ok { // already the host's own copy
			return p, nil
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// touch records an update of n: it moves to the back of the eviction order.
func (h *Host) touch(n *neighbour, now time.Time) {
	n.updated = now
	if n.elem != nil {
		h.arpOrder.MoveToBack(n.elem)
	} else {
		n.elem = h.arpOrder.PushBack(n)
	}
}

// newNeighbour adds an entry for a on i. In a full table it evicts the
// least recently updated entry if that one is old enough, and otherwise
// refuses (returns nil), counting either.
func (h *Host) newNeighbour(a netip.Addr, i *Iface) *neighbour {
	now := h.clk.Now()
	if h.arp.len() >= MaxARPEntries {
		var old *neighbour
		if e := h.arpOrder.Front(); e != nil {
			old = e.Value.(*neighbour)
		}
		if old == nil || now.Sub(old.updated) < ARPGCProtect {
			h.stats.ARPTableFull++
			h.tracedrop(i.name, "neighbour table full (%d entries, none updated %v ago or more): no entry for %s", h.arp.len(), ARPGCProtect, a)
			return nil
		}
		h.removeNeighbour(old)
		h.stats.ARPEvictions++
		h.event(old.iface.name, trace.Event{Op: trace.OpNeighbourEvicted, DstIP: old.addr})
		// Its waiting packets fail once the new entry is in: a failure
		// (host unreachable, sent back) may resolve again, and must find
		// the table as it is.
		defer h.failQueue(old, "its neighbour entry was evicted")
	}
	n := &neighbour{addr: a, iface: i}
	h.arp.put(n, &h.arpBloom)
	h.touch(n, now)
	return n
}

// failQueue drops the packets waiting for n, failing each as host
// unreachable, counted and traced with why.
func (h *Host) failQueue(n *neighbour, why string) {
	q := n.queue
	n.queue = nil
	for _, p := range q {
		h.stats.ARPQueueDrops++
		h.tracedrop(n.iface.name, "packet waiting for %s dropped: %s", n.addr, why)
		if p.fail != nil {
			p.fail(ErrHostUnreach)
		}
	}
}

// removeNeighbour takes n out of the table and stops its timer.
func (h *Host) removeNeighbour(n *neighbour) {
	h.arp.del(n.addr, &h.arpBloom)
	if n.elem != nil {
		h.arpOrder.Remove(n.elem)
		n.elem = nil
	}
	if n.timer != nil {
		n.timer.Stop()
	}
}

// solicit sends one ARP request for n and arms the retry timer.
func (h *Host) solicit(n *neighbour) {
	n.tries++
	i := n.iface
	h.stats.ARPRequests++
	h.event(i.name, trace.Event{Op: trace.OpARPRequest, DstIP: n.addr, SrcIP: i.prefix.Addr(), Try: n.tries, Tries: ARPRetries})
	_ = h.transmit(i,
		&layers.Ethernet{SrcMAC: i.hw, DstMAC: broadcastMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: i.hw, SourceProtAddress: i.prefix.Addr().AsSlice(),
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
	if n.mac != nil || h.arp.get(n.addr) != n {
		return
	}
	if n.tries < ARPRetries {
		h.solicit(n)
		return
	}
	h.stats.ARPFailures++
	h.removeNeighbour(n)
	h.event(n.iface.name, trace.Event{Op: trace.OpARPFailed, DstIP: n.addr, Tries: ARPRetries})
	q := n.queue
	n.queue = nil
	for _, p := range q {
		if p.fail != nil {
			p.fail(ErrHostUnreach)
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
	mac := header.MAC(a.SourceHwAddress)
	if n := h.arp.get(sender); n != nil || forMe {
		if n == nil {
			if n = h.newNeighbour(sender, i); n == nil {
				if a.Operation == layers.ARPRequest {
					// As Linux: no entry, no reply.
					if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
						h.droppedf(i.name, "ARP who-has %s from %s not answered: neighbour table full", target, sender)
					}
				}
				return
			}
		}
		now := h.clk.Now()
		if len(n.mac) != 6 || header.MAC(n.mac) != mac {
			n.mac = append(net.HardwareAddr(nil), mac[:]...) // a new copy: ARPCache hands n.mac out
		}
		n.confirmed, n.tries = now, 0
		h.touch(n, now)
		if n.timer != nil {
			n.timer.Stop()
		}
		q := n.queue
		n.queue = nil
		if a.Operation == layers.ARPReply && h.traces(trace.Host) {
			h.event(i.name, trace.Event{Op: trace.OpARPResolved, SrcIP: sender, DstIP: target, MAC: mac.String()})
		}
		for _, p := range q {
			_ = h.sendQueued(n.iface, mac, p.pkt)
		}
	}
	if a.Operation != layers.ARPRequest {
		return
	}
	if !forMe {
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "ARP who-has %s is not for me", target)
		}
		return
	}
	if h.traces(trace.Host) {
		h.event(i.name, trace.Event{Op: trace.OpARPReply, DstIP: sender, SrcIP: target, MAC: i.mac.String()})
	}
	_ = h.sendARPReply(i, mac, sender)
}

// tracedrop traces a packet the host dropped on its way out; the caller
// counts it under its own reason (droppedf counts frames received).
func (h *Host) tracedrop(port, format string, args ...any) {
	if !h.traces(trace.Dropped) {
		return
	}
	h.tracer.Trace(trace.Event{Time: h.clk.Now(), Node: h.name, Kind: trace.Dropped, Port: port, Reason: fmt.Sprintf(format, args...)})
}

// eth prepends an Ethernet header to ls.
func (h *Host) eth(i *Iface, dst net.HardwareAddr, et layers.EthernetType, ls []gopacket.SerializableLayer) []gopacket.SerializableLayer {
	return append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: i.hw, DstMAC: dst, EthernetType: et}}, ls...)
}

// arpNotForMe drops, before any decoding, the ARP request a host takes in
// most often on a large segment: a broadcast who-has for another address
// from a sender it has no entry for. It does what input and inputARP do
// with it (drop it, as "not for me") and reports whether it did; any other
// frame goes the whole way.
func (h *Host) arpNotForMe(i *Iface, frame []byte) bool {
	e := header.Ethernet(frame)
	if len(e) < header.EthernetLen+header.ARPLen || e.EtherType() != header.EtherTypeARP || i.noARP ||
		!(e.Dst().IsMulticast() || e.Dst() == i.mac) {
		return false
	}
	a := header.ARP(e[header.EthernetLen:])
	if a.Check() != header.OK || a.Op() != header.ARPRequest || a.TargetIP() == i.prefix.Addr() {
		return false
	}
	if h.arp.getKey4(binary.BigEndian.Uint32(a[14:18]), h.arpBloom) != nil { // a.SenderIP()'s bytes
		return false
	}
	if !h.countedDrop() {
		h.droppedf(i.name, "ARP who-has %s is not for me", a.TargetIP())
	}
	return true
}
