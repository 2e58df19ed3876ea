package mem_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

// The Docker model from Go: a network, two containers and a client on the
// LAN; a name looked up through the container's DNS, a published port
// reached from outside, and the conntrack table that shows it.
func Example_docker() {
	d := &docker.Model{
		Networks: []docker.Network{{Name: "mybridge"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "mybridge"}}},
			{Name: "b", Endpoints: []docker.Endpoint{{Network: "mybridge", Aliases: []string{"web"}}},
				Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}, ListenTCP: []uint16{80}},
			{Name: "client", Attach: "lan"},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := n.Resolve("a", "web", dns.TypeA, time.Second)
	fmt.Println("web is", r.Addrs, r.Rcode)
	c, _ := n.Dial("client", netip.MustParseAddrPort("192.168.56.11:8080"), time.Second)
	fmt.Println("host1:8080 is", c.Result, "and b saw the client as", c.Peer.Addr())
	flows, _ := n.World().NAT("host1")
	for _, f := range flows {
		fmt.Println(f.Kind, f.Orig, "->", f.Reply.Src)
	}
	// Output:
	// web is [172.18.0.3] NOERROR
	// host1:8080 is open and b saw the client as 192.168.56.12
	// published tcp 192.168.56.12:32768 -> 192.168.56.11:8080 -> 172.18.0.3:80
}
