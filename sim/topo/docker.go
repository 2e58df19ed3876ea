package topo

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/ipam"
	vswitch "github.com/netyard/netyard/switch"
)

// The Docker model (CNM): hosts, networks, containers and their endpoints,
// compiled into a Graph of switches, sandboxes and gateway nodes.
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

// DefaultHostAddress is the Docker host's address when none is given.
var DefaultHostAddress = netip.MustParsePrefix("192.168.56.11/24")

// Docker is a Docker scenario's model.
type Docker struct {
	Hosts      []DockerHost
	Networks   []Network
	Containers []Container

	// IPAM is the allocation Compile made (the LAN, the networks, their
	// endpoints), for `netyard up` to persist.
	IPAM *ipam.Allocator
}

// DockerHost is a Docker host: a name and an address on the LAN.
type DockerHost struct {
	Name    string
	Address netip.Prefix
}

// Network is a Docker network.
type Network struct {
	Name     string
	Driver   string       // bridge (default) or none
	Subnet   netip.Prefix // zero: from IPAM's pools
	Gateway  netip.Addr   // zero: the subnet's first address
	IPRange  netip.Prefix // zero: the subnet
	Internal bool

	// Set by Compile.
	Bridge string // the switch (and gateway leg) name: docker0, br-NAME
}

// Container is a sandbox on networks, or a client on the LAN.
type Container struct {
	Name      string
	Endpoints []EndpointConfig // none: the default network, as docker run; [{Network: none}]: loopback only
	Attach    string           // "lan": a client on the hosts' LAN instead of on networks
	Address   netip.Prefix     // with Attach: its LAN address; zero: the next free
	Publish   []PortMapping
	ListenTCP []uint16
	ListenUDP []uint16
}

// EndpointConfig is a container's endpoint on a network.
type EndpointConfig struct {
	Network string
	IP      netip.Addr // zero: from IPAM
	Aliases []string

	// Set by Compile.
	Addr netip.Prefix // the address given, with the subnet's length
}

