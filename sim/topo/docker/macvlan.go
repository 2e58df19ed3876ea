package docker

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Docker's macvlan and ipvlan drivers (moby daemon/libnetwork/drivers/
// macvlan and ipvlan). A host with such a network gets its network card
// as a node of its own (topo.NICKind, forwarded by switch/macvlan),
// named as the card (eth0, or host2.eth0 with several hosts), between
// the LAN switch and the gateway's eth0: the LAN cable ends at the card's
// wire port, the gateway's eth0 at its host port, and each child (a
// container's interface on such a network) at a port of its own. A host
// without such networks keeps its plan exactly as before.
//
// The children's subnets may be the LAN's own (their IPAM network shares
// the LAN's subnet, which keeps bridges off it), and an address IPAM
// hands out that the LAN's hosts or clients have is refused: ip_range or
// aux_addresses keep IPAM off it.

func init() {
	Register("macvlan", vlanDriver{})
	Register("ipvlan", vlanDriver{ipvlan: true})
}

// vlanDriver is the macvlan driver, or with ipvlan the ipvlan driver.
type vlanDriver struct{ ipvlan bool }

func (d vlanDriver) name() string {
	if d.ipvlan {
		return "ipvlan"
	}
	return "macvlan"
}

// NICMAC is the MAC netyard gives a Docker host's card when the card is
// a node of its own (the host has macvlan or ipvlan networks): 02:00 and
// the host's address. The host's eth0 has it, and so do ipvlan children.
func NICMAC(a netip.Addr) vswitch.MAC {
	b := a.As4()
	return vswitch.MAC{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

// The options each driver takes (moby's parentOpt, driverModeOpt,
// driverFlagOpt).
var vlanOpts = map[bool][]string{false: {"parent", "macvlan_mode"}, true: {"parent", "ipvlan_flag", "ipvlan_mode"}}

func (d vlanDriver) Create(h *HostPlan, n *topo.Network, p string) bool {
	first := h == h.c.plans[0]
	ok := true
	bad := func(path, format string, a ...any) {
		ok = false
		if first {
			h.Bad(path, format, a...)
		}
	}
	opts := maps.Clone(n.DriverOpts)
	if opts == nil {
		opts = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if !slices.Contains(vlanOpts[d.ipvlan], k) {
			bad(p+".driver_opts."+k, "the %s driver has no option %q (it takes %s)%s", d.name(), k, strings.Join(vlanOpts[d.ipvlan], ", "), topo.DidYouMean(k, vlanOpts[d.ipvlan]))
		}
	}
	if d.ipvlan {
		switch opts["ipvlan_mode"] {
		case "":
			opts["ipvlan_mode"] = "l2"
		case "l2", "l3":
		case "l3s":
			bad(p+".driver_opts.ipvlan_mode", "ipvlan mode l3s is Docker's (l3 with netfilter on the host), but netyard models l2 and l3 only")
		default:
			bad(p+".driver_opts.ipvlan_mode", "requested ipvlan mode '%s' is not valid, 'l2' mode is the ipvlan driver default", opts["ipvlan_mode"])
		}
		switch opts["ipvlan_flag"] {
		case "":
			opts["ipvlan_flag"] = "bridge"
		case "bridge", "private", "vepa":
		default:
			bad(p+".driver_opts.ipvlan_flag", "requested ipvlan flag '%s' is not valid, 'bridge' is the ipvlan driver default", opts["ipvlan_flag"])
		}
	} else {
		switch opts["macvlan_mode"] {
		case "":
			opts["macvlan_mode"] = "bridge"
		case "bridge", "private", "vepa", "passthru":
		default:
			bad(p+".driver_opts.macvlan_mode", "requested macvlan mode '%s' is not valid, 'bridge' mode is the macvlan driver default", opts["macvlan_mode"])
		}
	}
	parent, pp := opts["parent"], p+".driver_opts.parent"
	switch {
	case parent == "":
		// Docker makes a dummy link (dm-ID, di-ID for ipvlan) and the
		// network internal: its containers reach each other only.
		parent = map[bool]string{false: "dm-", true: "di-"}[d.ipvlan] + n.Name
		parent = parent[:min(len(parent), topo.MaxIfaceNameLen)]
		n.Internal = true
	case parent == "lo":
		bad(pp, "loopback interface is not a valid %s parent link", d.name())
	case parent == "eth0":
	case strings.Contains(parent, "."):
		if _, why := parseVLAN(parent); why != "" {
			bad(pp, "%s", why)
		}
	default:
		bad(pp, "invalid subinterface vlan name %s, example formatting is eth0.10 (the Docker host %s has eth0 only)", parent, h.Host.Name)
	}
	if h.parents == nil {
		h.parents = map[string]string{}
	}
	if other := h.parents[parent]; other != "" && ok {
		// Docker 20.10's words (moby's createNetwork before v27, and the
		// ipvlan driver's still): one network per parent.
		bad(pp, "network %s is already using parent interface %s", other, parent)
	}
	if len(n.Subnets) > 0 && (!d.ipvlan || opts["ipvlan_mode"] != "l3") {
		bad(p+".subnets", "several subnets are modelled for ipvlan l3 only, where the parent routes between them: give one subnet")
	}
	for i, s := range append([]netip.Prefix{n.Subnet}, n.Subnets...) {
		field := p + ".subnet"
		if i > 0 {
			field = fmt.Sprintf("%s.subnets[%d]", p, i-1)
		}
		if s.IsValid() {
			if why := topo.SubnetProblem(s); why != "" {
				bad(field, "%s", why)
			}
		}
	}
	if n.Gateway.IsValid() {
		if why := topo.AddrProblem(n.Gateway); why != "" {
			bad(p+".gateway", "%s", why)
		}
	}
	if !ok {
		return false
	}
	share := []string{"lan"} // the LAN's own subnet is a macvlan network's usual one
	alloc, err := h.Host.IPAM.RequestNetwork(ipam.Request{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange, Aux: n.Aux, Share: share})
	if err != nil {
		bad(p, "%v", err)
		return false
	}
	n.Subnet, n.Gateway, n.IPRange = alloc.Subnet, alloc.Gateway, alloc.IPRange
	for i, s := range n.Subnets {
		if _, err := h.Host.IPAM.RequestNetwork(ipam.Request{Name: ipamSub(n.Name, i), Subnet: s, Share: share}); err != nil {
			bad(fmt.Sprintf("%s.subnets[%d]", p, i), "%v", err)
			return false
		}
	}
	opts["parent"] = parent
	n.DriverOpts = opts
	n.Bridge = parent
	h.parents[parent] = n.Name
	return true
}

// parseVLAN reads a sub-interface's name, eth0.10, as moby's parseVlan
// and createVlanLink do, with their words for what is wrong.
func parseVLAN(parent string) (uint16, string) {
	parts := strings.Split(parent, ".")
	if len(parts) != 2 {
		return 0, fmt.Sprintf("required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received %s", parent)
	}
	vid, err := strconv.Atoi(parts[1])
	switch {
	case err != nil:
		return 0, fmt.Sprintf("unable to parse a valid vlan id from: %s (ex. eth0.10 for vlan 10)", parts[1])
	case parts[0] != "eth0":
		return 0, fmt.Sprintf("-o parent interface was not found on the host: %s", parts[0])
	case vid < 1 || vid > 4094:
		return 0, fmt.Sprintf("vlan id must be between 1-4094, received: %d", vid)
	}
	return uint16(vid), ""
}

// ipamSub names the IPAM network of a network's subnet after its first
// (i counts from 0 in Network.Subnets): NAME#2, NAME#3.
func ipamSub(name string, i int) string { return fmt.Sprintf("%s#%d", name, i+2) }

// ipamName is the IPAM network an endpoint's address on n comes from:
// n's own, or that of its extra subnet holding the static address ip.
func ipamName(n *topo.Network, ip netip.Addr) string {
	for i, s := range n.Subnets {
		if ip.IsValid() && s.Contains(ip) {
			return ipamSub(n.Name, i)
		}
	}
	return n.Name
}

// subnetOf is the subnet of n holding a.
func subnetOf(n *topo.Network, a netip.Addr) netip.Prefix {
	for _, s := range n.Subnets {
		if s.Contains(a) {
			return s
		}
	}
	return n.Subnet
}

// card returns host h's network card as a node, making it the first
// time: the LAN cable moves from the gateway's eth0 to the card's wire
// port, and the gateway's eth0 is linked to the card's host port and
// takes the card's MAC.
func (h *HostPlan) card() *topo.NIC {
	if h.nic != nil {
		return h.nic.Spec.(*topo.NIC)
	}
	g, name := h.Graph, h.SwitchName("eth0")
	spec := &topo.NIC{MAC: NICMAC(h.Host.Address.Addr()), Host: h.Host.Name, HostAddr: h.Host.Address.Addr()}
	h.nic = &topo.Host{Name: name, Kind: topo.NICKind, Spec: spec, Ifaces: []topo.Iface{{Name: topo.NICWire}, {Name: topo.NICHost}}}
	h.Gateway.Ifaces[0].MAC = spec.MAC
	if i := g.LinkOf(topo.Endpoint{Node: topo.LANSwitch, Port: h.Host.Name}); i >= 0 {
		g.Links[i].B = topo.Endpoint{Node: name, Port: topo.NICWire}
	}
	g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: name, Port: topo.NICHost}, B: topo.Endpoint{Node: h.Host.Name, Port: h.Gateway.Router.LAN}})
	return spec
}

