package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/sim/topo"
)

// What a Docker engine decides that is no driver's: which endpoint gives
// a container its routes, whether a static address may be asked for,
// which host port a publish gets, and the bridge's device name. Each
// follows moby's source, named where it is done.

// portRange returns the allocator of a Docker host whose port range is r
// (zero: Linux's ip_local_port_range), checking it at path p.
func (c *compiler) portRange(p string, r [2]uint16) *topo.PortAllocator {
	if r == [2]uint16{} {
		return topo.NewPortAllocator(topo.DefaultPortFirst, topo.DefaultPortLast)
	}
	if r[0] == 0 || r[1] < r[0] {
		c.bad(p+".port_range", "port range %d-%d: want FIRST-LAST with 1 <= FIRST <= LAST <= 65535, like Linux's 32768-60999", r[0], r[1])
		return topo.NewPortAllocator(topo.DefaultPortFirst, topo.DefaultPortLast)
	}
	return topo.NewPortAllocator(r[0], r[1])
}

// hasGateway reports whether a container's endpoint on n gives it a
// default route: a bridge network that is not internal (since Docker 25
// the bridge driver sets no gateway on an internal network: moby commit
// cbc2a71c, "Don't set container's gateway when network is internal").
// An overlay's way out is docker_gwbridge, a network of its own.
func hasGateway(n *topo.Network) bool {
	return n != nil && n.Gateway.IsValid() && !n.Internal && n.Scope != topo.ScopeSwarm && n.Driver != "none"
}

// less is libnetwork's Endpoint.Less (moby daemon/libnetwork/sandbox.go):
// the higher gw_priority first; then an endpoint on a network that is not
// internal; then one whose network gives a gateway; then by network name.
// (docker_gwbridge, which Less puts last, is never among a model's
// endpoints: the compiler adds it after them.)
func less(h *HostPlan, a, b topo.EndpointConfig) bool {
	if a.GwPriority != b.GwPriority {
		return a.GwPriority > b.GwPriority
	}
	na, nb := h.byName[a.Network], h.byName[b.Network]
	if ia, ib := na.Internal, nb.Internal; ia != ib {
		return ib
	}
	if ga, gb := hasGateway(na), hasGateway(nb); ga != gb {
		return ga
	}
	return a.Network < b.Network
}

// primary returns the index of the endpoint Docker sorts first among eps
// (its sandbox keeps them sorted by less), whose network gives the
// container its default route if any does (getGatewayEndpoint takes the
// first with a gateway, and less puts those with one first), and its
// published ports; -1 for none.
func primary(h *HostPlan, eps []topo.EndpointConfig) int {
	best := -1
	for j := range eps {
		if best < 0 || less(h, eps[j], eps[best]) {
			best = j
		}
	}
	return best
}

// staticRefused says why Docker refuses a static address on network n,
// or "". Docker 20.10 to 29.0 refuse one on a network whose subnet was
// not given (moby daemon/container_operations.go, validateEndpointIPAddress,
// until commit 84a251d0 of Docker 29.1 accepted any address in the
// allocated subnet); netyard keeps the refusal, so that what it accepts
// replays on every Docker since 20.10. Every Docker refuses one on the
// default bridge (validateEndpointSettings).
func (c *compiler) staticRefused(n *topo.Network) string {
	switch {
	case n.Name == topo.DefaultNetwork:
		return "user specified IP address is supported on user defined networks only"
	case n.Driver == "none":
		return "user specified IP address is supported on user defined networks only"
	}
	for _, m := range c.m.Networks {
		if m.Name == n.Name && !m.Subnet.IsValid() {
			return "user specified IP address is supported only when connecting to networks with user configured subnets"
		}
	}
	return ""
}

// addressRefused says, in Docker's words first, why IPAM refused container
// i the address want on n.
func (c *compiler) addressRefused(i int, n *topo.Network, want netip.Addr, err error) string {
	switch {
	case errors.Is(err, ipam.ErrTaken) && want == n.Gateway:
		return fmt.Sprintf("Address already in use: %s is the gateway of %s", want, n.Name)
	case errors.Is(err, ipam.ErrTaken):
		for k := range i {
			for _, e := range c.ctrs[k].Endpoints {
				if e.Network == n.Name && e.Addr.Addr() == want && c.ctrs[k].Host == c.ctrs[i].Host {
					return fmt.Sprintf("Address already in use: %s is %s's (Docker gives addresses out as the containers start, in order)", want, c.ctrs[k].Name)
				}
			}
		}
		return fmt.Sprintf("Address already in use: %v", err)
	case errors.Is(err, ipam.ErrOutOfRange):
		return fmt.Sprintf("no configured subnet or ip-range contain the IP address %s (%s's subnet is %s)", want, n.Name, n.Subnet)
	}
	return err.Error()
}

