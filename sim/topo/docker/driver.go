package docker

import (
	"net/netip"

	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/sim/topo"
)

// bridgeDriver is Docker's bridge driver: a switch per network (the Linux
// bridge, docker0 or br-NAME), the gateway's leg on it owning the
// network's gateway address, and a port per container.
type bridgeDriver struct{}

func (bridgeDriver) Create(h *HostPlan, n *topo.Network, p string) bool {
	first := h == h.c.plans[0]
	bad := func(path, format string, a ...any) {
		if first {
			h.Bad(path, format, a...)
		}
	}
	n.Bridge = "docker0"
	if n.Name != topo.DefaultNetwork {
		n.Bridge = BridgeName(n.Name)
	}
	problem := !bridgeOptions(h, n, p, bad)
	check := func(field, why string) {
		if why != "" {
			bad(p+"."+field, "%s", why)
			problem = true
		}
	}
	if n.Subnet.IsValid() {
		check("subnet", topo.SubnetProblem(n.Subnet))
	}
	if n.Gateway.IsValid() {
		check("gateway", topo.AddrProblem(n.Gateway))
	}
	if n.IPRange.IsValid() {
		check("ip_range", topo.AddrProblem(n.IPRange.Addr()))
	}
	if problem {
		return false
	}
	// The default network asks like any other: the first of IPAM's pools
	// is Docker's 172.17.0.0/16, and it asks first.
	alloc, err := h.Host.IPAM.RequestNetwork(ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange, Aux: n.Aux})
	if err != nil {
		bad(p, "%v", err)
		return false
	}
	n.Subnet, n.Gateway, n.IPRange = alloc.Subnet, alloc.Gateway, alloc.IPRange
	return true
}

func (bridgeDriver) Lay(h *HostPlan, n *topo.Network) {
	g, gw, sw := h.Graph, h.Gateway, h.SwitchName(n.Bridge)
	g.Switches = append(g.Switches, topo.Switch{Name: sw})
	gw.Ifaces = append(gw.Ifaces, topo.Iface{Name: n.Bridge, Addr: netip.PrefixFrom(n.Gateway, n.Subnet.Bits()), MAC: MAC(n.Gateway), MTU: n.MTU})
	gw.Router.Bridges = append(gw.Router.Bridges, topo.RouterBridge{Iface: n.Bridge, Network: n.Name, Internal: n.Internal, NoMasquerade: n.NoMasquerade})
	if n.NoICC {
		// The gateway's port is declared first, so that the ports keep
		// the order of the links.
		g.Switches[len(g.Switches)-1].Ports = []topo.Port{{Name: h.Host.Name}}
	}
	g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: sw, Port: h.Host.Name}, B: topo.Endpoint{Node: h.Host.Name, Port: n.Bridge}})
}

func (bridgeDriver) Attach(h *HostPlan, n *topo.Network, e topo.EndpointConfig, s *topo.Host, ifname string, first bool) {
	s.Ifaces = append(s.Ifaces, topo.Iface{Name: ifname, Addr: e.Addr, MAC: MAC(e.Addr.Addr()), MTU: n.MTU})
	h.Graph.Links = append(h.Graph.Links, topo.Link{A: topo.Endpoint{Node: h.SwitchName(n.Bridge), Port: s.Name}, B: topo.Endpoint{Node: s.Name, Port: ifname}})
	if n.NoICC {
		isolate(h, n, s.Name)
	}
	h.Gateway.Router.DNS = append(h.Gateway.Router.DNS, topo.DNSName{Network: n.Name, Container: s.Name, Addr: e.Addr.Addr(), Aliases: e.Aliases})
	if first {
		h.nameserver(n, s)
		if !n.Internal {
			s.Gateway = n.Gateway
		}
	}
}

// noneDriver is Docker's none driver: one network, none, whose containers
// have loopback only.
type noneDriver struct{}

func (noneDriver) Create(h *HostPlan, n *topo.Network, p string) bool {
	if h == h.c.plans[0] {
		h.Bad(p+".driver", "the none driver has one network, named none, which exists already")
	}
	return false
}

func (noneDriver) Lay(*HostPlan, *topo.Network) {}

func (noneDriver) Attach(_ *HostPlan, _ *topo.Network, _ topo.EndpointConfig, s *topo.Host, _ string, _ bool) {
	s.Loopback = true
}