func (d vlanDriver) Lay(h *HostPlan, n *topo.Network) {
	h.card()
	vid, why := parseVLAN(n.DriverOpts["parent"])
	if why != "" {
		return
	}
	// The LAN switch's port to the host becomes a trunk: untagged for the
	// host's own traffic (VLAN 1), tagged for each sub-interface's.
	lan := h.Graph.Switch(topo.LANSwitch)
	var port *topo.Port
	for i := range lan.Ports {
		if lan.Ports[i].Name == h.Host.Name {
			port = &lan.Ports[i]
		}
	}
	if port == nil {
		lan.Ports = append(lan.Ports, topo.Port{Name: h.Host.Name, Mode: vswitch.Trunk, Native: vswitch.DefaultVLAN})
		port = &lan.Ports[len(lan.Ports)-1]
	}
	if !slices.Contains(port.Allowed, vid) {
		port.Allowed = append(port.Allowed, vid)
	}
}

func (d vlanDriver) Attach(h *HostPlan, n *topo.Network, e topo.EndpointConfig, s *topo.Host, ifname string, first bool) {
	card := h.card()
	parent := n.DriverOpts["parent"]
	vid, _ := parseVLAN(parent)
	ch := topo.NICChild{Container: s.Name, Network: n.Name, Parent: parent, VLAN: vid, Dummy: parent != "eth0" && vid == 0,
		Driver: d.name(), Mode: n.DriverOpts["macvlan_mode"], Addr: e.Addr, MAC: MAC(e.Addr.Addr())}
	if d.ipvlan {
		ch.Mode, ch.Flag, ch.MAC = n.DriverOpts["ipvlan_mode"], n.DriverOpts["ipvlan_flag"], card.MAC
	}
	l3 := d.ipvlan && ch.Mode == "l3"
	ch.Port = s.Name
	if len(ch.Port) > topo.MaxIfaceNameLen || h.nic.Iface(ch.Port) != nil {
		ch.Port = fmt.Sprintf("c%d", len(card.Children))
	}
	s.Ifaces = append(s.Ifaces, topo.Iface{Name: ifname, Addr: e.Addr, MAC: ch.MAC, NoARP: l3})
	h.nic.Ifaces = append(h.nic.Ifaces, topo.Iface{Name: ch.Port})
	card.Children = append(card.Children, ch)
	h.Graph.Links = append(h.Graph.Links, topo.Link{A: topo.Endpoint{Node: h.nic.Name, Port: ch.Port}, B: topo.Endpoint{Node: s.Name, Port: ifname}})
	// Docker's embedded DNS serves every user-defined network, these too,
	// at 127.0.0.11 in the container's own sandbox: no gateway leg is on
	// these networks, and none is needed.
	h.Gateway.Router.DNS = append(h.Gateway.Router.DNS, topo.DNSName{Network: n.Name, Container: s.Name, Addr: e.Addr.Addr(), Aliases: e.Aliases})
	if first {
		h.nameserver(n, s)
		switch {
		case l3:
			s.DefaultDev = ifname // Docker's ipvlan l3: "default dev eth0", no gateway
		case !n.Internal:
			s.Gateway = n.Gateway
		}
	}
}

