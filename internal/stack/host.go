package stack

import (
	"cmp"
	"container/list"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// Limits and timers of the host stack, after Linux's defaults.
const (
	ARPRetries    = 3                // requests sent before giving up (mcast_solicit)
	ARPRetry      = time.Second      // between requests (retrans_time)
	ARPLifetime   = 60 * time.Second // validity of a confirmed entry
	ARPQueue      = 3                // packets held per unresolved neighbour
	MaxARPEntries = 256
	DefaultTTL    = 64
)

// Errors returned to senders.
var (
	ErrNoRoute     = errors.New("stack: network unreachable")
	ErrHostUnreach = errors.New("stack: host unreachable")
	ErrPortInUse   = errors.New("stack: port in use")
	ErrDown        = errors.New("stack: interface down")
)

// Options configure a Host.
type Options struct {
	Name   string       // for traces; default "host"
	Clock  clock.Clock  // default clock.Real
	Tracer trace.Tracer // default none
	// Forward, if set, sees every IPv4 packet the host receives before the
	// host does (a router's hook): pkt is the packet from its IP header to
	// its end, valid only during the call and not to be modified, and o
	// the offload metadata of its frame (see InputOffload). It returns true
	// when it took the packet (forwarded or dropped it); false lets the
	// host deliver it as usual.
	Forward func(in *Iface, pkt []byte, o link.Offload) bool
	// Output, if set, sees every IPv4 packet the host makes itself for
	// one of its own addresses (127.0.0.0/8 included) before it goes
	// round through loopback: the place of Linux's nat OUTPUT chain,
	// where Docker's rules turn a connection from the host to a published
	// port into one to the container. pkt is the whole packet, checksums
	// set, valid only during the call. It returns true when it took the
	// packet.
	Output func(pkt []byte) bool
}

// Iface is one interface of a host.
//
// What a frame received reads of it before it is dropped as not for the
// host comes first, up to the address in prefix: 64 bytes, one cache
// line, since an interface is padded to 192 bytes, a size class whose
// objects start on a line.
type Iface struct {
	ep     ifaceEnd // the interface as an Endpoint
	h      *Host
	idx    int
	mac    header.MAC
	up     bool
	noARP  bool         // IFF_NOARP: no neighbour is resolved, frames go to the interface's own MAC
	prefix netip.Prefix // the address and its on-link prefix; set by setPrefix

	bcast netip.Addr // lastAddr(prefix), when prefix is IPv4; else invalid
	name  string
	hw    net.HardwareAddr // mac[:], for gopacket's layers
	out   link.Sender
	_     [40]byte // to 192 bytes
}

// SetNoARP makes the interface resolve no neighbour, as Linux's IFF_NOARP
// does (ipvlan l3's children): every frame it sends is addressed to its
// own MAC (arp_constructor's NUD_NOARP with the device's address), and
// ARP it receives is dropped.
func (i *Iface) SetNoARP(on bool) { i.noARP = on }

// Name returns the interface's name.
func (i *Iface) Name() string { return i.name }

// Index returns the interface's index, what Input takes (-1 for loopback).
func (i *Iface) Index() int { return i.idx }

// MAC returns the interface's hardware address.
func (i *Iface) MAC() header.MAC { return i.mac }

// Prefix returns the interface's address with its prefix length.
func (i *Iface) Prefix() netip.Prefix { return i.prefix }

// Endpoint returns the interface as an Endpoint: frames handed to it
// arrive at the host (Input), its carrier is the interface's (SetUp),
// and what the interface sends goes to the receiver attached, when it
// was added without a Sender of its own.
func (i *Iface) Endpoint() link.Endpoint { return &i.ep }

// SetOut changes where the interface transmits (a host moving to another
// switch port).
func (i *Iface) SetOut(out link.Sender) { i.out = out }

// SetUp sets the interface's carrier.
func (i *Iface) SetUp(up bool) {
	if i.up == up {
		return
	}
	i.up = up
	state := "down"
	if up {
		state = "up"
	}
	i.h.event(i.name, trace.Event{Op: trace.OpCarrier, State: state})
}

// Stats counts what a host did.
type Stats struct {
	ARPEvictions  uint64 // cache entries evicted because the cache was full
	ARPQueueDrops uint64 // packets dropped from a full resolution queue
	ARPFailures   uint64 // resolutions that ran out of retries
	Dropped       uint64 // frames received and dropped (not for us, malformed, unknown)
	Malformed     uint64 // of Dropped: could not be decoded

	ARPTableFull uint64 // entries refused: the cache was full and none could go (Linux's table_fulls)
	ARPRequests  uint64 // ARP requests sent

	TCPAccepted    uint64 // connections accepted by listeners
	TCPListenDrops uint64 // SYNs dropped: the listener had MaxConns connections
	TCPRetransmits uint64 // segments sent again (SYN, SYN-ACK, data, FIN)
	TCPTimeouts    uint64 // connections given up: retransmissions unanswered, FIN-WAIT-2 timeout
	TCPResets      uint64 // connections ended by a RST from the peer
	TCPIdleClosed  uint64 // connections closed for idleness
	TCPOutOfOrder  uint64 // of Dropped: segments whose data did not start at the next expected byte
	TCPSendFull    uint64 // writes refused by the send buffer bound
	TCPTimeWaitEnd uint64 // TIME-WAIT connections ended early, for room or for a new SYN
}

// Host is a simulated IPv4 host.
//
// The fields a frame dropped as not for the host reads (an ARP request for
// another address, what nearly every host of a large segment hears) come
// first, up to stats.Dropped: on the first of its cache lines, since a
// host is allocated in the size class of 512 bytes, whose objects start on
// a line (a larger one would come after an 8-byte header of the
// allocator's).
type Host struct {
	forward  func(in *Iface, pkt []byte, o link.Offload) bool
	tracer   trace.Tracer
	arpBloom uint64 // arp's bloom filter (see neighbours)
	stats    Stats

	name     string
	clk      clock.Clock
	ifaces   []*Iface
	gw       netip.Addr
	arp      neighbours
	udp      map[uint16]*UDPConn
	udpAt    map[netip.AddrPort]*UDPConn // sockets bound to one address (ListenUDPAddr), which win over udp's
	echo     map[uint32]echoWait         // by id<<16 | seq
	echoGen  uint64                      // the last Ping's echoWait.gen
	tcpL     map[uint16]*TCPListener
	tcpC     map[tcpKey]*TCPStream
	isn      uint32 // next initial sequence number (deterministic)
	ipID     uint16
	dnsID    uint16
	dec      *decoder                 // reused for every frame received
	sbuf     gopacket.SerializeBuffer // reused for every frame sent
	obuf     []byte                   // reused for every frame built in place
	sending  bool                     // sbuf is in use
	building bool                     // obuf is in use
	lo       *Iface                   // loopback: 127.0.0.0/8 and the host's own addresses
	output   func(pkt []byte) bool
	routes   []Route  // static routes, longest prefix first
	loq      [][]byte // frames sent through lo, not yet taken in
	gwDev    *Iface   // a default route with no gateway ("default dev eth0"); nil: none

	tcpPorts map[uint16]int // TCP connections per local port
	arpOrder list.List      // of *neighbour: the table, least recently updated first
}

// New returns a host with no interfaces.
func New(o Options) *Host {
	h := &Host{
		name:    cmp.Or(o.Name, "host"),
		clk:     clock.Or(o.Clock),
		tracer:  o.Tracer,
		udp:     map[uint16]*UDPConn{},
		udpAt:   map[netip.AddrPort]*UDPConn{},
		echo:    map[uint32]echoWait{},
		tcpL:    map[uint16]*TCPListener{},
		tcpC:    map[tcpKey]*TCPStream{},
		forward: o.Forward,
		output:  o.Output,

		tcpPorts: map[uint16]int{},
	}
	h.lo = &Iface{h: h, idx: -1, name: "lo", up: true}
	h.lo.setPrefix(netip.MustParsePrefix("127.0.0.1/8"))
	h.lo.hw = h.lo.mac[:]
	// What goes out of lo comes back in as a new event, as a softirq
	// would take it, so that a reply is never built inside its request;
	// in the order sent, whatever the clock does with timers due at once
	// (a wall clock runs each on its own goroutine).
	h.lo.out = link.Func(func(frame []byte) error {
		h.loq = append(h.loq, append([]byte(nil), frame...))
		if len(h.loq) == 1 {
			h.clk.AfterFunc(0, h.loopback)
		}
		return nil
	})
	return h
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Stats returns the host's counters.
func (h *Host) Stats() Stats { return h.stats }

// AddIface adds an interface with the given MAC and address/prefix that
// transmits through out (nil: to the receiver attached to its Endpoint),
// and returns it. Its index is what Input takes.
func (h *Host) AddIface(name string, mac header.MAC, addr netip.Prefix, out link.Sender) (*Iface, error) {
	if mac.IsMulticast() {
		return nil, fmt.Errorf("stack: %s: MAC %v is a multicast address", name, mac)
	}
	if !addr.Addr().Is4() {
		return nil, fmt.Errorf("stack: %s: %v is not an IPv4 address", name, addr)
	}
	i := &Iface{h: h, idx: len(h.ifaces), name: name, mac: mac, out: out, up: true}
	i.setPrefix(addr)
	i.hw = i.mac[:]
	if out == nil {
		i.out = &i.ep.Out
	}
	i.ep.i = i
	h.ifaces = append(h.ifaces, i)
	return i, nil
}

// Ifaces returns the host's interfaces in the order added.
func (h *Host) Ifaces() []*Iface { return h.ifaces }

// SetGateway sets the default gateway, which must be on a connected prefix
// when packets are sent.
func (h *Host) SetGateway(gw netip.Addr) { h.gw = gw }

// SetDefaultDev sets a default route out of i with no gateway ("ip route
// add default dev eth0"): every address off the connected prefixes is
// taken to be on-link there. A gateway, when set, wins.
func (h *Host) SetDefaultDev(i *Iface) { h.gwDev = i }

// Addr returns the address of the first interface.
func (h *Host) Addr() netip.Addr {
	if len(h.ifaces) == 0 {
		return netip.Addr{}
	}
	return h.ifaces[0].prefix.Addr()
}

// owns reports whether a is one of the host's addresses (loopback's
// included).
func (h *Host) owns(a netip.Addr) bool {
	if isLoopback(a) {
		return true
	}
	for _, i := range h.ifaces {
		if i.prefix.Addr() == a {
			return true
		}
	}
	return false
}

// route returns the interface and next hop for dst.
func (h *Host) route(dst netip.Addr) (*Iface, netip.Addr, error) {
	if h.owns(dst) { // Linux's local table
		return h.lo, dst, nil
	}
	// Contains compares only the prefix's leading bits: i.prefix, the
	// interface's address with its length, need not be masked first.
	for _, i := range h.ifaces {
		if i.prefix.Contains(dst) {
			return i, dst, nil
		}
	}
	for _, r := range h.routes {
		if r.To.Contains(dst) {
			for _, i := range h.ifaces {
				if i.prefix.Contains(r.Via) {
					return i, r.Via, nil
				}
			}
		}
	}
	if h.gw.IsValid() {
		for _, i := range h.ifaces {
			if i.prefix.Contains(h.gw) {
				return i, h.gw, nil
			}
		}
	}
	if h.gwDev != nil && !h.gw.IsValid() {
		return h.gwDev, dst, nil
	}
	return nil, netip.Addr{}, ErrNoRoute
}

// isLoopback reports whether a is in 127.0.0.0/8.
func isLoopback(a netip.Addr) bool { return a.Is4() && a.As4()[0] == 127 }

// traces reports whether a tracer listens to the host's events of kind
// k (trace.Host, trace.Dropped). A live world always has a tracer (its
// API's bus), mostly with nobody on it, and an event is a large struct:
// the paths of every frame build one only when this is true.
func (h *Host) traces(k trace.Kind) bool { return h.tracer != nil && trace.Wants(h.tracer, k) }

// event traces e, a host event on port ("": none). Callers build fields
// that cost an allocation (a MAC's string), and on the path of every frame
// the event itself, only when h.traces(trace.Host).
func (h *Host) event(port string, e trace.Event) {
	if !h.traces(trace.Host) {
		return
	}
	e.Time, e.Node, e.Kind, e.Port = h.clk.Now(), h.name, trace.Host, port
	h.tracer.Trace(e)
}

// droppedf counts a dropped frame and traces why.
func (h *Host) droppedf(port, format string, args ...any) {
	h.stats.Dropped++
	if !h.traces(trace.Dropped) {
		return
	}
	h.tracer.Trace(trace.Event{Time: h.clk.Now(), Node: h.name, Kind: trace.Dropped, Port: port, Reason: fmt.Sprintf(format, args...)})
}

// countedDrop counts a dropped frame when no tracer wants to hear why,
// and reports whether it did: a caller with arguments for droppedf calls it
// only when this is false, so a drop costs no allocation.
func (h *Host) countedDrop() bool {
	if h.traces(trace.Dropped) {
		return false
	}
	h.stats.Dropped++
	return true
}

// transmit serialises ls into a frame and sends it out of i.
func (h *Host) transmit(i *Iface, ls ...gopacket.SerializableLayer) error {
	if !i.up {
		return ErrDown
	}
	buf := h.sbuf
	if buf == nil || h.sending { // first use, or re-entered by a synchronous link
		buf = gopacket.NewSerializeBuffer()
		if h.sbuf == nil {
			h.sbuf = buf
		}
	}
	h.sending = true
	defer func() { h.sending = false }()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return fmt.Errorf("stack: build frame: %w", err)
	}
	return i.out.Send(buf.Bytes())
}

// decoder holds preallocated layers for gopacket's DecodingLayerParser, so
// receiving a frame allocates nothing for decoding.
type decoder struct {
	eth     layers.Ethernet
	arp     layers.ARP
	ip4     layers.IPv4
	icmp    layers.ICMPv4
	udp     layers.UDP
	tcp     layers.TCP
	payload gopacket.Payload
	parser  *gopacket.DecodingLayerParser
	found   []gopacket.LayerType
	busy    bool
}

func newDecoder() *decoder {
	d := &decoder{}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.arp, &d.ip4, &d.icmp, &d.udp, &d.tcp, &d.payload)
	d.parser.IgnoreUnsupported = true
	d.found = make([]gopacket.LayerType, 0, 8)
	return d
}

