package topo_test

import (
	"net/netip"
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

// TestCompileAddresses: the default network takes 172.17/16 first; user
// networks follow in file order; a static address is taken before any
// dynamic one, whatever the order of the containers; an ephemeral host
// port starts at 49153.
func TestCompileAddresses(t *testing.T) {
	d := &topo.Docker{
		Networks: []topo.Network{{Name: "one"}, {Name: "two", Subnet: netip.MustParsePrefix("10.9.0.0/24")}},
		Containers: []topo.Container{
			{Name: "dyn", Endpoints: []topo.EndpointConfig{{Network: "one"}}},
			{Name: "static", Endpoints: []topo.EndpointConfig{{Network: "one", IP: netip.MustParseAddr("172.18.0.2")}},
				Publish: []topo.PortMapping{{Proto: "tcp", ContainerPort: 80}}},
			{Name: "default"},
			{Name: "both", Endpoints: []topo.EndpointConfig{{Network: "two"}, {Network: "one"}}},
		},
	}
	g := &topo.Graph{}
	if _, err := d.Compile(g); err != nil {
		t.Fatal(err)
	}
	addr := func(host, iface string) string {
		h := g.Host(host)
		if h == nil || h.Iface(iface) == nil {
			return ""
		}
		return h.Iface(iface).Addr.String()
	}
	for _, c := range []struct{ host, iface, want string }{
		{"static", "eth0", "172.18.0.2/16"},
		{"dyn", "eth0", "172.18.0.3/16"},
		{"default", "eth0", "172.17.0.2/16"},
		{"both", "eth0", "10.9.0.2/24"},
		{"both", "eth1", "172.18.0.4/16"},
		{"host1", "eth0", "192.168.56.11/24"},
		{"host1", "docker0", "172.17.0.1/16"},
		{"host1", "br-one", "172.18.0.1/16"},
		{"host1", "br-two", "10.9.0.1/24"},
	} {
		if got := addr(c.host, c.iface); got != c.want {
			t.Errorf("%s:%s = %q, want %s", c.host, c.iface, got, c.want)
		}
	}
	if p := g.Host("host1").Router.Publish; len(p) != 1 || p[0].Ext.Port() != 49153 {
		t.Errorf("published %+v, want host port 49153", p)
	}
	if gw := g.Host("both").Gateway; gw != netip.MustParseAddr("10.9.0.1") {
		t.Errorf("both's default route via %v, want its first network's gateway", gw)
	}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
}
