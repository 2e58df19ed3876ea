// Package topo is the topology graph every backend instantiates: switches,
// hosts (sandboxes, gateways and nodes of registered kinds) and the links
// between them. The Docker model (package sim/topo/docker) compiles into
// such a graph, with a record of what it settled (Docker).
//
// A Graph is plain data. The scenario loader (package scenario) builds one
// from YAML; Go code can build one directly. Validate checks it and reports
// each problem with the path of the offending field (hosts[1].address), which
// the loader turns into file:line: among them names that could not safely
// become a namespace, a path or a device (ValidName, ValidIfaceName), and
// addresses no host can have. Backends (sim/mem, sim/netns) take a
// validated Graph and make it real. The Graph's lookups scan its slices;
// an Index answers them in constant time for a graph that no longer
// changes.
package topo

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netyard/netyard/sim"
	vswitch "github.com/netyard/netyard/switch"
)

// Graph is a topology.
type Graph struct {
	Switches []Switch
	Hosts    []Host
	Links    []Link
	// Docker is the Docker model the graph was compiled from, with its
	// allocations (package sim/topo/docker); nil for a plain topology.
	Docker *Docker
}

// Switch is a switch node.
type Switch struct {
	Name       string
	AgeingTime time.Duration // 0: vswitch.DefaultAgeingTime
	MaxEntries int           // 0: vswitch.DefaultMaxEntries
	// Ports lists ports with settings, in port order. Ports named only by
	// links are access ports in VLAN 1, numbered after these in link order.
	Ports  []Port
	Mirror *Mirror
	// STP turns spanning tree on; nil: off.
	STP *vswitch.STPConfig
	// MAC is the bridge address (BPDU source, bridge ID); zero: assigned.
	MAC vswitch.MAC
}

// Port is a switch port's settings.
type Port struct {
	Name    string
	Mode    vswitch.PortMode
	VLAN    uint16   // access: the PVID (0 means 1)
	Allowed []uint16 // trunk: tagged VLANs (empty means all)
	Native  uint16   // trunk: untagged VLAN (0 means none)
	STP     vswitch.PortSTP
	// NotEdge keeps a port facing a host from being an STP edge port.
	NotEdge bool
	// Isolated ports forward to ports that are not isolated only, as
	// Linux's bridge port flag isolated (Docker's enable_icc false).
	Isolated bool
}

// Mirror copies the traffic of Sources to the monitor port To.
type Mirror struct {
	To      string
	Sources []string
}

// Host is a simulated sandbox.
type Host struct {
	Name    string
	Ifaces  []Iface
	Gateway netip.Addr // zero: none
	// ListenTCP lists the TCP ports the host accepts connections on.
	ListenTCP []uint16
	// ListenUDP lists the UDP ports the host has sockets bound on.
	ListenUDP []uint16
	// Nameserver is the DNS server the host asks (its resolv.conf); zero:
	// none.
	Nameserver netip.Addr
	// Loopback marks a host meant to have no interface but loopback (a
	// container on Docker's none network).
	Loopback bool
	// Router makes this node a Docker host's gateway (package
	// nat/gateway) rather than a sandbox: its interfaces are the legs.
	Router *Router
	// Kind makes this node one of netyard's own nodes of a registered
	// kind (a router, ...) rather than a sandbox, built by the kind's
	// registration from Spec; its interfaces are the node's ports. "":
	// a sandbox, or a gateway when Router is set.
	Kind string
	Spec any
	// EmbeddedDNS names the Docker host whose daemon's embedded DNS
	// server answers at 127.0.0.11 in this sandbox (Nameserver then),
	// as Docker's does in a container's own namespace: each backend hands
	// the sandbox's queries there to a dnsd.Resolver of that host's
	// records. "": none.
	EmbeddedDNS string
	// ServeDNS makes the host a small authoritative DNS server on its
	// port 53 (a LAN client serving the Docker hosts' upstream names):
	// names to their A records. nil: none.
	ServeDNS map[string]netip.Addr
	// DefaultDev is the interface of a default route with no gateway
	// ("default dev eth0": ipvlan l3's children, which reach every
	// address through their parent); "": none. Gateway, when set, wins.
	DefaultDev string
	// Routes are the host's static routes beyond its connected prefixes
	// and its Gateway (ip route add TO via VIA): a LAN client's route to
	// a bridge's subnet via a Docker host.
	Routes []Route
}

