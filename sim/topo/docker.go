package topo

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netyard/netyard/ipam"
)

// What the Docker model (package sim/topo/docker) compiled a graph from,
// in Docker's words: the hosts, networks and containers with everything
// settled (subnets, gateways, bridges, addresses, published ports), for
// drawing, inspection and `expect: ipam`. The model as written is the
// docker package's; this is the plan's record of it.
//
// Each Docker host is a gateway node (package nat/gateway) with a leg on
// the hosts' LAN, a switch named "lan", owning the host's address. Each
// bridge network is a switch named as Docker names its Linux bridge
// (docker0 for the default network, br-NAME for the others), with a port
// per container (named after it) and one for the gateway's leg (named
// after the host), which owns the network's gateway address. Containers
// are sandboxes with eth0, eth1, ... in the order of their networks, MACs
// derived from their addresses as Docker did (02:42 and the IPv4
// address), the first network's gateway as their default route (none on
// an internal network) and nameserver. A container attached to the LAN is
// the outside world: a client next to the hosts.

// DefaultNetwork is the network every Docker host has, as in Docker.
const DefaultNetwork = "bridge"

// LANSwitch is the switch the hosts and outside clients sit on.
const LANSwitch = "lan"

// Docker is a compiled Docker model.
type Docker struct {
	Hosts      []DockerHost
	Networks   []Network // the user's networks, host by host (not the predefined ones)
	Containers []Container
	// Warnings are what Docker would warn of and go on (published ports
	// of a container on the host network, discarded).
	Warnings []*Error
}

// Network returns network name of Docker host host, or nil. The default
// network is one too.
func (d *Docker) Network(host, name string) *Network {
	for i := range d.Networks {
		if n := &d.Networks[i]; n.Name == name && n.Host == host {
			return n
		}
	}
	for i := range d.Hosts {
		if h := &d.Hosts[i]; h.Name == host && h.Default.Name == name {
			return &h.Default
		}
	}
	return nil
}

// DockerHost is a Docker host: a name, an address on the LAN, its own
// default network and its own view of the address space.
type DockerHost struct {
	Name    string
	Address netip.Prefix
	Default Network         // its bridge network
	IPAM    *ipam.Allocator // what it allocated
	// AllowDirectRouting is dockerd's allow-direct-routing (Router's).
	AllowDirectRouting bool
	// DNS are the host's resolvers (its resolv.conf's nameservers): the
	// embedded DNS server's upstreams, and the default bridge's
	// containers' nameservers. Empty: none configured (Resolvers gives
	// Docker's fallback).
	DNS []netip.Addr
}

// FallbackDNS are the resolvers Docker gives a container when its host's
// resolv.conf has none: Google's public servers
// (libnetwork/internal/resolvconf defaultIPv4NSs).
var FallbackDNS = []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("8.8.4.4")}

// Resolvers returns the nameservers a container that does not use the
// embedded server gets (the default bridge, the host network): the
// host's DNS, or Docker's fallback when it has none.
func (h *DockerHost) Resolvers() []netip.Addr {
	if len(h.DNS) > 0 {
		return h.DNS
	}
	return FallbackDNS
}

// ScopeSwarm is the Scope of a network that spans Docker hosts (an
// overlay), as docker network inspect says it.
const ScopeSwarm = "swarm"

// Network is a Docker network on one Docker host.
type Network struct {
	Name     string
	Host     string // the Docker host it is on
	Driver   string // bridge or none
	Subnet   netip.Prefix
	Gateway  netip.Addr
	IPRange  netip.Prefix
	Internal bool
	Bridge   string   // the switch (and gateway leg) name: docker0, br-NAME, ov-NAME
	Scope    string   // "": one host's; ScopeSwarm: an overlay's, the same on every host of it
	VNI      uint32   // an overlay's VXLAN network identifier
	MTU      int      // its containers' interfaces' MTU; zero: 1500
	Hosts    []string // an overlay's Docker hosts
	// DriverOpts are the network's driver options (docker network
	// create -o), as written: macvlan's parent and macvlan_mode,
	// ipvlan's parent, ipvlan_mode and ipvlan_flag.
	DriverOpts map[string]string
	// Aux are the auxiliary addresses IPAM reserves (--aux-address).
	Aux map[string]netip.Addr
	// Subnets are the network's subnets after the first (Subnet): an
	// ipvlan l3 network routes between several.
	Subnets []netip.Prefix
}

// Container is a sandbox on networks, or a client on the LAN.
type Container struct {
	Name      string
	Host      string           // the Docker host it runs on; "" for a client on the LAN
	Endpoints []EndpointConfig // none: loopback only, or a client
	Attach    string           // "lan": a client on the hosts' LAN instead of on networks
	Address   netip.Prefix     // with Attach: its LAN address
	Publish   []PortMapping    // with the host ports chosen
	ListenTCP []uint16
	ListenUDP []uint16
}

// EndpointConfig is a container's endpoint on a network.
type EndpointConfig struct {
	Network string
	Addr    netip.Prefix // the address it got, with the subnet's length
	Aliases []string
	Static  bool // Addr was asked for (ip:): a start asks for it again
}

// PortMapping is a published port, as docker run -p writes it: HostPort 0
// picks one from EphemeralFirst upwards.
type PortMapping struct {
	Proto         string // tcp or udp
	HostPort      uint16
	ContainerPort uint16
}

// String returns the mapping as ParsePortMapping reads it: "8080:80/tcp",
// or "80/tcp" without a host port.
func (m PortMapping) String() string {
	if m.HostPort == 0 {
		return fmt.Sprintf("%d/%s", m.ContainerPort, m.Proto)
	}
	return fmt.Sprintf("%d:%d/%s", m.HostPort, m.ContainerPort, m.Proto)
}

// Docker's range for published ports given without a host port.
const (
	EphemeralFirst = 49153
	EphemeralLast  = 65535
)

// ParsePortMapping reads "8080:80/tcp", "8080:80", "80/udp" or "80".
func ParsePortMapping(s string) (PortMapping, error) {
	m := PortMapping{Proto: "tcp"}
	spec, proto, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		m.Proto = proto
	}
	if m.Proto != "tcp" && m.Proto != "udp" {
		return m, fmt.Errorf("publish %q: protocol %q, want tcp or udp", s, proto)
	}
	hostPart, ctrPart, two := strings.Cut(spec, ":")
	if !two {
		ctrPart, hostPart = hostPart, ""
	}
	port := func(t string) (uint16, bool) {
		n, err := strconv.ParseUint(t, 10, 16)
		return uint16(n), err == nil && n >= 1
	}
	var okC, okH bool
	m.ContainerPort, okC = port(ctrPart)
	okH = true
	if two {
		m.HostPort, okH = port(hostPart)
	}
	if !okC || !okH {
		return m, fmt.Errorf("publish %q: want HOSTPORT:PORT[/tcp|udp] or PORT[/tcp|udp] with ports 1-65535 (an address to bind is not supported)", s)
	}
	return m, nil
}
