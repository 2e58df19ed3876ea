// Package router registers the router node kind (package router): its
// settings in a topology (topo.RegisterKind) and how a world builds it
// (fabric.Register), so that importing it is all a program needs to run
// routers. In a scenario file:
//
//	nodes:
//	  - name: r1
//	    kind: router
//	    interfaces:
//	      - {name: eth0, address: 10.0.1.1/24}
//	      - {name: eth1, address: 10.0.2.1/24}
//	    routes:
//	      - {to: 10.0.3.0/24, via: 10.0.2.2}
//	      - {to: 0.0.0.0/0, via: 10.0.2.2, metric: 10}
//	    mtu: 1500
//
// Each interface gives a connected route; routes adds static ones (a
// prefix, a next hop on a connected subnet, an optional metric); mtu is
// every interface's (default 1500). Compile reports every problem at its
// field (routes[1].via). In a world that asks for it (netns), the router
// runs on a goroutine of its own (fabric.Loop), as the gateway does.
package router

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/router"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
)

// Kind is the kind's name in a topology.
const Kind = "router"

func init() {
	topo.RegisterKind(Kind, topo.NodeKind{New: func() any { return &Spec{} }, Compile: Compile})
	fabric.Register(Kind, Build)
}

// Spec is a router's own settings, as a scenario file has them.
type Spec struct {
	Routes []RouteSpec `yaml:"routes"`
	MTU    int         `yaml:"mtu"` // every interface's; 0: router.DefaultMTU
}

// RouteSpec is a static route as written.
type RouteSpec struct {
	To     string `yaml:"to"`     // a prefix, 0.0.0.0/0 for the default route
	Via    string `yaml:"via"`    // the next hop, on a connected subnet
	Metric uint32 `yaml:"metric"` // among routes to one prefix the lowest wins; default 0
}

// Plan is a compiled Spec: what topo.Host.Spec holds for a router.
type Plan struct {
	Routes []router.Route
	MTU    int
}

// placeholderMAC stands in for a MAC not assigned yet: a plan is checked
// before the topology's MACs are assigned.
var placeholderMAC = header.MAC{0x02, 0, 0, 0, 0, 1}

// Compile checks a Spec against the router's interfaces and returns its
// Plan, reporting every problem through bad at its field.
func Compile(spec any, ifaces []topo.Iface, bad func(field, format string, args ...any)) any {
	s, ok := spec.(*Spec)
	if !ok {
		bad("", "a router's settings are a %T, not a %T", spec, s)
		return &Plan{}
	}
	p := &Plan{MTU: s.MTU}
	var at []int // the spec's index of each route parsed
	for i, r := range s.Routes {
		to, err := netip.ParsePrefix(r.To)
		if err != nil {
			bad(fmt.Sprintf("routes[%d].to", i), "bad prefix %q: want a CIDR like 10.0.3.0/24, or 0.0.0.0/0 for the default route", r.To)
		}
		via, verr := netip.ParseAddr(r.Via)
		if verr != nil {
			if r.Via == "" {
				bad(fmt.Sprintf("routes[%d].via", i), "a route needs a next hop (via: an address on a connected subnet)")
			} else {
				bad(fmt.Sprintf("routes[%d].via", i), "bad next hop %q: want an address like 10.0.2.2", r.Via)
			}
		}
		if err == nil && verr == nil {
			p.Routes = append(p.Routes, router.Route{To: to, Via: via, Metric: r.Metric})
			at = append(at, i)
		}
	}
	c := config("", ifaces, p)
	for i := range c.Ifaces {
		if ifaces[i].MAC.IsZero() {
			c.Ifaces[i].MAC = placeholderMAC
		}
	}
	mtuSaid := false
	for _, e := range c.Check() {
		switch {
		case e.Route >= 0:
			bad(fmt.Sprintf("routes[%d].%s", at[e.Route], e.Field), "%s", e.Msg)
		case e.Field == "mtu":
			if !mtuSaid {
				bad("mtu", "%s", e.Msg)
				mtuSaid = true
			}
		case e.Field == "addr" && hasAddr(ifaces, e.Iface):
			// The topology checks that each interface has a host address;
			// that their subnets are apart is the router's own rule.
			bad(fmt.Sprintf("interfaces[%d].address", e.Iface), "%s", e.Msg)
		}
	}
	return p
}

// hasAddr reports whether interface i has an address the topology's own
// checks accept (topo.HostPrefixProblem), so that a problem the router
// finds with it is the router's to report, not a second word on the same.
func hasAddr(ifaces []topo.Iface, i int) bool {
	return i >= 0 && i < len(ifaces) && ifaces[i].Addr.IsValid() && topo.HostPrefixProblem(ifaces[i].Addr) == ""
}

// config is the router.Config of a router named name with these
// interfaces and plan.
func config(name string, ifaces []topo.Iface, p *Plan) router.Config {
	c := router.Config{Name: name, Routes: slices.Clone(p.Routes)}
	for _, i := range ifaces {
		c.Ifaces = append(c.Ifaces, router.Iface{Name: i.Name, MAC: i.MAC, Addr: i.Addr, MTU: p.MTU})
	}
	return c
}

// Node is a router in a running world: its ports, on its loop.
type Node struct {
	r     *router.Router
	loop  *fabric.Loop
	ports map[string]*link.Port
}

var _ fabric.Node = (*Node)(nil)

// Endpoint returns the interface named port, or nil.
func (n *Node) Endpoint(port string) link.Endpoint {
	if p := n.ports[port]; p != nil {
		return p
	}
	return nil
}

// Do runs f with the router to itself (on its loop, when it has one), as
// a read of its state must: f may call the router's methods.
func (n *Node) Do(f func(r *router.Router)) { n.loop.Do(func() { f(n.r) }) }

// Stats returns the router's counters.
func (n *Node) Stats() (s router.Stats) {
	n.Do(func(r *router.Router) { s = r.Stats() })
	return s
}

// Dropped returns how many frames were dropped before the router saw
// them: its loop's queue was full.
func (n *Node) Dropped() uint64 { return n.loop.Dropped() }

// Build builds the router of h (Kind "router", Spec a *Plan or nil: only
// connected routes), with its interfaces down until links are laid.
func Build(b *fabric.Build, h topo.Host) (fabric.Node, error) {
	p, ok := h.Spec.(*Plan)
	switch {
	case h.Spec == nil:
		p = &Plan{}
	case !ok:
		return nil, fmt.Errorf("router %s: settings are a %T, not a compiled *Plan", h.Name, h.Spec)
	}
	n := &Node{ports: map[string]*link.Port{}}
	n.loop = b.Loop(h.Name, Kind, func(port int, frame []byte, o link.Offload) { n.r.InputOffload(port, frame, o) })
	c := config(h.Name, h.Ifaces, p)
	for i := range c.Ifaces {
		port := n.loop.Port(i, func(up bool) { n.r.SetCarrier(i, up) })
		n.ports[c.Ifaces[i].Name] = port
		c.Ifaces[i].Out = &port.Out
	}
	r, err := router.New(c, router.Options{Clock: n.loop.Clock(), Tracer: b.Tracer})
	if err != nil {
		return nil, err
	}
	for i := range c.Ifaces {
		r.SetCarrier(i, false) // until a link is laid
	}
	n.r = r
	return n, nil
}
