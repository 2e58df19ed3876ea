package macvlan

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// The card's fixed ports; children follow from FirstChild.
const (
	PortWire   = 0
	PortHost   = 1
	FirstChild = 2
)

// The drivers.
const (
	Macvlan = "macvlan"
	IPvlan  = "ipvlan"
)

// Options configure a card.
type Options struct {
	Name     string       // for traces
	MAC      header.MAC   // the card's: the host's eth0 has it, ipvlan children share it
	Host     string       // the host's name, for narration
	HostAddr netip.Addr   // the host's own address, for narration
	Clock    clock.Clock  // stamps events; nil: the real clock
	Tracer   trace.Tracer // nil: none
	Children []Child
}

// Child is a container's interface on a macvlan or ipvlan network.
type Child struct {
	Container string // for narration
	Network   string
	Parent    string // eth0, eth0.10, or a dummy's name
	VLAN      uint16 // the sub-interface's VLAN; 0: untagged
	Dummy     bool   // the parent is a dummy: no wire
	Driver    string // Macvlan or IPvlan
	Mode      string // macvlan: bridge, private, vepa, passthru; ipvlan: l2, l3
	Flag      string // ipvlan: bridge, private, vepa ("": bridge)
	MAC       header.MAC
	Addr      netip.Addr
}

// Reason is why the card did not deliver a frame (Stats counts each).
type Reason int

// The reasons.
const (
	Runt        Reason = iota // shorter than its Ethernet header (and tag)
	NoVLAN                    // tagged with a VLAN the host has no sub-interface for
	NotForUs                  // unicast from the wire for neither the card nor a child
	HostToChild               // the host's own frame for a child: to the wire only, never into the child
	ChildToHost               // a child's frame for the host: to the wire only, never into the host
	Private                   // between two children, refused by private mode (or flag)
	NoWire                    // a child of a dummy parent sent to what is not a sibling
	L3NoARP                   // ARP to or from an ipvlan l3 child, which is NOARP
	L3NoBcast                 // broadcast or multicast to or from an ipvlan l3 child
	L3Outbound                // an ipvlan l3 child's packet for no child: the host's routing is not modelled
	NotIPv4                   // ipvlan: a frame with no IPv4 or ARP address to sort it by
	NoSubIface                // tagged frame from the host's stack, or for a sub-interface with nothing on it
	NoReceiver                // a broadcast from the wire that no child of its sub-interface takes
	numReasons
)

var reasonNames = [numReasons]string{"runt", "no-vlan", "not-for-us", "host-to-child", "child-to-host", "private", "no-wire", "l3-noarp", "l3-no-broadcast", "l3-outbound", "not-ipv4", "no-sub-interface", "no-receiver"}

func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Stats are the card's counters.
type Stats struct {
	In, Out uint64             // frames taken and sent, all ports
	Drops   [numReasons]uint64 // by Reason; HostToChild and ChildToHost frames still went to the wire
}

// Dropped returns the count of r.
func (s Stats) Dropped(r Reason) uint64 { return s.Drops[r] }

type child struct {
	Child
	port   int
	idx    int
	dom    *domain
	ipvlan bool
	l3     bool
}

// domain is one parent: the card, a sub-interface or a dummy.
type domain struct {
	name     string
	vlan     uint16
	dummy    bool
	children []*child
	byMAC    map[header.MAC]*child // macvlan children
	byIP     map[netip.Addr]*child // ipvlan children
	byAddr   map[netip.Addr]*child // every child, for narration
	passthru *child
}

// NIC is the card.
type NIC struct {
	o       Options
	clk     clock.Clock
	ports   []*link.Port
	kids    []*child
	untag   *domain            // eth0's
	byVLAN  map[uint16]*domain // eth0.N's
	doms    []*domain
	in, out atomic.Uint64
	drops   [numReasons]atomic.Uint64
	bufs    sync.Pool // *[]byte for tagging and untagging
}

