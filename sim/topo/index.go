package topo

import (
	"net/netip"

	vswitch "github.com/netyard/netyard/switch"
)

// Index answers a graph's name lookups in constant time, where the
// Graph's own methods scan its slices (which is right for a graph being
// built, and quadratic for code that looks up every node of a large one).
// It is a snapshot: build a new one after changing the graph's nodes,
// ports or links. The first of several nodes, ports or links with the same
// name is the one found, as with the Graph's methods.
type Index struct {
	g        *Graph
	switches map[string]int
	hosts    map[string]int
	links    map[Endpoint]int
	ports    map[string][]string // switch -> port names, in port order
	hasPort  map[Endpoint]bool   // switch ports that exist
	declared map[Endpoint]int    // switch port -> index in Switch.Ports
}

// Index returns an index of g as it is now.
func (g *Graph) Index() *Index {
	ix := &Index{g: g, switches: make(map[string]int, len(g.Switches)), hosts: make(map[string]int, len(g.Hosts)),
		links: make(map[Endpoint]int, 2*len(g.Links)), ports: map[string][]string{}, hasPort: map[Endpoint]bool{},
		declared: map[Endpoint]int{}}
	for i, s := range g.Switches {
		if _, dup := ix.switches[s.Name]; dup {
			continue
		}
		ix.switches[s.Name] = i
		for j, p := range s.Ports {
			e := Endpoint{s.Name, p.Name}
			if !ix.hasPort[e] {
				ix.hasPort[e] = true
				ix.declared[e] = j
				ix.ports[s.Name] = append(ix.ports[s.Name], p.Name)
			}
		}
	}
	for i, h := range g.Hosts {
		if _, dup := ix.hosts[h.Name]; !dup {
			ix.hosts[h.Name] = i
		}
	}
	for i, l := range g.Links {
		for _, e := range []Endpoint{l.A, l.B} {
			if _, dup := ix.links[e]; !dup {
				ix.links[e] = i
			}
			if _, ok := ix.switches[e.Node]; ok && !ix.hasPort[e] {
				ix.hasPort[e] = true
				ix.ports[e.Node] = append(ix.ports[e.Node], e.Port)
			}
		}
	}
	return ix
}

// Graph returns the indexed graph.
func (ix *Index) Graph() *Graph { return ix.g }

// Switch returns the switch named name, or nil.
func (ix *Index) Switch(name string) *Switch {
	if i, ok := ix.switches[name]; ok {
		return &ix.g.Switches[i]
	}
	return nil
}

// Host returns the host named name, or nil.
func (ix *Index) Host(name string) *Host {
	if i, ok := ix.hosts[name]; ok {
		return &ix.g.Hosts[i]
	}
	return nil
}

// Kind returns the kind of the node named name (a switch first, if a
// switch and a host share it, as Graph.Kind).
func (ix *Index) Kind(name string) Kind {
	if _, ok := ix.switches[name]; ok {
		return SwitchNode
	}
	if _, ok := ix.hosts[name]; ok {
		return HostNode
	}
	return None
}

// LinkOf returns the index of the link with endpoint e, or -1.
func (ix *Index) LinkOf(e Endpoint) int {
	if i, ok := ix.links[e]; ok {
		return i
	}
	return -1
}

// PortNames returns a switch's ports in port order, as Graph.PortNames.
// The slice is the index's own: do not change it.
func (ix *Index) PortNames(sw string) []string { return ix.ports[sw] }

// HasPort reports whether switch sw has a port named port (declared, or
// named by a link).
func (ix *Index) HasPort(sw, port string) bool { return ix.hasPort[Endpoint{sw, port}] }

// PortConfig returns the settings of a switch port, as Graph.PortConfig.
func (ix *Index) PortConfig(sw, name string) vswitch.PortConfig {
	s := ix.Switch(sw)
	var p *Port
	if j, ok := ix.declared[Endpoint{sw, name}]; ok {
		p = &s.Ports[j]
	}
	return portConfig(s, p, name, ix.Kind, ix.LinkOf(Endpoint{sw, name}), ix.g.Links)
}

// ResolveAddr turns "h2", "h2:eth1" or "10.0.0.2" into an address, as
// Graph.ResolveAddr.
func (ix *Index) ResolveAddr(s string) (netip.Addr, error) { return resolveAddr(s, ix.stackHost) }

// ResolveMAC turns "h1", "h1:eth0" or "02:00:00:00:00:01" into a MAC, as
// Graph.ResolveMAC.
func (ix *Index) ResolveMAC(s string) (vswitch.MAC, error) { return resolveMAC(s, ix.Host) }
