package mem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo/docker"
)

// TestEmbeddedDNS: a container's embedded server at 127.0.0.11 answers
// over UDP and TCP on the container's own stack (nothing on any link),
// narrated as its host's daemon's; a container's own udp/53 server keeps
// its socket beside it; network connect and disconnect (the host's Add and
// Remove) change what the container resolves at once; the gateway has
// nothing on port 53.
func TestEmbeddedDNS(t *testing.T) {
	d := &docker.Model{
		Networks: []docker.Network{{Name: "n1"}, {Name: "n2"}},
		Containers: []docker.Container{
			{Name: "a", Endpoints: []docker.Endpoint{{Network: "n1"}}, ListenUDP: []uint16{53}},
			{Name: "b", Endpoints: []docker.Endpoint{{Network: "n1"}}},
			{Name: "c", Endpoints: []docker.Endpoint{{Network: "n2"}}},
		},
	}
	g, err := docker.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	var bus trace.Bus
	var frames, answers int
	bus.Subscribe(func(e trace.Event) {
		switch {
		case e.Kind == trace.Frame:
			frames++
		case e.Op == trace.OpDNSAnswer && e.Member == "host1" && e.Node == "a":
			answers++
		}
	}, trace.Frame, trace.Host)
	n, err := mem.New(g, mem.Options{Seed: 1, Tracer: &bus})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(tcp bool, name string) *dns.Msg {
		t.Helper()
		var got *dns.Msg
		query := n.Stack("a").Query
		if tcp {
			query = n.Stack("a").QueryTCP
		}
		if _, err := query(netip.MustParseAddr("127.0.0.11"), name, dns.TypeA, func(m *dns.Msg, err error) {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got = m
		}); err != nil {
			t.Fatal(err)
		}
		if err := n.Wait(time.Second); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatalf("%s (tcp %v): no answer", name, tcp)
		}
		return got
	}
	for _, tcp := range []bool{false, true} {
		if m := ask(tcp, "b"); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Errorf("b over tcp=%v: %v", tcp, m)
		}
	}
	if frames != 0 || answers != 2 {
		t.Errorf("%d frames on links and %d answers of host1's embedded server, want 0 and 2", frames, answers)
	}
	if m := ask(false, "c"); m.Rcode != dns.RcodeNameError {
		t.Errorf("c, on another network: %v, want NXDOMAIN", m)
	}
	dnsd := n.World().Gateway("host1").DNS()
	dnsd.Add("n2", "a", netip.MustParseAddr("172.19.0.3")) // docker network connect n2 a
	if m := ask(false, "c"); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("c after connecting a to n2: %v", m)
	}
	dnsd.Remove("n1", "a") // docker network disconnect n1 a
	if m := ask(false, "b"); m.Rcode != dns.RcodeNameError {
		t.Errorf("b after disconnecting a from n1: %v, want NXDOMAIN", m)
	}
	r, err := n.UDP("b", netip.MustParseAddr("172.18.0.2"), 53, time.Second)
	if err != nil || !r.Delivered {
		t.Errorf("a's own udp/53 beside the embedded server: %+v %v", r, err)
	}
	res, err := n.ResolveAt("a", netip.MustParseAddr("172.18.0.1"), "b", dns.TypeA, time.Second)
	if err != nil || res.Err != "port unreachable" {
		t.Errorf("b @172.18.0.1: %+v %v, want port unreachable", res, err)
	}
}
