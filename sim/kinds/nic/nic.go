// Package nic registers the runtime of a Docker host's network card with
// macvlan and ipvlan children (topo.NICKind, forwarded by package
// switch/macvlan), so that importing it is all a program needs to run
// Docker hosts with such networks. The Docker model (sim/topo/docker)
// makes the card's plan; a scenario file never names it, so the kind has
// no configuration of its own to register with topo.
//
// The card is safe for concurrent input and keeps no state that changes
// but its counters, so it runs on no loop of its own: the same code is
// called from the engine in mem and from the TAP readers in netns.
package nic

import (
	"fmt"

	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/switch/macvlan"
)

func init() { fabric.Register(topo.NICKind, Build) }

// Node is a card in a running world.
type Node struct {
	NIC   *macvlan.NIC
	ports map[string]int
}

var _ fabric.Node = (*Node)(nil)

// Endpoint returns the port named port, or nil.
func (n *Node) Endpoint(port string) link.Endpoint {
	if i, ok := n.ports[port]; ok {
		return n.NIC.Endpoint(i)
	}
	return nil
}

// Stats returns the card's counters.
func (n *Node) Stats() macvlan.Stats { return n.NIC.Stats() }

// Options returns the card's configuration for a plan's NIC node named
// name, for the tests and tools that build one outside a fabric.
func Options(name string, p *topo.NIC) macvlan.Options {
	o := macvlan.Options{Name: name, MAC: p.MAC, Host: p.Host, HostAddr: p.HostAddr}
	for _, c := range p.Children {
		o.Children = append(o.Children, macvlan.Child{Container: c.Container, Network: c.Network, Parent: c.Parent, VLAN: c.VLAN, Dummy: c.Dummy,
			Driver: c.Driver, Mode: c.Mode, Flag: c.Flag, MAC: c.MAC, Addr: c.Addr.Addr()})
	}
	return o
}

// Build builds the card of h (Kind topo.NICKind, Spec a *topo.NIC).
func Build(b *fabric.Build, h topo.Host) (fabric.Node, error) {
	p, ok := h.Spec.(*topo.NIC)
	if !ok {
		return nil, fmt.Errorf("nic %s: settings are a %T, not a *topo.NIC", h.Name, h.Spec)
	}
	o := Options(h.Name, p)
	o.Clock, o.Tracer = b.Clock, b.Tracer
	c, err := macvlan.New(o)
	if err != nil {
		return nil, fmt.Errorf("nic %s: %w", h.Name, err)
	}
	n := &Node{NIC: c, ports: map[string]int{topo.NICWire: macvlan.PortWire, topo.NICHost: macvlan.PortHost}}
	for i, ch := range p.Children {
		n.ports[ch.Port] = macvlan.FirstChild + i
	}
	return n, nil
}