// New builds a card. A child with an unknown driver, mode or flag, a
// second passthru child on a parent, or two children with one address
// (ipvlan) or MAC (macvlan) on a parent, is an error.
func New(o Options) (*NIC, error) {
	n := &NIC{o: o, clk: clock.Or(o.Clock), byVLAN: map[uint16]*domain{}}
	n.bufs.New = func() any { b := make([]byte, 0, 1600); return &b }
	n.untag = n.domain("eth0", 0, false)
	dummies := map[string]*domain{}
	for i, c := range o.Children {
		k := &child{Child: c, port: FirstChild + i, idx: i}
		switch c.Driver {
		case Macvlan:
			if !slices.Contains([]string{"bridge", "private", "vepa", "passthru"}, c.Mode) {
				return nil, fmt.Errorf("macvlan: child %s: unknown macvlan mode %q", c.Container, c.Mode)
			}
		case IPvlan:
			k.ipvlan, k.l3 = true, c.Mode == "l3"
			if c.Mode != "l2" && c.Mode != "l3" {
				return nil, fmt.Errorf("macvlan: child %s: unknown ipvlan mode %q", c.Container, c.Mode)
			}
			if k.Flag == "" {
				k.Flag = "bridge"
			}
			if !slices.Contains([]string{"bridge", "private", "vepa"}, k.Flag) {
				return nil, fmt.Errorf("macvlan: child %s: unknown ipvlan flag %q", c.Container, c.Flag)
			}
		default:
			return nil, fmt.Errorf("macvlan: child %s: unknown driver %q", c.Container, c.Driver)
		}
		d := n.untag
		switch {
		case c.Dummy:
			if d = dummies[c.Parent]; d == nil {
				d = n.domain(c.Parent, 0, true)
				dummies[c.Parent] = d
			}
		case c.VLAN > 4094:
			return nil, fmt.Errorf("macvlan: child %s: VLAN %d out of range 1-4094", c.Container, c.VLAN)
		case c.VLAN != 0:
			if d = n.byVLAN[c.VLAN]; d == nil {
				d = n.domain(c.Parent, c.VLAN, false)
				n.byVLAN[c.VLAN] = d
			}
		}
		k.dom = d
		switch {
		case k.ipvlan:
			if d.byIP[c.Addr] != nil {
				return nil, fmt.Errorf("macvlan: child %s: %s is %s's already", c.Container, c.Addr, d.byIP[c.Addr].Container)
			}
			d.byIP[c.Addr] = k
		default:
			if d.byMAC[c.MAC] != nil || c.MAC == o.MAC {
				return nil, fmt.Errorf("macvlan: child %s: MAC %s is taken on %s", c.Container, c.MAC, d.name)
			}
			d.byMAC[c.MAC] = k
			if c.Mode == "passthru" {
				if d.passthru != nil {
					return nil, fmt.Errorf("macvlan: child %s: %s has a passthru child already (%s)", c.Container, d.name, d.passthru.Container)
				}
				d.passthru = k
			}
		}
		d.byAddr[c.Addr] = k
		d.children = append(d.children, k)
		n.kids = append(n.kids, k)
	}
	for i := range FirstChild + len(n.kids) {
		n.ports = append(n.ports, &link.Port{
			Input:        func(frame []byte) { n.input(i, frame, link.Offload{}) },
			InputOffload: func(frame []byte, o link.Offload) { n.input(i, frame, o) },
		})
	}
	return n, nil
}

func (n *NIC) domain(name string, vlan uint16, dummy bool) *domain {
	d := &domain{name: name, vlan: vlan, dummy: dummy, byMAC: map[header.MAC]*child{}, byIP: map[netip.Addr]*child{}, byAddr: map[netip.Addr]*child{}}
	n.doms = append(n.doms, d)
	return d
}

// Endpoint returns port i as an endpoint, or nil.
func (n *NIC) Endpoint(i int) link.Endpoint {
	if i < 0 || i >= len(n.ports) {
		return nil
	}
	return n.ports[i]
}

// Ports returns how many ports the card has.
func (n *NIC) Ports() int { return len(n.ports) }

// Stats returns the card's counters.
func (n *NIC) Stats() Stats {
	s := Stats{In: n.in.Load(), Out: n.out.Load()}
	for i := range s.Drops {
		s.Drops[i] = n.drops[i].Load()
	}
	return s
}

// Input takes a frame arriving on port.
func (n *NIC) Input(port int, frame []byte) { n.input(port, frame, link.Offload{}) }

// input takes a frame arriving on port with its offload metadata, which
// travels with it (shifted by a tag pushed or popped): a TCP super-frame
// from one container's TAP reaches another's whole.
func (n *NIC) input(port int, frame []byte, o link.Offload) {
	n.in.Add(1)
	e := header.Ethernet(frame)
	if e.Check() != header.OK {
		n.drop(port, Runt, frame, "a runt frame of %d bytes", len(frame))
		return
	}
	switch {
	case port == PortWire:
		n.fromWire(frame, o)
	case port == PortHost:
		n.fromHost(frame, o)
	case port >= FirstChild && port < len(n.ports):
		n.fromChild(n.kids[port-FirstChild], frame, o)
	}
}

