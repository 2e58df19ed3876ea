package live_test

import (
	"slices"
	"testing"

	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/fabric"
	_ "github.com/netyard/netyard/sim/kinds/router"
	"github.com/netyard/netyard/sim/live"
	_ "github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/topo"
)

// topologyOf draws scenarios/NAME.yaml's plan.
func topologyOf(t *testing.T, name string) (live.Topology, *topo.Graph) {
	t.Helper()
	f, err := scenario.Load("../../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	return live.TopologyOf(name, g, nil), g
}

func node(t *testing.T, v live.Topology, id string) live.ViewNode {
	t.Helper()
	for _, n := range v.Nodes {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no node %q in the drawing of %s", id, v.Name)
	return live.ViewNode{}
}

func port(t *testing.T, n live.ViewNode, name string) live.ViewPort {
	t.Helper()
	for _, p := range n.Ports {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no port %s on %s", name, n.ID)
	return live.ViewPort{}
}

// Every node and link of the plan is drawn, links named as the world
// names them (a frame event's "link"), and their ends and kinds right.
func TestTopologyOfSTPTriangle(t *testing.T) {
	v, g := topologyOf(t, "stp-triangle")
	if len(v.Nodes) != len(g.Switches)+len(g.Hosts) {
		t.Fatalf("drew %d nodes, the plan has %d", len(v.Nodes), len(g.Switches)+len(g.Hosts))
	}
	var ids []string
	for _, l := range v.Links {
		ids = append(ids, l.ID)
		if !l.Up {
			t.Errorf("link %s drawn down", l.ID)
		}
	}
	if want := fabric.LinkNames(g); !slices.Equal(ids, want) {
		t.Errorf("link ids %q, want the world's names %q", ids, want)
	}
	for _, s := range []string{"s1", "s2", "s3"} {
		n := node(t, v, s)
		if n.Kind != live.KindSwitch || !n.STP {
			t.Errorf("%s: kind %q stp %v, want a switch running STP", s, n.Kind, n.STP)
		}
		if p := port(t, n, "p1"); p.Mode != "access" || p.VLAN != 1 {
			t.Errorf("%s p1: %+v, want an access port in VLAN 1", s, p)
		}
	}
	h1 := node(t, v, "h1")
	if h1.Kind != live.KindHost || len(h1.Ifaces) != 1 || h1.Ifaces[0].Addr != "10.0.0.1/24" || h1.Ifaces[0].MAC == "" {
		t.Errorf("h1: %+v, want a host with eth0 10.0.0.1/24 and its MAC", h1)
	}
}

// Trunks carry their allowed VLANs and native VLAN; access ports their VLAN.
func TestTopologyOfVLANs(t *testing.T) {
	v, g := topologyOf(t, "vlan-isolation")
	trunks := 0
	for _, s := range g.Switches {
		for _, p := range s.Ports {
			vp := port(t, node(t, v, s.Name), p.Name)
			if vp.Mode != p.Mode.String() {
				t.Errorf("%s %s: mode %q, want %q", s.Name, p.Name, vp.Mode, p.Mode)
			}
			if p.Mode.String() == "trunk" {
				trunks++
				if !slices.Equal(vp.Allowed, p.Allowed) && !(len(p.Allowed) == 0 && len(vp.Allowed) == 0) || vp.Native != p.Native {
					t.Errorf("%s %s: allowed %v native %d, want %v %d", s.Name, p.Name, vp.Allowed, vp.Native, p.Allowed, p.Native)
				}
			} else if want := max(p.VLAN, 1); vp.VLAN != want {
				t.Errorf("%s %s: VLAN %d, want %d", s.Name, p.Name, vp.VLAN, want)
			}
		}
	}
	if trunks == 0 {
		t.Fatal("vlan-isolation has no trunk to draw")
	}
}

// A Docker scenario draws its gateway, bridges, containers and client,
// with the published ports on the container (docker ps's words) and on
// the gateway (where they lead).
func TestTopologyOfDocker(t *testing.T) {
	v, _ := topologyOf(t, "docker-publish")
	kinds := map[string]int{}
	for _, n := range v.Nodes {
		kinds[n.Kind]++
	}
	for _, k := range []string{live.KindGateway, live.KindSwitch, live.KindContainer} {
		if kinds[k] == 0 {
			t.Errorf("no node of kind %s among %v", k, kinds)
		}
	}
	b := node(t, v, "containerB")
	if !slices.Contains(b.Published, "8080->80/tcp") || b.Network == "" || b.Host == "" {
		t.Errorf("containerB: %+v, want its network, host and 8080->80/tcp published", b)
	}
	gw := node(t, v, b.Host)
	if gw.Kind != live.KindGateway || len(gw.Published) == 0 {
		t.Errorf("%s: %+v, want a gateway with the published ports", b.Host, gw)
	}
	var bridge string
	for _, n := range v.Networks {
		if n.Name == b.Network {
			bridge = n.Bridge
			if n.Subnet == "" || n.Gateway == "" || n.Driver != "bridge" {
				t.Errorf("network %+v, want its subnet, gateway and driver", n)
			}
		}
	}
	if sw := node(t, v, bridge); sw.Kind != live.KindSwitch || sw.Network != b.Network {
		t.Errorf("bridge %s: %+v, want the switch of network %s", bridge, sw, b.Network)
	}
}

// Impairments are drawn from the world's links as they are now.
func TestTopologyOfImpairments(t *testing.T) {
	v, _ := topologyOf(t, "impaired-link")
	for _, l := range v.Links {
		if l.A.Node == "h1" || l.B.Node == "h1" {
			if l.Latency != 0.010 {
				t.Errorf("link %s: latency %v s, want 0.010", l.ID, l.Latency)
			}
			return
		}
	}
	t.Fatal("no link of h1 drawn")
}

// A running world's drawing shows its links' carrier and each switch's
// STP states as they are now.
func TestWorldTopology(t *testing.T) {
	_, g := topologyOf(t, "stp-triangle")
	b, err := backend.Build("mem", g, backend.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := b.World()
	down := g.Links[0]
	if err := w.SetLink(down.A, false); err != nil {
		t.Fatal(err)
	}
	v := live.WorldTopology("stp-triangle", w)
	for _, l := range v.Links {
		if want := l.ID != down.Name(); l.Up != want {
			t.Errorf("link %s: up %v, want %v", l.ID, l.Up, want)
		}
	}
	for _, s := range []string{"s1", "s2", "s3"} {
		for _, p := range node(t, v, s).Ports {
			if p.Role == "" || p.State == "" {
				t.Errorf("%s %s: role %q state %q, want the port's STP role and state", s, p.Name, p.Role, p.State)
			}
		}
	}
}
