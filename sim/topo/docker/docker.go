// Package docker is the Docker model (libnetwork's CNM): Docker hosts on
// one LAN, networks made by a driver per network driver, and containers
// with an endpoint per network, compiled into a plan: a topo.Graph of
// switches, sandboxes and one gateway node per Docker host, with a record
// of what was settled (topo.Docker).
//
// A Model is what a user writes and is never changed: Compile returns a
// new graph. Each Docker host has its own view of the address space (an
// ipam.Allocator: every host's default network is 172.17.0.0/16, as on
// real Docker hosts), its own gateway (routes, NAT, published ports) and
// its own DNS, which answers for the containers of that host's networks.
// A network of the model is made on every Docker host by its driver
// (Register); bridge, none and overlay are built in. A container runs on one host
// (Container.Host, the first by default); a client attached to the LAN is
// the world outside, next to the hosts.
//
// With one Docker host the bridges are named as Docker names its Linux
// bridges (docker0, br-NAME); with several, each host's are named after
// it (host2.docker0), as the graph's nodes must be unique.
package docker

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netyard/netyard/internal/registry"
	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// DefaultHostAddress is the Docker host's address when none is given.
var DefaultHostAddress = netip.MustParsePrefix("192.168.56.11/24")

// Model is a Docker scenario as written.
type Model struct {
	Hosts      []Host // none: one, host1 at DefaultHostAddress
	Networks   []Network
	Containers []Container
}

// Host is a Docker host: a name and an address on the LAN.
type Host struct {
	Name    string
	Address netip.Prefix // zero: DefaultHostAddress
	// AllowDirectRouting is dockerd's allow-direct-routing: a LAN client
	// with a route to a bridge's subnet via this host reaches published
	// container ports directly (Docker 28.2+ drops all of it otherwise).
	AllowDirectRouting bool
	DNS                []netip.Addr // its resolvers (resolv.conf's nameservers); none: Docker's fallback, topo.FallbackDNS
	// PortRange is the range its published ports without a host port
	// come from (Linux's ip_local_port_range, which Docker reads); zero:
	// topo.DefaultPortFirst-DefaultPortLast.
	PortRange [2]uint16
}

// Network is a network as docker network create makes it, on every
// Docker host.
type Network struct {
	Name     string
	Driver   string       // bridge (default) or none
	Subnet   netip.Prefix // zero: from IPAM's pools
	Gateway  netip.Addr   // zero: the subnet's first address
	IPRange  netip.Prefix // zero: the subnet
	Internal bool
	Hosts    []string // overlay: the Docker hosts it is on; none: every host
	VNI      uint32   // overlay: its VXLAN network identifier; zero: the next free from 4096
	// DriverOpts are docker network create's -o options in Docker's keys
	// (macvlan: parent, macvlan_mode; ipvlan: parent, ipvlan_mode,
	// ipvlan_flag; bridge: com.docker.network.bridge.enable_icc, ...);
	// each driver reads its own.
	DriverOpts map[string]string
	Aux        map[string]netip.Addr // reserved in IPAM, never handed out (--aux-address)
	Subnets    []netip.Prefix        // subnets after Subnet (an ipvlan l3 network routes between them)
}

// Container is a sandbox on networks, or a client on the LAN.
type Container struct {
	Name      string
	Host      string     // the Docker host it runs on; "": the first
	Endpoints []Endpoint // none: the default network, as docker run; [{Network: none}]: loopback only
	Attach    string     // "lan": a client on the hosts' LAN instead of on networks
	Address   netip.Prefix
	Publish   []topo.PortMapping
	ListenTCP []uint16
	ListenUDP []uint16
	ServeDNS  map[string]netip.Addr // a LAN client's DNS server: names to addresses; nil: none
	// Routes are a LAN client's static routes (attach: lan only).
	Routes []Route
	VLAN   uint16 // with Attach: the LAN switch's port is an access port in this VLAN; 0: VLAN 1
	// PublishFrom is, for each of Publish, the index of the entry it was
	// written as (one -p with ranges is several mappings), for the paths
	// of problems; nil: its own index.
	PublishFrom []int
}