// PortMapping is a published port, as docker run -p writes it: HostPort 0
// picks one from EphemeralFirst upwards.
type PortMapping struct {
	Proto         string // tcp or udp
	HostPort      uint16
	ContainerPort uint16
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

// Compile adds the model to g and returns the address allocation, with
// the networks' bridges set. Problems are *Error located by the model's
// field paths (networks[1].subnet, containers[0].networks[0].ip).
func (d *Docker) Compile(g *Graph) (*ipam.Allocator, error) {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, &Error{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	hosts := d.Hosts
	if len(hosts) == 0 {
		hosts = []DockerHost{{Name: "host1", Address: DefaultHostAddress}}
	}
	if len(hosts) > 1 {
		bad("hosts[1]", "one Docker host per scenario for now (networks spanning hosts need the overlay driver)")
		return nil, errors.Join(errs...)
	}
	dh := hosts[0]
	if !dh.Address.IsValid() {
		dh.Address = DefaultHostAddress
	}
	a := ipam.New(nil)
	lanNet := dh.Address.Masked()
	if _, err := a.RequestNetwork(ipam.Request{Name: "lan", Subnet: lanNet, Gateway: dh.Address.Addr()}); err != nil {
		bad("hosts[0].address", "%v", err)
		return nil, errors.Join(errs...)
	}
	nets := append([]Network{{Name: DefaultNetwork, Driver: "bridge"}}, d.Networks...)
	byName := map[string]*Network{}
	for i := range nets {
		n := &nets[i]
		p := fmt.Sprintf("networks[%d]", i-1)
		switch {
		case i > 0 && n.Name == DefaultNetwork:
			bad(p+".name", "%q is Docker's default network; it exists already", n.Name)
			continue
		case n.Name == "" || strings.ContainsAny(n.Name, ": \t/"):
			bad(p+".name", "a network needs a name without ':', '/' or spaces")
			continue
		case byName[n.Name] != nil:
			bad(p+".name", "duplicate network %q", n.Name)
			continue
		}
		n.Driver = cmp.Or(n.Driver, "bridge")
		switch n.Driver {
		case "bridge":
		case "none":
			if n.Name != "none" {
				bad(p+".driver", "the none driver has one network, named none, which exists already")
			}
			continue
		default: // host, overlay, macvlan, ipvlan: not yet
			bad(p+".driver", "driver %q is not supported yet (bridge, none)", n.Driver)
			continue
		}
		n.Bridge = "docker0"
		if i > 0 {
			n.Bridge = "br-" + n.Name
		}
		if len(n.Bridge) > 15 {
			bad(p+".name", "the bridge device would be %q, longer than Linux's 15 bytes: use at most 12 characters", n.Bridge)
			continue
		}
		req := ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange}
		if i == 0 {
			req.Subnet = netip.MustParsePrefix("172.17.0.0/16")
		}
		alloc, err := a.RequestNetwork(req)
		if err != nil {
			bad(p, "%v", err)
			continue
		}
		n.Subnet, n.Gateway, n.IPRange = alloc.Subnet, alloc.Gateway, alloc.IPRange
		byName[n.Name] = n
	}
	byName["none"] = &Network{Name: "none", Driver: "none"}

	// Names: containers and the host share the node namespace with the
	// switches.
	names := map[string]string{dh.Name: "the Docker host", LANSwitch: "the LAN switch"}
	for _, n := range byName {
		if n.Bridge != "" {
			names[n.Bridge] = "the bridge of network " + n.Name
		}
	}
	for i, c := range d.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, ": \t/"):
			bad(p+".name", "a container needs a name without ':', '/' or spaces")
		case names[c.Name] != "":
			bad(p+".name", "name %q is taken (%s)", c.Name, names[c.Name])
		default:
			names[c.Name] = "a container"
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Addresses: static ones first, so that file order does not matter.
	ctrs := slices.Clone(d.Containers)
	for i := range ctrs {
		ctrs[i].Endpoints = slices.Clone(ctrs[i].Endpoints)
		ctrs[i].Publish = slices.Clone(ctrs[i].Publish)
		if len(ctrs[i].Endpoints) == 0 && ctrs[i].Attach == "" { // docker run without --network
			ctrs[i].Endpoints = []EndpointConfig{{Network: DefaultNetwork}}
		}
	}
	for pass := range 2 {
		for i := range ctrs {
			c := &ctrs[i]
			for j := range c.Endpoints {
				e := &c.Endpoints[j]
				p := fmt.Sprintf("containers[%d].networks[%d]", i, j)
				n := byName[e.Network]
				if pass == 0 {
					if n == nil {
						bad(p, "unknown network %q", e.Network)
						continue
					}
					if n.Driver == "none" && len(c.Endpoints) > 1 {
						bad(p, "a container on the none network has no other network")
					}
				}
				if n == nil || n.Driver != "bridge" || (pass == 0) != e.IP.IsValid() {
					continue
				}
				addr, err := a.RequestAddress(n.Name, e.IP)
				if err != nil {
					bad(p+".ip", "%v", err)
					continue
				}
				e.Addr = netip.PrefixFrom(addr, n.Subnet.Bits())
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// The LAN, the host's gateway node, the bridges.
	g.Switches = append(g.Switches, Switch{Name: LANSwitch})
	router := &Router{LAN: "eth0"}
	gw := Host{Name: dh.Name, Ifaces: []Iface{{Name: "eth0", Addr: dh.Address}}, Router: router}
	g.Links = append(g.Links, Link{A: Endpoint{LANSwitch, dh.Name}, B: Endpoint{dh.Name, "eth0"}})
	for i := range nets {
		n := &nets[i]
		if byName[n.Name] != n || n.Bridge == "" {
			continue
		}
		g.Switches = append(g.Switches, Switch{Name: n.Bridge})
		ga := n.Gateway.As4()
		gw.Ifaces = append(gw.Ifaces, Iface{Name: n.Bridge, Addr: netip.PrefixFrom(n.Gateway, n.Subnet.Bits()),
			MAC: vswitch.MAC{0x02, 0x42, ga[0], ga[1], ga[2], ga[3]}})
		router.Bridges = append(router.Bridges, RouterBridge{Iface: n.Bridge, Network: n.Name, Internal: n.Internal})
		g.Links = append(g.Links, Link{A: Endpoint{n.Bridge, dh.Name}, B: Endpoint{dh.Name, n.Bridge}})
	}
	d.Networks = nil
	for _, n := range nets[1:] {
		if m := byName[n.Name]; m != nil {
			d.Networks = append(d.Networks, *m)
		}
	}

	// Containers, and LAN clients after the host's address.
	nextLAN := dh.Address.Addr()
	used := map[netip.Addr]bool{dh.Address.Addr(): true}
	for i := range ctrs {
		if c := ctrs[i]; c.Attach != "" && c.Address.IsValid() {
			used[c.Address.Addr()] = true
		}
	}
	usedHostPorts := map[string]bool{}
	for i := range ctrs {
		c := &ctrs[i]
		p := fmt.Sprintf("containers[%d]", i)
		h := Host{Name: c.Name, ListenTCP: c.ListenTCP, ListenUDP: c.ListenUDP}
		switch {
		case c.Attach != "":
			if c.Attach != LANSwitch {
				bad(p+".attach", "attach %q: only lan (the hosts' LAN) can be attached to", c.Attach)
				continue
			}
			if len(c.Endpoints) > 0 || len(c.Publish) > 0 {
				bad(p, "a client attached to the LAN has no networks and publishes nothing")
				continue
			}
			addr := c.Address
			if !addr.IsValid() {
				for nextLAN = nextLAN.Next(); used[nextLAN]; nextLAN = nextLAN.Next() {
				}
				if !lanNet.Contains(nextLAN) {
					bad(p, "no free address left on the LAN %s", lanNet)
					continue
				}
				used[nextLAN] = true
				addr = netip.PrefixFrom(nextLAN, lanNet.Bits())
			} else if addr.Masked() != lanNet {
				bad(p+".address", "%s is not on the LAN %s", addr, lanNet)
				continue
			}
			c.Address = addr
			h.Ifaces = []Iface{{Name: "eth0", Addr: addr}}
			g.Links = append(g.Links, Link{A: Endpoint{LANSwitch, c.Name}, B: Endpoint{c.Name, "eth0"}})
		case c.Endpoints[0].Network == "none":
			h.Loopback = true
		default:
			for j, e := range c.Endpoints {
				n := byName[e.Network]
				ifn := fmt.Sprintf("eth%d", j)
				a4 := e.Addr.Addr().As4()
				h.Ifaces = append(h.Ifaces, Iface{Name: ifn, Addr: e.Addr, MAC: vswitch.MAC{0x02, 0x42, a4[0], a4[1], a4[2], a4[3]}})
				g.Links = append(g.Links, Link{A: Endpoint{n.Bridge, c.Name}, B: Endpoint{c.Name, ifn}})
				router.DNS = append(router.DNS, DNSName{Network: n.Name, Container: c.Name, Addr: e.Addr.Addr(), Aliases: e.Aliases})
				if j == 0 {
					h.Nameserver = n.Gateway
					if !n.Internal {
						h.Gateway = n.Gateway
					}
				}
			}
		}
		for k, pm := range c.Publish {
			if len(h.Ifaces) == 0 || c.Attach != "" {
				bad(fmt.Sprintf("%s.publish[%d]", p, k), "only a container on a bridge network can publish a port")
				break
			}
			hp := pm.HostPort
			if hp == 0 {
				for hp = EphemeralFirst; usedHostPorts[fmt.Sprint(pm.Proto, hp)] && hp < EphemeralLast; hp++ {
				}
			}
			key := fmt.Sprint(pm.Proto, hp)
			if usedHostPorts[key] {
				bad(fmt.Sprintf("%s.publish[%d]", p, k), "host port %d/%s is already published", hp, pm.Proto)
				continue
			}
			usedHostPorts[key] = true
			c.Publish[k].HostPort = hp
			router.Publish = append(router.Publish, Publish{Proto: pm.Proto,
				Ext: netip.AddrPortFrom(dh.Address.Addr(), hp), To: netip.AddrPortFrom(h.Ifaces[0].Addr.Addr(), pm.ContainerPort)})
		}
		g.Hosts = append(g.Hosts, h)
	}
	g.Hosts = append(g.Hosts, gw)
	d.Hosts = []DockerHost{dh}
	d.Containers = ctrs
	d.IPAM = a
	g.Docker = d
	return a, errors.Join(errs...)
}
