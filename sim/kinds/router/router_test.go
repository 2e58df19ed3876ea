package router_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/router"
	"github.com/netyard/netyard/sim/fabric"
	kind "github.com/netyard/netyard/sim/kinds/router"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

var ifaces = []topo.Iface{
	{Name: "eth0", Addr: netip.MustParsePrefix("10.0.1.1/24")},
	{Name: "eth1", Addr: netip.MustParsePrefix("10.0.2.1/24")},
}

func TestCompile(t *testing.T) {
	cases := []struct {
		name string
		spec kind.Spec
		ifs  []topo.Iface // default ifaces
		want []string     // "field: words of the message", in order
	}{
		{name: "fine", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.0/24", Via: "10.0.2.2"}, {To: "0.0.0.0/0", Via: "10.0.1.254", Metric: 100}}, MTU: 9000}},
		{name: "bad prefix", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3/24", Via: "10.0.2.2"}}},
			want: []string{"routes[0].to: bad prefix \"10.0.3/24\""}},
		{name: "host bits", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.1/24", Via: "10.0.2.2"}}},
			want: []string{"routes[0].to: 10.0.3.1/24 has host bits set: did you mean 10.0.3.0/24?"}},
		{name: "no via", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.0/24"}}},
			want: []string{"routes[0].via: a route needs a next hop"}},
		{name: "bad via", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.0/24", Via: "10.0.2"}}},
			want: []string{"routes[0].via: bad next hop \"10.0.2\""}},
		{name: "via off the subnets", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.0/24", Via: "10.0.9.1"}}},
			want: []string{"routes[0].via: 10.0.9.1 is on none of the router's subnets (10.0.1.0/24, 10.0.2.0/24)"}},
		{name: "duplicate, counted by the spec's index", spec: kind.Spec{Routes: []kind.RouteSpec{
			{To: "10.0.3.0/24", Via: "10.0.2.2"}, {To: "bad", Via: "10.0.2.2"}, {To: "10.0.3.0/24", Via: "10.0.1.2"}}},
			want: []string{"routes[1].to: bad prefix", "routes[2].to: a route to 10.0.3.0/24 with metric 0 is there already (via 10.0.2.2)"}},
		{name: "another metric is no duplicate", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.3.0/24", Via: "10.0.2.2"}, {To: "10.0.3.0/24", Via: "10.0.1.2", Metric: 5}}}},
		{name: "inside a connected subnet", spec: kind.Spec{Routes: []kind.RouteSpec{{To: "10.0.1.128/25", Via: "10.0.2.2"}}},
			want: []string{"routes[0].to: 10.0.1.128/25 lies inside eth0's connected subnet 10.0.1.0/24"}},
		{name: "mtu, said once", spec: kind.Spec{MTU: 40}, want: []string{"mtu: MTU 40 is outside 68-65535"}},
		{name: "overlapping subnets", ifs: []topo.Iface{ifaces[0], {Name: "eth1", Addr: netip.MustParsePrefix("10.0.1.2/16")}},
			want: []string{"interfaces[1].address: subnet 10.0.0.0/16 overlaps 10.0.1.0/24 of interface eth0"}},
		{name: "a missing address is the topology's to report", ifs: []topo.Iface{ifaces[0], {Name: "eth1"}}},
		{name: "every problem at once", spec: kind.Spec{MTU: 1, Routes: []kind.RouteSpec{{To: "x", Via: "y"}, {To: "10.0.3.0/24", Via: "10.0.2.1"}}},
			want: []string{"routes[0].to: bad prefix", "routes[0].via: bad next hop", "mtu: MTU 1", "routes[1].via: 10.0.2.1 is the router's own address on eth1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			ifs := c.ifs
			if ifs == nil {
				ifs = ifaces
			}
			spec := c.spec
			plan := kind.Compile(&spec, ifs, func(field, format string, args ...any) {
				got = append(got, field+": "+fmt.Sprintf(format, args...))
			})
			if len(got) != len(c.want) {
				t.Fatalf("Compile reported %d problems, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want it to start %q", i, got[i], c.want[i])
				}
			}
			if p, ok := plan.(*kind.Plan); !ok || len(c.want) == 0 && len(p.Routes) != len(spec.Routes) {
				t.Errorf("Compile = %#v, want a *Plan with the %d routes", plan, len(spec.Routes))
			}
		})
	}
}

// responder is a host on one of the router's subnets, made of a bare
// port: it answers ARP for its address and echo requests, and counts the
// echo replies it gets. It is safe for concurrent input (netns links
// deliver on their own goroutines).
type responder struct {
	t       *testing.T
	ip      netip.Addr
	mac     net.HardwareAddr
	port    link.Port
	replies atomic.Int64
	got     chan struct{} // a token per reply, for a waiter
	ttls    sync.Map      // TTL of echo requests seen -> true
}

func newResponder(t *testing.T, ip string, mac byte) *responder {
	r := &responder{t: t, ip: netip.MustParseAddr(ip), mac: net.HardwareAddr{2, 0, 0, 0, 9, mac}, got: make(chan struct{}, 1000)}
	r.port.Input = r.input
	return r
}

func (r *responder) Endpoint(port string) link.Endpoint {
	if port == "eth0" {
		return &r.port
	}
	return nil
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func (r *responder) input(fr []byte) {
	p := gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		if a.Operation == layers.ARPRequest && netip.AddrFrom4([4]byte(a.DstProtAddress)) == r.ip {
			_ = r.port.Out.Send(serialize(&layers.Ethernet{SrcMAC: r.mac, DstMAC: a.SourceHwAddress, EthernetType: layers.EthernetTypeARP},
				&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
					Operation: layers.ARPReply, SourceHwAddress: r.mac, SourceProtAddress: r.ip.AsSlice(),
					DstHwAddress: a.SourceHwAddress, DstProtAddress: a.SourceProtAddress}))
		}
		return
	}
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ip == nil || ic == nil || netip.AddrFrom4([4]byte(ip.DstIP.To4())) != r.ip {
		return
	}
	switch ic.TypeCode.Type() {
	case layers.ICMPv4TypeEchoRequest:
		r.ttls.Store(ip.TTL, true)
		_ = r.port.Out.Send(serialize(&layers.Ethernet{SrcMAC: r.mac, DstMAC: eth.SrcMAC, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: r.ip.AsSlice(), DstIP: ip.SrcIP},
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: ic.Id, Seq: ic.Seq},
			gopacket.Payload(ic.Payload)))
	case layers.ICMPv4TypeEchoReply:
		r.replies.Add(1)
		select {
		case r.got <- struct{}{}:
		default:
		}
	}
}