// Route is a LAN client's static route: To via Via, a Docker host's
// name or an address on the LAN.
type Route struct {
	To  netip.Prefix
	Via string
}

// Endpoint is a container's endpoint on a network.
type Endpoint struct {
	Network string
	IP      netip.Addr // zero: from IPAM
	Aliases []string
	// GwPriority is Docker 28's --gw-priority (compose's gw_priority):
	// the endpoint with the highest gives the container its default
	// route; 0 by default.
	GwPriority int
}

// A Driver makes the networks of one network driver on a Docker host
// and attaches containers to them.
type Driver interface {
	// Create settles network n (its name and driver checked) on host h:
	// its address space and bridge. It reports problems with h.Bad at
	// path and returns false when the network cannot be made.
	Create(h *HostPlan, n *topo.Network, path string) bool
	// Lay adds the network's nodes and links to the graph: its switch and
	// the gateway's leg on it.
	Lay(h *HostPlan, n *topo.Network)
	// Attach gives sandbox s, container ct's sandbox, its endpoint e on
	// network n as interface ifname: the address (already settled), the
	// link, the DNS name, and with first the container's routes.
	Attach(h *HostPlan, n *topo.Network, e topo.EndpointConfig, s *topo.Host, ifname string, first bool)
}

var drivers = registry.New[Driver]("docker: driver", map[string]Driver{"bridge": bridgeDriver{}, "none": noneDriver{}, "overlay": overlayDriver{}})

// Register adds a network driver. It panics on a name registered twice.
func Register(name string, d Driver) { drivers.Add(name, d) }

// Drivers returns the registered network drivers, sorted.
func Drivers() []string { return drivers.Names() }

func driver(name string) Driver {
	d, _ := drivers.Get(name)
	return d
}

// HostPlan is one Docker host being compiled: what a Driver works with.
type HostPlan struct {
	Host    topo.DockerHost
	Graph   *topo.Graph
	Gateway *topo.Host // the host's gateway node, once laid
	c       *compiler
	prefix  string // of its bridges' switch names: "" with one host
	nets    []topo.Network
	byName  map[string]*topo.Network // the networks that exist on it, none included
	absent  map[string]bool          // overlays of the model that are not on it
	gw      *topo.Network            // docker_gwbridge, once an overlay container needs it
	needGW  map[string]bool          // the containers that get an endpoint on it
	nic     *topo.Host               // its network card as a node of its own, once a macvlan or ipvlan network needs it
	parents map[string]string        // parent device -> the macvlan or ipvlan network on it
}

// Bad records a problem at a field path of the model.
func (h *HostPlan) Bad(path, format string, a ...any) { h.c.bad(path, format, a...) }

// SwitchName returns the name of the switch of a bridge named bridge on
// this host.
func (h *HostPlan) SwitchName(bridge string) string { return h.prefix + bridge }

// Compile compiles m into a new graph, with the record of what it settled
// in g.Docker. Problems are *topo.Error located by the model's field
// paths (networks[1].subnet, containers[0].networks[0].ip), all of them:
// each stage goes on past what an earlier one refused, leaving out only
// what depends on it. On error, the graph still has a node for every
// container (so that what names them can be checked), but is not fit to
// run. m is not changed.
func Compile(m *Model) (*topo.Graph, error) {
	g := &topo.Graph{}
	c := &compiler{m: m, g: g, broken: map[string]bool{}, global: ipam.New(ipam.GlobalPools()), ovs: map[string]*overlayPlan{}}
	c.hosts()
	for _, h := range c.plans {
		c.networks(h)
	}
	c.names()
	c.addresses()
	for _, h := range c.plans {
		c.bridges(h)
	}
	c.swarm()
	c.containers()
	c.hostOptions()
	c.vlans()
	d := &topo.Docker{Containers: c.ctrs, Warnings: c.warnings}
	for _, h := range c.plans {
		h.Host.Default = h.nets[0]
		d.Hosts = append(d.Hosts, h.Host)
		for i := range h.nets[1:] {
			if n := &h.nets[i+1]; h.byName[n.Name] == n && n.Bridge != "" {
				d.Networks = append(d.Networks, *n)
			}
		}
		if h.gw != nil {
			d.Networks = append(d.Networks, *h.gw)
		}
		g.Hosts = append(g.Hosts, *h.Gateway)
		if h.nic != nil {
			g.Hosts = append(g.Hosts, *h.nic)
		}
	}
	g.Docker = d
	if len(c.errs) > 0 {
		return g, errors.Join(c.errs...)
	}
	return g, nil
}

