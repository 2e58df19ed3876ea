package topo_test

import (
	"net/netip"
	"strings"
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
		{"0.0.0.0:80:80", topo.PortMapping{Proto: "tcp", HostPort: 80, ContainerPort: 80}, false},
		{"127.0.0.1:8080:80", topo.PortMapping{Proto: "tcp", HostPort: 8080, ContainerPort: 80, HostIP: netip.MustParseAddr("127.0.0.1")}, false},
		{"127.0.0.1::80/udp", topo.PortMapping{Proto: "udp", ContainerPort: 80, HostIP: netip.MustParseAddr("127.0.0.1")}, false},
		{"8000-8010:80", topo.PortMapping{Proto: "tcp", HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80}, false},
		{"8000-8001:80-81", topo.PortMapping{}, true}, // two ports: ParsePortSpec's
		{"::1:80:80", topo.PortMapping{}, true},
		{"8000-7000:80", topo.PortMapping{}, true},
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

// TestParsePortSpec: ranges as docker run -p reads them, and Docker's
// words when the two do not match.
func TestParsePortSpec(t *testing.T) {
	ms, err := topo.ParsePortSpec("192.168.56.11:8000-8002:80-82/udp")
	if err != nil || len(ms) != 3 {
		t.Fatalf("got %+v, %v", ms, err)
	}
	for i, m := range ms {
		if m.HostPort != 8000+uint16(i) || m.ContainerPort != 80+uint16(i) || m.Proto != "udp" || m.HostIP.String() != "192.168.56.11" {
			t.Errorf("mapping %d: %+v", i, m)
		}
	}
	_, err = topo.ParsePortSpec("8000-8010:80-85")
	if err == nil || !strings.Contains(err.Error(), "invalid ranges specified for container and host Ports: 80-85 and 8000-8010") {
		t.Errorf("mismatched ranges: %v", err)
	}
}

// TestPortAllocator: ports left to Docker come in sequence from the
// range, a freed one not again until the range wraps; 0.0.0.0 and a
// single address exclude each other; a port taken is refused in
// Docker's words.
func TestPortAllocator(t *testing.T) {
	a := topo.NewPortAllocator(32768, 32770)
	var any netip.Addr
	lo := netip.MustParseAddr("127.0.0.1")
	req := func(ip netip.Addr, port, end uint16) uint16 {
		t.Helper()
		p, err := a.Request("tcp", ip, port, end)
		if err != nil {
			t.Fatalf("Request(%v, %d, %d): %v", ip, port, end, err)
		}
		return p
	}
	if p := req(any, 0, 0); p != 32768 {
		t.Errorf("first ephemeral %d, want 32768", p)
	}
	if p := req(any, 0, 0); p != 32769 {
		t.Errorf("second ephemeral %d, want 32769", p)
	}
	a.Release("tcp", any, 32768)
	if p := req(any, 0, 0); p != 32770 {
		t.Errorf("after a release %d, want 32770 (no quick reuse)", p)
	}
	if p := req(any, 0, 0); p != 32768 {
		t.Errorf("wrapped to %d, want 32768", p)
	}
	if _, err := a.Request("tcp", any, 0, 0); err == nil {
		t.Errorf("a full range handed out a port")
	}
	if p := req(lo, 8080, 0); p != 8080 {
		t.Errorf("127.0.0.1:8080 got %d", p)
	}
	if _, err := a.Request("tcp", any, 8080, 0); err == nil || err.Error() != "Bind for 0.0.0.0:8080 failed: port is already allocated" {
		t.Errorf("0.0.0.0:8080 after 127.0.0.1:8080: %v", err)
	}
	if _, err := a.Request("udp", any, 8080, 0); err != nil {
		t.Errorf("8080/udp: %v", err)
	}
	if p := req(any, 9000, 9002); p != 9000 {
		t.Errorf("from 9000-9002 got %d", p)
	}
}
