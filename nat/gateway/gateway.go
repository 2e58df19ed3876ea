// Package gateway is the router node of a Docker host: one leg on the
// host's LAN, owning the host's address, and one leg on each bridge
// network, owning that network's gateway address. It is what Linux,
// Docker's iptables rules and Docker's embedded DNS server do together,
// built from netyard's parts: a host stack (internal/stack) for ARP, ICMP
// and its own sockets, a connection tracking table (package nat) for
// masquerade and published ports, and the DNS server (package dnsd)
// answering on UDP port 53 of every bridge leg.
//
// # What it does with a packet
//
// From a bridge network:
//   - to one of the gateway's own addresses: a published port is reached
//     through the hairpin (the container behind it sees the gateway's
//     address, as with Docker's userland proxy); anything else is for the
//     gateway itself (ping, DNS);
//   - to another bridge network: dropped, networks are isolated (Docker's
//     DOCKER-ISOLATION chains);
//   - elsewhere: dropped when the network is internal, else masqueraded
//     behind the host's address and sent out of the LAN leg.
//
// From the LAN:
//   - to the host's address: a reply of a tracked flow or a new flow to a
//     published port is translated and forwarded to its container (which
//     sees the client's real address); anything else is for the gateway;
//   - to a container's address directly: dropped, containers are reached
//     through published ports (Docker 28's rule against direct routing).
//
// Every forwarded packet has its TTL decremented; one arriving with TTL 1
// is answered with ICMP time exceeded. Every drop is traced with its
// reason and counted.
//
// # Time and concurrency
//
// A Gateway reads time only from its clock.Clock and is not safe for
// concurrent use: the mem backend's engine calls it from one goroutine, the
// netns backend serialises every input and timer onto one.
package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
)

// Leg is one interface of the gateway.
type Leg struct {
	Name string           // e.g. eth0, docker0, br-mynet
	MAC  net.HardwareAddr // 48 bits
	Addr netip.Prefix     // the gateway's address and the leg's subnet
	Out  link.Sender      // where the leg transmits
}

// Bridge is a leg on a bridge network.
type Bridge struct {
	Leg
	Network  string // the network's name, for DNS scoping and traces
	Internal bool   // no way out
}

// Config describes a gateway.
type Config struct {
	Name     string // the Docker host's name
	LAN      Leg
	Bridges  []Bridge
	Publish  []nat.Publish // Ext is the host's LAN address
	MaxFlows int           // conntrack bound; 0: nat.DefaultMax
	DNS      *dnsd.Server  // answers on every bridge leg; nil: no DNS server
}

// Options are the gateway's surroundings.
type Options struct {
	Clock  clock.Clock
	Tracer trace.Tracer
}

// Stats counts what the gateway did with packets it did not keep.
type Stats struct {
	Forwarded   uint64 // packets routed between legs
	Isolated    uint64 // dropped between isolated networks
	Internal    uint64 // dropped leaving an internal network
	Direct      uint64 // dropped: from outside straight to a container
	TTLExceeded uint64 // dropped with time exceeded
	NATDropped  uint64 // dropped by the NAT table (full, refused, malformed)
	DNSAnswered uint64 // DNS queries answered
}

// Gateway is a Docker host's router node.
type Gateway struct {
	name    string
	clk     clock.Clock
	tracer  trace.Tracer
	host    *stack.Host
	nat     *nat.Table
	dns     *dnsd.Server
	lan     *stack.Iface
	bridges map[*stack.Iface]*Bridge
	buf     []byte // the packet being translated, after room for its Ethernet header
	seg     []byte // scratch for resolving offloads in software
	stats   Stats
	// onUnresolved is unreachable as a func value made once, so that
	// forwarding a packet allocates nothing for it.
	onUnresolved func(sent []byte, err error)
}

// New builds a gateway.
func New(c Config, o Options) (*Gateway, error) {
	g := &Gateway{
		name:    cmp.Or(c.Name, "gateway"),
		clk:     clock.Or(o.Clock),
		tracer:  o.Tracer,
		nat:     nat.New(c.MaxFlows),
		dns:     c.DNS,
		bridges: map[*stack.Iface]*Bridge{},
		buf:     make([]byte, stack.Headroom+65536),
	}
	g.onUnresolved = g.unreachable
	g.host = stack.New(stack.Options{Name: g.name, Clock: g.clk, Tracer: o.Tracer, Forward: g.forward})
	var err error
	if g.lan, err = g.host.AddIface(c.LAN.Name, c.LAN.MAC, c.LAN.Addr, c.LAN.Out); err != nil {
		return nil, fmt.Errorf("gateway %s: %w", g.name, err)
	}
	for i := range c.Bridges {
		b := c.Bridges[i]
		ifc, err := g.host.AddIface(b.Name, b.MAC, b.Addr, b.Out)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
		g.bridges[ifc] = &b
	}
	for _, p := range c.Publish {
		if err := g.nat.AddPublish(p); err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
	}
	if g.dns != nil {
		conn, err := g.host.ListenUDP(stack.DNSPort)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", g.name, err)
		}
		conn.OnRecv = func(src, dst netip.AddrPort, q []byte) { g.answer(conn, src, dst, q) }
	}
	return g, nil
}