// compiler carries a Docker model through the stages of Compile; each
// stage reports problems with bad, and skips what an earlier stage could
// not settle (a network IPAM refused, a container's endpoint on it).
type compiler struct {
	m      *Model
	g      *topo.Graph
	errs   []error
	plans  []*HostPlan
	byHost map[string]*HostPlan
	lan    netip.Prefix
	broken map[string]bool  // networks the model has but that could not be made
	ctrs   []topo.Container // the model's, settled
	eps    [][]Endpoint     // each container's endpoints that can be made
	global *ipam.Allocator  // the swarm's address space (overlays)
	ovs    map[string]*overlayPlan
	// warnings are what Docker warns of and goes on (host.go).
	warnings []*topo.Error
}

func (c *compiler) bad(path, format string, a ...any) {
	c.errs = append(c.errs, &topo.Error{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// hosts settles the Docker hosts, each with an IPAM that knows the LAN,
// so that no network overlaps it.
func (c *compiler) hosts() {
	hosts := c.m.Hosts
	if len(hosts) == 0 {
		hosts = []Host{{Name: "host1", Address: DefaultHostAddress}}
	}
	c.byHost = map[string]*HostPlan{}
	for i, mh := range hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		dh := topo.DockerHost{Name: mh.Name, Address: cmp.Or(mh.Address, DefaultHostAddress), IPAM: ipam.New(nil), Ports: c.portRange(p, mh.PortRange)}
		dh.DNS = slices.Clone(mh.DNS)
		if err := topo.ValidName(dh.Name); err != nil {
			c.bad(p+".name", "a Docker host's %v", err)
		} else if c.byHost[dh.Name] != nil {
			c.bad(p+".name", "duplicate Docker host %q", dh.Name)
			continue
		}
		if why := topo.HostPrefixProblem(dh.Address); why != "" {
			c.bad(p+".address", "%s", why)
			dh.Address = DefaultHostAddress
		}
		if i == 0 {
			c.lan = dh.Address.Masked()
		} else if dh.Address.Masked() != c.lan {
			c.bad(p+".address", "%s is not on the LAN %s of %s: Docker hosts share one LAN", dh.Address, c.lan, c.plans[0].Host.Name)
			dh.Address = netip.PrefixFrom(c.lan.Addr(), c.lan.Bits()) // for what follows; the run is refused
		}
		for _, o := range c.plans {
			if o.Host.Address.Addr() == dh.Address.Addr() {
				c.bad(p+".address", "%s is taken (by the Docker host %s)", dh.Address.Addr(), o.Host.Name)
			}
		}
		if _, err := dh.IPAM.RequestNetwork(ipam.Request{Name: "lan", Subnet: c.lan, Gateway: dh.Address.Addr()}); err != nil && dh.Address.Masked() == c.lan && dh.Address.Addr() != c.lan.Addr() {
			c.bad(p+".address", "%v", err)
		}
		h := &HostPlan{Host: dh, Graph: c.g, c: c, byName: map[string]*topo.Network{}, absent: map[string]bool{}, needGW: map[string]bool{}}
		c.plans = append(c.plans, h)
		c.byHost[dh.Name] = h
	}
	if len(c.plans) > 1 {
		for _, h := range c.plans {
			h.prefix = h.Host.Name + "."
		}
	}
}

// Docker's predefined networks: a model may not make them again.
var predefined = map[string]string{
	topo.DefaultNetwork: "Docker's default network",
	"host":              "Docker's network of the host's own stack",
	"none":              "Docker's network without interfaces",
}

// networks makes the default network, then the model's in order, on h.
// Problems are reported once, for the first host.
func (c *compiler) networks(h *HostPlan) {
	first := h == c.plans[0]
	bad := func(path, format string, a ...any) {
		if first {
			c.bad(path, format, a...)
		}
	}
	h.nets = []topo.Network{{Name: topo.DefaultNetwork, Driver: "bridge", Host: h.Host.Name}}
	for _, n := range c.m.Networks {
		h.nets = append(h.nets, topo.Network{Name: n.Name, Host: h.Host.Name, Driver: cmp.Or(n.Driver, "bridge"), Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange, Internal: n.Internal, VNI: n.VNI, Hosts: n.Hosts,
			DriverOpts: n.DriverOpts, Aux: n.Aux, Subnets: n.Subnets})
	}
	for i := range h.nets {
		n := &h.nets[i]
		p := fmt.Sprintf("networks[%d]", i-1)
		// Docker takes a network name of any length and bytes; it refuses a
		// blank one, a predefined one and one that exists (moby's
		// libnetwork controller.NewNetwork and daemon.createNetwork), in
		// these words. The bridge's device name is derived (BridgeName).
		switch {
		case strings.TrimSpace(n.Name) == "":
			bad(p+".name", "invalid name: name is empty")
			continue
		case h.byName[n.Name] != nil || c.broken[n.Name]:
			bad(p+".name", "network with name %s already exists", n.Name)
			continue
		case i > 0 && n.Name == "none" && n.Driver == "none":
			continue // docker network create -d none none: it exists already
		case i > 0 && predefined[n.Name] != "":
			bad(p+".name", "operation is not permitted on predefined %s network (%s)", n.Name, predefined[n.Name])
			continue
		}
		d := driver(n.Driver)
		if d == nil {
			bad(p+".driver", "driver %q is not supported yet (%s)%s", n.Driver, strings.Join(Drivers(), ", "), topo.DidYouMean(n.Driver, Drivers()))
			c.broken[n.Name] = true
			continue
		}
		if n.Driver == "overlay" && len(n.Hosts) > 0 && !slices.Contains(n.Hosts, h.Host.Name) {
			h.absent[n.Name] = true
			if c.ovs[n.Name] == nil {
				d.Create(h, n, p) // checks it once, wherever it is
			}
			continue
		}
		if !d.Create(h, n, p) {
			c.broken[n.Name] = true
			continue
		}
		h.byName[n.Name] = n
	}
	h.byName["none"] = &topo.Network{Name: "none", Driver: "none", Host: h.Host.Name}
	h.byName[topo.HostNetwork] = &topo.Network{Name: topo.HostNetwork, Driver: "host", Host: h.Host.Name}
}

// names checks the containers' names and hosts: they share the node
// namespace with the hosts and the switches.
func (c *compiler) names() {
	names := map[string]string{topo.LANSwitch: "the LAN switch"}
	for _, h := range c.plans {
		names[h.Host.Name] = "the Docker host"
		for i := range h.nets {
			if n := &h.nets[i]; n.Bridge != "" && h.byName[n.Name] == n {
				names[h.SwitchName(n.Bridge)] = "the bridge of network " + n.Name
			}
		}
	}
	var hosts []string
	for _, h := range c.plans {
		hosts = append(hosts, h.Host.Name)
	}
	for i, ct := range c.m.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		switch err := topo.ValidName(ct.Name); {
		case ct.Name == "":
			c.bad(p+".name", "a container needs a name")
		case err != nil:
			c.bad(p+".name", "a container's %v", err)
		case names[ct.Name] != "":
			c.bad(p+".name", "name %q is taken (%s)", ct.Name, names[ct.Name])
		default:
			names[ct.Name] = "a container"
		}
		switch {
		case ct.Host != "" && ct.Attach != "":
			c.bad(p+".host", "a client attached to the LAN runs on no Docker host")
		case ct.Host != "" && c.byHost[ct.Host] == nil:
			c.bad(p+".host", "unknown Docker host %q%s", ct.Host, topo.DidYouMean(ct.Host, hosts))
		}
	}
}

// hostOf returns the plan of the Docker host container i runs on.
func (c *compiler) hostOf(i int) *HostPlan {
	if h := c.byHost[c.m.Containers[i].Host]; h != nil {
		return h
	}
	return c.plans[0]
}

// addresses gives every endpoint its address: static ones first, so that
// the order of the containers cannot make a static address collide. An
// endpoint on a network that is unknown, listed twice or could not be
// made is left out.
func (c *compiler) addresses() {
	c.ctrs = make([]topo.Container, len(c.m.Containers))
	c.eps = make([][]Endpoint, len(c.m.Containers))
	for i, mc := range c.m.Containers {
		h := c.hostOf(i)
		ct := &c.ctrs[i]
		*ct = topo.Container{Name: mc.Name, Attach: mc.Attach, Address: mc.Address, Publish: slices.Clone(mc.Publish), ListenTCP: mc.ListenTCP, ListenUDP: mc.ListenUDP}
		if mc.Attach == "" {
			ct.Host = h.Host.Name
		}
		var known []string
		for _, n := range h.nets {
			known = append(known, n.Name)
		}
		known = append(known, "none", topo.HostNetwork)
		eps := mc.Endpoints
		if len(eps) == 0 && mc.Attach == "" { // docker run without --network
			eps = []Endpoint{{Network: topo.DefaultNetwork}}
		}
		seen := map[string]bool{}
		for j, e := range eps {
			p := fmt.Sprintf("containers[%d].networks[%d]", i, j)
			n := h.byName[e.Network]
			switch {
			case c.broken[e.Network]:
				continue // refused where it was defined
			case n == nil && h.absent[e.Network]:
				c.bad(p, "the overlay %q is not on %s (its hosts: %s)", e.Network, h.Host.Name, strings.Join(c.ovs[e.Network].hosts, ", "))
				continue
			case n == nil:
				c.bad(p, "unknown network %q%s", e.Network, topo.DidYouMean(e.Network, known))
				continue
			case seen[e.Network]:
				c.bad(p, "network %q is listed twice", e.Network)
				continue
			case j > 0 && (n.Driver == "host" || eps[0].Network == topo.HostNetwork):
				c.bad(p, "%s", hostConflict(n.Driver == "host"))
				continue
			case n.Driver == "none" && len(eps) > 1:
				c.bad(p, "a container on the none network has no other network")
				continue
			}
			seen[e.Network] = true
			if e.IP.IsValid() {
				if why := topo.AddrProblem(e.IP); why != "" {
					c.bad(p+".ip", "%s", why)
					continue
				}
				if why := c.staticRefused(n); why != "" {
					c.bad(p+".ip", "%s", why)
					continue
				}
			}
			for k, a := range e.Aliases {
				if err := topo.ValidDNSName(a); err != nil {
					c.bad(fmt.Sprintf("%s.aliases[%d]", p, k), "alias: %v", err)
				}
			}
			c.eps[i] = append(c.eps[i], e)
			ct.Endpoints = append(ct.Endpoints, topo.EndpointConfig{Network: e.Network, Aliases: e.Aliases, GwPriority: e.GwPriority, Static: e.IP.IsValid()})
		}
	}
	// In container order, as Docker starts them: a static address an
	// earlier container took dynamically fails the later container, as
	// it does on Docker, rather than moving the dynamic one.
	for i := range c.ctrs {
		h := c.hostOf(i)
		for j, e := range c.eps[i] {
			n := h.byName[e.Network]
			if !n.Subnet.IsValid() {
				continue
			}
			alloc := h.Host.IPAM
			if n.Scope == topo.ScopeSwarm {
				alloc = c.global
			}
			addr, err := alloc.RequestAddress(ipamName(n, e.IP), e.IP)
			if err != nil {
				c.bad(c.endpointPath(i, e.Network)+".ip", "%s", c.addressRefused(i, n, e.IP, err))
				continue
			}
			c.ctrs[i].Endpoints[j].Addr = netip.PrefixFrom(addr, subnetOf(n, addr).Bits())
		}
	}
}

// endpointPath is the path of container i's endpoint on network (as the
// model lists them: addresses leaves some out).
func (c *compiler) endpointPath(i int, network string) string {
	for j, e := range c.m.Containers[i].Endpoints {
		if e.Network == network {
			return fmt.Sprintf("containers[%d].networks[%d]", i, j)
		}
	}
	return fmt.Sprintf("containers[%d]", i)
}

// bridges lays the LAN (once), host h's gateway on it, and each of h's
// networks.
func (c *compiler) bridges(h *HostPlan) {
	g, dh := c.g, h.Host
	if h == c.plans[0] {
		g.Switches = append(g.Switches, topo.Switch{Name: topo.LANSwitch})
	}
	h.Gateway = &topo.Host{Name: dh.Name, Ifaces: []topo.Iface{{Name: "eth0", Addr: dh.Address}}, Router: &topo.Router{LAN: "eth0"}}
	// The host's own resolv.conf: what steps from it (and from its host
	// network's containers) ask.
	h.Gateway.Nameserver = dh.Resolvers()[0]
	g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: topo.LANSwitch, Port: dh.Name}, B: topo.Endpoint{Node: dh.Name, Port: "eth0"}})
	for i := range h.nets {
		if n := &h.nets[i]; h.byName[n.Name] == n {
			driver(n.Driver).Lay(h, n)
		}
	}
}