// Route is a static route of a host: To via the next hop Via, an
// address on one of the host's connected prefixes.
type Route struct {
	To  netip.Prefix
	Via netip.Addr
}

// The kinds of node that are not registered.
const (
	SwitchKind  = "switch"  // a switch (Graph.Switches)
	SandboxKind = "host"    // a sandbox: a simulated host, or a namespace
	GatewayKind = "gateway" // a Docker host's gateway (Router)
)

// KindName returns the host's kind: SandboxKind, GatewayKind or a
// registered kind.
func (h *Host) KindName() string {
	switch {
	case h.Kind != "":
		return h.Kind
	case h.Router != nil:
		return GatewayKind
	}
	return SandboxKind
}

// Sandbox reports whether the host is a sandbox, which each backend makes
// its own way, rather than one of netyard's own nodes, which are the same
// code in every world.
func (h *Host) Sandbox() bool { return h.KindName() == SandboxKind }

// Router is what a gateway node routes, translates and answers.
type Router struct {
	LAN      string // the interface on the hosts' LAN, owning the host's address
	Bridges  []RouterBridge
	Publish  []Publish
	DNS      []DNSName
	MaxFlows int // conntrack bound; 0: the default
	// Overlays are the host's VTEPs, one per overlay network it is on.
	Overlays []RouterOverlay
	// Swarm is every other Docker host of the cluster the overlays
	// gossip in (Docker's swarm): the control plane's seeds.
	Swarm []SwarmMember
	// ListenTCP and ListenUDP are the ports the host's own stack listens
	// on: those of its containers on the host network.
	ListenTCP, ListenUDP []uint16
	// AllowDirectRouting is dockerd's allow-direct-routing: packets from
	// outside addressed straight to a container reach its published
	// ports (and only those); false: none.
	AllowDirectRouting bool
}

// RouterOverlay is a gateway's VTEP on an overlay network: a port of no
// address on the network's switch of that host, encapsulating in VXLAN
// over the host's LAN address.
type RouterOverlay struct {
	Iface     string // the VTEP's port (vx-NAME), an interface of the gateway with no address
	Network   string
	VNI       uint32
	Endpoints []OverlayEndpoint // this host's containers on the network, which it announces
}

// OverlayEndpoint is a container's endpoint on an overlay network.
type OverlayEndpoint struct {
	Container string
	Addr      netip.Addr
	MAC       vswitch.MAC
	Aliases   []string
}

// SwarmMember is a Docker host of the cluster.
type SwarmMember struct {
	Host string
	Addr netip.Addr // its LAN address: its VTEP and gossip address
}

// Overlay returns the overlay whose VTEP port is iface, or nil.
func (r *Router) Overlay(iface string) *RouterOverlay {
	for i := range r.Overlays {
		if r.Overlays[i].Iface == iface {
			return &r.Overlays[i]
		}
	}
	return nil
}

// RouterBridge is a gateway leg on a bridge network.
type RouterBridge struct {
	Iface    string // the leg's interface, named after the bridge (docker0, br-NAME)
	Network  string
	Internal bool
	// NoMasquerade forwards what leaves the network with the container's
	// own address (Docker's enable_ip_masquerade false).
	NoMasquerade bool
}

// Publish is a published port: Proto "tcp" or "udp", Ext on the host's
// address, To a container's address and port.
type Publish struct {
	Proto string
	Ext   netip.AddrPort
	To    netip.AddrPort
	// Bind is the host address it was published on as written
	// (127.0.0.1:8080:80); zero: all the host's addresses (0.0.0.0), Ext
	// being its LAN address.
	Bind netip.Addr
}

// DNSName is a name the embedded DNS server answers on a network.
type DNSName struct {
	Network, Container string
	Addr               netip.Addr
	Aliases            []string
}

// Iface is a host interface.
type Iface struct {
	Name string       // e.g. eth0
	Addr netip.Prefix // address and prefix, e.g. 10.0.0.1/24
	MAC  vswitch.MAC  // zero: assigned by Assign
	MTU  int          // zero: Ethernet's 1500
	// NoARP makes the interface resolve no neighbour (Linux's IFF_NOARP,
	// as ipvlan l3 sets on its children): every frame goes to its own MAC.
	NoARP bool
}