// lanChildren marks the addresses of macvlan and ipvlan children on the
// LAN's own subnet as taken there, and refuses one that a Docker host or
// a LAN client with a static address has: IPAM knows nothing of the LAN.
// It refuses a second container on a passthru network too.
func (c *compiler) lanChildren(owner map[netip.Addr]string) {
	passthru := map[*topo.Network]string{} // the one container of each passthru network
	for i := range c.ctrs {
		h := c.hostOf(i)
		for _, e := range c.ctrs[i].Endpoints {
			n := h.byName[e.Network]
			if n != nil && n.Driver == "macvlan" && n.DriverOpts["macvlan_mode"] == "passthru" {
				if o := passthru[n]; o != "" {
					c.bad(c.endpointPath(i, e.Network), "the macvlan network %s is in passthru mode: its parent %s is %s's alone (Linux takes one macvlan on a passthru parent)", n.Name, n.DriverOpts["parent"], o)
					continue
				}
				passthru[n] = c.ctrs[i].Name
			}
			if n == nil || !e.Addr.IsValid() || (n.Driver != "macvlan" && n.Driver != "ipvlan") || n.DriverOpts["parent"] != "eth0" || !c.lan.Contains(e.Addr.Addr()) {
				continue
			}
			a := e.Addr.Addr()
			if o := owner[a]; o != "" && o != c.ctrs[i].Name {
				c.bad(c.endpointPath(i, e.Network), "%s, from network %s, is taken on the LAN (by %s): keep IPAM off it with ip_range, or reserve it with aux_addresses", a, n.Name, o)
				continue
			}
			owner[a] = c.ctrs[i].Name
		}
	}
}

