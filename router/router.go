package router

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// MTU bounds and default.
const (
	DefaultMTU = 1500  // Ethernet's, an interface's MTU when none is set
	MinMTU     = 68    // RFC 791: every link carries a 68-byte datagram whole
	MaxMTU     = 65535 // the largest IPv4 datagram
	DefaultTTL = 64    // of the packets the router makes (Linux's ip_default_ttl)
)

// Iface is one interface of a router.
type Iface struct {
	Name string       // e.g. eth0
	MAC  header.MAC   // unicast
	Addr netip.Prefix // the router's address and the connected subnet, e.g. 10.0.1.1/24
	MTU  int          // the largest IPv4 packet it sends; 0: DefaultMTU
	// Out is where the interface transmits; nil: to the receiver
	// attached to its Endpoint.
	Out link.Sender
}

// Config describes a router: its interfaces (each gives a connected
// route) and its static routes.
type Config struct {
	Name   string // for traces; "" is "router"
	Ifaces []Iface
	Routes []Route
}

// Options are the router's surroundings.
type Options struct {
	Clock  clock.Clock  // for ARP's timers and trace times; nil: the wall clock
	Tracer trace.Tracer // nil: none
}

// Stats counts what the router did with the IPv4 packets it received.
// Every packet received is counted in exactly one field that says what
// became of it (Forwarded, or why it was dropped or answered); what
// became of a packet forwarded after it left the router's hands (no ARP
// answer, a full ARP queue, an interface down) is counted again in a
// field "of Forwarded". The frames its stack dropped before IPv4 (not for
// its MAC, neither IPv4 nor ARP, malformed) are LinkDropped.
type Stats struct {
	Forwarded uint64 // sent on towards their destination, whole or in fragments
	// Of Forwarded: the next hop did not answer ARP; answered with ICMP
	// host unreachable.
	HostUnreachable uint64

	// The header checks of Linux's ip_rcv (InHdrErrors, InTruncatedPkts,
	// InCsumErrors).
	HeaderErrors uint64 // not version 4, a header length or total length that does not fit, malformed options (answered with parameter problem)
	Truncated    uint64 // total length beyond the bytes received
	BadChecksum  uint64 // header checksum wrong
	// The address checks of ip_route_input (RFC 1812 §5.3.7).
	MartianSource uint64 // a source no packet may have
	MartianDest   uint64 // a destination no packet may have
	SourceRouted  uint64 // a source route option (Linux's accept_source_route is 0)
	Broadcast     uint64 // to a broadcast or multicast address: not routed, and nothing on the router listens
	LinkBroadcast uint64 // a unicast packet that came in a link-layer broadcast or multicast frame: not forwarded

	NoRoute     uint64 // no route to the destination; answered with ICMP network unreachable (InNoRoutes)
	TTLExceeded uint64 // TTL ran out; answered with ICMP time exceeded
	FragFails   uint64 // too big for the egress MTU with DF set; answered with ICMP fragmentation needed
	FragOKs     uint64 // packets sent in fragments
	FragCreates uint64 // fragments made
	SendErrors  uint64 // of Forwarded: the egress refused the packet (interface down, neighbour table full)

	// For the router itself.
	EchoReplies      uint64 // pings answered
	Refused          uint64 // UDP, TCP or another protocol nothing serves: answered with port or protocol unreachable, or a TCP reset
	LocalIgnored     uint64 // not answered: ICMP other than echo requests, TCP resets, truncated messages
	LocalFragments   uint64 // fragments: the router does not reassemble
	LocalBadChecksum uint64 // a wrong ICMP, UDP or TCP checksum
	ICMPErrors       uint64 // ICMP errors sent (RFC 1812 §4.3.2.7 forbids some: those are not sent, nor counted here)
	OwnUndelivered   uint64 // packets the router made (replies, errors) lost: no route back, or no ARP answer from the next hop

	// The stack's.
	LinkDropped   uint64 // frames its stack dropped: not for the router's MAC, neither IPv4 nor ARP, malformed, interface down; and ARPQueueDrops from a full queue
	ARPQueueDrops uint64 // of Forwarded: packets dropped waiting for ARP, from a full queue (ARPQueue a neighbour) or with an entry evicted
	ARPRequests   uint64 // ARP requests sent
	ARPFailures   uint64 // resolutions that ran out of retries
}

