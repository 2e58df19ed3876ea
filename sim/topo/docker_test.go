package topo_test

import (
	"testing"

	"github.com/netyard/netyard/sim/topo"
)

func TestParsePortMapping(t *testing.T) {
	for _, c := range []struct {
		in   string
		want topo.PortMapping
		bad  bool
	}{
		{"8080:80/tcp", topo.PortMapping{Proto: "tcp", HostPort: 8080, ContainerPort: 80}, false},
		{"8080:80", topo.PortMapping{Proto: "tcp", HostPort: 8080, ContainerPort: 80}, false},
		{"53/udp", topo.PortMapping{Proto: "udp", ContainerPort: 53}, false},
		{"80", topo.PortMapping{Proto: "tcp", ContainerPort: 80}, false},
		{"0.0.0.0:80:80", topo.PortMapping{}, true},
		{"80/sctp", topo.PortMapping{}, true},
		{"70000", topo.PortMapping{}, true},
		{"0", topo.PortMapping{}, true},
		{"", topo.PortMapping{}, true},
	} {
		got, err := topo.ParsePortMapping(c.in)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("%q: got %+v, %v", c.in, got, err)
		}
	}
}
