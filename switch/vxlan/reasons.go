package vxlan

import "sync/atomic"

// DropReason says why a packet or frame was dropped. Its String form is
// the name used in traces and in Stats.Drops.
type DropReason uint8

// The drop reasons. The Mux counts the first three (a packet no VTEP
// took); a VTEP counts the others, and runt for an inner frame too short.
const (
	DropRunt       DropReason = iota // a packet shorter than the VXLAN header (Mux), a frame shorter than an Ethernet header (VTEP)
	DropBadFlags                     // the VXLAN header's I flag is not set (RFC 7348 §5)
	DropUnknownVNI                   // no VTEP has the packet's VNI
	DropTooBig                       // a frame from the switch larger than the inner MTU allows
	DropBadOffload                   // offload metadata that does not fit its frame
	DropNoFlood                      // broadcast, multicast or unknown unicast (an unanswered ARP request too) with no flood list: Docker's overlay does not carry them across hosts
	DropBadSource                    // a decapsulated frame with a multicast or zero source address
	DropWrongVTEP                    // a decapsulated frame whose source the peer table puts behind another VTEP
	DropLearnFull                    // a source address not learned: the learned table is full (the frame itself is delivered)
	DropTxError                      // the transport refused a packet
	DropDown                         // a decapsulated frame with nowhere to go: nothing attached, carrier down, or the VTEP removed
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropRunt:       "runt",
	DropBadFlags:   "bad-flags",
	DropUnknownVNI: "unknown-vni",
	DropTooBig:     "too-big",
	DropBadOffload: "bad-offload",
	DropNoFlood:    "no-flood",
	DropBadSource:  "bad-source",
	DropWrongVTEP:  "wrong-vtep",
	DropLearnFull:  "learn-full",
	DropTxError:    "tx-error",
	DropDown:       "down",
}

// String returns the reason's name, such as "unknown-vni".
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// DropReasons lists every reason, in order.
func DropReasons() []DropReason {
	r := make([]DropReason, numDropReasons)
	for i := range r {
		r[i] = DropReason(i)
	}
	return r
}

// drops counts drops by reason.
type drops [numDropReasons]atomic.Uint64

// snapshot returns the reasons with a count, by name.
func (d *drops) snapshot() map[string]uint64 {
	m := map[string]uint64{}
	for i := range d {
		if n := d[i].Load(); n > 0 {
			m[DropReason(i).String()] = n
		}
	}
	return m
}

// counters are a VTEP's statistics. The receive pair (written by the
// transport's reader) and the transmit pair (written by the goroutines
// feeding the switch) sit on cache lines of their own.
type counters struct {
	_                 [64]byte
	rxFrames, rxBytes atomic.Uint64
	_                 [48]byte
	txFrames, txBytes atomic.Uint64
	_                 [48]byte
	proxyARP          atomic.Uint64
	drops             drops
}

// Stats is a snapshot of a VTEP's counters.
type Stats struct {
	RxFrames, RxBytes uint64            // frames decapsulated and delivered, and their bytes (inner frames)
	TxFrames, TxBytes uint64            // frames encapsulated and sent, once per VTEP sent to, and their bytes (inner frames)
	ProxyARP          uint64            // ARP requests answered from the peer table
	Learned           int               // entries in the learned table
	Drops             map[string]uint64 // by DropReason name; only reasons with a count
}

// Dropped returns the total of all drops.
func (s Stats) Dropped() uint64 {
	var n uint64
	for _, v := range s.Drops {
		n += v
	}
	return n
}

// MuxStats is a snapshot of a Mux's counters: what reached it, and what
// no VTEP took.
type MuxStats struct {
	Packets, Bytes uint64            // packets handed to a VTEP, and their bytes (VXLAN header included)
	Drops          map[string]uint64 // by DropReason name (runt, bad-flags, unknown-vni); only reasons with a count
}

// Dropped returns the total of all drops.
func (s MuxStats) Dropped() uint64 {
	var n uint64
	for _, v := range s.Drops {
		n += v
	}
	return n
}
