package fabric

import (
	"fmt"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
)

// Gateway is a gateway node (a Docker host's router, package
// nat/gateway) in the fabric, on its Loop.
type Gateway struct {
	*gateway.Gateway
	*Loop
	ports   map[string]*link.Port // the legs and VTEPs, by interface name
	overlay *overlay              // nil: on no overlay network
	dns     *dnsd.Server          // the host's daemon's records, which its containers' embedded resolvers answer from
}

// addGateway builds the gateway node of h (h.Router set), with an
// endpoint per leg.
func (f *Fabric) addGateway(h topo.Host) (*Gateway, error) {
	r := h.Router
	node := &Gateway{ports: map[string]*link.Port{}}
	var vteps func(i int, fr []byte, o link.Offload)
	legs := 0
	node.Loop = f.build.Loop(h.Name, "gateway", func(idx int, fr []byte, o link.Offload) {
		if idx >= runtimeLegPorts { // a leg added while running (docker.go)
			node.Gateway.InputOffload(idx-runtimeLegPorts, fr, o)
			return
		}
		if idx >= legs {
			vteps(idx-legs, fr, o)
			return
		}
		node.Gateway.InputOffload(idx, fr, o)
	})
	clk := node.Clock()
	names := map[string]topo.Iface{}
	for _, i := range h.Ifaces {
		names[i.Name] = i
	}
	var ifcs []*stack.Iface
	leg := func(name string) gateway.Leg {
		fi := names[name]
		idx := legs
		legs++
		p := node.Port(idx, func(up bool) {
			if idx < len(ifcs) {
				ifcs[idx].SetUp(up)
			}
		})
		node.ports[name] = p
		return gateway.Leg{Name: name, MAC: fi.MAC, Addr: fi.Addr, Out: &p.Out, MTU: fi.MTU}
	}
	c := gateway.Config{Name: h.Name, LAN: leg(r.LAN), MaxFlows: r.MaxFlows, AllowDirectRouting: r.AllowDirectRouting}
	for _, b := range r.Bridges {
		c.Bridges = append(c.Bridges, gateway.Bridge{Leg: leg(b.Iface), Network: b.Network, Internal: b.Internal, NoMasquerade: b.NoMasquerade})
	}
	for _, p := range r.Publish {
		proto := map[string]uint8{"tcp": nat.TCP, "udp": nat.UDP}[p.Proto]
		c.Publish = append(c.Publish, nat.Publish{Proto: proto, Ext: p.Ext, To: p.To, Bind: p.Bind})
	}
	// The daemon's records. The gateway answers no DNS (Config.DNS stays
	// nil: its port 53 is closed, as dig @172.18.0.1 finds on Docker):
	// each container's sandbox has its own resolver at 127.0.0.11
	// (Resolver), which answers from these.
	node.dns = dnsd.New(dnsd.Options{Rand: sim.Stream(f.opts.Seed, h.Name, "dns shuffle")})
	for _, n := range r.DNS {
		node.dns.Add(n.Network, n.Container, n.Addr, n.Aliases...)
	}
	gw, err := gateway.New(c, gateway.Options{Clock: clk, Tracer: f.opts.Tracer, Rand: sim.Stream(f.opts.Seed, h.Name, "dns ids")})
	if err != nil {
		return nil, err
	}
	node.Gateway = gw
	if len(r.Overlays) > 0 {
		if vteps, err = f.addOverlays(node, h, gw.Host(), node.dns, legs); err != nil {
			return nil, err
		}
	}
	ifcs = gw.Host().Ifaces()
	for _, i := range ifcs {
		i.SetUp(false) // until Connect lays the links
	}
	f.mu.Lock()
	f.gateways[h.Name] = node
	f.mu.Unlock()
	return node, nil
}

// Endpoint returns the leg named port, or nil.
func (g *Gateway) Endpoint(port string) link.Endpoint {
	if p := g.ports[port]; p != nil {
		return p
	}
	return nil
}

// Gateway returns the gateway node named name, or nil.
func (f *Fabric) Gateway(name string) *Gateway {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gateways[name]
}

// NAT returns the connection tracking flows of gateway name, sorted.
func (f *Fabric) NAT(name string) ([]nat.Flow, error) {
	g := f.Gateway(name)
	if g == nil {
		return nil, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	var out []nat.Flow
	g.Do(func() { out = g.NAT().Dump(f.opts.Clock.Now()) })
	return out, nil
}
