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

// Compile adds the model to g and returns the address allocation, with
// the networks' bridges set. Problems are *Error located by the model's
// field paths (networks[1].subnet, containers[0].networks[0].ip), all of
// them: each stage goes on past what an earlier one refused, leaving out
// only what depends on it. On error, g still has a node for every
// container (so that what names them can be checked), but is not fit to
// run, and d has been changed.
func (d *Docker) Compile(g *Graph) (*ipam.Allocator, error) {
	c := &compiler{d: d, g: g, ipam: ipam.New(nil), broken: map[string]bool{}}
	for _, stage := range []func(){c.host, c.networks, c.names, c.addresses, c.bridges, c.containers} {
		stage()
	}
	d.Hosts = []DockerHost{c.dh}
	d.Containers = c.ctrs
	d.IPAM = c.ipam
	g.Hosts = append(g.Hosts, c.gw)
	g.Docker = d
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return c.ipam, nil
}

// compiler carries a Docker model through the stages of Compile; each
// stage reports problems with bad, and skips what an earlier stage could
// not settle (a network IPAM refused, a container's endpoint on it).
type compiler struct {
	d      *Docker
	g      *Graph
	ipam   *ipam.Allocator
	errs   []error
	dh     DockerHost
	lan    netip.Prefix
	nets   []Network           // the default network, then the model's
	byName map[string]*Network // the networks that exist, none included
	broken map[string]bool     // networks the model has but that could not be made
	ctrs   []Container         // the model's, with addresses
	gw     Host                // the Docker host's gateway node
}