// vlans puts the LAN's clients with a VLAN on access ports of it.
func (c *compiler) vlans() {
	for i, mc := range c.m.Containers {
		if mc.VLAN == 0 {
			continue
		}
		p := fmt.Sprintf("containers[%d]", i)
		switch {
		case mc.Attach == "":
			c.bad(p+".vlan", "vlan is for a client attached to the LAN (attach: lan): it names the VLAN of its switch port")
			continue
		case mc.VLAN > 4094:
			c.bad(p+".vlan", "VLAN %d out of range 1-4094", mc.VLAN)
			continue
		case !mc.Address.IsValid():
			c.bad(p+".address", "a client in VLAN %d needs its address (on the subnet of the network on eth0.%d)", mc.VLAN, mc.VLAN)
		}
		if lan := c.g.Switch(topo.LANSwitch); lan != nil {
			lan.Ports = append(lan.Ports, topo.Port{Name: mc.Name, VLAN: mc.VLAN})
		}
	}
}

// vlanPublish says why container ct, whose first network is a macvlan or
// ipvlan one, publishes nothing, or returns "".
func vlanPublish(h *HostPlan, ct *topo.Container) string {
	if len(ct.Endpoints) == 0 {
		return ""
	}
	n := h.byName[ct.Endpoints[0].Network]
	if n == nil || n.Driver != "macvlan" && n.Driver != "ipvlan" {
		return ""
	}
	return fmt.Sprintf("a container on the %s network %s has its own address on the LAN, reachable directly: Docker maps ports on bridge networks only (docker run -p does nothing here)", n.Driver, n.Name)
}