// iface is an interface at run time.
type iface struct {
	name                        string
	ifc                         *stack.Iface
	port                        link.Port   // the interface as an Endpoint
	in                          link.Sender // Input for this interface, made once (InputOffload)
	prefix                      netip.Prefix
	mtu                         int
	a32, net32, mask32, bcast32 uint32
	hasBcast                    bool // false for /31 and /32 (RFC 3021)
}

// Router is an IPv4 router. It is not safe for concurrent use: frames,
// carrier changes and its clock's timers must reach it one at a time
// (in the mem backend the engine is its only caller; in netns its
// registration serialises it).
type Router struct {
	name   string
	clk    clock.Clock
	tracer trace.Tracer
	host   *stack.Host
	ifaces []iface // by stack interface index; never appended to once built (ports are pointed at)
	table  table
	stats  Stats
	group  bool // the frame being received came to a group (broadcast, multicast) address
	ipID   uint16
	// Scratch: the packet being forwarded, one the router makes, a
	// fragment; each after room for its Ethernet header.
	fwd, own, frag scratch
	// onUnresolved is unreachable as a func value made once, so that
	// forwarding allocates nothing for it.
	onUnresolved func(pkt []byte, err error)
}

// scratch is a reusable buffer, taken by one user at a time: a user that
// finds it taken (re-entered by a synchronous link) gets a new one.
type scratch struct {
	b    []byte
	busy bool
}

// take returns n bytes of the buffer, and whether the caller must give
// it back (put).
func (s *scratch) take(n int) ([]byte, bool) {
	if s.busy {
		return make([]byte, n), false
	}
	if cap(s.b) < n {
		s.b = make([]byte, n)
	}
	s.busy = true
	return s.b[:n], true
}

// put gives the buffer back when take said so.
func (s *scratch) put(mine bool) {
	if mine {
		s.busy = false
	}
}

// ErrConfig is wrapped by New's errors about its Config.
var ErrConfig = errors.New("router: bad configuration")

// New builds a router from c, which must pass Check. Its interfaces'
// carriers are up; a backend sets them as its links come and go.
func New(c Config, o Options) (*Router, error) {
	if errs := c.Check(); len(errs) > 0 {
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return nil, fmt.Errorf("%w: %w", ErrConfig, errors.Join(all...))
	}
	r := &Router{name: cmp.Or(c.Name, "router"), clk: clock.Or(o.Clock), tracer: o.Tracer}
	r.onUnresolved = r.unresolved
	r.host = stack.New(stack.Options{Name: r.name, Clock: r.clk, Tracer: o.Tracer, Forward: r.forward})
	r.ifaces = make([]iface, len(c.Ifaces))
	maxMTU := 0
	for i, ci := range c.Ifaces {
		f := &r.ifaces[i]
		f.name, f.prefix, f.mtu = ci.Name, ci.Addr, cmp.Or(ci.MTU, DefaultMTU)
		f.a32, f.mask32 = v4(ci.Addr.Addr()), mask(ci.Addr.Bits())
		f.net32 = f.a32 & f.mask32
		if ci.Addr.Bits() < 31 {
			f.bcast32, f.hasBcast = f.net32|^f.mask32, true
		}
		maxMTU = max(maxMTU, f.mtu)
		f.port.Input = func(frame []byte) { r.Input(i, frame) }
		f.port.InputOffload = func(frame []byte, o link.Offload) { r.InputOffload(i, frame, o) }
		f.port.SetCarrier = func(up bool) { r.SetCarrier(i, up) }
		f.in = link.Func(func(frame []byte) error { r.Input(i, frame); return nil })
		out := ci.Out
		if out == nil {
			out = &f.port.Out
		}
		ifc, err := r.host.AddIface(ci.Name, ci.MAC, ci.Addr, out)
		if err != nil {
			return nil, fmt.Errorf("router %s: %w", r.name, err)
		}
		if ifc.Index() != i {
			return nil, fmt.Errorf("router %s: %s: stack interface %d, want %d", r.name, ci.Name, ifc.Index(), i)
		}
		f.ifc = ifc
	}
	r.table = newTable(r.ifaces, c.Routes)
	r.fwd.b = make([]byte, stack.Headroom+MaxMTU)
	r.own.b = make([]byte, stack.Headroom+MaxMTU)
	r.frag.b = make([]byte, stack.Headroom+maxMTU)
	return r, nil
}

