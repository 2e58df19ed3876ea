package docker_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestCompileAddresses: the default network takes 172.17/16 first; user
// networks follow in file order; addresses are given out in container
// order; an ephemeral host port starts at the host's range (Linux's
// 32768); a container on two networks takes its default route by
// Docker's order (by network name here), whatever eth0 is.
func TestCompileAddresses(t *testing.T) {
	d := &docker.Model{
		Networks: []docker.Network{{Name: "one"}, {Name: "two", Subnet: netip.MustParsePrefix("10.9.0.0/24")}},
		Containers: []docker.Container{
			{Name: "dyn", Endpoints: []docker.Endpoint{{Network: "two"}}},
			{Name: "static", Endpoints: []docker.Endpoint{{Network: "two", IP: netip.MustParseAddr("10.9.0.10")}},
				Publish: []topo.PortMapping{{Proto: "tcp", ContainerPort: 80}}},
			{Name: "default"},
			{Name: "both", Endpoints: []docker.Endpoint{{Network: "two"}, {Network: "one"}}},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
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
		{"dyn", "eth0", "10.9.0.2/24"},
		{"static", "eth0", "10.9.0.10/24"},
		{"default", "eth0", "172.17.0.2/16"},
		{"both", "eth0", "10.9.0.3/24"},
		{"both", "eth1", "172.18.0.2/16"},
		{"host1", "eth0", "192.168.56.11/24"},
		{"host1", "docker0", "172.17.0.1/16"},
		{"host1", "br-one", "172.18.0.1/16"},
		{"host1", "br-two", "10.9.0.1/24"},
	} {
		if got := addr(c.host, c.iface); got != c.want {
			t.Errorf("%s:%s = %q, want %s", c.host, c.iface, got, c.want)
		}
	}
	if p := g.Host("host1").Router.Publish; len(p) != 1 || p[0].Ext.Port() != topo.DefaultPortFirst {
		t.Errorf("published %+v, want host port %d", p, topo.DefaultPortFirst)
	}
	if gw := g.Host("both").Gateway; gw != netip.MustParseAddr("172.18.0.1") {
		t.Errorf("both's default route via %v, want one's gateway (Docker orders endpoints by network name)", gw)
	}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
}

// TestCompileChangesNothing: the model compiles into a new graph and is
// left as it was written.
func TestCompileChangesNothing(t *testing.T) {
	d := &docker.Model{
		Networks:   []docker.Network{{Name: "one"}},
		Containers: []docker.Container{{Name: "a", Endpoints: []docker.Endpoint{{Network: "one"}}, Publish: []topo.PortMapping{{Proto: "tcp", ContainerPort: 80}}}},
	}
	before := *d
	before.Containers = append([]docker.Container(nil), d.Containers...)
	before.Containers[0].Publish = append([]topo.PortMapping(nil), d.Containers[0].Publish...)
	before.Containers[0].Endpoints = append([]docker.Endpoint(nil), d.Containers[0].Endpoints...)
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*d, before) {
		t.Errorf("Compile changed its model:\n got %+v\nwant %+v", *d, before)
	}
	if p := g.Docker.Containers[0].Publish[0].HostPort; p != topo.DefaultPortFirst {
		t.Errorf("the plan's host port %d, want %d", p, topo.DefaultPortFirst)
	}
}

// TestSeveralHosts: each Docker host has its own default network (the same
// subnet, as on real hosts), its own gateway and DNS; a container runs on
// the host it names; the bridges are named after their hosts.
func TestSeveralHosts(t *testing.T) {
	d := &docker.Model{
		Hosts:    []docker.Host{{Name: "host1", Address: netip.MustParsePrefix("192.168.56.11/24")}, {Name: "host2", Address: netip.MustParsePrefix("192.168.56.12/24")}},
		Networks: []docker.Network{{Name: "app"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "app"}}},
			{Name: "b", Host: "host2", Endpoints: []docker.Endpoint{{Network: "app"}}, Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}},
			{Name: "c", Host: "host2"},
			{Name: "client", Attach: "lan"},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("compiled graph: %v", err)
	}
	for _, c := range []struct{ host, iface, want string }{
		{"a", "eth0", "172.18.0.2/16"},
		{"b", "eth0", "172.18.0.2/16"}, // host2's own app network
		{"c", "eth0", "172.17.0.2/16"},
		{"client", "eth0", "192.168.56.13/24"},
		{"host2", "eth0", "192.168.56.12/24"},
		{"host2", "docker0", "172.17.0.1/16"},
	} {
		if got := g.Host(c.host).Iface(c.iface).Addr.String(); got != c.want {
			t.Errorf("%s:%s = %s, want %s", c.host, c.iface, got, c.want)
		}
	}
	for _, sw := range []string{"lan", "host1.docker0", "host1.br-app", "host2.docker0", "host2.br-app"} {
		if g.Switch(sw) == nil {
			t.Errorf("no switch %s", sw)
		}
	}
	if l := g.LinkOf(topo.Endpoint{Node: "b", Port: "eth0"}); l < 0 || g.Links[l].A.Node != "host2.br-app" {
		t.Errorf("b is not on host2's app bridge")
	}
	r := g.Host("host2").Router
	if len(r.Publish) != 1 || r.Publish[0].Ext.String() != "192.168.56.12:8080" {
		t.Errorf("host2 publishes %+v, want 192.168.56.12:8080", r.Publish)
	}
	for _, n := range r.DNS {
		if n.Container == "a" {
			t.Errorf("host2's DNS answers for a, a container of host1")
		}
	}
	if n := g.Docker.Network("host2", "app"); n == nil || n.Bridge != "br-app" || n.Subnet.String() != "172.18.0.0/16" {
		t.Errorf("host2's app network: %+v", n)
	}
}

