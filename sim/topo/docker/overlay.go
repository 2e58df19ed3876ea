package docker

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/sim/topo"
)

// Overlay settings, as Docker's overlay driver has them.
const (
	FirstVNI   = 4096      // the first VNI Docker's overlay allocates
	MaxVNI     = 1<<24 - 1 // VXLAN's 24 bits
	OverlayMTU = 1450      // 1500 less VXLAN's 50 bytes of outer headers
	GWBridge   = "docker_gwbridge"
)

// overlayPlan is what an overlay network settles once for all its hosts:
// its address space (the swarm's, from 10.0.0.0/8) and its VNI.
type overlayPlan struct {
	ok    bool
	alloc *ipam.Network
	vni   uint32
	hosts []string // the Docker hosts it is on
}

// overlayDriver is Docker's overlay driver: on each Docker host of the
// network a switch (the bridge br0 in the network's namespace), the
// gateway's leg on it owning the network's gateway address (the same on
// every host, as Docker's br0 has it), and the VTEP (vxlan0) that joins
// the hosts' switches into one segment over the LAN. Addresses come from
// the swarm's pool, one space for every host; containers' interfaces
// have MTU 1450. A container whose first network is a non-internal
// overlay gets its way out through docker_gwbridge, a bridge network of
// its own host with NAT, as Docker gives it.
type overlayDriver struct{}

func (overlayDriver) Create(h *HostPlan, n *topo.Network, p string) bool {
	c := h.c
	o := c.ovs[n.Name]
	if o == nil {
		o = c.planOverlay(n, p)
		c.ovs[n.Name] = o
		if !noOptions(h, n, p, "overlay") {
			o.ok = false
		}
	}
	if !o.ok {
		return false
	}
	n.Scope, n.VNI, n.MTU, n.Hosts = topo.ScopeSwarm, o.vni, OverlayMTU, o.hosts
	n.Subnet, n.Gateway, n.IPRange = o.alloc.Subnet, o.alloc.Gateway, o.alloc.IPRange
	n.Bridge = "ov-" + n.Name
	// The host's own networks must not overlap the swarm's.
	if _, err := h.Host.IPAM.RequestNetwork(ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway}); err != nil {
		h.Bad(p+".subnet", "on %s: %v", h.Host.Name, err)
		return false
	}
	return true
}

// planOverlay checks overlay n as written and settles its subnet and VNI.
func (c *compiler) planOverlay(n *topo.Network, p string) *overlayPlan {
	o := &overlayPlan{}
	problem := false
	bad := func(path, format string, a ...any) {
		c.bad(path, format, a...)
		problem = true
	}
	if len("ov-"+n.Name) > topo.MaxIfaceNameLen {
		bad(p+".name", "an overlay's name is at most %d characters (its switch is ov-NAME)", topo.MaxIfaceNameLen-3)
	}
	all := map[string]bool{}
	var names []string
	for _, h := range c.plans {
		all[h.Host.Name] = true
		names = append(names, h.Host.Name)
	}
	seen := map[string]bool{}
	for i, hn := range n.Hosts {
		switch {
		case !all[hn]:
			bad(fmt.Sprintf("%s.hosts[%d]", p, i), "unknown Docker host %q%s", hn, topo.DidYouMean(hn, names))
		case seen[hn]:
			bad(fmt.Sprintf("%s.hosts[%d]", p, i), "Docker host %q is listed twice", hn)
		}
		seen[hn] = true
	}
	o.hosts = slices.Clone(n.Hosts)
	if len(o.hosts) == 0 {
		o.hosts = names
	}
	if n.Subnet.IsValid() {
		if why := topo.SubnetProblem(n.Subnet); why != "" {
			bad(p+".subnet", "%s", why)
		}
	}
	if n.Gateway.IsValid() {
		if why := topo.AddrProblem(n.Gateway); why != "" {
			bad(p+".gateway", "%s", why)
		}
	}
	if problem {
		return o
	}
	switch used := c.vnis(n.Name); {
	case n.VNI != 0 && n.VNI > MaxVNI:
		bad(p+".vni", "VNI %d is past VXLAN's 24 bits (at most %d)", n.VNI, MaxVNI)
	case n.VNI != 0 && used[n.VNI] != "":
		bad(p+".vni", "VNI %d is taken (by %s)", n.VNI, used[n.VNI])
	case n.VNI != 0:
		o.vni = n.VNI
	default:
		for o.vni = FirstVNI; used[o.vni] != ""; o.vni++ {
		}
	}
	alloc, err := c.global.RequestNetwork(ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange, Serial: true}) // swarm allocates serially
	if err != nil {
		bad(p, "%v", err)
	}
	if problem {
		return o
	}
	o.alloc, o.ok = alloc, true
	return o
}

// vnis returns the VNIs taken but by network except: every overlay's
// explicit one, and those settled already.
func (c *compiler) vnis(except string) map[uint32]string {
	used := map[uint32]string{}
	for _, n := range c.m.Networks {
		if n.Driver == "overlay" && n.VNI != 0 && n.Name != except {
			used[n.VNI] = n.Name
		}
	}
	for name, o := range c.ovs {
		if o.ok {
			used[o.vni] = name
		}
	}
	return used
}

