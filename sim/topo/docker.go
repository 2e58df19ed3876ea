package topo

import (
	"net/netip"

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
// (docker0 for the default network, br-NAME for the others, or br- and 12
// hex digits of the network's ID when br-NAME is no Linux device name), with a port
// per container (named after it) and one for the gateway's leg (named
// after the host), which owns the network's gateway address. Containers
// are sandboxes with eth0, eth1, ... in the order of their networks, MACs
// derived from their addresses as Docker did (02:42 and the IPv4
// address), and as their default route (none on an internal network),
// nameserver and published ports those of the endpoint Docker sorts first
// (libnetwork's Endpoint.Less: gw_priority, internal last, then by
// network name). A container attached to the LAN is the outside world: a
// client next to the hosts.

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
	// Ports are its published host ports, as Docker's port allocator
	// hands them out (a runtime step that publishes more continues it).
	Ports *PortAllocator
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
	// Bridge driver options (driver_opts): com.docker.network.bridge.enable_icc
	// false isolates the containers' ports from each other,
	// enable_ip_masquerade false sends what leaves with the container's
	// own address.
	NoICC, NoMasquerade bool
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
	// GwPriority is Docker 28's gw-priority: the endpoint with the
	// highest gives the container its default route (Docker's order
	// settles ties).
	GwPriority int
}
