package mem_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// mesh returns n switches running STP, joined by a random spanning tree
// plus extra random links (seeded): a connected mesh with loops.
func mesh(n, extra int, seed uint64) *topo.Graph {
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg := &vswitch.STPConfig{}
	g := &topo.Graph{}
	ports := make([]int, n)
	port := func(i int) topo.Endpoint {
		ports[i]++
		return topo.Endpoint{Node: fmt.Sprintf("s%d", i), Port: fmt.Sprintf("p%d", ports[i])}
	}
	for i := range n {
		g.Switches = append(g.Switches, topo.Switch{Name: fmt.Sprintf("s%d", i), STP: cfg})
		if i > 0 {
			g.Links = append(g.Links, topo.Link{A: port(i), B: port(rng.IntN(i))})
		}
	}
	for range extra {
		a, b := rng.IntN(n), rng.IntN(n)
		if a != b {
			g.Links = append(g.Links, topo.Link{A: port(a), B: port(b)})
		}
	}
	return g
}

// converge runs a mesh until spanning tree has been quiet for long enough
// and returns the virtual time of its last change.
func converge(tb testing.TB, g *topo.Graph) (last time.Duration, n *mem.Network) {
	var err error
	n, err = mem.New(g, mem.Options{Seed: 1, Tracer: trace.Func(func(e trace.Event) {
		if e.Kind == trace.STP {
			last = n.Elapsed()
		}
	})})
	if err != nil {
		tb.Fatal(err)
	}
	quiet := vswitch.DefaultMaxAge + 2*vswitch.DefaultForwardDelay
	for n.Elapsed()-last < quiet && n.Elapsed() < 10*time.Minute {
		if err := n.Wait(time.Second); err != nil {
			tb.Fatal(err)
		}
	}
	return last, n
}

// checkTree verifies one root and that the forwarding switch-to-switch
// links form a spanning tree: no cycle among them (two links between the
// same pair of switches count as one), every switch reached, and so
// exactly n-1 of them.
func checkTree(tb testing.TB, n *mem.Network, g *topo.Graph) {
	st0, _ := n.World().STP(g.Switches[0].Name)
	forwarding := 0
	parent := map[string]string{}
	var find func(s string) string
	find = func(s string) string {
		if p, ok := parent[s]; ok && p != s {
			r := find(p)
			parent[s] = r
			return r
		}
		return s
	}
	for _, l := range g.Links {
		both := true
		for _, e := range []topo.Endpoint{l.A, l.B} {
			st, _ := n.World().STP(e.Node)
			if st.Root != st0.Root {
				tb.Fatalf("%s disagrees on the root", e.Node)
			}
			for _, p := range st.Ports {
				if p.Port == e.Port && p.State != vswitch.StateForwarding {
					both = false
				}
			}
		}
		if both {
			forwarding++
			a, b := find(l.A.Node), find(l.B.Node)
			if a == b {
				tb.Fatalf("the forwarding links have a cycle through %s -- %s", l.A, l.B)
			}
			parent[a] = b
		}
	}
	for _, sw := range g.Switches {
		if find(sw.Name) != find(g.Switches[0].Name) {
			tb.Fatalf("%s is cut off from %s: the forwarding links do not span the mesh", sw.Name, g.Switches[0].Name)
		}
	}
	if forwarding != len(g.Switches)-1 {
		tb.Fatalf("%d links forward, want %d for a tree over %d switches", forwarding, len(g.Switches)-1, len(g.Switches))
	}
}

func TestSTPMeshConverges(t *testing.T) {
	g := mesh(60, 40, 7)
	last, n := converge(t, g)
	checkTree(t, n, g)
	t.Logf("60 switches, %d links: converged at %v of virtual time", len(g.Links), last)
}

// BenchmarkSTPMesh1000 converges a random mesh of 1000 switches (1500
// links, seeded) with 802.1D's default timers, and reports the virtual time
// of the last spanning tree change and the simulated events.
func BenchmarkSTPMesh1000(b *testing.B) {
	g := mesh(1000, 500, 7)
	var last time.Duration
	var events uint64
	for b.Loop() {
		var n *mem.Network
		last, n = converge(b, g)
		checkTree(b, n, g)
		events = n.Engine.Events()
	}
	b.ReportMetric(last.Seconds(), "virtual-s")
	b.ReportMetric(float64(events), "events")
}