func (c *compiler) bad(path, format string, a ...any) {
	c.errs = append(c.errs, &Error{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// host settles the one Docker host and registers its LAN with IPAM, so
// that no network overlaps it.
func (c *compiler) host() {
	hosts := c.d.Hosts
	if len(hosts) == 0 {
		hosts = []DockerHost{{Name: "host1", Address: DefaultHostAddress}}
	}
	if len(hosts) > 1 {
		c.bad("hosts[1]", "one Docker host per scenario for now (networks spanning hosts need the overlay driver)")
	}
	c.dh = hosts[0]
	if err := ValidName(c.dh.Name); err != nil {
		c.bad("hosts[0].name", "a Docker host's %v", err)
	}
	if !c.dh.Address.IsValid() {
		c.dh.Address = DefaultHostAddress
	}
	if why := hostPrefixProblem(c.dh.Address); why != "" {
		c.bad("hosts[0].address", "%s", why)
		c.dh.Address = DefaultHostAddress
	}
	c.lan = c.dh.Address.Masked()
	if _, err := c.ipam.RequestNetwork(ipam.Request{Name: "lan", Subnet: c.lan, Gateway: c.dh.Address.Addr()}); err != nil {
		c.bad("hosts[0].address", "%v", err)
	}
}

// Docker's predefined networks: a model may not make them again.
var predefined = map[string]string{
	DefaultNetwork: "Docker's default network",
	"host":         "Docker's network of the host's own stack",
	"none":         "Docker's network without interfaces",
}

// networks allocates the default network, then the model's in order.
func (c *compiler) networks() {
	c.nets = append([]Network{{Name: DefaultNetwork, Driver: "bridge"}}, c.d.Networks...)
	c.byName = map[string]*Network{}
	for i := range c.nets {
		n := &c.nets[i]
		p := fmt.Sprintf("networks[%d]", i-1)
		n.Driver = cmp.Or(n.Driver, "bridge")
		switch err := ValidName(n.Name); {
		case n.Name == "":
			c.bad(p+".name", "a network needs a name")
			continue
		case err != nil:
			c.bad(p+".name", "a network's %v", err)
			continue
		case c.byName[n.Name] != nil || c.broken[n.Name]:
			c.bad(p+".name", "duplicate network %q", n.Name)
			continue
		case i > 0 && n.Name == "none" && n.Driver == "none":
			continue // docker network create -d none none: it exists already
		case i > 0 && predefined[n.Name] != "":
			c.bad(p+".name", "%q is %s; it exists already", n.Name, predefined[n.Name])
			continue
		}
		switch n.Driver {
		case "bridge":
		case "none":
			c.bad(p+".driver", "the none driver has one network, named none, which exists already")
			c.broken[n.Name] = true
			continue
		default: // host, overlay, macvlan, ipvlan: not yet
			c.bad(p+".driver", "driver %q is not supported yet (bridge, none)%s", n.Driver, didYouMean(n.Driver, []string{"bridge", "none"}))
			c.broken[n.Name] = true
			continue
		}
		n.Bridge = "docker0"
		if i > 0 {
			n.Bridge = "br-" + n.Name
		}
		if len(n.Bridge) > MaxIfaceNameLen {
			c.bad(p+".name", "the bridge device would be %q, longer than Linux's %d bytes: use at most %d characters", n.Bridge, MaxIfaceNameLen, MaxIfaceNameLen-3)
			c.broken[n.Name] = true
			continue
		}
		problem := false
		check := func(field, why string) {
			if why != "" {
				c.bad(p+"."+field, "%s", why)
				problem = true
			}
		}
		if n.Subnet.IsValid() {
			check("subnet", subnetProblem(n.Subnet))
		}
		if n.Gateway.IsValid() {
			check("gateway", addrProblem(n.Gateway))
		}
		if n.IPRange.IsValid() {
			check("ip_range", addrProblem(n.IPRange.Addr()))
		}
		if problem {
			c.broken[n.Name] = true
			continue
		}
		req := ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange}
		if i == 0 {
			req.Subnet = netip.MustParsePrefix("172.17.0.0/16")
		}
		alloc, err := c.ipam.RequestNetwork(req)
		if err != nil {
			c.bad(p, "%v", err)
			c.broken[n.Name] = true
			continue
		}
		n.Subnet, n.Gateway, n.IPRange = alloc.Subnet, alloc.Gateway, alloc.IPRange
		c.byName[n.Name] = n
	}
	c.byName["none"] = &Network{Name: "none", Driver: "none"}
}

// didYouMean is "; did you mean X?" for the candidate nearest word, or "".
func didYouMean(word string, candidates []string) string {
	if s := Nearest(word, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// names checks the containers' names: they share the node namespace with
// the host and the switches.
func (c *compiler) names() {
	names := map[string]string{c.dh.Name: "the Docker host", LANSwitch: "the LAN switch"}
	for i := range c.nets {
		if n := &c.nets[i]; n.Bridge != "" && c.byName[n.Name] == n {
			names[n.Bridge] = "the bridge of network " + n.Name
		}
	}
	for i, ct := range c.d.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		switch err := ValidName(ct.Name); {
		case ct.Name == "":
			c.bad(p+".name", "a container needs a name")
		case err != nil:
			c.bad(p+".name", "a container's %v", err)
		case names[ct.Name] != "":
			c.bad(p+".name", "name %q is taken (%s)", ct.Name, names[ct.Name])
		default:
			names[ct.Name] = "a container"
		}
	}
}

// addresses gives every endpoint its address: static ones first, so that
// the order of the containers cannot make a static address collide. An
// endpoint on a network that is unknown, listed twice or could not be
// made is left out.
func (c *compiler) addresses() {
	c.ctrs = slices.Clone(c.d.Containers)
	var known []string
	for _, n := range c.nets {
		known = append(known, n.Name)
	}
	known = append(known, "none")
	for i := range c.ctrs {
		ct := &c.ctrs[i]
		ct.Publish = slices.Clone(ct.Publish)
		if len(ct.Endpoints) == 0 && ct.Attach == "" { // docker run without --network
			ct.Endpoints = []EndpointConfig{{Network: DefaultNetwork}}
		}
		var eps []EndpointConfig
		seen := map[string]bool{}
		for j, e := range ct.Endpoints {
			p := fmt.Sprintf("containers[%d].networks[%d]", i, j)
			n := c.byName[e.Network]
			switch {
			case c.broken[e.Network]:
				continue // refused where it was defined
			case n == nil:
				c.bad(p, "unknown network %q%s", e.Network, didYouMean(e.Network, known))
				continue
			case seen[e.Network]:
				c.bad(p, "network %q is listed twice", e.Network)
				continue
			case n.Driver == "none" && len(ct.Endpoints) > 1:
				c.bad(p, "a container on the none network has no other network")
				continue
			}
			seen[e.Network] = true
			if e.IP.IsValid() {
				if why := addrProblem(e.IP); why != "" {
					c.bad(p+".ip", "%s", why)
					continue
				}
			}
			for k, a := range e.Aliases {
				if err := ValidDNSName(a); err != nil {
					c.bad(fmt.Sprintf("%s.aliases[%d]", p, k), "alias: %v", err)
				}
			}
			eps = append(eps, e)
		}
		ct.Endpoints = eps
	}
	for _, static := range []bool{true, false} {
		for i := range c.ctrs {
			for j := range c.ctrs[i].Endpoints {
				e := &c.ctrs[i].Endpoints[j]
				n := c.byName[e.Network]
				if n.Driver != "bridge" || e.IP.IsValid() != static {
					continue
				}
				addr, err := c.ipam.RequestAddress(n.Name, e.IP)
				if err != nil {
					c.bad(c.endpointPath(i, e.Network)+".ip", "%v", err)
					continue
				}
				e.Addr = netip.PrefixFrom(addr, n.Subnet.Bits())
			}
		}
	}
}

// endpointPath is the path of container i's endpoint on network (as the
// model lists them: addresses leaves some out).
func (c *compiler) endpointPath(i int, network string) string {
	for j, e := range c.d.Containers[i].Endpoints {
		if e.Network == network {
			return fmt.Sprintf("containers[%d].networks[%d]", i, j)
		}
	}
	return fmt.Sprintf("containers[%d]", i)
}

// bridges lays the LAN, a switch per bridge network and the gateway's legs.
func (c *compiler) bridges() {
	g, dh := c.g, c.dh
	g.Switches = append(g.Switches, Switch{Name: LANSwitch})
	c.gw = Host{Name: dh.Name, Ifaces: []Iface{{Name: "eth0", Addr: dh.Address}}, Router: &Router{LAN: "eth0"}}
	g.Links = append(g.Links, Link{A: Endpoint{LANSwitch, dh.Name}, B: Endpoint{dh.Name, "eth0"}})
	c.d.Networks = nil
	for i := range c.nets {
		n := &c.nets[i]
		if c.byName[n.Name] != n || n.Bridge == "" {
			continue
		}
		if i > 0 {
			c.d.Networks = append(c.d.Networks, *n)
		}
		g.Switches = append(g.Switches, Switch{Name: n.Bridge})
		c.gw.Ifaces = append(c.gw.Ifaces, Iface{Name: n.Bridge, Addr: netip.PrefixFrom(n.Gateway, n.Subnet.Bits()), MAC: dockerMAC(n.Gateway)})
		c.gw.Router.Bridges = append(c.gw.Router.Bridges, RouterBridge{Iface: n.Bridge, Network: n.Name, Internal: n.Internal})
		g.Links = append(g.Links, Link{A: Endpoint{n.Bridge, dh.Name}, B: Endpoint{dh.Name, n.Bridge}})
	}
}

// dockerMAC is the MAC Docker used to derive from an IPv4 address.
func dockerMAC(a netip.Addr) vswitch.MAC {
	b := a.As4()
	return vswitch.MAC{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// portKey is a published host port.
type portKey struct {
	proto string
	port  uint16
}

// containers makes each container a sandbox on its networks' bridges (or
// on the LAN, after the host's address), and publishes its ports.
func (c *compiler) containers() {
	g, router := c.g, c.gw.Router
	next := c.dh.Address.Addr()
	owner := map[netip.Addr]string{next: "the Docker host " + c.dh.Name} // LAN addresses taken, and by whom
	for _, ct := range c.ctrs {
		if a := ct.Address.Addr(); ct.Attach != "" && ct.Address.IsValid() && owner[a] == "" {
			owner[a] = ct.Name
		}
	}
	published := map[portKey]bool{}
	for i := range c.ctrs {
		ct := &c.ctrs[i]
		p := fmt.Sprintf("containers[%d]", i)
		h := Host{Name: ct.Name, ListenTCP: ct.ListenTCP, ListenUDP: ct.ListenUDP}
		switch {
		case ct.Attach != "":
			if ct.Attach != LANSwitch {
				c.bad(p+".attach", "attach %q: only lan (the hosts' LAN) can be attached to", ct.Attach)
				break
			}
			if len(c.d.Containers[i].Endpoints) > 0 || len(ct.Publish) > 0 {
				c.bad(p, "a client attached to the LAN has no networks and publishes nothing")
				break
			}
			addr := ct.Address
			if !addr.IsValid() {
				for next = next.Next(); owner[next] != ""; next = next.Next() {
				}
				if !c.lan.Contains(next) {
					c.bad(p, "no free address left on the LAN %s", c.lan)
					break
				}
				owner[next] = ct.Name
				addr = netip.PrefixFrom(next, c.lan.Bits())
			} else if why := hostPrefixProblem(addr); why != "" {
				c.bad(p+".address", "%s", why)
				break
			} else if addr.Masked() != c.lan {
				c.bad(p+".address", "%s is not on the LAN %s", addr, c.lan)
				break
			} else if o := owner[addr.Addr()]; o != ct.Name {
				c.bad(p+".address", "%s is taken (by %s)", addr.Addr(), o)
				break
			}
			ct.Address = addr
			h.Ifaces = []Iface{{Name: "eth0", Addr: addr}}
			g.Links = append(g.Links, Link{A: Endpoint{LANSwitch, ct.Name}, B: Endpoint{ct.Name, "eth0"}})
		case len(ct.Endpoints) > 0 && ct.Endpoints[0].Network == "none":
			h.Loopback = true
		default:
			for j, e := range ct.Endpoints {
				n := c.byName[e.Network]
				if !e.Addr.IsValid() {
					continue // IPAM refused it
				}
				ifn := fmt.Sprintf("eth%d", j)
				h.Ifaces = append(h.Ifaces, Iface{Name: ifn, Addr: e.Addr, MAC: dockerMAC(e.Addr.Addr())})
				g.Links = append(g.Links, Link{A: Endpoint{n.Bridge, ct.Name}, B: Endpoint{ct.Name, ifn}})
				router.DNS = append(router.DNS, DNSName{Network: n.Name, Container: ct.Name, Addr: e.Addr.Addr(), Aliases: e.Aliases})
				if j == 0 {
					h.Nameserver = n.Gateway
					if !n.Internal {
						h.Gateway = n.Gateway
					}
				}
			}
			if len(h.Ifaces) == 0 {
				h.Loopback = true // its networks were refused: a node for steps to name
			}
		}
		for k, pm := range ct.Publish {
			pp := fmt.Sprintf("%s.publish[%d]", p, k)
			if h.Loopback || len(h.Ifaces) == 0 {
				if len(ct.Endpoints) > 0 && ct.Endpoints[0].Network == "none" {
					c.bad(pp, "only a container on a bridge network can publish a port")
				}
				break
			}
			key := portKey{pm.Proto, pm.HostPort}
			if key.port == 0 { // docker run -p 80: the first free port from 49153
				for key.port = EphemeralFirst; published[key] && key.port < EphemeralLast; key.port++ {
				}
			}
			if published[key] {
				c.bad(pp, "host port %d/%s is already published", key.port, pm.Proto)
				continue
			}
			published[key] = true
			ct.Publish[k].HostPort = key.port
			router.Publish = append(router.Publish, Publish{Proto: pm.Proto,
				Ext: netip.AddrPortFrom(c.dh.Address.Addr(), key.port), To: netip.AddrPortFrom(h.Ifaces[0].Addr.Addr(), pm.ContainerPort)})
		}
		g.Hosts = append(g.Hosts, h)
	}
}
