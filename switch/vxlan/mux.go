package vxlan

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
)

// Transport carries VXLAN packets (the UDP payload: the 8-byte VXLAN
// header and the inner frame) to other VTEPs.
type Transport interface {
	// Send sends pkt to dst. pkt may be reused by the caller once Send
	// returns. Send may be called from several goroutines at once.
	Send(dst netip.AddrPort, pkt []byte) error
}

// Queuer is a Transport that can send several packets in one go. A VTEP
// with several packets to send for one frame (the segments of a
// super-frame, the copies of a flood) queues them and then flushes, so a
// batching transport makes one system call of them.
type Queuer interface {
	Transport
	// Queue takes a copy of pkt for dst, to go at the next Flush at the
	// latest.
	Queue(dst netip.AddrPort, pkt []byte) error
	// Flush sends what is queued.
	Flush() error
}

// TransportFunc adapts a function to a Transport.
type TransportFunc func(dst netip.AddrPort, pkt []byte) error

var _ Transport = TransportFunc(nil)

// Send calls f(dst, pkt).
func (f TransportFunc) Send(dst netip.AddrPort, pkt []byte) error { return f(dst, pkt) }

// Options configure a Mux. Zero fields take the defaults named.
type Options struct {
	Clock  clock.Clock  // default clock.Real
	Tracer trace.Tracer // default none
	Node   string       // the node name in traces; default "vxlan"
	Port   uint16       // the destination UDP port; default 4789 (IANA's; Linux's vxlan device defaults to 8472)
}

// DefaultPort is the VXLAN port IANA assigned (RFC 7348 §5).
const DefaultPort = header.VXLANPort

// MaxVNI is the largest VXLAN network identifier (24 bits).
const MaxVNI = 1<<24 - 1

// Mux is one host's VXLAN endpoint: the VTEPs of its overlay networks,
// by VNI, over one Transport. Input takes what the transport receives.
type Mux struct {
	t      Transport
	q      Queuer // t, if it queues; else nil
	clk    clock.Clock
	nanos  clock.Nanos
	tracer trace.Tracer
	node   string
	port   uint16

	mu    sync.Mutex                       // serialises Add and Remove
	vteps atomic.Pointer[map[uint32]*VTEP] // copy-on-write, by VNI

	packets, bytes atomic.Uint64
	drops          drops
}

// Errors returned by Add.
var (
	ErrVNIRange  = errors.New("vxlan: VNI out of range 0-16777215")
	ErrVNITaken  = errors.New("vxlan: VNI already has a VTEP")
	ErrBadConfig = errors.New("vxlan: bad VTEP configuration")
)

// NewMux returns a Mux with no VTEPs that sends through t, which is
// required. If t is a Queuer, VTEPs queue what they send several of at
// once (segments, floods) and flush.
func NewMux(t Transport, o Options) *Mux {
	m := &Mux{
		t:      t,
		clk:    clock.Or(o.Clock),
		tracer: o.Tracer,
		node:   cmp.Or(o.Node, "vxlan"),
		port:   cmp.Or(o.Port, DefaultPort),
	}
	m.q, _ = t.(Queuer)
	m.nanos, _ = m.clk.(clock.Nanos)
	m.vteps.Store(&map[uint32]*VTEP{})
	return m
}

// Port returns the UDP port packets are sent to.
func (m *Mux) Port() uint16 { return m.port }

// now returns the clock's time in Unix nanoseconds.
func (m *Mux) now() int64 {
	if m.nanos != nil {
		return m.nanos.UnixNano()
	}
	return m.clk.Now().UnixNano()
}

// Add makes a VTEP for c.VNI. It fails for a VNI out of range or taken,
// and for a bad flood list, MTU, bound or ageing time.
func (m *Mux) Add(c Config) (*VTEP, error) {
	if c.VNI > MaxVNI {
		return nil, fmt.Errorf("%w: %d", ErrVNIRange, c.VNI)
	}
	v, err := newVTEP(m, c)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.vteps.Load()
	if _, ok := old[c.VNI]; ok {
		v.learned.close()
		return nil, fmt.Errorf("%w: %d", ErrVNITaken, c.VNI)
	}
	next := make(map[uint32]*VTEP, len(old)+1)
	for k, w := range old {
		next[k] = w
	}
	next[c.VNI] = v
	m.vteps.Store(&next)
	return v, nil
}

// Remove removes the VTEP of vni, if there is one: packets for it are
// then unknown-vni, frames handed to it are dropped, and its learned
// table stops ageing.
func (m *Mux) Remove(vni uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.vteps.Load()
	v, ok := old[vni]
	if !ok {
		return
	}
	next := make(map[uint32]*VTEP, len(old))
	for k, w := range old {
		if k != vni {
			next[k] = w
		}
	}
	m.vteps.Store(&next)
	v.removed.Store(true)
	v.learned.close()
}

// VTEP returns the VTEP of vni, or nil.
func (m *Mux) VTEP(vni uint32) *VTEP { return (*m.vteps.Load())[vni] }

// Input takes one received UDP payload from src, the outer source: it
// checks the VXLAN header, finds the VTEP by VNI and hands it the inner
// frame. What no VTEP takes is counted by reason (runt, bad-flags,
// unknown-vni) and traced. pkt is not kept after Input returns. Input
// may be called from several goroutines at once, and while frames are
// sent.
//
// RFC 7348 §5: the reserved fields are ignored on receipt (Linux drops a
// packet with reserved bits set; gopacket, like the RFC, reads past
// them).
func (m *Mux) Input(src netip.AddrPort, pkt []byte) {
	h := header.VXLAN(pkt)
	switch h.Check() {
	case header.OK:
	case header.Short:
		m.drop(DropRunt, src, 0, func() string {
			return fmt.Sprintf("a %d-byte packet from %s, shorter than a VXLAN header (%d bytes)", len(pkt), src, header.VXLANLen)
		})
		return
	default:
		m.drop(DropBadFlags, src, 0, func() string {
			return fmt.Sprintf("flags %#02x from %s: the I flag is not set (RFC 7348 §5: it MUST be, for the VNI to be valid)", h.Flags(), src)
		})
		return
	}
	vni := h.VNI()
	v := (*m.vteps.Load())[vni]
	if v == nil {
		m.drop(DropUnknownVNI, src, vni, func() string {
			return fmt.Sprintf("VXLAN %d from %s: no overlay network here has that VNI", vni, src)
		})
		return
	}
	m.packets.Add(1)
	m.bytes.Add(uint64(len(pkt)))
	v.input(src.Addr().Unmap(), h.Payload())
}

// drop counts a packet no VTEP took and traces why.
func (m *Mux) drop(r DropReason, src netip.AddrPort, vni uint32, why func() string) {
	m.drops[r].Add(1)
	if m.tracer == nil {
		return
	}
	m.tracer.Trace(trace.Event{Time: m.clk.Now(), Node: m.node, Kind: trace.Dropped, VNI: vni, VTEP: src.Addr().Unmap(),
		Reason: r.String() + ": " + why()})
}

// Stats returns a snapshot of the Mux's counters.
func (m *Mux) Stats() MuxStats {
	return MuxStats{Packets: m.packets.Load(), Bytes: m.bytes.Load(), Drops: m.drops.snapshot()}
}
