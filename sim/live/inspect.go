package live

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Inspection is everything a world shows (docs/live/api.md, Inspect):
// networks and containers in Docker's own words (the keys docker network
// inspect and docker inspect print), the rest in netyard's. Every list is
// sorted, so that a mem world's inspection is the same every run.
type Inspection struct {
	Networks   []Network   `json:"networks"`
	Containers []Container `json:"containers"`
	Switches   []Switch    `json:"switches"`
	Gateways   []Gateway   `json:"gateways"`
	Hosts      []Host      `json:"hosts"`
	Links      []Link      `json:"links"`
}

// Network is a Docker network as docker network inspect prints it, with
// the Docker host it is on and its bridge (the switch's name in the
// world).
type Network struct {
	Name       string                     `json:"Name"`
	ID         string                     `json:"Id"` // fabric.ID: the same every run
	Scope      string                     `json:"Scope"`
	Driver     string                     `json:"Driver"`
	EnableIPv6 bool                       `json:"EnableIPv6"`
	IPAM       IPAM                       `json:"IPAM"`
	Internal   bool                       `json:"Internal"`
	Attachable bool                       `json:"Attachable"`
	Ingress    bool                       `json:"Ingress"`
	Containers map[string]NetworkEndpoint `json:"Containers"` // by container ID: the running ones
	Options    map[string]string          `json:"Options"`
	Labels     map[string]string          `json:"Labels"`
	Host       string                     `json:"Host"`
	Bridge     string                     `json:"Bridge"` // its switch; "" for a driver with none
}

// IPAM is a network's IPAM section.
type IPAM struct {
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	Config  []IPAMConfig      `json:"Config"`
}

// IPAMConfig is one subnet of a network.
type IPAMConfig struct {
	Subnet             string            `json:"Subnet"`
	IPRange            string            `json:"IPRange,omitempty"`
	Gateway            string            `json:"Gateway,omitempty"`
	AuxiliaryAddresses map[string]string `json:"AuxiliaryAddresses,omitempty"`
}

// NetworkEndpoint is a running container's endpoint on a network, as
// docker network inspect lists it under Containers.
type NetworkEndpoint struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"` // with the subnet's length: 172.18.0.2/16
	IPv6Address string `json:"IPv6Address"`
}

// Container is a Docker container as docker inspect prints the parts a
// network shows: its state and NetworkSettings' Networks and Ports.
type Container struct {
	ID       string                       `json:"Id"`
	Name     string                       `json:"Name"`
	Host     string                       `json:"Host"`
	State    string                       `json:"State"` // running or exited
	Networks map[string]ContainerEndpoint `json:"Networks"`
	Ports    map[string][]PortBinding     `json:"Ports"` // "80/tcp": the host ports it is published on, while it runs
}