// MAC returns the MAC Docker used to derive from an IPv4 address (02:42
// and the address).
func MAC(a netip.Addr) vswitch.MAC {
	b := a.As4()
	return vswitch.MAC{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// containers makes each container a sandbox on its networks (or on the
// LAN, after the first host's address), and publishes its ports on its
// host.
func (c *compiler) containers() {
	g := c.g
	next := c.plans[0].Host.Address.Addr()
	owner := map[netip.Addr]string{} // LAN addresses taken, and by whom
	for _, h := range c.plans {
		owner[h.Host.Address.Addr()] = "the Docker host " + h.Host.Name
	}
	for _, ct := range c.ctrs {
		if a := ct.Address.Addr(); ct.Attach != "" && ct.Address.IsValid() && owner[a] == "" {
			owner[a] = ct.Name
		}
	}
	c.lanChildren(owner)
	for i := range c.ctrs {
		ct := &c.ctrs[i]
		h := c.hostOf(i)
		p := fmt.Sprintf("containers[%d]", i)
		s := topo.Host{Name: ct.Name, ListenTCP: ct.ListenTCP, ListenUDP: ct.ListenUDP}
		switch {
		case ct.Attach != "":
			if ct.Attach != topo.LANSwitch {
				c.bad(p+".attach", "attach %q: only lan (the hosts' LAN) can be attached to", ct.Attach)
				break
			}
			if len(c.m.Containers[i].Endpoints) > 0 || len(ct.Publish) > 0 {
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
			} else if why := topo.HostPrefixProblem(addr); why != "" {
				c.bad(p+".address", "%s", why)
				break
			} else if addr.Masked() != c.lan && c.m.Containers[i].VLAN == 0 {
				c.bad(p+".address", "%s is not on the LAN %s", addr, c.lan)
				break
			} else if o := owner[addr.Addr()]; o != ct.Name {
				c.bad(p+".address", "%s is taken (by %s)", addr.Addr(), o)
				break
			}
			ct.Address = addr
			s.Ifaces = []topo.Iface{{Name: "eth0", Addr: addr}}
			s.ServeDNS = c.m.Containers[i].ServeDNS
			g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: topo.LANSwitch, Port: ct.Name}, B: topo.Endpoint{Node: ct.Name, Port: "eth0"}})
		case ct.OnHostNetwork():
			c.hostNetwork(h, i)
			continue
		default:
			// Interfaces are named in the order the networks are listed
			// (docker run's, then docker network connect's: eth0, eth1,
			// ...); the routes come from the endpoint Docker orders first.
			gw := primary(h, ct.Endpoints)
			for j, e := range ct.Endpoints {
				n := h.byName[e.Network]
				if n.Subnet.IsValid() && !e.Addr.IsValid() {
					continue // IPAM refused it
				}
				driver(n.Driver).Attach(h, n, e, &s, fmt.Sprintf("eth%d", j), j == gw)
			}
			if h.needGW[s.Name] {
				c.gwbridge(h, &s, fmt.Sprintf("eth%d", len(ct.Endpoints)), p)
			}
			if len(s.Ifaces) == 0 {
				s.Loopback = true // on none, or its networks were refused: a node for steps to name
			}
		}
		c.publish(h, i, &s)
		g.Hosts = append(g.Hosts, s)
	}
}