// Name returns the router's name.
func (r *Router) Name() string { return r.name }

// Endpoint returns the interface named port as an Endpoint, or nil: what
// is handed to it is received on the interface, its carrier is the
// interface's, and what the interface sends goes to the receiver
// attached (unless the interface was given an Out). A Router is a fabric
// node as it is.
func (r *Router) Endpoint(port string) link.Endpoint {
	for i := range r.ifaces {
		if r.ifaces[i].name == port {
			return &r.ifaces[i].port
		}
	}
	return nil
}

// Input hands the router a frame received on interface idx. The router
// does not keep frame.
func (r *Router) Input(idx int, frame []byte) {
	if idx < 0 || idx >= len(r.ifaces) {
		return
	}
	r.group = len(frame) >= 6 && header.Ethernet(frame).Dst().IsMulticast() // broadcast included
	r.host.Input(idx, frame)
	r.group = false
}

// InputOffload hands the router a frame with offload metadata (from a
// TAP with offloads, in netns) received on interface idx: it is resolved
// in software (segmented, its checksum filled) and each piece received
// as Input receives it.
func (r *Router) InputOffload(idx int, frame []byte, o link.Offload) {
	if idx < 0 || idx >= len(r.ifaces) {
		return
	}
	if !o.Pending() {
		r.Input(idx, frame)
		return
	}
	if _, _, err := link.ResolveTo(r.ifaces[idx].in, frame, o); err != nil {
		r.stats.HeaderErrors++
		r.drop(&r.ifaces[idx], nil, func() string { return fmt.Sprintf("offload metadata that does not fit the frame: %v", err) })
	}
}

// SetCarrier sets interface idx's carrier: a router sends nothing out of
// an interface without one, and drops what comes in on it.
func (r *Router) SetCarrier(idx int, up bool) {
	if idx >= 0 && idx < len(r.ifaces) {
		r.ifaces[idx].ifc.SetUp(up)
	}
}

// Stats returns the router's counters.
func (r *Router) Stats() Stats {
	s := r.stats
	hs := r.host.Stats()
	s.LinkDropped, s.ARPQueueDrops, s.ARPRequests, s.ARPFailures = hs.Dropped, hs.ARPQueueDrops, hs.ARPRequests, hs.ARPFailures
	return s
}

// Routes returns the routing table in the order lookups try it: longest
// prefix first, then lowest metric.
func (r *Router) Routes() []RouteEntry {
	out := make([]RouteEntry, len(r.table))
	for i := range r.table {
		out[i] = r.table[i].entry()
	}
	return out
}

// Lookup returns the route a packet to dst takes, as the forwarding path
// chooses it (longest prefix match).
func (r *Router) Lookup(dst netip.Addr) (RouteEntry, bool) {
	if !dst.Is4() {
		return RouteEntry{}, false
	}
	rt := r.table.lookup(v4(dst))
	if rt == nil {
		return RouteEntry{}, false
	}
	return rt.entry(), true
}

// Neighbour is a resolved entry of the router's ARP cache.
type Neighbour struct {
	Addr netip.Addr
	MAC  net.HardwareAddr
}

// Neighbours returns the resolved, unexpired ARP entries, sorted by
// address.
func (r *Router) Neighbours() []Neighbour {
	var out []Neighbour
	for _, e := range r.host.ARPCache() {
		out = append(out, Neighbour{e.Addr, e.MAC})
	}
	return out
}
