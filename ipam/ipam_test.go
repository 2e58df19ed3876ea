package ipam_test

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netyard/netyard/ipam"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func TestDockerDefaultPools(t *testing.T) {
	a := ipam.New(nil)
	want := []string{"172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"}
	for i, name := range []string{"bridge", "mybridge", "backend"} {
		n, err := a.RequestNetwork(ipam.Request{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if n.Subnet.String() != want[i] || n.Gateway != n.Subnet.Addr().Next() {
			t.Errorf("%s got %s gateway %s, want %s and its first address", name, n.Subnet, n.Gateway, want[i])
		}
	}
	// An explicit subnet inside a pool subnet makes the pool skip it.
	if _, err := a.RequestNetwork(ipam.Request{Name: "fixed", Subnet: pfx("172.20.5.0/24")}); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.RequestNetwork(ipam.Request{Name: "next"}); n.Subnet.String() != "172.21.0.0/16" {
		t.Errorf("next pool subnet %s, want 172.21.0.0/16 (172.20/16 overlaps fixed)", n.Subnet)
	}
	for i := 22; i <= 31; i++ {
		if _, err := a.RequestNetwork(ipam.Request{Name: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := a.RequestNetwork(ipam.Request{Name: "after172"}); n.Subnet.String() != "192.168.0.0/20" {
		t.Errorf("after the 172 pools: %s, want 192.168.0.0/20", n.Subnet)
	}
	if n, _ := a.RequestNetwork(ipam.Request{Name: "after172b"}); n.Subnet.String() != "192.168.16.0/20" {
		t.Errorf("then %s, want 192.168.16.0/20", n.Subnet)
	}
}

func TestRefusals(t *testing.T) {
	a := ipam.New(nil)
	if _, err := a.RequestNetwork(ipam.Request{Name: "n1", Subnet: pfx("10.1.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  ipam.Request
		want error
	}{
		{"overlap", ipam.Request{Name: "n2", Subnet: pfx("10.1.2.0/24")}, ipam.ErrOverlap},
		{"same name", ipam.Request{Name: "n1", Subnet: pfx("10.9.0.0/24")}, ipam.ErrExists},
		{"gateway outside", ipam.Request{Name: "n3", Subnet: pfx("10.2.0.0/24"), Gateway: ip("10.3.0.1")}, ipam.ErrOutOfRange},
		{"gateway is the broadcast", ipam.Request{Name: "n3", Subnet: pfx("10.2.0.0/24"), Gateway: ip("10.2.0.255")}, ipam.ErrOutOfRange},
		{"range outside", ipam.Request{Name: "n3", Subnet: pfx("10.2.0.0/24"), IPRange: pfx("10.2.1.0/25")}, ipam.ErrOutOfRange},
		{"aux outside", ipam.Request{Name: "n3", Subnet: pfx("10.2.0.0/24"), Aux: map[string]netip.Addr{"x": ip("10.7.0.1")}}, ipam.ErrOutOfRange},
	}
	for _, tc := range tests {
		if _, err := a.RequestNetwork(tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := a.RequestNetwork(ipam.Request{Name: "bits", Subnet: pfx("10.5.0.7/24")}); err == nil {
		t.Error("a subnet with host bits was accepted")
	}
}

func TestAddressesSerialRangeStaticRelease(t *testing.T) {
	a := ipam.New(nil)
	_, err := a.RequestNetwork(ipam.Request{Name: "n", Subnet: pfx("172.30.0.0/24"), IPRange: pfx("172.30.0.0/29"),
		Aux: map[string]netip.Addr{"host1": ip("172.30.0.3")}})
	if err != nil {
		t.Fatal(err)
	}
	// The /29 holds .0-.7; .0 is the subnet's network address, .1 the
	// gateway, .3 auxiliary; .7 is an ordinary address of the /24.
	var got []string
	for range 5 {
		addr, err := a.RequestAddress("n", netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, addr.String())
	}
	if want := "[172.30.0.2 172.30.0.4 172.30.0.5 172.30.0.6 172.30.0.7]"; fmtList(got) != want {
		t.Errorf("allocated %v, want %s", got, want)
	}
	if _, err := a.RequestAddress("n", netip.Addr{}); !errors.Is(err, ipam.ErrExhausted) {
		t.Errorf("a full range gave %v", err)
	}
	if err := a.ReleaseAddress("n", ip("172.30.0.4")); err != nil {
		t.Fatal(err)
	}
	if addr, _ := a.RequestAddress("n", netip.Addr{}); addr != ip("172.30.0.4") {
		t.Errorf("after a release, got %s, want the released 172.30.0.4", addr)
	}
	// Static addresses: inside the subnet (even outside ip_range), free.
	if addr, err := a.RequestAddress("n", ip("172.30.0.10")); err != nil || addr != ip("172.30.0.10") {
		t.Errorf("static .10: %s %v", addr, err)
	}
	for _, bad := range []struct {
		addr string
		want error
	}{{"172.30.0.10", ipam.ErrTaken}, {"172.30.0.1", ipam.ErrTaken}, {"172.30.0.3", ipam.ErrTaken}, {"172.30.0.255", ipam.ErrOutOfRange}, {"10.0.0.1", ipam.ErrOutOfRange}} {
		if _, err := a.RequestAddress("n", ip(bad.addr)); !errors.Is(err, bad.want) {
			t.Errorf("static %s: %v, want %v", bad.addr, err, bad.want)
		}
	}
}

// TestFirstFreeReuse: a released address is the next one given, the
// lowest free, as Docker's bitmap gives the first free bit (observed on
// Docker 20.10: stop a container, run another, it takes the address).
func TestFirstFreeReuse(t *testing.T) {
	a := ipam.New(nil)
	_, _ = a.RequestNetwork(ipam.Request{Name: "n", Subnet: pfx("10.0.0.0/24")})
	var got []netip.Addr
	for range 3 {
		addr, _ := a.RequestAddress("n", netip.Addr{})
		got = append(got, addr)
	}
	_ = a.ReleaseAddress("n", got[0])
	_ = a.ReleaseAddress("n", got[1])
	if next, _ := a.RequestAddress("n", netip.Addr{}); next != got[0] {
		t.Errorf("after releasing %s and %s got %s, want the lowest free %s", got[0], got[1], next, got[0])
	}
	if next, _ := a.RequestAddress("n", netip.Addr{}); next != got[1] {
		t.Errorf("then %s, want %s", next, got[1])
	}
	if next, _ := a.RequestAddress("n", netip.Addr{}); next != ip("10.0.0.5") {
		t.Errorf("then %s, want 10.0.0.5", next)
	}
}

// TestSerialDoesNotReuseAtOnce: a network asked for serially (swarm's
// overlays) hands out the next free after the last given.
func TestSerialDoesNotReuseAtOnce(t *testing.T) {
	a := ipam.New(nil)
	_, _ = a.RequestNetwork(ipam.Request{Name: "n", Subnet: pfx("10.0.0.0/24"), Serial: true})
	first, _ := a.RequestAddress("n", netip.Addr{})
	_ = a.ReleaseAddress("n", first)
	if next, _ := a.RequestAddress("n", netip.Addr{}); next == first {
		t.Errorf("released %s was handed out again at once; swarm allocates serially", first)
	}
}

// TestPoolsRoundRobin: a released pool subnet is given again only once
// the list of pool subnets has wrapped, as Docker 20.10's getPredefinedPool
// searched from the one after the last it gave.
func TestPoolsRoundRobin(t *testing.T) {
	a := ipam.New([]ipam.Pool{{Base: pfx("10.10.0.0/16"), Size: 24}, {Base: pfx("10.20.0.0/23"), Size: 24}})
	req := func(name string) string {
		t.Helper()
		n, err := a.RequestNetwork(ipam.Request{Name: name})
		if err != nil {
			return err.Error()
		}
		return n.Subnet.String()
	}
	if got := req("a"); got != "10.10.0.0/24" {
		t.Fatalf("a: %s", got)
	}
	if got := req("b"); got != "10.10.1.0/24" {
		t.Fatalf("b: %s", got)
	}
	_ = a.ReleaseNetwork("a")
	if got := req("c"); got != "10.10.2.0/24" {
		t.Errorf("after releasing a: %s, want 10.10.2.0/24 (not a's, until the list wraps)", got)
	}
	// Take the rest of the first pool and the second: the search wraps
	// and finds a's subnet free.
	for i := 3; i < 256; i++ {
		_ = req(fmt.Sprintf("x%d", i))
	}
	if got := req("y0"); got != "10.20.0.0/24" {
		t.Errorf("into the second pool: %s", got)
	}
	if got := req("y1"); got != "10.20.1.0/24" {
		t.Errorf("the second pool's last: %s", got)
	}
	if got := req("wrapped"); got != "10.10.0.0/24" {
		t.Errorf("after the wrap: %s, want a's 10.10.0.0/24", got)
	}
	if got := req("full"); !strings.Contains(got, "every default pool subnet is in use") {
		t.Errorf("all taken: %s", got)
	}
}

// TestClone: a clone allocates on its own; the original is untouched.
func TestClone(t *testing.T) {
	a := ipam.New(nil)
	_, _ = a.RequestNetwork(ipam.Request{Name: "bridge"})
	_, _ = a.RequestNetwork(ipam.Request{Name: "n", Subnet: pfx("10.0.0.0/24")})
	first, _ := a.RequestAddress("n", netip.Addr{})
	c := a.Clone()
	if addr, _ := c.RequestAddress("n", netip.Addr{}); addr == first {
		t.Errorf("the clone handed out %s, in use in the original", addr)
	}
	if m, _ := c.RequestNetwork(ipam.Request{Name: "m"}); m.Subnet != pfx("172.18.0.0/16") {
		t.Errorf("the clone's next pool subnet %s, want 172.18.0.0/16 (its cursor copied)", m.Subnet)
	}
	if n, _ := a.Network("n"); len(n.Used) != 1 {
		t.Errorf("the original changed: %v", n.Used)
	}
	if _, err := a.Network("m"); err == nil {
		t.Error("the original has the clone's network")
	}
}

func TestSaveLoad(t *testing.T) {
	a := ipam.New(nil)
	_, _ = a.RequestNetwork(ipam.Request{Name: "n", Subnet: pfx("10.0.0.0/24"), Aux: map[string]netip.Addr{"x": ip("10.0.0.9")}})
	addr, _ := a.RequestAddress("n", netip.Addr{})
	path := filepath.Join(t.TempDir(), "ipam.json")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	b := ipam.New(nil)
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	n, err := b.Network("n")
	if err != nil || len(n.Used) != 1 || n.Used[0] != addr || n.Aux["x"] != ip("10.0.0.9") {
		t.Fatalf("restored %+v %v", n, err)
	}
	if next, _ := b.RequestAddress("n", netip.Addr{}); next == addr {
		t.Error("the restored allocator handed out an address in use")
	}
	if _, err := b.RequestNetwork(ipam.Request{Name: "m", Subnet: pfx("10.0.0.0/25")}); !errors.Is(err, ipam.ErrOverlap) {
		t.Errorf("restored subnets are not protected: %v", err)
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestParseRequest(t *testing.T) {
	r, err := ipam.ParseRequest("backend", "subnet=172.30.0.0/24, gateway=172.30.0.254,ip_range=172.30.0.128/25,aux-address=router=172.30.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Subnet != pfx("172.30.0.0/24") || r.Gateway != ip("172.30.0.254") || r.IPRange != pfx("172.30.0.128/25") || r.Aux["router"] != ip("172.30.0.2") {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{"subnet", "subnet=300.0.0.0/8", "gatway=1.2.3.4", "aux-address=1.2.3.4", "aux-address=a=1.1.1.1,aux-address=a=1.1.1.2"} {
		if _, err := ipam.ParseRequest("x", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseRequest: any text is parsed or refused, and a parsed request is
// allocated or refused, never a panic; what is allocated keeps its promises.
func FuzzParseRequest(f *testing.F) {
	f.Add("subnet=172.30.0.0/24,gateway=172.30.0.254,ip-range=172.30.0.128/25,aux-address=router=172.30.0.2")
	f.Add("")
	f.Add("subnet=10.0.0.0/30")
	f.Add("ip-range=172.17.0.0/31")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ipam.ParseRequest("n", s)
		if err != nil {
			return
		}
		a := ipam.New(nil)
		n, err := a.RequestNetwork(r)
		if err != nil {
			return
		}
		if !n.Subnet.Contains(n.Gateway) || !n.Subnet.Contains(n.IPRange.Addr()) {
			t.Fatalf("allocated %+v from %q", n, s)
		}
		for range 3 {
			addr, err := a.RequestAddress("n", netip.Addr{})
			if err != nil {
				return
			}
			if !n.IPRange.Contains(addr) || addr == n.Gateway {
				t.Fatalf("handed out %s from %+v", addr, n)
			}
		}
	})
}

// TestShare: a network may share the subnet of the networks it names (a
// macvlan network on the LAN's own), and no other.
func TestShare(t *testing.T) {
	a := ipam.New(nil)
	if _, err := a.RequestNetwork(ipam.Request{Name: "lan", Subnet: pfx("192.168.56.0/24"), Gateway: ip("192.168.56.11")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RequestNetwork(ipam.Request{Name: "br", Subnet: pfx("192.168.56.0/24")}); !errors.Is(err, ipam.ErrOverlap) {
		t.Errorf("a bridge on the LAN: %v, want ErrOverlap", err)
	}
	n, err := a.RequestNetwork(ipam.Request{Name: "mv", Subnet: pfx("192.168.56.0/24"), Share: []string{"lan"}, Aux: map[string]netip.Addr{"router": ip("192.168.56.2")}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.RequestAddress("mv", netip.Addr{}); n.Gateway != ip("192.168.56.1") || got != ip("192.168.56.3") {
		t.Errorf("gateway %s, first address %s; want .1 and .3 (past the auxiliary .2)", n.Gateway, got)
	}
	if _, err := a.RequestNetwork(ipam.Request{Name: "mv2", Subnet: pfx("192.168.56.0/25"), Share: []string{"lan"}}); !errors.Is(err, ipam.ErrOverlap) {
		t.Errorf("a second network on mv's subnet: %v, want ErrOverlap", err)
	}
}
