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
	DropBlocked                     // STP: data frame on a port that is not forwarding
	DropBPDU                        // STP: malformed BPDU, or a BPDU on a guarded edge port
	DropDoubleTag                   // a frame of the VLAN the ingress port carries untagged whose payload is itself VLAN-tagged (VLAN hopping), or a QinQ frame about to leave untagged out of a trunk whose native VLAN it is
	DropIsolated                    // from an isolated port to another isolated port
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
	DropBlocked:   "stp-blocked",
	DropBPDU:      "bpdu",
	DropDoubleTag: "double-tag",
	DropIsolated:  "isolated",
}

// String returns the reason's name, such as "vlan" or "fdb-full"; see
// DropReasons for them all.
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

// counters are one port's statistics. The receive and transmit pairs sit
// on cache lines of their own: a port's receive pair is written by the
// goroutine feeding it, its transmit pair by whichever goroutines forward to
// it, and sharing a line would make those cores fight over it.
type counters struct {
	_     [64]byte
	rx    pair
	_     [64 - pairSize%64]byte
	tx    pair
	_     [64 - pairSize%64]byte
	drops [numDropReasons]atomic.Uint64
}

// A pair counts frames and bytes with a single atomic add per frame: the
// locked instruction is the most expensive thing the forwarding path does,
// and a port counts twice per frame (rx on one port, tx on another).
//
// lo packs a partial frame count above a partial byte count. Before either
// field can overflow, the one adder whose add takes it across a threshold
// folds a fixed amount out of lo into the wide frames/bytes counters. A fold
// is bracketed by started/finished so that a reader can tell it raced one
// and read again.
type pair struct {
	lo                atomic.Uint64 // frames<<loBytesBits | bytes, partial
	frames, bytes     atomic.Uint64 // folded out of lo
	started, finished atomic.Uint64 // folds begun and completed
}

const (
	pairSize    = 5 * 8
	loBytesBits = 40
	loBytesMask = 1<<loBytesBits - 1
	frameFold   = 1 << 22 // of the 24-bit frame field
	byteFold    = 1 << 38 // of the 40-bit byte field
)

// add counts one frame of n bytes.
func (c *pair) add(n int) { c.addN(1, n) }

// addN counts frames frames of bytes bytes in all (bytes below 2^24, frames
// below 2^16). It and addLo are inlined into the forwarding path, which
// counts every frame twice: one atomic add and one test, the folds apart.
func (c *pair) addN(frames, bytes int) { c.addLo(uint64(frames)<<loBytesBits | uint64(bytes)) }

// addLo adds d to lo, and folds what that add took across a threshold T.
//
// A field stays below 2T: the add that takes it to T or beyond folds T
// back out (it would reach 2T only if T more were counted before that
// fold, 4M frames or 256 GiB). So a field is at or above T only while its
// fold is due or under way, and bit T of the field tells: one test of
// both fields' threshold bits finds every add that may have to fold, and
// folds, apart, picks the one that crossed (its add turned bit T from 0 to
// 1), as a comparison of old and new against T would.
func (c *pair) addLo(d uint64) {
	if v := c.lo.Add(d); v&foldBits != 0 {
		c.folds(v, d)
	}
}

// foldBits are the two fields' threshold bits in lo.
const foldBits = frameFold<<loBytesBits | byteFold

// folds does the folds that the add of d, which made lo v, is the one to
// do: those whose threshold bit it set. Out of line, so that addLo inlines.
//
//go:noinline
func (c *pair) folds(v, d uint64) {
	crossed := v &^ (v - d)
	if crossed&(frameFold<<loBytesBits) != 0 {
		c.fold(frameFold<<loBytesBits, &c.frames, frameFold)
	}
	if crossed&byteFold != 0 {
		c.fold(byteFold, &c.bytes, byteFold)
	}
}

func (c *pair) fold(fromLo uint64, to *atomic.Uint64, amount uint64) {
	c.started.Add(1)
	to.Add(amount)
	c.lo.Add(-fromLo)
	c.finished.Add(1)
}

// load returns the frames and bytes counted.
func (c *pair) load() (frames, bytes uint64) {
	for {
		f := c.finished.Load()
		lo, fr, by := c.lo.Load(), c.frames.Load(), c.bytes.Load()
		if c.started.Load() == f {
			return fr + lo>>loBytesBits, by + lo&loBytesMask
		}
	}
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
	s := PortStats{Drops: map[string]uint64{}}
	s.RxFrames, s.RxBytes = c.rx.load()
	s.TxFrames, s.TxBytes = c.tx.load()
	for i := range c.drops {
		if v := c.drops[i].Load(); v > 0 {
			s.Drops[DropReason(i).String()] = v
		}
	}
	return s
}