// ping sends an echo request to dst through the router at MAC gw.
func (r *responder) ping(gw net.HardwareAddr, dst netip.Addr, seq uint16) {
	_ = r.port.Out.Send(serialize(&layers.Ethernet{SrcMAC: r.mac, DstMAC: gw, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: r.ip.AsSlice(), DstIP: dst.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: seq},
		gopacket.Payload("netyard")))
}

// TestBuilt: the fabric builds a router from its plan, in both worlds'
// ways: called directly on a manual clock (mem), and serialised on its
// own goroutine under pings from both sides at once on the wall clock
// (netns; run with -race).
func TestBuilt(t *testing.T) {
	for _, serial := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "serialised"}[serial], func(t *testing.T) {
			leak.Check(t)
			r1MAC := [2]vswitch.MAC{{2, 0, 0, 0, 1, 1}, {2, 0, 0, 0, 1, 2}}
			g := &topo.Graph{
				Hosts: []topo.Host{
					{Name: "a", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.1.10/24"), MAC: vswitch.MAC{2, 0, 0, 0, 9, 1}}}},
					{Name: "b", Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix("10.0.2.10/24"), MAC: vswitch.MAC{2, 0, 0, 0, 9, 2}}}},
					{Name: "r1", Kind: kind.Kind, Ifaces: []topo.Iface{
						{Name: "eth0", Addr: netip.MustParsePrefix("10.0.1.1/24"), MAC: r1MAC[0]},
						{Name: "eth1", Addr: netip.MustParsePrefix("10.0.2.1/24"), MAC: r1MAC[1]},
					}, Spec: &kind.Plan{}},
				},
				Links: []topo.Link{
					{A: topo.Endpoint{Node: "a", Port: "eth0"}, B: topo.Endpoint{Node: "r1", Port: "eth0"}},
					{A: topo.Endpoint{Node: "b", Port: "eth0"}, B: topo.Endpoint{Node: "r1", Port: "eth1"}},
				},
			}
			var clk clock.Clock = clock.Real
			manual := clock.NewManual()
			if !serial {
				clk = manual
			}
			f, err := fabric.New(g, fabric.Options{Clock: clk, Serial: serial})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const n = 50
			a, b := newResponder(t, "10.0.1.10", 1), newResponder(t, "10.0.2.10", 2)
			if err := f.AddNode("a", a); err != nil {
				t.Fatal(err)
			}
			if err := f.AddNode("b", b); err != nil {
				t.Fatal(err)
			}
			if err := f.Connect(); err != nil {
				t.Fatal(err)
			}
			// Each side pings the other, both at once: the first ping
			// (ARP resolves), then the rest.
			burst := func(from, count int) {
				var wg sync.WaitGroup
				for _, side := range []struct {
					from *responder
					gw   vswitch.MAC
					to   *responder
				}{{a, r1MAC[0], b}, {b, r1MAC[1], a}} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := from; i < from+count; i++ {
							side.from.ping(net.HardwareAddr(side.gw[:]), side.to.ip, uint16(i))
						}
					}()
				}
				wg.Wait()
			}
			wait := func(k int64) bool {
				done := func() bool { return a.replies.Load() >= k && b.replies.Load() >= k }
				if !serial {
					return manual.AdvanceUntil(done, 10*time.Second) || done()
				}
				timeout := time.After(10 * time.Second) // the wall clock's world: frames cross on their own goroutines
				for !done() {
					select {
					case <-a.got:
					case <-b.got:
					case <-timeout:
						return false
					}
				}
				return true
			}
			burst(0, 1)
			ok := wait(1)
			burst(1, n-1)
			ok = ok && wait(n)
			node := f.Node("r1").(*kind.Node)
			s := node.Stats()
			if !ok {
				t.Fatalf("replies: a %d, b %d, want %d each; router %+v", a.replies.Load(), b.replies.Load(), n, s)
			}
			if s.Forwarded != 4*n || node.Dropped() != 0 {
				t.Errorf("router forwarded %d, dropped %d at its queue; want %d, 0: %+v", s.Forwarded, node.Dropped(), 4*n, s)
			}
			if _, ok := a.ttls.Load(uint8(63)); !ok {
				t.Errorf("a saw no echo request with TTL 63 (one router away)")
			}
			var routes []string
			node.Do(func(r *router.Router) {
				for _, e := range r.Routes() {
					routes = append(routes, e.String())
				}
			})
			if want := "10.0.1.0/24 dev eth0 proto kernel scope link;10.0.2.0/24 dev eth1 proto kernel scope link"; strings.Join(routes, ";") != want {
				t.Errorf("routes %q, want %q", routes, want)
			}
		})
	}
}

// TestBuildRefuses: a host of the kind with settings that are not a Plan
// is refused with an error, not a panic.
func TestBuildRefuses(t *testing.T) {
	g := &topo.Graph{Hosts: []topo.Host{{Name: "r1", Kind: kind.Kind, Ifaces: ifaces, Spec: "routes"}}}
	if _, err := fabric.New(g.Assigned(), fabric.Options{Clock: clock.NewManual()}); err == nil || !strings.Contains(err.Error(), "not a compiled *Plan") {
		t.Errorf("fabric.New = %v, want the settings refused", err)
	}
	g.Hosts[0].Spec = &kind.Plan{Routes: []router.Route{{To: netip.MustParsePrefix("10.0.3.0/24"), Via: netip.MustParseAddr("10.0.9.9")}}}
	if _, err := fabric.New(g.Assigned(), fabric.Options{Clock: clock.NewManual()}); err == nil || !strings.Contains(err.Error(), "on none of the router's subnets") {
		t.Errorf("fabric.New = %v, want the route refused", err)
	}
}
