package live

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Topology is what the page draws (docs/live/api.md, Topology).
type Topology struct {
	Name     string        `json:"name"`
	Nodes    []ViewNode    `json:"nodes"`
	Links    []ViewLink    `json:"links"`
	Networks []ViewNetwork `json:"networks"`
}

// The kinds of node the page draws.
const (
	KindSwitch    = "switch"
	KindHost      = "host"
	KindGateway   = "gateway" // a Docker host's gateway (its daemon's netfilter and DNS)
	KindNIC       = "nic"     // a Docker host's network card (macvlan, ipvlan)
	KindContainer = "container"
	KindClient    = "client" // a machine on the Docker hosts' LAN
	KindNode      = "node"   // a node of another registered kind (a router...)
)

// ViewNode is one node of the drawing.
type ViewNode struct {
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	Label     string      `json:"label"`
	Network   string      `json:"network,omitempty"` // the Docker network of a bridge, or a container's first
	STP       bool        `json:"stp"`
	Ports     []ViewPort  `json:"ports,omitempty"`
	Ifaces    []ViewIface `json:"ifaces,omitempty"`
	Published []string    `json:"published,omitempty"` // "8080->80/tcp"; a gateway's "192.168.56.11:8080->172.18.0.10:80/tcp"
	Host      string      `json:"host,omitempty"`      // a container's Docker host
}

// ViewPort is a switch port's VLAN settings.
type ViewPort struct {
	Name    string   `json:"name"`
	Mode    string   `json:"mode"` // access or trunk
	VLAN    uint16   `json:"vlan"` // access: its VLAN
	Allowed []uint16 `json:"allowed"`
	Native  uint16   `json:"native"`
	// Role and State are the port's spanning tree role and state when the
	// drawing was made, on a switch running STP (SetSTP); the page
	// starts a recording from them.
	Role  string `json:"role,omitempty"`
	State string `json:"state,omitempty"`
}

// ViewIface is a host's interface.
type ViewIface struct {
	Name string `json:"name"`
	Addr string `json:"addr,omitempty"`
	MAC  string `json:"mac,omitempty"`
}

// ViewEnd is one end of a link.
type ViewEnd struct {
	Node string `json:"node"`
	Port string `json:"port"`
}

// ViewLink is one link: its id is its name as the world names it (a
// frame event's "link").
type ViewLink struct {
	ID      string  `json:"id"`
	A       ViewEnd `json:"a"`
	B       ViewEnd `json:"b"`
	Up      bool    `json:"up"`
	Latency float64 `json:"latency"` // seconds, one way
	Jitter  float64 `json:"jitter,omitempty"`
	Loss    float64 `json:"loss"`           // probability, 0..1
	Rate    uint64  `json:"rate,omitempty"` // bits per second; 0: unlimited
}