func (d *decoder) has(t gopacket.LayerType) bool {
	for _, f := range d.found {
		if f == t {
			return true
		}
	}
	return false
}

// ifaceEnd is an interface as an Endpoint: what is handed to it is
// received on the interface, what the interface sends goes out of Out to
// the receiver attached. It calls the host without a closure or a look-up
// of the index between (the interface is at h.ifaces[i.idx] while idx is
// not negative), since every frame a host hears comes this way.
type ifaceEnd struct {
	link.Out
	i *Iface
}

var _ link.Endpoint = (*ifaceEnd)(nil)

// Receive is Input on the interface.
func (e *ifaceEnd) Receive(frame []byte) error {
	if i := e.i; i.idx >= 0 {
		i.h.input(i, frame, link.Offload{}, true)
	}
	return nil
}

// ReceiveOffload is InputOffload on the interface.
func (e *ifaceEnd) ReceiveOffload(frame []byte, o link.Offload) error {
	if i := e.i; i.idx >= 0 {
		i.h.input(i, frame, o, true)
	}
	return nil
}

// Carrier is SetUp. Carrier from the host is not passed on (an
// interface's carrier is its own state).
func (e *ifaceEnd) Carrier(up bool) { e.i.SetUp(up) }

// Input hands the host a frame received on interface idx. The host does not
// keep frame.
func (h *Host) Input(idx int, frame []byte) {
	if idx < 0 || idx >= len(h.ifaces) {
		return
	}
	h.input(h.ifaces[idx], frame, link.Offload{}, true)
}

