package topo_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

// partModel is two Docker hosts on one overlay, a bridge network on
// every host, a third host on no overlay, and a client on the LAN.
func partModel(t *testing.T) *topo.Graph {
	t.Helper()
	m := &docker.Model{
		Hosts: []docker.Host{
			{Name: "host1", Address: netip.MustParsePrefix("192.168.56.11/24")},
			{Name: "host2", Address: netip.MustParsePrefix("192.168.56.12/24")},
			{Name: "host3", Address: netip.MustParsePrefix("192.168.56.13/24")},
		},
		Networks: []docker.Network{
			{Name: "ov", Driver: "overlay", Hosts: []string{"host1", "host2"}},
			{Name: "local"},
		},
		Containers: []docker.Container{
			{Name: "web", Host: "host1", Endpoints: []docker.Endpoint{{Network: "ov", Aliases: []string{"www"}}}},
			{Name: "db", Host: "host2", Endpoints: []docker.Endpoint{{Network: "ov"}}},
			{Name: "cache", Host: "host2", Endpoints: []docker.Endpoint{{Network: "local"}}},
			{Name: "lone", Host: "host3", Endpoints: []docker.Endpoint{{Network: "local"}}},
			{Name: "client", Attach: "lan"},
		},
	}
	g, err := docker.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func names[T any](xs []T, name func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	slices.Sort(out)
	return out
}

// TestDockerHostPart: a host's part is its gateway, its switches and its
// containers, cabled as in the whole plan but for the LAN leg, which
// keeps its address and loses its cable.
func TestDockerHostPart(t *testing.T) {
	g := partModel(t)
	before := len(g.Links)
	for _, c := range []struct {
		host              string
		switches, hosts   []string
		overlays, swarm   []string
		networks, records []string
	}{
		{"host1", []string{"host1.br-local", "host1.docker0", "host1.docker_gwbridge", "host1.ov-ov"}, []string{"host1", "web"}, []string{"ov"}, []string{"host2"},
			[]string{"docker_gwbridge", "local", "ov"}, []string{"web"}},
		{"host2", []string{"host2.br-local", "host2.docker0", "host2.docker_gwbridge", "host2.ov-ov"}, []string{"cache", "db", "host2"}, []string{"ov"}, []string{"host1"},
			[]string{"docker_gwbridge", "local", "ov"}, []string{"cache", "db"}},
		{"host3", []string{"host3.br-local", "host3.docker0"}, []string{"host3", "lone"}, nil, nil,
			[]string{"local"}, []string{"lone"}},
	} {
		t.Run(c.host, func(t *testing.T) {
			p, err := g.DockerHostPart(c.host)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("the part does not validate: %v", err)
			}
			if got := names(p.Switches, func(s topo.Switch) string { return s.Name }); !slices.Equal(got, c.switches) {
				t.Errorf("switches = %v, want %v", got, c.switches)
			}
			if got := names(p.Hosts, func(h topo.Host) string { return h.Name }); !slices.Equal(got, c.hosts) {
				t.Errorf("hosts = %v, want %v", got, c.hosts)
			}
			gw := p.Host(c.host)
			if got := names(gw.Router.Overlays, func(o topo.RouterOverlay) string { return o.Network }); !slices.Equal(got, c.overlays) {
				t.Errorf("overlays = %v, want %v", got, c.overlays)
			}
			if got := names(gw.Router.Swarm, func(m topo.SwarmMember) string { return m.Host }); !slices.Equal(got, c.swarm) {
				t.Errorf("swarm = %v, want %v", got, c.swarm)
			}
			lan := gw.Iface(gw.Router.LAN)
			if lan == nil || lan.Addr != g.Host(c.host).Iface("eth0").Addr {
				t.Errorf("the LAN leg = %+v, want it with the host's address", lan)
			}
			for _, l := range p.Links {
				if l.A.Node == topo.LANSwitch || l.B.Node == topo.LANSwitch {
					t.Errorf("a LAN link in the part: %s", l.Name())
				}
				for _, e := range []topo.Endpoint{l.A, l.B} {
					if p.Kind(e.Node) == topo.None {
						t.Errorf("link %s names %s, which is not in the part", l.Name(), e.Node)
					}
				}
			}
			if len(p.Docker.Hosts) != 1 || p.Docker.Hosts[0].Name != c.host {
				t.Errorf("Docker hosts = %v, want only %s", p.Docker.Hosts, c.host)
			}
			if got := names(p.Docker.Networks, func(n topo.Network) string { return n.Name }); !slices.Equal(got, c.networks) {
				t.Errorf("Docker networks = %v, want %v", got, c.networks)
			}
			if got := names(p.Docker.Containers, func(c topo.Container) string { return c.Name }); !slices.Equal(got, c.records) {
				t.Errorf("Docker containers = %v, want %v", got, c.records)
			}
		})
	}
	if len(g.Links) != before || g.Host("client") == nil {
		t.Errorf("the plan changed: %d links, was %d", len(g.Links), before)
	}
}

// TestDockerHostPartRefuses: each problem is one clear error.
func TestDockerHostPartRefuses(t *testing.T) {
	g := partModel(t)
	plain := &topo.Graph{Switches: []topo.Switch{{Name: "s1"}}}
	for _, c := range []struct {
		name string
		g    *topo.Graph
		host string
		want string
		is   error
	}{
		{"unknown", g, "host9", `no Docker host "host9" (the plan has host1, host2, host3)`, nil},
		{"nearly", g, "hots1", "did you mean host1?", nil},
		{"a container", g, "web", `no Docker host "web"`, nil},
		{"plain", plain, "host1", "", topo.ErrNoDockerHosts},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.g.DockerHostPart(c.host)
			if err == nil || !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("DockerHostPart(%q) = %v, want an error with %q", c.host, err, c.want)
			}
		})
	}
}