// ContainerEndpoint is a container's endpoint on one network, as docker
// inspect prints it in NetworkSettings.Networks: no address while the
// container is stopped.
type ContainerEndpoint struct {
	Aliases             []string `json:"Aliases"`
	NetworkID           string   `json:"NetworkID"`
	EndpointID          string   `json:"EndpointID"`
	Gateway             string   `json:"Gateway"`
	IPAddress           string   `json:"IPAddress"`
	IPPrefixLen         int      `json:"IPPrefixLen"`
	IPv6Gateway         string   `json:"IPv6Gateway"`
	GlobalIPv6Address   string   `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int      `json:"GlobalIPv6PrefixLen"`
	MacAddress          string   `json:"MacAddress"`
}

// PortBinding is one host port a container port is published on.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// Switch is a switch's tables: its FDB as bridge fdb lists it, its
// spanning tree, its ports' counters.
type Switch struct {
	Name       string     `json:"name"`
	Network    string     `json:"network,omitempty"` // the Docker network it is the bridge of
	AgeingTime float64    `json:"ageing_time"`       // seconds
	FDB        []FDBEntry `json:"fdb"`
	STP        STP        `json:"stp"`
	Ports      []Port     `json:"ports"`
}

// FDBEntry is one learned address.
type FDBEntry struct {
	MAC    string  `json:"mac"`
	VLAN   uint16  `json:"vlan"`
	Port   string  `json:"port"`
	Age    float64 `json:"age"` // seconds since it was last seen
	Static bool    `json:"static"`
	Host   string  `json:"host,omitempty"` // who has the MAC, where the world knows
}

// STP is a switch's spanning tree, as bridge -d link and mstpctl show it.
type STP struct {
	Enabled        bool      `json:"enabled"`
	Bridge         string    `json:"bridge"` // 8000.020000000001
	Root           string    `json:"root"`
	RootPort       string    `json:"root_port"` // "" on the root
	Cost           uint32    `json:"cost"`      // to the root
	TopologyChange bool      `json:"topology_change"`
	Ports          []STPPort `json:"ports"`
}

// STPPort is one port's role and state.
type STPPort struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
	Cost  uint32 `json:"cost"`
	Edge  bool   `json:"edge"`
}

// Port is a switch port's configuration and counters.
type Port struct {
	Name    string            `json:"name"`
	Up      bool              `json:"up"` // administratively up, and its link's carrier
	Mode    string            `json:"mode"`
	VLAN    uint16            `json:"vlan,omitempty"` // access: its VLAN; trunk: its native one
	Allowed []uint16          `json:"allowed,omitempty"`
	Rx      uint64            `json:"rx"`
	Tx      uint64            `json:"tx"`
	RxBytes uint64            `json:"rx_bytes"`
	TxBytes uint64            `json:"tx_bytes"`
	Drops   map[string]uint64 `json:"drops"` // by reason
}

// Gateway is a Docker host's router: conntrack, published ports, the
// daemon's DNS records and its IPAM.
type Gateway struct {
	Name      string            `json:"name"`
	Address   string            `json:"address,omitempty"` // on the LAN
	NAT       []Flow            `json:"nat"`
	Published []Published       `json:"published"`
	DNS       []DNSRecord       `json:"dns"`
	IPAM      []IPAMAlloc       `json:"ipam"`
	ARP       []Neighbour       `json:"arp"` // its neighbour table, as ip neigh lists it
	Forwarded uint64            `json:"forwarded"`
	Drops     map[string]uint64 `json:"drops"` // by reason
}

// Flow is a tracked connection, as conntrack -L lists it.
type Flow struct {
	Kind     string  `json:"kind"` // masquerade, published, hairpin...
	Proto    string  `json:"proto"`
	OrigSrc  string  `json:"orig_src"`
	OrigDst  string  `json:"orig_dst"`
	ReplySrc string  `json:"reply_src"`
	ReplyDst string  `json:"reply_dst"`
	State    string  `json:"state"`
	Expires  float64 `json:"expires"` // seconds from now
	Replied  bool    `json:"replied"`
	Assured  bool    `json:"assured"`
}

// Published is a published port, as docker port lists it.
type Published struct {
	Proto     string `json:"proto"`
	Host      string `json:"host"` // the host's address and port
	Bind      string `json:"bind,omitempty"`
	To        string `json:"to"`
	Container string `json:"container,omitempty"`
}

// DNSRecord is a name the daemon's embedded DNS answers on a network.
type DNSRecord struct {
	Network string   `json:"network"`
	Name    string   `json:"name"`
	Addr    string   `json:"addr"`
	Aliases []string `json:"aliases"`
}

// IPAMAlloc is a network's allocation on a Docker host.
type IPAMAlloc struct {
	Network   string   `json:"network"`
	Subnet    string   `json:"subnet"`
	Gateway   string   `json:"gateway"`
	IPRange   string   `json:"ip_range,omitempty"` // when not the whole subnet
	Allocated []string `json:"allocated"`
}

// Neighbour is a resolved entry of a neighbour (ARP) table.
type Neighbour struct {
	Addr string `json:"addr"`
	MAC  string `json:"mac"`
	Host string `json:"host,omitempty"` // who has the MAC, where the world knows
}

// Host is a sandbox (a container, a LAN client, a plain host) or a node
// of a registered kind: its interfaces and routes.
type Host struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"` // container, client, host, or a registered kind
	Ifaces     []Iface `json:"ifaces"`
	Gateway    string  `json:"gateway"`
	Nameserver string  `json:"nameserver,omitempty"`
}