// send puts frame out of port, with its offload metadata.
func (n *NIC) send(port int, frame []byte, o link.Offload) {
	if n.ports[port].SendOffload(frame, o) == nil {
		n.out.Add(1)
	}
}

// toWire sends a child's frame out of the card, tagged for its parent's
// VLAN.
func (n *NIC) toWire(c *child, frame []byte, o link.Offload) {
	if c.dom.dummy {
		n.drop(c.port, NoWire, frame, "%s's parent %s is a dummy (a network with no parent): nothing leaves it but to a sibling", c.Container, c.dom.name)
		return
	}
	if c.dom.vlan == 0 {
		n.send(PortWire, frame, o)
		return
	}
	bp := n.bufs.Get().(*[]byte)
	b := header.Ethernet(frame).AppendPushTag((*bp)[:0], c.dom.vlan)
	n.send(PortWire, b, o.Shift(header.VLANTagLen))
	*bp = b
	n.bufs.Put(bp)
}

// l3dst returns the address an ipvlan card sorts frame by: its IPv4
// destination, or its ARP target; arp says which.
func l3dst(frame []byte) (a netip.Addr, arp, ok bool) {
	e := header.Ethernet(frame)
	l3 := e.L3()
	switch e.InnerType() {
	case header.EtherTypeIPv4:
		if !header.IsIPv4(l3) {
			return a, false, false
		}
		return header.IPv4(l3).Dst(), false, true
	case header.EtherTypeARP:
		if header.ARP(l3).Check() != header.OK {
			return a, true, false
		}
		return header.ARP(l3).TargetIP(), true, true
	}
	return a, false, false
}

// fromWire sorts a frame from the LAN to the host and the children.
func (n *NIC) fromWire(frame []byte, o link.Offload) {
	e := header.Ethernet(frame)
	d := n.untag
	if e.Tagged() && e.VID() != 0 {
		if d = n.byVLAN[e.VID()]; d == nil {
			n.drop(PortWire, NoVLAN, frame, "tagged for VLAN %d, and the host has no sub-interface eth0.%d", e.VID(), e.VID())
			return
		}
		bp := n.bufs.Get().(*[]byte)
		defer func() { n.bufs.Put(bp) }()
		*bp = e.AppendUntagged((*bp)[:0])
		frame, e, o = *bp, header.Ethernet(*bp), o.Shift(-header.VLANTagLen)
	}
	if p := d.passthru; p != nil {
		n.send(p.port, frame, o) // passthru: the child has the whole card
		return
	}
	dst, src := e.Dst(), e.Src()
	if dst.IsMulticast() {
		if d == n.untag {
			n.send(PortHost, frame, o)
		}
		from := d.byMAC[src] // a sibling's frame the switch sent back (VEPA's hairpin)
		sent := d == n.untag
		for _, c := range d.children {
			switch {
			case c == from, c.l3:
				continue
			case from != nil && c.Mode != "vepa":
				continue
			}
			n.send(c.port, frame, o)
			sent = true
		}
		if !sent {
			n.drop(PortWire, NoReceiver, frame, "a broadcast of VLAN %d that no child of %s takes (ipvlan l3 children take none)", d.vlan, d.name)
		}
		return
	}
	if c := d.byMAC[dst]; c != nil {
		if from := d.byMAC[src]; from != nil && (c.Mode == "private" || from.Mode == "private") {
			n.drop(PortWire, Private, frame, "%s and %s are macvlan children in private mode: not even through the switch", from.Container, c.Container)
			return
		}
		n.send(c.port, frame, o)
		return
	}
	if dst == n.o.MAC {
		if a, arp, ok := l3dst(frame); ok {
			if c := d.byIP[a]; c != nil {
				if c.l3 && arp {
					n.drop(PortWire, L3NoARP, frame, "ARP for %s, %s's address on ipvlan l3: the child is NOARP and answers no ARP (reach it by a route via %s)", a, c.Container, n.o.HostAddr)
					return
				}
				n.send(c.port, frame, o)
				return
			}
		}
		if d == n.untag {
			n.send(PortHost, frame, o)
			return
		}
		n.drop(PortWire, NoSubIface, frame, "for eth0.%d itself, which has no address (Docker makes the sub-interface bare)", d.vlan)
		return
	}
	n.drop(PortWire, NotForUs, frame, "for %s, neither the card's MAC nor a child's: a NIC filters it", dst)
}

