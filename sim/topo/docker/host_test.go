package docker_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestHostNetwork: a container on the host network has no node of its
// own; its listen ports are the gateway's, steps from it run from the
// gateway, its name stands for the host's address, and its published
// ports are discarded with Docker's warning.
func TestHostNetwork(t *testing.T) {
	d := &docker.Model{
		Hosts: []docker.Host{{Name: "host1", AllowDirectRouting: true}},
		Containers: []docker.Container{
			{Name: "web", Endpoints: []docker.Endpoint{{Network: "host"}}, ListenTCP: []uint16{8080}, ListenUDP: []uint16{53},
				Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 9090, ContainerPort: 80}}},
			{Name: "client", Attach: "lan", Routes: []docker.Route{{To: netip.MustParsePrefix("172.17.0.0/16"), Via: "host1"}}},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if g.Host("web") != nil {
		t.Errorf("a container on the host network has a node of its own")
	}
	r := g.Host("host1").Router
	if len(r.ListenTCP) != 1 || r.ListenTCP[0] != 8080 || len(r.ListenUDP) != 1 || !r.AllowDirectRouting {
		t.Errorf("host1's own stack: listens %v %v, direct routing %v", r.ListenTCP, r.ListenUDP, r.AllowDirectRouting)
	}
	if len(r.Publish) != 0 {
		t.Errorf("published %+v: publish on the host network must be discarded", r.Publish)
	}
	if len(g.Docker.Warnings) != 1 || g.Docker.Warnings[0].Path != "containers[0].publish" ||
		!strings.Contains(g.Docker.Warnings[0].Msg, "WARNING: Published ports are discarded when using host network mode") {
		t.Errorf("warnings %v", g.Docker.Warnings)
	}
	if s := g.StackOf("web"); s != "host1" {
		t.Errorf("web runs on %q, want host1", s)
	}
	if a, err := g.ResolveAddr("web"); err != nil || a != netip.MustParseAddr("192.168.56.11") {
		t.Errorf("web resolves to %v, %v: want the host's address", a, err)
	}
	if rs := g.Host("client").Routes; len(rs) != 1 || rs[0].Via != netip.MustParseAddr("192.168.56.11") {
		t.Errorf("client's routes %+v", rs)
	}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
}

// TestHostNetworkRefuses: the host network with another network, in
// either order, in Docker's words; a second host network; a port taken
// twice on the host's stack; bad routes. Each at its field.
func TestHostNetworkRefuses(t *testing.T) {
	d := &docker.Model{
		Networks: []docker.Network{{Name: "mine"}, {Name: "hosty", Driver: "host"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "host"}, {Network: "mine"}}},
			{Name: "b", Endpoints: []docker.Endpoint{{Network: "mine"}, {Network: "host"}}},
			{Name: "c", Endpoints: []docker.Endpoint{{Network: "host"}}, ListenTCP: []uint16{80}},
			{Name: "d", Endpoints: []docker.Endpoint{{Network: "host"}}, ListenTCP: []uint16{80}},
			{Name: "e", Endpoints: []docker.Endpoint{{Network: "mine"}}, Routes: []docker.Route{{To: netip.MustParsePrefix("10.0.0.0/8"), Via: "host1"}}},
			{Name: "f", Attach: "lan", Routes: []docker.Route{{To: netip.MustParsePrefix("10.0.0.0/8"), Via: "hots1"}, {To: netip.MustParsePrefix("10.0.0.0/8"), Via: "10.1.1.1"}}},
		},
	}
	_, err := docker.Compile(d)
	for _, want := range []string{
		"containers[0].networks[1]: container sharing network namespace with another container or host cannot be connected to any other network",
		"containers[1].networks[1]: container cannot be disconnected from host network or connected to host network",
		`networks[1].driver: only one instance of "host" network is allowed`,
		"containers[3].listen: listen tcp/80: the port is taken on the Docker host host1",
		"containers[4].routes: routes are for a client attached to the LAN",
		`containers[5].routes[0].via: via "hots1": want a Docker host's name or an address on the LAN 192.168.56.0/24; did you mean host1?`,
		"containers[5].routes[1].via: via 10.1.1.1: the next hop must be on the LAN 192.168.56.0/24",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}