// Endpoint names one end of a link: a host interface or a switch port.
type Endpoint struct {
	Node, Port string
}

// String returns "node:port".
func (e Endpoint) String() string { return e.Node + ":" + e.Port }

// Link joins two endpoints.
type Link struct {
	A, B   Endpoint
	Config sim.LinkConfig
}

// Name returns the link's name, "a -- b".
func (l Link) Name() string { return l.A.String() + " -- " + l.B.String() }

// Error is a problem in a graph, located by the path of a field.
type Error struct {
	Path string // e.g. "hosts[1].ifaces[0].addr"
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// Kind says what a node is.
type Kind int

// Node kinds.
const (
	None Kind = iota
	SwitchNode
	HostNode
)

// Kind returns the kind of the node named name.
func (g *Graph) Kind(name string) Kind {
	if g.Switch(name) != nil {
		return SwitchNode
	}
	if g.Host(name) != nil {
		return HostNode
	}
	return None
}

// Switch returns the switch named name, or nil.
func (g *Graph) Switch(name string) *Switch {
	for i := range g.Switches {
		if g.Switches[i].Name == name {
			return &g.Switches[i]
		}
	}
	return nil
}

// Host returns the host named name, or nil.
func (g *Graph) Host(name string) *Host {
	for i := range g.Hosts {
		if g.Hosts[i].Name == name {
			return &g.Hosts[i]
		}
	}
	return nil
}

// Iface returns the interface named name, or nil.
func (h *Host) Iface(name string) *Iface {
	for i := range h.Ifaces {
		if h.Ifaces[i].Name == name {
			return &h.Ifaces[i]
		}
	}
	return nil
}

// PortNames returns a switch's ports in port order: declared ports first,
// then ports that only links name, in link order.
func (g *Graph) PortNames(sw string) []string {
	s := g.Switch(sw)
	if s == nil {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, p := range s.Ports {
		names = append(names, p.Name)
		seen[p.Name] = true
	}
	for _, l := range g.Links {
		for _, e := range []Endpoint{l.A, l.B} {
			if e.Node == sw && !seen[e.Port] {
				names = append(names, e.Port)
				seen[e.Port] = true
			}
		}
	}
	return names
}

// PortConfig returns the settings of a switch port (defaults if
// undeclared). With STP on, a port whose link leads to a host is an edge
// port unless declared NotEdge.
func (g *Graph) PortConfig(sw, name string) vswitch.PortConfig {
	s := g.Switch(sw)
	var p *Port
	for i := range s.Ports {
		if s.Ports[i].Name == name {
			p = &s.Ports[i]
			break
		}
	}
	return portConfig(s, p, name, g.Kind, g.LinkOf(Endpoint{Node: sw, Port: name}), g.Links)
}

// portConfig is PortConfig for switch s and its declared port p (nil:
// undeclared), whose link is links[link] (-1: none).
func portConfig(s *Switch, p *Port, name string, kind func(string) Kind, link int, links []Link) vswitch.PortConfig {
	c := vswitch.PortConfig{Name: name}
	notEdge := false
	if p != nil {
		c = vswitch.PortConfig{Name: p.Name, Mode: p.Mode, PVID: p.VLAN, Allowed: p.Allowed, Native: p.Native, STP: p.STP, Isolated: p.Isolated}
		notEdge = p.NotEdge
	}
	if s.STP != nil && !notEdge && link >= 0 {
		l := links[link]
		peer := l.A
		if peer.Node == s.Name && peer.Port == name {
			peer = l.B
		}
		if kind(peer.Node) == HostNode {
			c.STP.Edge = true
		}
	}
	return c
}

// LinkOf returns the index of the link with endpoint e, or -1.
func (g *Graph) LinkOf(e Endpoint) int {
	for i, l := range g.Links {
		if l.A == e || l.B == e {
			return i
		}
	}
	return -1
}

// Assign gives every interface without a MAC a locally administered one,
// 02:00:00:00:00:01 upwards in host and interface order, skipping MACs
// already set, and every switch without one a bridge address,
// 02:00:00:01:00:01 upwards in switch order.
//
// Assign changes g; a backend never changes the graph it is given, and
// assigns on a copy (Assigned).
func (g *Graph) Assign() {
	for i := range g.Switches {
		if s := &g.Switches[i]; s.MAC.IsZero() {
			s.MAC = vswitch.MAC{0x02, 0, 0, 0x01, byte((i + 1) >> 8), byte(i + 1)}
		}
	}
	used := map[vswitch.MAC]bool{}
	for _, h := range g.Hosts {
		for _, i := range h.Ifaces {
			used[i.MAC] = true
		}
	}
	n := 0
	for hi := range g.Hosts {
		for ii := range g.Hosts[hi].Ifaces {
			f := &g.Hosts[hi].Ifaces[ii]
			if !f.MAC.IsZero() {
				continue
			}
			for {
				n++
				m := vswitch.MAC{0x02, 0, 0, byte(n >> 16), byte(n >> 8), byte(n)}
				if !used[m] {
					f.MAC = m
					used[m] = true
					break
				}
			}
		}
	}
}

// HostsByMAC returns the host of each interface MAC that only one host
// has. A MAC that several have (two Docker hosts' networks repeat theirs)
// names nobody: a person reading it needs the segment to know whose it is.
func (g *Graph) HostsByMAC() map[vswitch.MAC]string {
	out := make(map[vswitch.MAC]string, len(g.Hosts))
	shared := map[vswitch.MAC]bool{}
	for _, h := range g.Hosts {
		for _, i := range h.Ifaces {
			if o, ok := out[i.MAC]; ok && o != h.Name {
				shared[i.MAC] = true
			}
			out[i.MAC] = h.Name
		}
	}
	for m := range shared {
		delete(out, m)
	}
	return out
}

// Clone returns a copy of g that shares nothing g's Assign or a node's
// list of interfaces or ports could change (specs and the Docker model are
// shared: nothing changes them after compiling).
func (g *Graph) Clone() *Graph {
	c := *g
	c.Switches = slices.Clone(g.Switches)
	for i := range c.Switches {
		c.Switches[i].Ports = slices.Clone(c.Switches[i].Ports)
	}
	c.Hosts = slices.Clone(g.Hosts)
	for i := range c.Hosts {
		c.Hosts[i].Ifaces = slices.Clone(c.Hosts[i].Ifaces)
	}
	c.Links = slices.Clone(g.Links)
	return &c
}

// Assigned returns a copy of g with Assign's MACs: what a backend runs,
// leaving g as it was.
func (g *Graph) Assigned() *Graph {
	c := g.Clone()
	c.Assign()
	return c
}

// ErrNotFound is returned when a name does not resolve.
var ErrNotFound = errors.New("topo: not found")

// ResolveAddr turns "h2", "h2:eth1" or "10.0.0.2" into an address.
func (g *Graph) ResolveAddr(s string) (netip.Addr, error) { return resolveAddr(s, g.stackHost) }

// ResolveMAC turns "h1", "h1:eth0" or "02:00:00:00:00:01" into a MAC.
func (g *Graph) ResolveMAC(s string) (vswitch.MAC, error) { return resolveMAC(s, g.Host) }

func resolveAddr(s string, host func(string) *Host) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	f, err := resolveIface(s, host)
	if err != nil {
		return netip.Addr{}, err
	}
	return f.Addr.Addr(), nil
}

func resolveMAC(s string, host func(string) *Host) (vswitch.MAC, error) {
	if m, err := vswitch.ParseMAC(s); err == nil {
		return m, nil
	}
	f, err := resolveIface(s, host)
	if err != nil {
		return vswitch.MAC{}, err
	}
	return f.MAC, nil
}

// resolveIface finds the interface "h1:eth0" names, or h1's first.
func resolveIface(s string, host func(string) *Host) (*Iface, error) {
	node, ifname, _ := strings.Cut(s, ":")
	h := host(node)
	if h == nil || len(h.Ifaces) == 0 {
		return nil, fmt.Errorf("%w: no host or address %q", ErrNotFound, s)
	}
	if ifname == "" {
		return &h.Ifaces[0], nil
	}
	f := h.Iface(ifname)
	if f == nil {
		return nil, fmt.Errorf("%w: host %s has no interface %q", ErrNotFound, node, ifname)
	}
	return f, nil
}