// Iface is a host's interface.
type Iface struct {
	Name    string `json:"name"`
	Addr    string `json:"addr"`
	MAC     string `json:"mac"`
	Network string `json:"network,omitempty"` // a container's: the Docker network
}

// Link is a link of the world as it is now.
type Link struct {
	Name    string   `json:"name"` // "A:IF -- B:IF"
	A       string   `json:"a"`
	B       string   `json:"b"`
	Up      bool     `json:"up"`
	Latency float64  `json:"latency"` // seconds
	Jitter  float64  `json:"jitter"`  // seconds
	Loss    float64  `json:"loss"`    // probability, 0 to 1
	Rate    uint64   `json:"rate"`    // bits per second; 0: unlimited
	AToB    LinkFlow `json:"a_to_b"`
	BToA    LinkFlow `json:"b_to_a"`
}

// LinkFlow counts one direction of a link.
type LinkFlow struct {
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	Lost      uint64 `json:"lost"`
	Dropped   uint64 `json:"dropped"` // queue full or link down
}

// One is one thing InspectOne found: Kind says which, and the fields of
// that kind are set. A Docker network comes with its bridge's switch, a
// container with its sandbox (Host).
type One struct {
	Kind      string     `json:"kind"` // network, switch, container, host, gateway, link
	Network   *Network   `json:"network,omitempty"`
	Container *Container `json:"container,omitempty"`
	Switch    *Switch    `json:"switch,omitempty"`
	Gateway   *Gateway   `json:"gateway,omitempty"`
	Host      *Host      `json:"host,omitempty"`
	Link      *Link      `json:"link,omitempty"`
}

// Inspect reads everything of the running world w. In mem the caller
// holds whatever keeps w still (the mem world's lock); in netns each
// table is read under the lock that guards it.
func Inspect(w *fabric.Fabric) Inspection {
	r := newReader(w)
	in := Inspection{Networks: r.networks(), Containers: r.containers(), Hosts: r.hosts(), Links: r.links()}
	for _, name := range w.SwitchNames() {
		if s, ok := r.switchOf(name); ok {
			in.Switches = append(in.Switches, s)
		}
	}
	for _, name := range w.GatewayNames() {
		if g, ok := r.gateway(name); ok {
			in.Gateways = append(in.Gateways, g)
		}
	}
	return in.nonNil()
}

// nonNil makes empty lists [] in JSON, not null.
func (in Inspection) nonNil() Inspection {
	in.Networks = orEmpty(in.Networks)
	in.Containers = orEmpty(in.Containers)
	in.Switches = orEmpty(in.Switches)
	in.Gateways = orEmpty(in.Gateways)
	in.Hosts = orEmpty(in.Hosts)
	in.Links = orEmpty(in.Links)
	return in
}

// orEmpty returns s, or an empty slice for nil: [] in JSON, not null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// InspectOne reads one thing of w by name: a Docker network (its name,
// HOST/NAME where several Docker hosts have it, or its bridge's name:
// each gives the network and its switch), a switch, a container or host,
// a gateway, a link (an end, A:IF, or its name, "A:IF -- B:IF"). An
// unknown name is ErrNotFound. The result is a One.
func InspectOne(w *fabric.Fabric, name string) (any, error) {
	r := newReader(w)
	if n, err := r.network(name); err != nil {
		return nil, err
	} else if n != nil {
		o := One{Kind: "network", Network: n}
		if s, ok := r.switchOf(n.Bridge); ok && n.Bridge != "" {
			o.Switch = &s
		}
		return o, nil
	}
	if s, ok := r.switchOf(name); ok {
		return One{Kind: "switch", Switch: &s}, nil
	}
	if g, ok := r.gateway(name); ok {
		return One{Kind: "gateway", Gateway: &g}, nil
	}
	for _, h := range r.hosts() {
		if h.Name != name {
			continue
		}
		o := One{Kind: "host", Host: &h}
		for _, c := range r.containers() {
			if c.Name == name {
				o.Kind, o.Container = "container", &c
			}
		}
		return o, nil
	}
	for _, l := range r.links() {
		if l.Name == name || l.A == name || l.B == name {
			return One{Kind: "link", Link: &l}, nil
		}
	}
	return nil, fmt.Errorf("%w: no network, switch, container, host, gateway or link is named %q", ErrNotFound, name)
}