// NetworkID is the network's ID, as docker network inspect shows it: 64
// hex digits. Docker draws it at random; netyard derives it from the
// name (the hex of its SHA-256), so that a run is reproducible and a
// network has one ID on every host, as a swarm network has.
func NetworkID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// BridgeName returns the Linux bridge of user network name: Docker's is
// always br- and the first 12 hex digits of the network ID (moby
// daemon/libnetwork/drivers/bridge, parseNetworkOptions). netyard keeps
// br-NAME, easier to read in a trace, where it is a valid device name
// (at most Linux's 15 bytes, Docker's characters), and uses Docker's form
// otherwise, so that a network's name can be as long as Docker allows.
func BridgeName(name string) string {
	if b := "br-" + name; topo.ValidIfaceName(b) == nil {
		return b
	}
	return "br-" + NetworkID(name)[:12]
}

// hostAddress reports whether a is an address of Docker host h that a
// port can be published on: its LAN address, loopback, or one of its
// bridges' gateway addresses.
func hostAddress(h *HostPlan, a netip.Addr) bool {
	if a == h.Host.Address.Addr() || a.IsLoopback() {
		return true
	}
	for i := range h.nets {
		if n := &h.nets[i]; h.byName[n.Name] == n && n.Gateway == a && n.Bridge != "" {
			return true
		}
	}
	return false
}

// publish publishes container i's ports on its host, through the endpoint
// that is its gateway (the bridge driver's ProgramExternalConnectivity
// maps ports on the endpoint libnetwork picks as the gateway): a
// container with none (on internal networks only) publishes nothing, and
// Docker says nothing of it. Host ports come from the host's allocator.
func (c *compiler) publish(h *HostPlan, i int, s *topo.Host) {
	ct := &c.ctrs[i]
	p := fmt.Sprintf("containers[%d]", i)
	gw := primary(h, ct.Endpoints)
	for k, pm := range ct.Publish {
		from := k
		if pf := c.m.Containers[i].PublishFrom; k < len(pf) {
			from = pf[k]
		}
		pp := fmt.Sprintf("%s.publish[%d]", p, from)
		if s.Loopback || len(s.Ifaces) == 0 || gw < 0 {
			if len(ct.Endpoints) > 0 && ct.Endpoints[0].Network == "none" {
				c.bad(pp, "only a container on a bridge network can publish a port")
			}
			return
		}
		e := ct.Endpoints[gw]
		n := h.byName[e.Network]
		if n.Scope == topo.ScopeSwarm {
			c.bad(pp, "a port of a container on an overlay is published by swarm's ingress routing mesh, which netyard does not model: publish from a container on a bridge network")
			return
		}
		if why := vlanPublish(h, ct); why != "" {
			c.bad(pp, "%s", why)
			return
		}
		if !hasGateway(n) || !e.Addr.IsValid() {
			return // internal only: Docker ignores -p
		}
		if pm.HostIP.IsValid() && !hostAddress(h, pm.HostIP) {
			c.bad(pp, "listen %s4 %s: bind: cannot assign requested address (%s has no such address)", pm.Proto, netip.AddrPortFrom(pm.HostIP, pm.HostPort), h.Host.Name)
			continue
		}
		port, err := h.Host.Ports.Request(pm.Proto, pm.HostIP, pm.HostPort, pm.HostPortEnd)
		if err != nil {
			c.bad(pp, "%v", err)
			continue
		}
		ct.Publish[k].HostPort, ct.Publish[k].HostPortEnd = port, 0
		ext := netip.AddrPortFrom(h.Host.Address.Addr(), port)
		if pm.HostIP.IsValid() {
			ext = netip.AddrPortFrom(pm.HostIP, port)
		}
		h.Gateway.Router.Publish = append(h.Gateway.Router.Publish, topo.Publish{Proto: pm.Proto, Ext: ext,
			To: netip.AddrPortFrom(e.Addr.Addr(), pm.ContainerPort), Bind: pm.HostIP})
	}
}
