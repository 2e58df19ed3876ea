package docker_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

func twoHosts() []docker.Host {
	return []docker.Host{{Name: "host1", Address: netip.MustParsePrefix("192.168.56.11/24")}, {Name: "host2", Address: netip.MustParsePrefix("192.168.56.12/24")}}
}

// TestOverlayCompiles: an overlay is one address space and one VNI on
// every host it is on, as a swarm's.
func TestOverlayCompiles(t *testing.T) {
	m := &docker.Model{
		Hosts: twoHosts(),
		Networks: []docker.Network{
			{Name: "ov", Driver: "overlay"},
			{Name: "back", Driver: "overlay", Internal: true, Hosts: []string{"host2"}},
			{Name: "explicit", Driver: "overlay", VNI: 4097},
		},
		Containers: []docker.Container{
			{Name: "c1", Host: "host1", Endpoints: []docker.Endpoint{{Network: "ov", Aliases: []string{"web"}}}},
			{Name: "c2", Host: "host2", Endpoints: []docker.Endpoint{{Network: "ov"}, {Network: "back"}}},
			{Name: "c3", Host: "host2", Endpoints: []docker.Endpoint{{Network: "back"}}},
		},
	}
	g, err := docker.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, net, subnet string
		vni               uint32
	}{
		{"host1", "ov", "10.0.0.0/24", 4096},
		{"host2", "ov", "10.0.0.0/24", 4096},
		{"host2", "back", "10.0.1.0/24", 4098},
		{"host1", "explicit", "10.0.2.0/24", 4097},
	} {
		n := g.Docker.Network(c.host, c.net)
		if n == nil {
			t.Errorf("no network %s on %s", c.net, c.host)
			continue
		}
		if n.Subnet.String() != c.subnet || n.VNI != c.vni || n.Scope != "swarm" || n.MTU != docker.OverlayMTU {
			t.Errorf("%s on %s: subnet %v VNI %d scope %q MTU %d, want %s %d swarm %d", c.net, c.host, n.Subnet, n.VNI, n.Scope, n.MTU, c.subnet, c.vni, docker.OverlayMTU)
		}
	}
	if n := g.Docker.Network("host1", "back"); n != nil {
		t.Errorf("back is on host1: %+v; its hosts are [host2]", n)
	}
	c1, c2 := g.Host("c1"), g.Host("c2")
	if got := c1.Ifaces[0]; got.Addr.String() != "10.0.0.2/24" || got.MTU != docker.OverlayMTU {
		t.Errorf("c1 eth0 = %+v, want 10.0.0.2/24 MTU 1450", got)
	}
	if got := c2.Ifaces[0].Addr.String(); got != "10.0.0.3/24" {
		t.Errorf("c2 eth0 = %s, want 10.0.0.3/24: one address space across hosts", got)
	}
	// A non-internal overlay's container goes out through docker_gwbridge.
	if len(c1.Ifaces) != 2 || c1.Ifaces[1].Name != "eth1" || c1.Gateway != c1.Ifaces[1].Addr.Masked().Addr().Next() || c1.Nameserver.String() != "127.0.0.11" || c1.EmbeddedDNS != "host1" {
		t.Errorf("c1 = %+v, want eth1 on docker_gwbridge, its default route there, nameserver 127.0.0.11 (host1's embedded DNS)", c1)
	}
	if gw := g.Docker.Network("host1", docker.GWBridge); gw == nil || gw.Subnet.String() != "172.18.0.0/16" {
		t.Errorf("host1's docker_gwbridge = %+v, want 172.18.0.0/16", gw)
	}
	if c3 := g.Host("c3"); len(c3.Ifaces) != 1 || c3.Gateway.IsValid() {
		t.Errorf("c3, on an internal overlay only, = %+v: want no way out", c3)
	}
	h1 := g.Host("host1").Router
	if len(h1.Overlays) != 2 || h1.Overlays[0].VNI != 4096 || len(h1.Overlays[0].Endpoints) != 1 || h1.Overlays[0].Endpoints[0].Container != "c1" {
		t.Errorf("host1's overlays = %+v", h1.Overlays)
	}
	if len(h1.Swarm) != 1 || h1.Swarm[0] != (topo.SwarmMember{Host: "host2", Addr: netip.MustParseAddr("192.168.56.12")}) {
		t.Errorf("host1's swarm = %+v, want host2 at 192.168.56.12", h1.Swarm)
	}
}

// TestOverlayRefuses: each problem at its field.
func TestOverlayRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		m    docker.Model
		want string
	}{
		{"unknown host", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "ov", Driver: "overlay", Hosts: []string{"host3"}}}},
			`networks[0].hosts[0]: unknown Docker host "host3"`},
		{"vni taken", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "a", Driver: "overlay", VNI: 5000}, {Name: "b", Driver: "overlay", VNI: 5000}}},
			`vni: VNI 5000 is taken`},
		{"vni too big", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "a", Driver: "overlay", VNI: 1 << 24}}},
			`networks[0].vni: VNI 16777216 is past VXLAN's 24 bits`},
		{"not on the host", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "ov", Driver: "overlay", Hosts: []string{"host1"}}},
			Containers: []docker.Container{{Name: "c", Host: "host2", Endpoints: []docker.Endpoint{{Network: "ov"}}}}},
			`containers[0].networks[0]: the overlay "ov" is not on host2 (its hosts: host1)`},
		{"publish", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "ov", Driver: "overlay"}},
			Containers: []docker.Container{{Name: "c", Endpoints: []docker.Endpoint{{Network: "ov"}}, Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 80, ContainerPort: 80}}}}},
			`containers[0].publish[0]: a port of a container on an overlay is published by swarm's ingress routing mesh`},
		{"long name", docker.Model{Hosts: twoHosts(), Networks: []docker.Network{{Name: "averylongname", Driver: "overlay"}}},
			`networks[0].name: an overlay's name is at most 12 characters`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := docker.Compile(&c.m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Compile: %v, want %q", err, c.want)
			}
		})
	}
}