// reader reads the world once: its Docker state, taken together.
type reader struct {
	w      *fabric.Fabric
	g      *topo.Graph
	docker *topo.Docker // a copy; nil: no Docker
	runs   map[string]fabric.ContainerRun
	now    time.Time
	owners map[vswitch.MAC]string // who has each MAC
	ix     *topo.Index            // the plan's lookups

	// Read once, in newReader: the Docker networks sorted by name and
	// host with their switches (bridges[i] of nets[i]; "" for none), the
	// containers sorted by name with their interfaces beyond their
	// endpoints, and the running containers by host and address.
	nets    []topo.Network
	bridges []string
	ctrs    []topo.Container
	extra   map[string][]Iface
	at      map[hostAddr]string
}

type hostAddr struct {
	host string
	addr netip.Addr
}

func newReader(w *fabric.Fabric) *reader {
	r := &reader{w: w, g: w.Graph(), now: w.Now(), owners: map[vswitch.MAC]string{}, extra: map[string][]Iface{}, at: map[hostAddr]string{}}
	r.ix = r.g.Index()
	r.docker, r.runs = w.DockerSnapshot()
	r.nets = r.dockerNetworks()
	for i := range r.nets {
		sw, ok := w.NetworkSwitch(&r.nets[i])
		if !ok {
			sw = ""
		}
		r.bridges = append(r.bridges, sw)
	}
	r.ctrs = r.dockerContainers()
	planned := map[string]map[netip.Prefix]bool{} // the plan's endpoints of each container
	if d := r.g.Docker; d != nil {
		for _, c := range d.Containers {
			planned[c.Name] = map[netip.Prefix]bool{}
			for _, e := range c.Endpoints {
				planned[c.Name][e.Addr] = true
			}
		}
	}
	for _, c := range r.ctrs {
		r.extra[c.Name] = r.extraIfaces(c, planned[c.Name])
		if !r.runs[c.Name].Running {
			continue
		}
		for _, e := range c.Endpoints {
			if e.Addr.IsValid() {
				r.at[hostAddr{c.Host, e.Addr.Addr()}] = c.Name
			}
		}
	}
	for _, h := range r.g.Hosts {
		for _, i := range h.Ifaces {
			r.own(i.MAC, h.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.runs)) {
		for _, i := range r.runs[name].Ifaces {
			r.own(i.MAC, name)
		}
	}
	for m, name := range r.owners {
		if name == ambiguous {
			delete(r.owners, m)
		}
	}
	return r
}

// ambiguous marks a MAC more than one node has (each Docker host's leg
// on its own docker_gwbridge): an FDB entry of it names nobody.
const ambiguous = "\x00"

// own notes that node has MAC m.
func (r *reader) own(m vswitch.MAC, node string) {
	switch old, ok := r.owners[m]; {
	case m == vswitch.MAC{}:
	case !ok || old == node:
		r.owners[m] = node
	default:
		r.owners[m] = ambiguous
	}
}

// dockerNetworks returns every Docker network of the world, with its host:
// each host's default bridge and the user's networks, sorted by name and
// host.
func (r *reader) dockerNetworks() []topo.Network {
	if r.docker == nil {
		return nil
	}
	var ns []topo.Network
	for _, h := range r.docker.Hosts {
		ns = append(ns, h.Default)
	}
	ns = append(ns, r.docker.Networks...)
	slices.SortFunc(ns, func(a, b topo.Network) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Host, b.Host))
	})
	return ns
}

func (r *reader) networks() []Network {
	var out []Network
	for i := range r.nets {
		out = append(out, r.networkOf(i))
	}
	return out
}

// network finds the Docker network name (NAME, HOST/NAME, or its
// bridge); nil, nil if none is.
func (r *reader) network(name string) (*Network, error) {
	var found []int
	for i, n := range r.nets {
		if n.Name == name || n.Host+"/"+n.Name == name || (r.bridges[i] != "" && r.bridges[i] == name) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		n := r.networkOf(found[0])
		return &n, nil
	}
	var names []string
	for _, i := range found {
		names = append(names, r.nets[i].Host+"/"+r.nets[i].Name)
	}
	return nil, fmt.Errorf("%w: network %s is on %d Docker hosts; name one: %s", ErrNotFound, name, len(found), strings.Join(names, ", "))
}

