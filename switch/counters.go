package vswitch

import "sync/atomic"

// DropReason says why a frame (or, for DropFDBFull, an address) was dropped.
type DropReason uint8

// The drop reasons. Their String forms are the names used in traces,
// counters and scenario files.
const (
	DropRunt      DropReason = iota // shorter than its Ethernet (and VLAN) header
	DropBadSource                   // multicast or all-zero source address
	DropVLAN                        // VLAN not allowed on the ingress port, or untagged on a trunk without native VLAN
	DropFiltered                    // destination sits on the ingress port
	DropPortDown                    // ingress port administratively down
	DropLinkLocal                   // 01:80:C2:00:00:0X, never forwarded
	DropFDBFull                     // source address not learned: the FDB is full (the frame itself is forwarded)
	DropTxError                     // the egress link refused the frame
	DropMonitor                     // frame arrived on a monitor port
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropRunt:      "runt",
	DropBadSource: "bad-source",
	DropVLAN:      "vlan",
	DropFiltered:  "filtered",
	DropPortDown:  "port-down",
	DropLinkLocal: "link-local",
	DropFDBFull:   "fdb-full",
	DropTxError:   "tx-error",
	DropMonitor:   "monitor",
}

// String returns the reason's name, such as "vlan" or "fdb-full".
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// ParseDropReason returns the reason named s.
func ParseDropReason(s string) (DropReason, bool) {
	for i, n := range dropNames {
		if n == s {
			return DropReason(i), true
		}
	}
	return 0, false
}

// DropReasons lists every reason, in order.
func DropReasons() []DropReason {
	r := make([]DropReason, numDropReasons)
	for i := range r {
		r[i] = DropReason(i)
	}
	return r
}

// counters are one port's statistics. Every field is updated atomically.
// The receive and transmit groups sit on cache lines of their own: a port's
// receive counters are written by the goroutine feeding it, its transmit
// counters by whichever goroutines forward to it, and sharing a line would
// make those cores fight over it.
type counters struct {
	_                 [64]byte
	rxFrames, rxBytes atomic.Uint64
	_                 [48]byte
	txFrames, txBytes atomic.Uint64
	_                 [48]byte
	drops             [numDropReasons]atomic.Uint64
}

// PortStats is a snapshot of one port's counters.
type PortStats struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	Drops             map[string]uint64 // by DropReason name; only reasons with a count
}

// Dropped returns the total of all drops.
func (s PortStats) Dropped() uint64 {
	var n uint64
	for _, v := range s.Drops {
		n += v
	}
	return n
}

func (c *counters) snapshot() PortStats {
	s := PortStats{
		RxFrames: c.rxFrames.Load(), RxBytes: c.rxBytes.Load(),
		TxFrames: c.txFrames.Load(), TxBytes: c.txBytes.Load(),
		Drops: map[string]uint64{},
	}
	for i := range c.drops {
		if v := c.drops[i].Load(); v > 0 {
			s.Drops[DropReason(i).String()] = v
		}
	}
	return s
}