// Host returns the gateway's stack (its interfaces, in the order LAN,
// then the bridges as configured).
func (g *Gateway) Host() *stack.Host { return g.host }

// NAT returns the gateway's connection tracking table.
func (g *Gateway) NAT() *nat.Table { return g.nat }

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats { return g.stats }

// Input hands the gateway a frame received on interface idx.
func (g *Gateway) Input(idx int, frame []byte) { g.host.Input(idx, frame) }

// InputOffload hands the gateway a frame with offload metadata (from a TAP
// with offloads, in netns). An IPv4 TCP frame, super-frame or with its
// checksum pending, is routed and translated as it is and leaves with its
// metadata, so that a TCP stream crosses the gateway in 64 KiB pieces as
// it crosses a switch; anything else is resolved in software first.
func (g *Gateway) InputOffload(idx int, frame []byte, o link.Offload) {
	if !o.Pending() {
		g.host.Input(idx, frame)
		return
	}
	if len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14+9] == nat.TCP &&
		o.GSOType&^link.GSOECN != link.GSOTCPv6 {
		g.host.InputOffload(idx, frame, o)
		return
	}
	if cap(g.seg) < len(frame) {
		g.seg = make([]byte, len(frame))
	}
	_ = link.Resolve(frame, o, g.seg[:len(frame)], func(f []byte) error {
		g.host.Input(idx, f)
		return nil
	})
}

// answer serves one DNS query that reached the gateway's UDP port 53.
func (g *Gateway) answer(conn *stack.UDPConn, src, dst netip.AddrPort, q []byte) {
	if !g.onBridge(dst.Addr()) {
		g.dropf(src.Addr(), dst.Addr(), "DNS query to %s: the DNS server answers on bridge networks only", dst.Addr())
		return
	}
	r, err := g.dns.AnswerBytes(src.Addr(), q)
	if r == nil {
		g.dropf(src.Addr(), dst.Addr(), "DNS query from %s: %v", src, err)
		return
	}
	g.stats.DNSAnswered++
	if g.tracer != nil {
		m := new(dns.Msg)
		if m.Unpack(r) == nil {
			g.eventf(trace.Host, "DNS answer to %s: %s", src, summary(m))
		}
	}
	_ = conn.SendTo(src, r)
}

// summary describes a DNS answer in one line: the name, the records, the
// rcode.
func summary(m *dns.Msg) string {
	var b strings.Builder
	if len(m.Question) == 1 {
		b.WriteString(m.Question[0].Name)
	}
	for _, rr := range m.Answer {
		switch v := rr.(type) {
		case *dns.A:
			fmt.Fprintf(&b, " A %s", v.A)
		case *dns.PTR:
			fmt.Fprintf(&b, " PTR %s", v.Ptr)
		}
	}
	fmt.Fprintf(&b, " (%s)", dns.RcodeToString[m.Rcode])
	return b.String()
}

// onBridge reports whether a is the address of one of the bridge legs.
func (g *Gateway) onBridge(a netip.Addr) bool {
	for ifc := range g.bridges {
		if ifc.Prefix().Addr() == a {
			return true
		}
	}
	return false
}

// bridgeFor returns the bridge leg whose subnet holds a.
func (g *Gateway) bridgeFor(a netip.Addr) (*stack.Iface, *Bridge) {
	for ifc, b := range g.bridges {
		if ifc.Prefix().Masked().Contains(a) {
			return ifc, b
		}
	}
	return nil, nil
}