// networkID is the network's stand-in ID: an overlay's is the same on
// every host of it, as Docker's is.
func networkID(n *topo.Network) string {
	if n.Scope == topo.ScopeSwarm {
		return fabric.ID("network", n.Name)
	}
	return fabric.ID("network", n.Host+"/"+n.Name)
}

func endpointID(host, network, ctr string) string {
	return fabric.ID("endpoint", host+"/"+network+"/"+ctr)
}

// networkOf returns network r.nets[i].
func (r *reader) networkOf(i int) Network {
	n := r.nets[i]
	out := Network{Name: n.Name, ID: networkID(&n), Scope: cmp.Or(n.Scope, "local"), Driver: n.Driver, Internal: n.Internal,
		IPAM: IPAM{Driver: "default", Options: map[string]string{}, Config: []IPAMConfig{}}, Containers: map[string]NetworkEndpoint{},
		Options: options(&n, r.isDefault(n)), Labels: map[string]string{}, Host: n.Host, Bridge: r.bridges[i]}
	if n.Subnet.IsValid() {
		c := IPAMConfig{Subnet: n.Subnet.String()}
		if n.Gateway.IsValid() {
			c.Gateway = n.Gateway.String()
		}
		if n.IPRange.IsValid() && n.IPRange != n.Subnet {
			c.IPRange = n.IPRange.String() // Docker shows it only where --ip-range gave it
		}
		if len(n.Aux) > 0 {
			c.AuxiliaryAddresses = map[string]string{}
			for k, a := range n.Aux {
				c.AuxiliaryAddresses[k] = a.String()
			}
		}
		out.IPAM.Config = append(out.IPAM.Config, c)
	}
	for _, s := range n.Subnets {
		out.IPAM.Config = append(out.IPAM.Config, IPAMConfig{Subnet: s.String()})
	}
	for _, c := range r.ctrs {
		run := r.runs[c.Name]
		if c.Host != n.Host || !run.Running {
			continue
		}
		for _, e := range c.Endpoints {
			if e.Network != n.Name || !e.Addr.IsValid() {
				continue
			}
			out.Containers[fabric.ID("container", c.Name)] = NetworkEndpoint{Name: c.Name, EndpointID: endpointID(c.Host, n.Name, c.Name),
				MacAddress: run.Ifaces[n.Name].MAC.String(), IPv4Address: e.Addr.String()}
		}
		for _, i := range r.extra[c.Name] {
			if i.Network == n.Name {
				// Docker names a container's leg on docker_gwbridge
				// after its sandbox: gateway_ and 12 hex digits.
				id := fabric.ID("container", c.Name)
				out.Containers[id] = NetworkEndpoint{Name: "gateway_" + id[:12], EndpointID: endpointID(c.Host, n.Name, c.Name),
					MacAddress: i.MAC, IPv4Address: i.Addr}
			}
		}
	}
	return out
}

// isDefault reports whether n is its host's default bridge.
func (r *reader) isDefault(n topo.Network) bool {
	for _, h := range r.docker.Hosts {
		if h.Name == n.Host && h.Default.Name == n.Name {
			return true
		}
	}
	return false
}

// options are a network's Options as docker network inspect prints
// them: the default bridge's six, or the driver options the network was
// created with (-o), the bridge's as Docker's keys.
func options(n *topo.Network, dflt bool) map[string]string {
	o := map[string]string{}
	for k, v := range n.DriverOpts {
		o[k] = v
	}
	const br = "com.docker.network.bridge."
	if dflt {
		o[br+"default_bridge"] = "true"
		o[br+"enable_icc"] = "true"
		o[br+"enable_ip_masquerade"] = "true"
		o[br+"host_binding_ipv4"] = "0.0.0.0"
		o[br+"name"] = n.Bridge
		o["com.docker.network.driver.mtu"] = strconv.Itoa(cmp.Or(n.MTU, 1500))
	} else if n.MTU != 0 {
		o["com.docker.network.driver.mtu"] = strconv.Itoa(n.MTU)
	}
	if n.NoICC {
		o[br+"enable_icc"] = "false"
	}
	if n.NoMasquerade {
		o[br+"enable_ip_masquerade"] = "false"
	}
	if n.Scope == topo.ScopeSwarm && n.VNI != 0 {
		o["com.docker.network.driver.overlay.vxlanid_list"] = strconv.FormatUint(uint64(n.VNI), 10)
	}
	return o
}