// fromHost sends the host's own frames to the wire, and says when one was
// meant for a child, which never gets it.
func (n *NIC) fromHost(frame []byte, o link.Offload) {
	e := header.Ethernet(frame)
	if c := n.target(n.untag, frame, nil); c != nil {
		n.drop(PortHost, HostToChild, frame, "%s's own frame for its child %s (%s) is not handed to it, only to the wire: Linux's %s gives a child what comes in from the wire or from a sibling, and the switch will not send the frame back out the port it came in (a host cannot reach its children)", n.o.Host, c.Container, c.Addr, c.Driver)
	}
	if e.Tagged() && e.VID() != 0 {
		n.drop(PortHost, NoSubIface, frame, "the host's stack sent a frame tagged for VLAN %d: its sub-interfaces carry only their children", e.VID())
		return
	}
	n.send(PortWire, frame, o)
}

// target returns the child of d frame is for (by MAC, or by address for
// ipvlan), other than from, or nil.
func (n *NIC) target(d *domain, frame []byte, from *child) *child {
	e := header.Ethernet(frame)
	if c := d.byMAC[e.Dst()]; c != nil && c != from {
		return c
	}
	if e.Dst() == n.o.MAC || e.Dst().IsBroadcast() {
		if a, _, ok := l3dst(frame); ok {
			if c := d.byAddr[a]; c != nil && c != from {
				return c
			}
		}
	}
	return nil
}

// fromChild forwards a child's frame: to a sibling inside the card, or to
// the wire.
func (n *NIC) fromChild(c *child, frame []byte, off link.Offload) {
	if c.Mode == "passthru" {
		n.toWire(c, frame, off)
		return
	}
	if c.ipvlan {
		n.fromIPvlan(c, frame, off)
		return
	}
	e := header.Ethernet(frame)
	d := c.dom
	if e.Dst().IsMulticast() {
		if c.Mode == "bridge" {
			for _, sib := range d.children {
				if sib != c && !sib.ipvlan && sib.Mode == "bridge" {
					n.send(sib.port, frame, off)
				}
			}
		}
		n.toHost(c, frame)
		n.toWire(c, frame, off)
		return
	}
	if sib := d.byMAC[e.Dst()]; sib != nil && sib != c {
		if c.Mode == "bridge" && sib.Mode == "bridge" {
			n.sibling(c, sib, frame, off)
			return
		}
		if c.Mode == "private" {
			n.drop(c.port, Private, frame, "%s is a macvlan child in private mode: it reaches no sibling (%s)", c.Container, sib.Container)
			return
		}
	}
	n.toHost(c, frame)
	n.toWire(c, frame, off)
}

// toHost says so when a child's frame was meant for the host, which never
// gets it: the frame goes on to the wire.
func (n *NIC) toHost(c *child, frame []byte) {
	if c.dom != n.untag {
		return
	}
	e := header.Ethernet(frame)
	a, _, ok := l3dst(frame)
	if e.Dst() == n.o.MAC && (!c.ipvlan || ok && a == n.o.HostAddr) || e.Dst().IsBroadcast() && ok && a == n.o.HostAddr {
		n.drop(c.port, ChildToHost, frame, "%s's frame for %s (%s) is not handed to %s's own stack, only to the wire: Linux's %s sends a child's frames for its parent out of the card, and the switch will not send them back out the port they came in (children cannot reach their host)", c.Container, n.o.Host, n.o.HostAddr, n.o.Host, c.Driver)
	}
}

