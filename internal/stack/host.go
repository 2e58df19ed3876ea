package stack

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
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
}

// Iface is one interface of a host.
type Iface struct {
	h      *Host
	idx    int
	name   string
	mac    net.HardwareAddr
	prefix netip.Prefix // the address and its on-link prefix
	out    link.Sender
	up     bool
}

// Name returns the interface's name.
func (i *Iface) Name() string { return i.name }

// MAC returns the interface's hardware address.
func (i *Iface) MAC() net.HardwareAddr { return i.mac }

// Prefix returns the interface's address with its prefix length.
func (i *Iface) Prefix() netip.Prefix { return i.prefix }

// SetOut changes where the interface transmits (a host moving to another
// switch port).
func (i *Iface) SetOut(out link.Sender) { i.out = out }

// SetUp sets the interface's carrier.
func (i *Iface) SetUp(up bool) {
	if i.up == up {
		return
	}
	i.up = up
	i.h.event(i.name, fmt.Sprintf("carrier %s", map[bool]string{true: "up", false: "down"}[up]))
}

// Stats counts what a host did.
type Stats struct {
	ARPEvictions  uint64 // cache entries evicted because the cache was full
	ARPQueueDrops uint64 // packets dropped from a full resolution queue
	ARPFailures   uint64 // resolutions that ran out of retries
	Dropped       uint64 // frames received and dropped (not for us, malformed, unknown)
	Malformed     uint64 // of Dropped: could not be decoded
}

// Host is a simulated IPv4 host.
type Host struct {
	name   string
	clk    clock.Clock
	tracer trace.Tracer
	ifaces []*Iface
	gw     netip.Addr
	arp    map[netip.Addr]*neighbour
	udp    map[uint16]*UDPConn
	echo   map[uint32]*echoWait // by id<<16 | seq
	ipID   uint16
	stats  Stats
}

// New returns a host with no interfaces.
func New(o Options) *Host {
	return &Host{
		name:   cmp.Or(o.Name, "host"),
		clk:    clock.Or(o.Clock),
		tracer: o.Tracer,
		arp:    map[netip.Addr]*neighbour{},
		udp:    map[uint16]*UDPConn{},
		echo:   map[uint32]*echoWait{},
	}
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Stats returns the host's counters.
func (h *Host) Stats() Stats { return h.stats }

// AddIface adds an interface with the given MAC and address/prefix that
// transmits through out, and returns it. Its index is what Input takes.
func (h *Host) AddIface(name string, mac net.HardwareAddr, addr netip.Prefix, out link.Sender) (*Iface, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("stack: %s: MAC %v is not 48 bits", name, mac)
	}
	if !addr.Addr().Is4() {
		return nil, fmt.Errorf("stack: %s: %v is not an IPv4 address", name, addr)
	}
	i := &Iface{h: h, idx: len(h.ifaces), name: name, mac: mac, prefix: addr, out: out, up: true}
	h.ifaces = append(h.ifaces, i)
	return i, nil
}

// Ifaces returns the host's interfaces in the order added.
func (h *Host) Ifaces() []*Iface { return h.ifaces }

// SetGateway sets the default gateway, which must be on a connected prefix
// when packets are sent.
func (h *Host) SetGateway(gw netip.Addr) { h.gw = gw }

// Addr returns the address of the first interface.
func (h *Host) Addr() netip.Addr {
	if len(h.ifaces) == 0 {
		return netip.Addr{}
	}
	return h.ifaces[0].prefix.Addr()
}

// owns reports whether a is one of the host's addresses.
func (h *Host) owns(a netip.Addr) bool {
	for _, i := range h.ifaces {
		if i.prefix.Addr() == a {
			return true
		}
	}
	return false
}

// route returns the interface and next hop for dst.
func (h *Host) route(dst netip.Addr) (*Iface, netip.Addr, error) {
	for _, i := range h.ifaces {
		if i.prefix.Masked().Contains(dst) {
			return i, dst, nil
		}
	}
	if h.gw.IsValid() {
		for _, i := range h.ifaces {
			if i.prefix.Masked().Contains(h.gw) {
				return i, h.gw, nil
			}
		}
	}
	return nil, netip.Addr{}, ErrNoRoute
}

func (h *Host) event(port, detail string) {
	if h.tracer == nil {
		return
	}
	h.tracer.Trace(trace.Event{Time: h.clk.Now(), Node: h.name, Kind: trace.Host, Port: port, Detail: detail})
}

func (h *Host) dropped(port, why string) {
	h.stats.Dropped++
	if h.tracer == nil {
		return
	}
	h.tracer.Trace(trace.Event{Time: h.clk.Now(), Node: h.name, Kind: trace.Dropped, Port: port, Reason: why})
}

// transmit serialises ls into a frame and sends it out of i.
func (h *Host) transmit(i *Iface, ls ...gopacket.SerializableLayer) error {
	if !i.up {
		return ErrDown
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return fmt.Errorf("stack: build frame: %w", err)
	}
	return i.out.Send(buf.Bytes())
}

// Input hands the host a frame received on interface idx. The host does not
// keep frame.
func (h *Host) Input(idx int, frame []byte) {
	if idx < 0 || idx >= len(h.ifaces) {
		return
	}
	i := h.ifaces[idx]
	if !i.up {
		h.dropped(i.name, "interface down")
		return
	}
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if eth == nil || pkt.ErrorLayer() != nil {
		h.stats.Malformed++
		h.dropped(i.name, "malformed frame")
		return
	}
	dst := eth.DstMAC
	if !(dst[0]&1 == 1 || string(dst) == string(i.mac)) {
		h.dropped(i.name, fmt.Sprintf("frame for %s is not for me", dst))
		return
	}
	switch eth.EthernetType {
	case layers.EthernetTypeARP:
		if a, ok := pkt.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
			h.inputARP(i, a)
			return
		}
	case layers.EthernetTypeIPv4:
		if ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			h.inputIPv4(i, pkt, ip)
			return
		}
	}
	h.dropped(i.name, fmt.Sprintf("unsupported EtherType %s", eth.EthernetType))
}

func (h *Host) inputIPv4(i *Iface, pkt gopacket.Packet, ip *layers.IPv4) {
	dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
	src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
	bcast := dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || dst == lastAddr(i.prefix)
	if !h.owns(dst) && !bcast {
		h.dropped(i.name, fmt.Sprintf("packet for %s is not for me (hosts do not forward)", dst))
		return
	}
	switch ip.Protocol {
	case layers.IPProtocolICMPv4:
		if ic, ok := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
			h.inputICMP(i, src, dst, ip, ic, bcast)
			return
		}
	case layers.IPProtocolUDP:
		if u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			h.inputUDP(i, src, dst, ip, u, bcast)
			return
		}
	}
	h.dropped(i.name, fmt.Sprintf("unsupported protocol %s", ip.Protocol))
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

// sendIP sends an IPv4 packet carrying ls from the address of the outgoing
// interface. fail, if not nil, is called later if the next hop cannot be
// resolved.
func (h *Host) sendIP(dst netip.Addr, proto layers.IPProtocol, fail func(error), ls ...gopacket.SerializableLayer) error {
	return h.sendIPFrom(netip.Addr{}, dst, proto, fail, ls...)
}