// InputOffload hands the host a frame with offload metadata (a TCP
// super-frame, a pending checksum) received on interface idx. Only a
// router's Forward hook makes use of the metadata (to send the frame on as
// it is); the host's own sockets do not check checksums, and take such a
// frame as one packet.
func (h *Host) InputOffload(idx int, frame []byte, o link.Offload) {
	if idx < 0 || idx >= len(h.ifaces) {
		return
	}
	h.input(h.ifaces[idx], frame, o, true)
}

// Deliver hands the host a frame received on interface idx, as Input does
// but past the Forward hook: a router's own packet, decided already (a
// datagram it reassembled for itself).
func (h *Host) Deliver(idx int, frame []byte) {
	if idx < 0 || idx >= len(h.ifaces) {
		return
	}
	h.input(h.ifaces[idx], frame, link.Offload{}, false)
}

// input takes a frame received on i. With hook, an IPv4 frame for the
// host's MAC (or a group) goes to the Forward hook first, as it arrived,
// before anything is decoded: what a router forwards is never parsed by
// the host's decoder.
func (h *Host) input(i *Iface, frame []byte, o link.Offload, hook bool) {
	if !i.up {
		h.droppedf(i.name, "interface down")
		return
	}
	if e := header.Ethernet(frame); hook && h.forward != nil && len(e) >= header.EthernetLen && e.EtherType() == header.EtherTypeIPv4 &&
		(e.Dst().IsMulticast() || e.Dst() == i.mac) {
		pkt := header.IPv4(e.L3())
		if len(pkt) >= 4 {
			if n := pkt.TotalLen(); n >= header.IPv4MinLen && n <= len(pkt) {
				pkt = pkt[:n] // without Ethernet padding
			}
		}
		if h.forward(i, pkt, o) {
			return
		}
	}
	if h.arpNotForMe(i, frame) || h.inputEcho(i, frame) {
		return
	}
	h.inputDecoded(i, frame)
}

