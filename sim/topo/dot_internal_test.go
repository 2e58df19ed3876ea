package topo

import (
	"net/netip"
	"reflect"
	"testing"

	vswitch "github.com/netyard/netyard/switch"
)

// TestDrawingIndexesMatchGraph: the indexes DOT builds to stay linear
// give what PortNames, PortConfig and LinkOf give, so the drawing cannot
// drift from what the backends build.
func TestDrawingIndexesMatchGraph(t *testing.T) {
	prio := uint16(0)
	g := &Graph{
		Switches: []Switch{
			{Name: "s1", STP: &vswitch.STPConfig{Priority: &prio}, Ports: []Port{
				{Name: "p1", VLAN: 10}, {Name: "p2", NotEdge: true}, {Name: "p3", Mode: vswitch.Trunk, Allowed: []uint16{10}, Native: 20, STP: vswitch.PortSTP{Cost: 4, RootGuard: true}},
			}},
			{Name: "s2"},
		},
		Hosts: []Host{
			{Name: "h1", Ifaces: []Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}},
			{Name: "h2", Ifaces: []Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
		},
		Links: []Link{
			{A: Endpoint{"h1", "eth0"}, B: Endpoint{"s1", "p1"}},
			{A: Endpoint{"s1", "p2"}, B: Endpoint{"h2", "eth0"}},
			{A: Endpoint{"s1", "p3"}, B: Endpoint{"s2", "up"}},
			{A: Endpoint{"s2", "down"}, B: Endpoint{"s1", "p9"}},
			{A: Endpoint{"s1", "p9"}, B: Endpoint{"s2", "again"}}, // p9 used twice: LinkOf finds the first
		},
	}
	d := newDrawing(g)
	for _, s := range g.Switches {
		if got, want := d.ix.PortNames(s.Name), g.PortNames(s.Name); !reflect.DeepEqual(got, want) {
			t.Errorf("ports of %s = %v, want %v (PortNames)", s.Name, got, want)
		}
		for _, p := range g.PortNames(s.Name) {
			e := Endpoint{s.Name, p}
			if got, want := d.conf[e], g.PortConfig(s.Name, p); !reflect.DeepEqual(got, want) {
				t.Errorf("config of %s = %+v, want %+v (PortConfig)", e, got, want)
			}
			if got := d.ix.LinkOf(e); got != g.LinkOf(e) {
				t.Errorf("link at %s = %d, want %d (LinkOf)", e, got, g.LinkOf(e))
			}
		}
	}
}
