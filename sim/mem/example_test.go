package mem_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
)

// Build a topology in Go, run it on the virtual clock and look at the
// switch: the same thing a scenario file does, for a Go test.
func Example() {
	g := &topo.Graph{
		Switches: []topo.Switch{{Name: "s1"}},
		Hosts: []topo.Host{
			{Name: "h1", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.1/24")}}},
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.0.2/24")}}},
		},
		Links: []topo.Link{
			{A: topo.Endpoint{Node: "h1", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p1"},
				Config: sim.LinkConfig{Latency: 5 * time.Millisecond}},
			{A: topo.Endpoint{Node: "h2", Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: "p2"}},
		},
	}
	net, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := net.Ping("h1", netip.MustParseAddr("10.0.0.2"), 3, time.Second, time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d/%d replies, rtt %v (first one waited for ARP)\n", st.Received, st.Sent, st.RTTs)
	for _, e := range net.World().Switch("s1").FDB() {
		fmt.Println(e.MAC, "on", e.Port, "vlan", e.VLAN)
	}
	// Output:
	// 3/3 replies, rtt [20ms 10ms 10ms] (first one waited for ARP)
	// 02:00:00:00:00:01 on p1 vlan 1
	// 02:00:00:00:00:02 on p2 vlan 1
}