// forward is the stack's Forward hook: it decides every IPv4 packet the
// gateway receives.
func (g *Gateway) forward(in *stack.Iface, pkt []byte, o link.Offload) bool {
	if len(pkt) < 20 {
		return false // the stack counts it
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	if in == g.lan {
		switch {
		case dst == g.lan.Prefix().Addr():
			// A reply, or to a published port; else for the gateway itself.
			return g.translate(pkt, o, nat.FromOutside, netip.Addr{}, true)
		case g.host.Owns(dst):
			return false
		}
		if _, b := g.bridgeFor(dst); b != nil {
			g.stats.Direct++
			g.dropf(src, dst, "from outside straight to a container on %s: containers are reached through published ports", b.Network)
			return true
		}
		return false // not for this host: the stack drops it
	}
	from := g.bridges[in]
	if from == nil {
		return false
	}
	switch {
	case g.host.Owns(dst):
		// The hairpin: to a published port from inside, masqueraded behind
		// the gateway's address on the network of the container behind it;
		// else for the gateway itself (ping it, ask its DNS server).
		via := in.Prefix().Addr()
		if p, ok := g.nat.Published(pkt[9], dstPort(pkt)); ok {
			if ifc, _ := g.bridgeFor(p.To.Addr()); ifc != nil {
				via = ifc.Prefix().Addr()
			}
		}
		return g.translate(pkt, o, nat.Hairpinned, via, true)
	case in.Prefix().Masked().Contains(dst):
		return false // on-link: not for the gateway to route
	}
	if _, to := g.bridgeFor(dst); to != nil {
		g.stats.Isolated++
		g.dropf(src, dst, "networks %s and %s are isolated from each other", from.Network, to.Network)
		return true
	}
	if from.Internal {
		g.stats.Internal++
		g.dropf(src, dst, "network %s is internal: no way out", from.Network)
		return true
	}
	return g.translate(pkt, o, nat.FromInside, g.lan.Prefix().Addr(), false)
}

// ports returns a TCP or UDP packet's source and destination ports.
func ports(pkt []byte) (sp, dp uint16, ok bool) {
	hl := int(pkt[0]&0xf) * 4
	if (pkt[9] != nat.TCP && pkt[9] != nat.UDP) || len(pkt) < hl+4 {
		return 0, 0, false
	}
	return uint16(pkt[hl])<<8 | uint16(pkt[hl+1]), uint16(pkt[hl+2])<<8 | uint16(pkt[hl+3]), true
}

// dstPort returns a packet's destination address and port (0 without).
func dstPort(pkt []byte) netip.AddrPort {
	_, dp, _ := ports(pkt)
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(pkt[16:20])), dp)
}

// translate translates a copy of pkt as coming from origin (ext: the
// address to masquerade behind), checks and decrements its TTL, and sends
// it on with its offload metadata. With local, a packet that belongs to no
// flow and no published port is the gateway's own: it returns false, and
// the stack takes the packet.
func (g *Gateway) translate(pkt []byte, o link.Offload, origin nat.Origin, ext netip.Addr, local bool) bool {
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	frame := g.buf[:stack.Headroom+len(pkt)]
	b := frame[stack.Headroom:]
	copy(b, pkt)
	k, err := g.nat.Translate(b, origin, ext, g.clk.Now(), o.Flags&link.FlagNeedsCsum != 0)
	if local && (errors.Is(err, nat.ErrRefused) || errors.Is(err, nat.ErrMalformed)) {
		return false // no flow, no published port, or nothing NAT handles
	}
	if err == nil && pkt[8] <= 1 {
		g.stats.TTLExceeded++
		g.dropf(src, dst, "TTL exceeded in transit: answered with ICMP time exceeded")
		g.host.SendICMPError(pkt, 11, 0)
		return true
	}
	if err != nil {
		g.stats.NATDropped++
		if errors.Is(err, nat.ErrFull) {
			g.dropf(src, dst, "connection table full (%s)", k)
		} else {
			g.dropf(src, dst, "%v", err)
		}
		return true
	}
	// TTL minus one, and the header checksum with it (RFC 1624).
	old := uint16(b[8])<<8 | uint16(b[9])
	b[8]--
	csum.Update(b[10:12], old, uint16(b[8])<<8|uint16(b[9]))
	ndst := netip.AddrFrom4([4]byte(b[16:20]))
	out, hop, rerr := g.host.Route(ndst)
	if rerr != nil {
		g.dropf(src, dst, "no route to %s", ndst)
		return true
	}
	g.stats.Forwarded++
	if g.tracer != nil {
		was, now := ends(pkt), ends(b)
		if was != now {
			g.eventf(trace.Routed, "routed %s out of %s as %s", k, out.Name(), now)
		} else {
			g.eventf(trace.Routed, "routed %s out of %s", k, out.Name())
		}
	}
	err = g.host.SendFrame(out, hop, frame, o, g.onUnresolved)
	if err != nil {
		g.dropf(src, dst, "%v", err)
	}
	return true
}

// unreachable answers a packet whose next hop did not resolve with host
// unreachable, as a Linux router does, about the packet as its sender sent
// it.
func (g *Gateway) unreachable(sent []byte, _ error) {
	g.nat.Untranslate(sent, g.clk.Now())
	g.host.SendICMPError(sent, 3, 1)
}

// ends formats a packet's source and destination, with ports for TCP and
// UDP: "10.0.0.1:5000 -> 10.0.0.2:53".
func ends(pkt []byte) string {
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	if sp, dp, ok := ports(pkt); ok {
		return fmt.Sprintf("%s -> %s", netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp))
	}
	return fmt.Sprintf("%s -> %s", src, dst)
}

func (g *Gateway) eventf(k trace.Kind, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	g.tracer.Trace(trace.Event{Time: g.clk.Now(), Node: g.name, Kind: k, Detail: fmt.Sprintf(format, args...)})
}

func (g *Gateway) dropf(src, dst netip.Addr, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	g.tracer.Trace(trace.Event{Time: g.clk.Now(), Node: g.name, Kind: trace.Dropped,
		Src: src.String(), Dst: dst.String(), Reason: fmt.Sprintf(format, args...)})
}