func (overlayDriver) Lay(h *HostPlan, n *topo.Network) {
	g, gw, sw := h.Graph, h.Gateway, h.SwitchName(n.Bridge)
	vx := "vx-" + n.Name
	g.Switches = append(g.Switches, topo.Switch{Name: sw})
	gw.Ifaces = append(gw.Ifaces,
		topo.Iface{Name: n.Bridge, Addr: netip.PrefixFrom(n.Gateway, n.Subnet.Bits()), MAC: MAC(n.Gateway), MTU: n.MTU},
		topo.Iface{Name: vx})
	// The gateway's leg answers DNS and routes nothing: the overlay's way
	// out is docker_gwbridge.
	gw.Router.Bridges = append(gw.Router.Bridges, topo.RouterBridge{Iface: n.Bridge, Network: n.Name, Internal: true})
	gw.Router.Overlays = append(gw.Router.Overlays, topo.RouterOverlay{Iface: vx, Network: n.Name, VNI: n.VNI})
	g.Links = append(g.Links,
		topo.Link{A: topo.Endpoint{Node: sw, Port: h.Host.Name}, B: topo.Endpoint{Node: h.Host.Name, Port: n.Bridge}},
		topo.Link{A: topo.Endpoint{Node: sw, Port: "vxlan0"}, B: topo.Endpoint{Node: h.Host.Name, Port: vx}})
}

func (overlayDriver) Attach(h *HostPlan, n *topo.Network, e topo.EndpointConfig, s *topo.Host, ifname string, first bool) {
	mac := MAC(e.Addr.Addr())
	s.Ifaces = append(s.Ifaces, topo.Iface{Name: ifname, Addr: e.Addr, MAC: mac, MTU: n.MTU})
	h.Graph.Links = append(h.Graph.Links, topo.Link{A: topo.Endpoint{Node: h.SwitchName(n.Bridge), Port: s.Name}, B: topo.Endpoint{Node: s.Name, Port: ifname}})
	h.Gateway.Router.DNS = append(h.Gateway.Router.DNS, topo.DNSName{Network: n.Name, Container: s.Name, Addr: e.Addr.Addr(), Aliases: e.Aliases})
	ov := h.Gateway.Router.Overlay("vx-" + n.Name)
	ov.Endpoints = append(ov.Endpoints, topo.OverlayEndpoint{Container: s.Name, Addr: e.Addr.Addr(), MAC: mac, Aliases: e.Aliases})
	if first {
		h.nameserver(n, s)
		if !n.Internal {
			h.needGW[s.Name] = true
		}
	}
}

// gwbridge gives sandbox s an endpoint ifname on its host's
// docker_gwbridge, made on first use, and its default route through it.
func (c *compiler) gwbridge(h *HostPlan, s *topo.Host, ifname, p string) {
	if h.gw == nil {
		n := &topo.Network{Name: GWBridge, Host: h.Host.Name, Driver: "bridge"}
		alloc, err := h.Host.IPAM.RequestNetwork(ipam.Request{Name: GWBridge})
		if err != nil {
			c.bad(p, "docker_gwbridge on %s: %v", h.Host.Name, err)
			return
		}
		n.Subnet, n.Gateway, n.IPRange, n.Bridge = alloc.Subnet, alloc.Gateway, alloc.IPRange, GWBridge
		// Docker makes it with enable_icc false (libnetwork's
		// createGWNetwork): containers meet on their overlays, never here.
		n.NoICC = true
		h.gw = n
		bridgeDriver{}.Lay(h, n)
	}
	addr, err := h.Host.IPAM.RequestAddress(GWBridge, netip.Addr{})
	if err != nil {
		c.bad(p, "docker_gwbridge on %s: %v", h.Host.Name, err)
		return
	}
	e := topo.EndpointConfig{Network: GWBridge, Addr: netip.PrefixFrom(addr, h.gw.Subnet.Bits())}
	s.Ifaces = append(s.Ifaces, topo.Iface{Name: ifname, Addr: e.Addr, MAC: MAC(addr)})
	h.Graph.Links = append(h.Graph.Links, topo.Link{A: topo.Endpoint{Node: h.SwitchName(GWBridge), Port: s.Name}, B: topo.Endpoint{Node: s.Name, Port: ifname}})
	isolate(h, h.gw, s.Name)
	s.Gateway = h.gw.Gateway
}

// swarm tells each Docker host on an overlay the others: the cluster
// its control plane gossips in.
func (c *compiler) swarm() {
	var members []topo.SwarmMember
	for _, h := range c.plans {
		if len(h.Gateway.Router.Overlays) > 0 {
			members = append(members, topo.SwarmMember{Host: h.Host.Name, Addr: h.Host.Address.Addr()})
		}
	}
	for _, h := range c.plans {
		if len(h.Gateway.Router.Overlays) == 0 {
			continue
		}
		for _, m := range members {
			if m.Host != h.Host.Name {
				h.Gateway.Router.Swarm = append(h.Gateway.Router.Swarm, m)
			}
		}
	}
}