// TestCompileRefuses: problems are reported at the model's fields, all of
// them.
func TestCompileRefuses(t *testing.T) {
	d := &docker.Model{
		Hosts:      []docker.Host{{Name: "host1"}, {Name: "host2", Address: netip.MustParsePrefix("10.0.0.2/24")}},
		Networks:   []docker.Network{{Name: "x", Driver: "overlai"}},
		Containers: []docker.Container{{Name: "a", Host: "host3"}},
	}
	_, err := docker.Compile(d)
	for _, want := range []string{
		"hosts[1].address: 10.0.0.2/24 is not on the LAN 192.168.56.0/24",
		`networks[0].driver: driver "overlai" is not supported yet (bridge, host, ipvlan, macvlan, none, overlay)`,
		`containers[0].host: unknown Docker host "host3"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestEngineRules: the default route by libnetwork's order (internal
// last, gw_priority first), ports published through that endpoint and
// none for a container on internal networks only, driver options on the
// bridge and its ports, and Docker's bridge name for a long network name.
func TestEngineRules(t *testing.T) {
	d := &docker.Model{
		Networks: []docker.Network{
			{Name: "aaa", Internal: true},
			{Name: "zzz"},
			{Name: "mmm", DriverOpts: map[string]string{docker.OptICC: "false", docker.OptMasquerade: "0", docker.OptMTU: "1400"}},
			{Name: "a-name-longer-than-linux-takes"},
		},
		Containers: []docker.Container{
			{Name: "two", Endpoints: []docker.Endpoint{{Network: "aaa"}, {Network: "zzz"}}, Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}},
			{Name: "prio", Endpoints: []docker.Endpoint{{Network: "zzz"}, {Network: "mmm", GwPriority: 5}}},
			{Name: "inner", Endpoints: []docker.Endpoint{{Network: "aaa"}}, Publish: []topo.PortMapping{{Proto: "tcp", HostPort: 9090, ContainerPort: 80}}},
			{Name: "long", Endpoints: []docker.Endpoint{{Network: "a-name-longer-than-linux-takes"}}},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	two := g.Host("two")
	if two.Gateway != netip.MustParseAddr("172.19.0.1") || two.Ifaces[0].Name != "eth0" || two.Ifaces[0].Addr.Addr() != netip.MustParseAddr("172.18.0.2") {
		t.Errorf("two: route via %v, ifaces %+v; want zzz's gateway, eth0 on aaa", two.Gateway, two.Ifaces)
	}
	r := g.Host("host1").Router
	if len(r.Publish) != 1 || r.Publish[0].To.String() != "172.19.0.2:80" {
		t.Errorf("published %+v, want only two's 8080 to its zzz address", r.Publish)
	}
	if gw := g.Host("prio").Gateway; gw != netip.MustParseAddr("172.20.0.1") {
		t.Errorf("prio's route via %v, want mmm's (gw_priority 5)", gw)
	}
	if i := g.Host("prio").Iface("eth1"); i == nil || i.MTU != 1400 {
		t.Errorf("prio's eth1 on mmm: %+v, want MTU 1400", i)
	}
	sw := g.Switch("br-mmm")
	if sw == nil || len(sw.Ports) != 2 || sw.Ports[0].Isolated || !sw.Ports[1].Isolated {
		t.Errorf("br-mmm ports %+v: want the gateway's open, prio's isolated", sw)
	}
	for _, b := range r.Bridges {
		if b.Network == "mmm" && !b.NoMasquerade {
			t.Errorf("mmm's leg masquerades")
		}
	}
	want := docker.BridgeName("a-name-longer-than-linux-takes")
	if want != "br-"+docker.NetworkID("a-name-longer-than-linux-takes")[:12] || g.Switch(want) == nil {
		t.Errorf("long network's bridge %q not in the graph", want)
	}
	if p := g.Docker.Hosts[0].Ports; p == nil || p.First != topo.DefaultPortFirst || p.Last != topo.DefaultPortLast {
		t.Errorf("host1's port allocator %+v", p)
	}
}