// fromIPvlan forwards an ipvlan child's frame, by address.
func (n *NIC) fromIPvlan(c *child, frame []byte, off link.Offload) {
	e := header.Ethernet(frame)
	d := c.dom
	a, arp, ok := l3dst(frame)
	if c.l3 {
		switch {
		case arp:
			n.drop(c.port, L3NoARP, frame, "%s is on ipvlan l3 and NOARP: no ARP leaves it", c.Container)
			return
		case e.Dst().IsMulticast():
			n.drop(c.port, L3NoBcast, frame, "%s is on ipvlan l3: no broadcast or multicast leaves it (ipvlan.rst: l3 mode does not pass them)", c.Container)
			return
		case !ok:
			n.drop(c.port, NotIPv4, frame, "%s sent EtherType %#04x: ipvlan l3 routes IPv4 only", c.Container, e.InnerType())
			return
		}
		sib := d.byIP[a]
		switch {
		case sib == nil || sib == c:
			n.drop(c.port, L3Outbound, frame, "%s's packet for %s, no child's address: ipvlan l3 would route it through %s's own table (ipvlan_process_outbound), which netyard does not model", c.Container, a, n.o.Host)
		case c.Flag == "private" || sib.Flag == "private":
			n.drop(c.port, Private, frame, "%s and %s are ipvlan children with flag private: they do not reach each other", c.Container, sib.Container)
		case c.Flag == "vepa":
			n.toWire(c, frame, off)
		default:
			n.sibling(c, sib, frame, off) // routed between the children, whatever their subnets
		}
		return
	}
	if e.Dst().IsMulticast() {
		if c.Flag == "bridge" {
			for _, sib := range d.children {
				if sib != c && sib.ipvlan && !sib.l3 && sib.Flag == "bridge" {
					n.send(sib.port, frame, off)
				}
			}
		}
		n.toHost(c, frame)
		n.toWire(c, frame, off)
		return
	}
	if sib := d.byIP[a]; ok && sib != nil && sib != c && e.Dst() == n.o.MAC {
		switch {
		case sib.l3:
		case c.Flag == "private" || sib.Flag == "private":
			n.drop(c.port, Private, frame, "%s and %s are ipvlan children with flag private: they do not reach each other", c.Container, sib.Container)
			return
		case c.Flag == "bridge" && sib.Flag == "bridge":
			n.sibling(c, sib, frame, off)
			return
		}
	}
	n.toHost(c, frame)
	n.toWire(c, frame, off)
}

// sibling delivers a child's unicast frame to a sibling inside the card,
// and says so: a macvlan or ipvlan l2 card forwards it by MAC or address
// as a bridge would, an l3 card routes it.
func (n *NIC) sibling(c, o *child, frame []byte, off link.Offload) {
	n.send(o.port, frame, off)
	if n.o.Tracer == nil {
		return
	}
	e := header.Ethernet(frame)
	ev := trace.Event{Time: n.clk.Now(), Node: n.o.Name, Kind: trace.Forwarded, Port: c.Container, Ports: []string{o.Container},
		VLAN: max(c.dom.vlan, 1), Src: e.Src().String(), Dst: e.Dst().String()}
	if c.l3 {
		if ip := header.IPv4(e.L3()); header.IsIPv4(ip) {
			ev = trace.Event{Time: ev.Time, Node: ev.Node, Kind: trace.Routed, Port: c.Container, Ports: ev.Ports,
				Proto: trace.Proto(ip.Protocol()), SrcIP: ip.Src(), DstIP: ip.Dst()}
			if l4 := ip.Payload(); len(l4) >= 8 && ip.HeaderLen() >= header.IPv4MinLen && !ip.IsFragment() {
				switch ip.Protocol() {
				case header.ProtocolTCP, header.ProtocolUDP:
					ev.SrcPort, ev.DstPort = binary.BigEndian.Uint16(l4[0:]), binary.BigEndian.Uint16(l4[2:])
					if ip.Protocol() == header.ProtocolTCP && len(l4) >= 14 {
						ev.Flags = trace.TCPFlags(l4[13])
					}
				case header.ProtocolICMP:
					ev.SrcPort = binary.BigEndian.Uint16(l4[4:]) // the echo identifier, as the gateway's NAT narrates it
				}
			}
		}
	}
	n.o.Tracer.Trace(ev)
}

// drop counts r and traces it on port, with the sentence why.
func (n *NIC) drop(port int, r Reason, frame []byte, format string, a ...any) {
	n.drops[r].Add(1)
	if n.o.Tracer == nil {
		return
	}
	ev := trace.Event{Time: n.clk.Now(), Node: n.o.Name, Kind: trace.Dropped, Port: n.portName(port), Reason: r.String() + ": " + fmt.Sprintf(format, a...)}
	if len(frame) >= header.EthernetLen {
		e := header.Ethernet(frame)
		ev.Src, ev.Dst = e.Src().String(), e.Dst().String()
	}
	n.o.Tracer.Trace(ev)
}

// portName names port for a trace.
func (n *NIC) portName(port int) string {
	switch {
	case port == PortWire:
		return "wire"
	case port == PortHost:
		return "host"
	case port >= FirstChild && port < FirstChild+len(n.kids):
		return n.kids[port-FirstChild].Container
	}
	return "port" + fmt.Sprint(port)
}
