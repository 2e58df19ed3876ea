package topo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoDockerHosts is returned when a plan cut to one Docker host's part
// has no Docker model.
var ErrNoDockerHosts = errors.New("topo: the plan has no Docker hosts (only a Docker scenario, with networks and containers, can be brought up one host at a time)")

// DockerHostPart returns the part of a Docker plan that runs on Docker
// host name, as on a machine of its own: its gateway, the switches of its
// networks, its containers, and the links between them. The LAN switch,
// the other Docker hosts and their containers, and the clients attached to
// the LAN are left out, and so is the gateway's cable to the LAN: its LAN
// leg keeps the host's address but has no link, since on a real machine
// the machine's own network is the underlay its overlays reach the other
// hosts by (Router.Swarm names them). The Docker record is cut the same
// way: this host, its networks (overlays as this host has them) and its
// containers.
//
// A host on no overlay network is a part too: its bridge networks and
// containers, reaching nobody beyond them. g is not changed; the part
// shares nothing with it that a backend could change (as Clone).
func (g *Graph) DockerHostPart(name string) (*Graph, error) {
	d := g.Docker
	if d == nil || len(d.Hosts) == 0 {
		return nil, ErrNoDockerHosts
	}
	var names []string
	for _, h := range d.Hosts {
		names = append(names, h.Name)
	}
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("topo: no Docker host %q (the plan has %s)%s", name, strings.Join(names, ", "), DidYouMean(name, names))
	}
	gw := g.Host(name)
	if gw == nil || gw.Router == nil {
		return nil, fmt.Errorf("topo: Docker host %s has no gateway node in the plan", name)
	}
	keep := map[string]bool{name: true}
	// The host's switches are those its gateway's legs are cabled to,
	// but for the LAN.
	for _, l := range g.Links {
		for _, e := range [2][2]Endpoint{{l.A, l.B}, {l.B, l.A}} {
			if e[0].Node == name && e[0].Port != gw.Router.LAN && g.Switch(e[1].Node) != nil {
				keep[e[1].Node] = true
			}
		}
	}
	for _, c := range d.Containers {
		if c.Host == name {
			keep[c.Name] = true
		}
	}
	p := &Graph{}
	for _, s := range g.Switches {
		if keep[s.Name] {
			s.Ports = slices.Clone(s.Ports)
			p.Switches = append(p.Switches, s)
		}
	}
	for _, h := range g.Hosts {
		if keep[h.Name] {
			h.Ifaces = slices.Clone(h.Ifaces)
			p.Hosts = append(p.Hosts, h)
		}
	}
	lan := Endpoint{Node: name, Port: gw.Router.LAN}
	for _, l := range g.Links {
		a, b := keep[l.A.Node], keep[l.B.Node]
		switch {
		case a && b:
			p.Links = append(p.Links, l)
		case l.A == lan || l.B == lan:
			// The LAN leg: no cable on a machine of its own.
		case a || b:
			return nil, fmt.Errorf("topo: Docker host %s's part is cabled to something outside it (%s)", name, l.Name())
		}
	}
	pd := &Docker{}
	for _, h := range d.Hosts {
		if h.Name == name {
			pd.Hosts = append(pd.Hosts, h)
		}
	}
	for _, n := range d.Networks {
		if n.Host == name {
			pd.Networks = append(pd.Networks, n)
		}
	}
	for _, c := range d.Containers {
		if c.Host == name {
			pd.Containers = append(pd.Containers, c)
		}
	}
	p.Docker = pd
	return p, nil
}
