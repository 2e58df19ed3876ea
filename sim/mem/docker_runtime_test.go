package mem_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestDockerAtRunTimeLeavesThePlan: connect, disconnect, stop and start
// change the world's Docker state and its sandboxes; the compiled plan
// and its IPAM stay as compiled. Interfaces are numbered per sandbox as
// Docker 20.10 numbers them (never reused while it runs), from eth0 again
// after a start.
func TestDockerAtRunTimeLeavesThePlan(t *testing.T) {
	g, err := docker.Compile(&docker.Model{
		Networks: []docker.Network{{Name: "n1"}, {Name: "n2"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "n1"}}},
			{Name: "b", Endpoints: []docker.Endpoint{{Network: "n2"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	planned, _ := g.Docker.Hosts[0].IPAM.Network("n2")
	n, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := n.World()
	var names []string
	for range 2 {
		what, err := w.DockerConnect("a", "n2", netip.Addr{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, what[0][:4])
		if _, err := w.DockerDisconnect("a", "n2"); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(names, []string{"eth1", "eth2"}) {
		t.Errorf("connect, disconnect, connect gave %v, want [eth1 eth2] (Docker 20.10's nextIfIndex)", names)
	}
	if _, err := w.DockerConnect("a", "n2", netip.Addr{}, nil); err != nil {
		t.Fatal(err)
	}
	b := netip.MustParseAddr("172.19.0.2")
	if st, err := n.Ping("a", b, 1, time.Second, time.Second); err != nil || st.Received != 1 {
		t.Fatalf("a -> b over n2: %+v %v", st, err)
	}
	if _, err := w.DockerStop("b"); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.Ping("a", b, 1, time.Second, time.Second); st.Received != 0 {
		t.Error("b answers while stopped")
	}
	what, err := w.DockerStart("b")
	if err != nil || len(what) < 2 || what[1][:4] != "eth0" {
		t.Fatalf("start: %v %v", what, err)
	}
	// b's 172.19.0.2 was free again (a has .3): the lowest free.
	if st, err := n.Ping("a", b, 1, time.Second, time.Second); err != nil || st.Received != 1 {
		t.Errorf("a -> b after the start: %+v %v", st, err)
	}
	// The plan is as compiled.
	if now, _ := g.Docker.Hosts[0].IPAM.Network("n2"); !slices.Equal(now.Used, planned.Used) {
		t.Errorf("the plan's IPAM changed: %v, compiled %v", now.Used, planned.Used)
	}
	if eps := g.Docker.Containers[0].Endpoints; len(eps) != 1 {
		t.Errorf("the plan's container a has %d endpoints, compiled 1", len(eps))
	}
	if len(g.Host("a").Ifaces) != 1 {
		t.Errorf("the plan's host a has %d interfaces, compiled 1", len(g.Host("a").Ifaces))
	}
	if d := w.Docker(); len(d.Containers[0].Endpoints) != 2 {
		t.Errorf("the world's container a has %d endpoints, want 2", len(d.Containers[0].Endpoints))
	}
}

// TestDockerStartKeepsStaticAddress: a static address (ip:) is asked for
// again at each start; while stopped the record shows no address.
func TestDockerStartKeepsStaticAddress(t *testing.T) {
	g, err := docker.Compile(&docker.Model{
		Networks: []docker.Network{{Name: "n", Subnet: netip.MustParsePrefix("10.9.0.0/24")}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "n"}}},
			{Name: "c", Endpoints: []docker.Endpoint{{Network: "n", IP: netip.MustParseAddr("10.9.0.5")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := n.World()
	if _, err := w.DockerStop("c"); err != nil {
		t.Fatal(err)
	}
	if e := w.Docker().Containers[1].Endpoints[0]; e.Addr.IsValid() {
		t.Errorf("stopped, c shows %s", e.Addr)
	}
	if _, err := w.DockerStart("c"); err != nil {
		t.Fatal(err)
	}
	if e := w.Docker().Containers[1].Endpoints[0]; e.Addr.Addr() != netip.MustParseAddr("10.9.0.5") {
		t.Errorf("started, c has %s, want its static 10.9.0.5", e.Addr)
	}
	if st, err := n.Ping("a", netip.MustParseAddr("10.9.0.5"), 1, time.Second, time.Second); err != nil || st.Received != 1 {
		t.Errorf("a -> c: %+v %v", st, err)
	}
}