// ViewNetwork is a Docker network.
type ViewNetwork struct {
	Name    string `json:"name"`
	Host    string `json:"host,omitempty"`
	Driver  string `json:"driver"`
	Subnet  string `json:"subnet,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	Bridge  string `json:"bridge,omitempty"`
}

// TopologyOf returns the drawing's data of plan g with its links as they
// are now (links: fabric.Links(); nil: g's own). Every link is drawn up;
// LinksUp marks those that are down (WorldTopology does).
func TopologyOf(name string, g *topo.Graph, links []topo.Link) Topology {
	t := Topology{Name: name, Nodes: []ViewNode{}, Links: []ViewLink{}, Networks: []ViewNetwork{}}
	if g == nil {
		return t
	}
	if links == nil {
		links = g.Links
	}
	ix := g.Index()
	bridges := map[string]string{}    // switch -> its Docker network
	containers := map[string]string{} // container -> its first network
	hostOf := map[string]string{}     // container -> its Docker host
	published := map[string][]string{}
	clients := map[string]bool{}
	if d := g.Docker; d != nil {
		for _, h := range d.Hosts {
			if n := h.Default; n.Bridge != "" {
				bridges[n.Bridge] = n.Name
				t.Networks = append(t.Networks, viewNetwork(n))
			}
		}
		for _, n := range d.Networks {
			if n.Bridge != "" {
				bridges[n.Bridge] = n.Name
			}
			t.Networks = append(t.Networks, viewNetwork(n))
		}
		for _, c := range d.Containers {
			if c.Attach != "" || c.Host == "" {
				clients[c.Name] = true
			}
			hostOf[c.Name] = c.Host
			if len(c.Endpoints) > 0 {
				containers[c.Name] = c.Endpoints[0].Network
			}
			for _, p := range c.Publish {
				published[c.Name] = append(published[c.Name], portMapping(p))
			}
		}
	}
	for _, s := range g.Switches {
		n := ViewNode{ID: s.Name, Kind: KindSwitch, Label: s.Name, Network: bridges[s.Name], STP: s.STP != nil}
		for _, p := range ix.PortNames(s.Name) {
			n.Ports = append(n.Ports, viewPort(ix.PortConfig(s.Name, p)))
		}
		t.Nodes = append(t.Nodes, n)
	}
	for _, h := range g.Hosts {
		n := ViewNode{ID: h.Name, Kind: KindHost, Label: h.Name}
		switch {
		case h.Router != nil:
			n.Kind = KindGateway
			for _, p := range h.Router.Publish {
				n.Published = append(n.Published, fmt.Sprintf("%s->%s/%s", p.Ext, p.To, p.Proto))
			}
		case h.Kind == "nic":
			n.Kind = KindNIC
		case h.Kind != "":
			n.Kind = KindNode
		case clients[h.Name]:
			n.Kind = KindClient
		case hostOf[h.Name] != "" || containers[h.Name] != "":
			n.Kind = KindContainer
			n.Network, n.Host, n.Published = containers[h.Name], hostOf[h.Name], published[h.Name]
		}
		for _, f := range h.Ifaces {
			v := ViewIface{Name: f.Name}
			if f.Addr.IsValid() {
				v.Addr = f.Addr.String()
			}
			if f.MAC != (vswitch.MAC{}) {
				v.MAC = f.MAC.String()
			}
			n.Ifaces = append(n.Ifaces, v)
		}
		t.Nodes = append(t.Nodes, n)
	}
	for _, l := range links {
		t.Links = append(t.Links, ViewLink{ID: l.Name(), A: ViewEnd{l.A.Node, l.A.Port}, B: ViewEnd{l.B.Node, l.B.Port}, Up: true,
			Latency: l.Config.Latency.Seconds(), Jitter: l.Config.Jitter.Seconds(), Loss: l.Config.Loss, Rate: l.Config.Rate})
	}
	return t
}

// WorldTopology returns the drawing of the running world w, as it is now:
// its links (impairments and carrier) and each switch's STP roles and
// states. The caller holds whatever keeps w still (the mem world's lock).
func WorldTopology(name string, w *fabric.Fabric) Topology {
	g := w.Graph()
	t := TopologyOf(name, g, w.Links())
	for _, s := range g.Switches {
		if st, err := w.STP(s.Name); err == nil {
			t.SetSTP(s.Name, st)
		}
	}
	t.LinksUp(func(e topo.Endpoint) bool {
		l := w.Link(e)
		return l == nil || l.Up()
	})
	return t
}

// LinksUp marks down each link of t whose carrier up says is down (up
// takes a link's end, its A end).
func (t *Topology) LinksUp(up func(topo.Endpoint) bool) {
	for i, l := range t.Links {
		t.Links[i].Up = up(topo.Endpoint{Node: l.A.Node, Port: l.A.Port})
	}
}

// SetSTP sets the STP role and state of each port of switch sw from
// stp, its status (fabric.STP).
func (t *Topology) SetSTP(sw string, stp vswitch.STPStatus) {
	if !stp.Enabled {
		return
	}
	for i, n := range t.Nodes {
		if n.ID != sw || n.Kind != KindSwitch {
			continue
		}
		for _, ps := range stp.Ports {
			for j := range n.Ports {
				if n.Ports[j].Name == ps.Port {
					t.Nodes[i].Ports[j].Role, t.Nodes[i].Ports[j].State = ps.Role.String(), ps.State.String()
				}
			}
		}
	}
}

func viewNetwork(n topo.Network) ViewNetwork {
	v := ViewNetwork{Name: n.Name, Host: n.Host, Driver: n.Driver, Bridge: n.Bridge}
	if n.Subnet.IsValid() {
		v.Subnet = n.Subnet.String()
	}
	if n.Gateway.IsValid() {
		v.Gateway = n.Gateway.String()
	}
	return v
}

func viewPort(c vswitch.PortConfig) ViewPort {
	p := ViewPort{Name: c.Name, Mode: c.Mode.String(), Allowed: c.Allowed, Native: c.Native}
	if p.Allowed == nil {
		p.Allowed = []uint16{}
	}
	if c.Mode == vswitch.Access {
		p.VLAN = max(c.PVID, vswitch.DefaultVLAN)
	}
	return p
}

// portMapping writes a published port as docker ps does: "8080->80/tcp",
// "127.0.0.1:8080->80/tcp".
func portMapping(p topo.PortMapping) string {
	host := fmt.Sprint(p.HostPort)
	if p.HostIP.IsValid() && p.HostIP != netip.IPv4Unspecified() {
		host = netip.AddrPortFrom(p.HostIP, p.HostPort).String()
	}
	return fmt.Sprintf("%s->%d/%s", host, p.ContainerPort, p.Proto)
}
