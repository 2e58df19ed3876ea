package docker

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/sim/topo"
)

// The host driver, and what Docker adds to the host's own stack.
//
// A container on Docker's host network (docker run --network host) shares
// the Docker host's network namespace. In netyard the Docker host's stack
// is its gateway node's, in both worlds, so such a container is that
// stack: it has no node of its own, its listen ports are opened on the
// gateway (a LAN client reaches 192.168.56.11:8080 directly), steps from
// it run from the gateway (topo.Graph.StackOf), it sees the host's
// interfaces and addresses, and its name stands for the host's address.
// A namespace of its own beside the gateway would need the host's
// addresses twice, on two stacks (see docs/docker/host.md).

func init() { Register("host", hostDriver{}) }

// Docker's words (moby runconfig/errors.go, libnetwork, docker cli).
const (
	// errConflictHostNetwork: a container on another network connected to
	// the host network (daemon updateNetworkSettings).
	errConflictHostNetwork = "container cannot be disconnected from host network or connected to host network"
	// errConflictSharedNetwork: a container on the host network connected
	// to another network.
	errConflictSharedNetwork = "container sharing network namespace with another container or host cannot be connected to any other network"
	// warnPublishHost is the cli's warning for -p with --network host
	// (docs: engine/network/drivers/host.md).
	warnPublishHost = "WARNING: Published ports are discarded when using host network mode"
)

// hostConflict returns Docker's refusal of a second network for a
// container on the host network (toHost: the host network is the second).
func hostConflict(toHost bool) string {
	if toHost {
		return errConflictHostNetwork
	}
	return errConflictSharedNetwork
}

// hostDriver is Docker's host driver: one network, host, which exists
// already and is not made on anything: its containers are the host's
// stack (hostNetwork).
type hostDriver struct{}

func (hostDriver) Create(h *HostPlan, _ *topo.Network, p string) bool {
	if h == h.c.plans[0] {
		h.Bad(p+".driver", "only one instance of \"host\" network is allowed")
	}
	return false
}

func (hostDriver) Lay(*HostPlan, *topo.Network) {}

// Attach is never called: a container on the host network has no sandbox
// to attach (hostNetwork).
func (hostDriver) Attach(*HostPlan, *topo.Network, topo.EndpointConfig, *topo.Host, string, bool) {}

// hostNetwork makes container i, on the host network of h, part of h's
// own stack: its listen ports are the gateway's, its published ports are
// discarded with Docker's warning.
func (c *compiler) hostNetwork(h *HostPlan, i int) {
	ct := &c.ctrs[i]
	p := fmt.Sprintf("containers[%d]", i)
	if len(ct.Publish) > 0 {
		c.warnings = append(c.warnings, &topo.Error{Path: p + ".publish", Msg: ct.Name + ": " + warnPublishHost})
		ct.Publish = nil
	}
	r := h.Gateway.Router
	listen := func(proto string, ports []uint16, to *[]uint16) {
		for _, port := range ports {
			// The host's ports are one space: its port allocator's.
			if _, err := h.Host.Ports.Request(proto, netip.Addr{}, port, 0); err != nil {
				c.bad(p+".listen", "listen %s/%d: the port is taken on the Docker host %s (published, or another container on the host network listens there): address already in use", proto, port, h.Host.Name)
				continue
			}
			*to = append(*to, port)
		}
	}
	listen("tcp", ct.ListenTCP, &r.ListenTCP)
	listen("udp", ct.ListenUDP, &r.ListenUDP)
	// Its resolv.conf is the host's (the gateway's Nameserver, the host's
	// first resolver): it does not use the embedded server.
}

// hostOptions settles what the model says of each Docker host beyond its
// address (dockerd's options), and the LAN clients' routes.
func (c *compiler) hostOptions() {
	for _, mh := range c.m.Hosts {
		if h := c.byHost[mh.Name]; h != nil && mh.AllowDirectRouting {
			h.Host.AllowDirectRouting = true
			h.Gateway.Router.AllowDirectRouting = true
		}
	}
	for i, mc := range c.m.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		if len(mc.Routes) == 0 {
			continue
		}
		if mc.Attach == "" {
			c.bad(p+".routes", "routes are for a client attached to the LAN (attach: lan); a container's routes come from its networks")
			continue
		}
		s := c.g.Host(mc.Name)
		if s == nil || len(s.Ifaces) == 0 {
			continue // its address was refused
		}
		for k, r := range mc.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", p, k)
			if !r.To.IsValid() || !r.To.Addr().Is4() {
				c.bad(rp+".to", "a route needs the IPv4 subnet it leads to (to: 172.18.0.0/16)")
				continue
			}
			via, ok := c.via(r.Via)
			switch {
			case !ok:
				c.bad(rp+".via", "via %q: want a Docker host's name or an address on the LAN %s%s", r.Via, c.lan, topo.DidYouMean(r.Via, c.hostNames()))
				continue
			case !c.lan.Contains(via):
				c.bad(rp+".via", "via %s: the next hop must be on the LAN %s", via, c.lan)
				continue
			case via == s.Ifaces[0].Addr.Addr():
				c.bad(rp+".via", "via %s: that is the client's own address", via)
				continue
			}
			s.Routes = append(s.Routes, topo.Route{To: r.To.Masked(), Via: via})
		}
	}
}

// via reads a route's next hop: a Docker host's name (its LAN address) or
// an address.
func (c *compiler) via(s string) (netip.Addr, bool) {
	if h := c.byHost[s]; h != nil {
		return h.Host.Address.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil && a.Is4()
}

// hostNames lists the Docker hosts' names.
func (c *compiler) hostNames() []string {
	var names []string
	for _, h := range c.plans {
		names = append(names, h.Host.Name)
	}
	return names
}
