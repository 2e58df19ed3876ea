package docker_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

// TestCardBetweenLANAndHost: a host with a macvlan network has its card
// as a node between the LAN switch and its gateway's eth0, with a port per
// child; the gateway's eth0 takes the card's MAC; a sub-interface makes
// the LAN switch's port a trunk; ipvlan children share the card's MAC and
// l3 ones are NOARP with a default route dev eth0.
func TestCardBetweenLANAndHost(t *testing.T) {
	lan := netip.MustParsePrefix("192.168.56.0/24")
	g, err := docker.Compile(&docker.Model{
		Networks: []docker.Network{
			{Name: "mv", Driver: "macvlan", Subnet: lan, DriverOpts: map[string]string{"parent": "eth0.10"}},
			{Name: "iv", Driver: "ipvlan", Subnet: netip.MustParsePrefix("10.1.0.0/24"), Subnets: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")},
				DriverOpts: map[string]string{"parent": "eth0", "ipvlan_mode": "l3"}},
		},
		Containers: []docker.Container{
			{Name: "m", Endpoints: []docker.Endpoint{{Network: "mv"}}},
			{Name: "i", Endpoints: []docker.Endpoint{{Network: "iv", IP: netip.MustParseAddr("10.2.0.5")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	card := g.Host("eth0")
	if card == nil || card.Kind != topo.NICKind {
		t.Fatalf("no card node: %+v", card)
	}
	spec := card.Spec.(*topo.NIC)
	if want := docker.NICMAC(netip.MustParseAddr("192.168.56.11")); spec.MAC != want || g.Host("host1").Iface("eth0").MAC != want {
		t.Errorf("card MAC %s, gateway eth0 %s, want %s", spec.MAC, g.Host("host1").Iface("eth0").MAC, want)
	}
	var links []string
	for _, l := range g.Links {
		links = append(links, l.Name())
	}
	for _, w := range []string{"lan:host1 -- eth0:wire", "eth0:host -- host1:eth0", "eth0:m -- m:eth0", "eth0:i -- i:eth0"} {
		if !slices.Contains(links, w) {
			t.Errorf("no link %s in %v", w, links)
		}
	}
	if p := g.PortConfig(topo.LANSwitch, "host1"); p.Mode != vswitch.Trunk || p.Native != 1 || !slices.Equal(p.Allowed, []uint16{10}) {
		t.Errorf("the LAN's port to host1: %+v, want a trunk, native 1, tagged 10", p)
	}
	i := g.Host("i")
	if f := i.Iface("eth0"); f.MAC != spec.MAC || !f.NoARP || f.Addr.String() != "10.2.0.5/24" || i.DefaultDev != "eth0" || i.Gateway.IsValid() {
		t.Errorf("ipvlan l3 child: %+v %+v", i, f)
	}
	if m := g.Host("m").Iface("eth0"); m.MAC != docker.MAC(m.Addr.Addr()) || spec.Children[0].VLAN != 10 {
		t.Errorf("macvlan child: %+v, %+v", m, spec.Children[0])
	}
	// Without such networks, nothing of it.
	g, err = docker.Compile(&docker.Model{Containers: []docker.Container{{Name: "a"}}})
	if err != nil || g.Host("eth0") != nil || !g.Host("host1").Iface("eth0").MAC.IsZero() {
		t.Errorf("a host without macvlan or ipvlan networks changed: %v", err)
	}
}