// dockerContainers returns the Docker containers (not the LAN's
// clients), sorted by name.
func (r *reader) dockerContainers() []topo.Container {
	if r.docker == nil {
		return nil
	}
	var cs []topo.Container
	for _, c := range r.docker.Containers {
		if c.Attach == "" {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b topo.Container) int { return strings.Compare(a.Name, b.Name) })
	return cs
}

func (r *reader) containers() []Container {
	var out []Container
	for _, c := range r.ctrs {
		run := r.runs[c.Name]
		ct := Container{ID: fabric.ID("container", c.Name), Name: c.Name, Host: c.Host, State: "exited",
			Networks: map[string]ContainerEndpoint{}, Ports: map[string][]PortBinding{}}
		if run.Running {
			ct.State = "running"
		}
		for _, e := range c.Endpoints {
			ce := ContainerEndpoint{Aliases: orEmpty(slices.Clone(e.Aliases))}
			n := r.docker.Network(c.Host, e.Network)
			if n != nil {
				ce.NetworkID = networkID(n)
			} else {
				ce.NetworkID = fabric.ID("network", c.Host+"/"+e.Network) // none, host: predefined
			}
			if run.Running && e.Addr.IsValid() {
				ce.EndpointID = endpointID(c.Host, e.Network, c.Name)
				ce.IPAddress, ce.IPPrefixLen = e.Addr.Addr().String(), e.Addr.Bits()
				ce.MacAddress = run.Ifaces[e.Network].MAC.String()
				if n != nil && !n.Internal && n.Gateway.IsValid() {
					// The bridge driver's Join sets no gateway on an
					// internal network.
					ce.Gateway = n.Gateway.String()
				}
			}
			ct.Networks[e.Network] = ce
		}
		if run.Running {
			for _, pm := range c.Publish {
				k := fmt.Sprintf("%d/%s", pm.ContainerPort, pm.Proto)
				ip := "0.0.0.0"
				if pm.HostIP.IsValid() {
					ip = pm.HostIP.String()
				}
				ct.Ports[k] = append(ct.Ports[k], PortBinding{HostIP: ip, HostPort: strconv.Itoa(int(pm.HostPort))})
			}
		}
		out = append(out, ct)
	}
	return out
}

// seconds rounds d to the millisecond, in seconds.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// switchOf reads switch name's tables.
func (r *reader) switchOf(name string) (Switch, bool) {
	sw := r.w.Switch(name)
	if sw == nil {
		return Switch{}, false
	}
	s := Switch{Name: name, AgeingTime: seconds(sw.AgeingTime()), FDB: []FDBEntry{}, Ports: []Port{}}
	for i, n := range r.nets {
		if r.bridges[i] == name {
			s.Network = n.Name
		}
	}
	for _, e := range sw.FDB() {
		s.FDB = append(s.FDB, FDBEntry{MAC: e.MAC.String(), VLAN: e.VLAN, Port: e.Port, Age: seconds(e.Age), Host: r.owners[e.MAC]})
	}
	st := sw.STP()
	s.STP = STP{Enabled: st.Enabled, Ports: []STPPort{}}
	if st.Enabled {
		s.STP.Bridge, s.STP.Root, s.STP.RootPort, s.STP.Cost, s.STP.TopologyChange = st.Bridge.String(), st.Root.String(), st.RootPort, st.Cost, st.TC
		for _, p := range st.Ports {
			s.STP.Ports = append(s.STP.Ports, STPPort{Name: p.Port, Role: p.Role.String(), State: p.State.String(), Cost: r.w.PortCost(name, p.Port), Edge: p.Edge})
		}
	}
	for i := range sw.NumPorts() {
		pn := sw.PortName(i)
		c := r.w.PortConfig(name, pn)
		p := Port{Name: pn, Mode: c.Mode.String(), Drops: map[string]uint64{}}
		if c.Mode == vswitch.Trunk {
			p.VLAN, p.Allowed = c.Native, slices.Clone(c.Allowed)
		} else {
			p.VLAN = cmp.Or(c.PVID, vswitch.DefaultVLAN)
		}
		end := topo.Endpoint{Node: name, Port: pn}
		l := r.w.Link(end)
		p.Up = sw.PortUp(i) && l != nil && l.Up()
		if ps, err := sw.Stats(i); err == nil {
			p.Rx, p.Tx, p.RxBytes, p.TxBytes = ps.RxFrames, ps.TxFrames, ps.RxBytes, ps.TxBytes
			maps.Copy(p.Drops, ps.Drops)
		}
		s.Ports = append(s.Ports, p)
	}
	return s, true
}

