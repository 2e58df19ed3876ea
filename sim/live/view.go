package live

import "github.com/netyard/netyard/sim/topo"

// Topology is what the page draws (docs/live/api.md, Topology).
type Topology struct {
	Name  string `json:"name"`
	Nodes []any  `json:"nodes"`
	Links []any  `json:"links"`
}

// TopologyOf returns the drawing's data of plan g with its links as they
// are now (links: fabric.Links(); nil: g's own).
func TopologyOf(name string, g *topo.Graph, links []topo.Link) Topology {
	return Topology{Name: name}
}