// inputDecoded is input past its shortcuts (arpNotForMe, inputEcho): the
// frame decoded by gopacket's layers.
func (h *Host) inputDecoded(i *Iface, frame []byte) {
	d := h.dec
	if d == nil || d.busy { // first use, or re-entered by a synchronous link
		d = newDecoder()
		if h.dec == nil {
			h.dec = d
		}
	}
	d.busy = true
	defer func() { d.busy = false }()
	err := d.parser.DecodeLayers(frame, &d.found)
	if err != nil || !d.has(layers.LayerTypeEthernet) {
		h.stats.Malformed++
		h.droppedf(i.name, "malformed frame")
		return
	}
	dst := header.MAC(d.eth.DstMAC) // gopacket's Ethernet has 6 bytes in it
	if !(dst.IsMulticast() || dst == i.mac) {
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "frame for %s is not for me", dst)
		}
		return
	}
	switch {
	case d.has(layers.LayerTypeARP) && i.noARP:
		h.droppedf(i.name, "ARP on a NOARP interface")
	case d.has(layers.LayerTypeARP):
		h.inputARP(i, &d.arp)
	case d.has(layers.LayerTypeIPv4):
		h.inputIPv4(i, d)
	default:
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "unsupported EtherType %s", d.eth.EthernetType)
		}
	}
}

func (h *Host) inputIPv4(i *Iface, d *decoder) {
	ip := &d.ip4
	dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
	src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
	bcast := dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || dst == i.broadcast()
	if !h.owns(dst) && !bcast {
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "packet for %s is not for me (hosts do not forward)", dst)
		}
		return
	}
	switch {
	case ip.Protocol == layers.IPProtocolICMPv4 && d.has(layers.LayerTypeICMPv4):
		h.inputICMP(i, src, dst, ip, &d.icmp, bcast)
	case ip.Protocol == layers.IPProtocolUDP && d.has(layers.LayerTypeUDP):
		h.inputUDP(i, src, dst, ip, &d.udp, bcast)
	case ip.Protocol == layers.IPProtocolTCP && d.has(layers.LayerTypeTCP) && !bcast:
		h.inputTCP(i, src, dst, &d.tcp)
	default:
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "unsupported protocol %s", ip.Protocol)
		}
	}
}

// lastAddr returns the directed broadcast address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	n := p.Bits()
	for b := n; b < 32; b++ {
		a[b/8] |= 1 << (7 - b%8)
	}
	return netip.AddrFrom4(a)
}
