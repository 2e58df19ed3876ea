package nic_test

import (
	"net/netip"
	"testing"

	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/kinds/nic"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestBuild: a Docker plan's card builds in a fabric, with a port for the
// wire, the host and each child, and a bad plan is an error, not a panic.
func TestBuild(t *testing.T) {
	g, err := docker.Compile(&docker.Model{
		Networks:   []docker.Network{{Name: "mv", Driver: "macvlan", Subnet: netip.MustParsePrefix("192.168.56.0/24"), DriverOpts: map[string]string{"parent": "eth0"}}},
		Containers: []docker.Container{{Name: "c1", Endpoints: []docker.Endpoint{{Network: "mv"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fabric.New(g.Assigned(), fabric.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, ok := f.Node("eth0").(*nic.Node)
	if !ok {
		t.Fatalf("the card is a %T", f.Node("eth0"))
	}
	for _, p := range []string{topo.NICWire, topo.NICHost, "c1"} {
		if n.Endpoint(p) == nil {
			t.Errorf("no port %s", p)
		}
	}
	if n.Endpoint("c2") != nil {
		t.Error("a port nobody has")
	}
	if _, err := nic.Build(&fabric.Build{}, topo.Host{Name: "x", Kind: topo.NICKind, Spec: "nonsense"}); err == nil {
		t.Error("a card with a bad plan built")
	}
	bad := &topo.NIC{Children: []topo.NICChild{{Container: "c", Driver: "macvlan", Mode: "source"}}}
	if _, err := nic.Build(&fabric.Build{}, topo.Host{Name: "x", Kind: topo.NICKind, Spec: bad}); err == nil {
		t.Error("a card with an unknown mode built")
	}
}