func protoName(p uint8) string {
	switch p {
	case nat.ICMP:
		return "icmp"
	case nat.TCP:
		return "tcp"
	case nat.UDP:
		return "udp"
	}
	return strconv.Itoa(int(p))
}

// gateway reads gateway name's tables.
func (r *reader) gateway(name string) (Gateway, bool) {
	if r.w.Gateway(name) == nil {
		return Gateway{}, false
	}
	g := Gateway{Name: name, NAT: []Flow{}, Published: []Published{}, DNS: []DNSRecord{}, IPAM: []IPAMAlloc{}, ARP: []Neighbour{}, Drops: map[string]uint64{}}
	if h := r.ix.Host(name); h != nil && h.Router != nil {
		if i := h.Iface(h.Router.LAN); i != nil {
			g.Address = i.Addr.String()
		}
	}
	flows, _ := r.w.NAT(name)
	for _, f := range flows {
		g.NAT = append(g.NAT, Flow{Kind: f.Kind, Proto: protoName(f.Orig.Proto), OrigSrc: f.Orig.Src.String(), OrigDst: f.Orig.Dst.String(),
			ReplySrc: f.Reply.Src.String(), ReplyDst: f.Reply.Dst.String(), State: f.State, Expires: seconds(f.Expires.Sub(r.now)),
			Replied: f.Replied, Assured: f.Assured})
	}
	pubs, _ := r.w.Published(name)
	for _, p := range pubs {
		pb := Published{Proto: protoName(p.Proto), Host: p.Ext.String(), To: p.To.String(), Container: r.at[hostAddr{name, p.To.Addr()}]}
		if p.Bind.IsValid() {
			pb.Bind = p.Bind.String()
		}
		g.Published = append(g.Published, pb)
	}
	recs, _ := r.w.DNSRecords(name)
	for _, d := range recs {
		g.DNS = append(g.DNS, DNSRecord{Network: d.Network, Name: d.Container, Addr: d.Addr.String(), Aliases: orEmpty(d.Aliases)})
	}
	allocs, _ := r.w.IPAM(name)
	for _, a := range allocs {
		al := IPAMAlloc{Network: a.Name, Subnet: a.Subnet.String(), Gateway: addrString(a.Gateway), Allocated: []string{}}
		if a.IPRange.IsValid() && a.IPRange != a.Subnet {
			al.IPRange = a.IPRange.String()
		}
		for _, u := range a.Used {
			al.Allocated = append(al.Allocated, u.String())
		}
		g.IPAM = append(g.IPAM, al)
	}
	arp, _ := r.w.GatewayARP(name)
	for _, e := range arp {
		nb := Neighbour{Addr: e.Addr.String(), MAC: e.MAC.String()}
		if len(e.MAC) == 6 {
			nb.Host = r.owners[vswitch.MAC(e.MAC)]
		}
		g.ARP = append(g.ARP, nb)
	}
	if st, err := r.w.GatewayStats(name); err == nil {
		g.Forwarded = st.Forwarded
		for k, v := range map[string]uint64{"isolated": st.Isolated, "internal": st.Internal, "direct": st.Direct, "ttl-exceeded": st.TTLExceeded,
			"nat": st.NATDropped, "no-route": st.NoRoute, "send-error": st.SendErrors, "header-error": st.HeaderErrors, "truncated": st.Truncated,
			"bad-checksum": st.BadChecksum, "martian-source": st.MartianSource, "martian-destination": st.MartianDest, "reassembly-failed": st.ReasmFails} {
			if v > 0 {
				g.Drops[k] = v
			}
		}
	}
	return g, true
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// hosts reads every node that is neither a switch nor a gateway: the
// sandboxes (containers with their interfaces as they are now) and the
// nodes of registered kinds, sorted by name.
func (r *reader) hosts() []Host {
	ctrs := map[string]topo.Container{}
	if r.docker != nil {
		for _, c := range r.docker.Containers {
			ctrs[c.Name] = c
		}
	}
	var out []Host
	for _, nk := range r.w.NodeKinds() {
		if nk.Kind == topo.SwitchKind || nk.Kind == topo.GatewayKind {
			continue
		}
		h := Host{Name: nk.Name, Kind: nk.Kind, Ifaces: []Iface{}}
		plan := r.ix.Host(nk.Name)
		c, isCtr := ctrs[nk.Name]
		switch {
		case isCtr && c.Attach == "":
			h.Kind = "container"
			run := r.runs[c.Name]
			for _, e := range c.Endpoints {
				if i, ok := run.Ifaces[e.Network]; ok {
					h.Ifaces = append(h.Ifaces, Iface{Name: i.Name, Addr: i.Addr.String(), MAC: i.MAC.String(), Network: e.Network})
				}
			}
			if run.Running {
				h.Ifaces = append(h.Ifaces, r.extra[c.Name]...)
			}
			slices.SortFunc(h.Ifaces, func(a, b Iface) int { return strings.Compare(a.Name, b.Name) })
			h.Gateway = addrString(run.Gateway)
		case isCtr:
			h.Kind = "client"
			fallthrough
		default:
			if plan != nil {
				for _, i := range plan.Ifaces {
					h.Ifaces = append(h.Ifaces, Iface{Name: i.Name, Addr: prefixString(i.Addr), MAC: i.MAC.String()})
				}
				h.Gateway = addrString(plan.Gateway)
			}
		}
		if plan != nil {
			h.Nameserver = addrString(plan.Nameserver)
		}
		out = append(out, h)
	}
	return out
}

// extraIfaces returns the interfaces container c has beyond its
// endpoints, as planned: an overlay's container's leg on docker_gwbridge,
// which Docker lists in no container's Networks.
// planned are the addresses of its endpoints in the plan.
func (r *reader) extraIfaces(c topo.Container, planned map[netip.Prefix]bool) []Iface {
	plan := r.ix.Host(c.Name)
	if plan == nil {
		return nil
	}
	var out []Iface
	for _, i := range plan.Ifaces {
		if !i.Addr.IsValid() || planned[i.Addr] {
			continue
		}
		f := Iface{Name: i.Name, Addr: i.Addr.String(), MAC: i.MAC.String()}
		for _, n := range r.nets {
			if n.Host == c.Host && n.Subnet.Contains(i.Addr.Addr()) {
				f.Network = n.Name
			}
		}
		out = append(out, f)
	}
	return out
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// links reads the world's links, sorted by name.
func (r *reader) links() []Link {
	var out []Link
	for _, l := range r.w.LinkStates() {
		c := l.Config
		out = append(out, Link{Name: l.Name(), A: l.A.String(), B: l.B.String(), Up: l.Up, Latency: seconds(c.Latency), Jitter: seconds(c.Jitter),
			Loss: c.Loss, Rate: c.Rate, AToB: flowOf(l.Stats[0]), BToA: flowOf(l.Stats[1])})
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func flowOf(s sim.LinkStats) LinkFlow {
	return LinkFlow{Sent: s.Sent, Delivered: s.Delivered, Lost: s.Lost, Dropped: s.QueueDrop + s.DownDrop}
}

// WriteText writes v (an Inspection, or what InspectOne returned) as the
// tables a person reads.
func WriteText(out io.Writer, v any) error {
	switch v := v.(type) {
	case Inspection:
		return writeInspection(out, v)
	case *Inspection:
		return writeInspection(out, *v)
	case One:
		return writeOne(out, v)
	case *One:
		return writeOne(out, *v)
	}
	return fmt.Errorf("%w: cannot write a %T as text", ErrBadRequest, v)
}
