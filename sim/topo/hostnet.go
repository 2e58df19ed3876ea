package topo

import (
	"fmt"
	"strings"
)

// Docker's host network: a container on it has no sandbox of its own. It
// runs on its Docker host's stack (the gateway node's), with the host's
// interfaces and addresses, so the graph has no node for it: its listen
// ports are the gateway's (Router.ListenTCP), steps from it run from the
// gateway (StackOf), and its name stands for the host's address.

// HostNetwork is the name of Docker's network of the host's own stack.
const HostNetwork = "host"

// OnHostNetwork reports whether the container shares its Docker host's
// stack (docker run --network host).
func (c *Container) OnHostNetwork() bool {
	return len(c.Endpoints) > 0 && c.Endpoints[0].Network == HostNetwork
}

// StackOf returns the node whose network stack name runs on: a container
// on the host network runs on its Docker host's gateway, anything else
// on a node of its own name.
func (g *Graph) StackOf(name string) string {
	if g.Docker != nil {
		for i := range g.Docker.Containers {
			if c := &g.Docker.Containers[i]; c.Name == name && c.OnHostNetwork() {
				return c.Host
			}
		}
	}
	return name
}

// stackHost is Host, with a container on the host network standing for
// its Docker host.
func (g *Graph) stackHost(name string) *Host {
	if h := g.Host(name); h != nil {
		return h
	}
	if s := g.StackOf(name); s != name {
		return g.Host(s)
	}
	return nil
}

// stackHost is Graph's, from the index.
func (ix *Index) stackHost(name string) *Host {
	if h := ix.Host(name); h != nil {
		return h
	}
	if s := ix.g.StackOf(name); s != name {
		return ix.Host(s)
	}
	return nil
}

// hostNotes are what a drawing says of a Docker host's own stack: the
// containers on its host network (and what they listen on), and whether
// it allows direct routing to its containers.
func (d *drawing) hostNotes(h *Host) []string {
	var notes []string
	if d.g.Docker != nil {
		for _, c := range d.g.Docker.Containers {
			if c.Host == h.Name && c.OnHostNetwork() {
				notes = append(notes, "container "+esc(c.Name)+" on the host network")
			}
		}
	}
	var ports []string
	for _, p := range h.Router.ListenTCP {
		ports = append(ports, fmt.Sprintf("tcp/%d", p))
	}
	for _, p := range h.Router.ListenUDP {
		ports = append(ports, fmt.Sprintf("udp/%d", p))
	}
	if len(ports) > 0 {
		notes = append(notes, "listens "+strings.Join(ports, ", ")+" on the host's own stack")
	}
	if h.Router.AllowDirectRouting {
		notes = append(notes, "allow-direct-routing: published container ports reached by their own addresses")
	}
	return notes
}
