package scenario_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/scenario"
)

// TestNoDNSOnTheBridge: in docker-bridge-tutorial.yaml, containerA's
// lookup of containerB puts no DNS frame (UDP or TCP port 53) on any link
// of the bridge, in either world: Docker's embedded server answers at
// 127.0.0.11 inside containerA's own sandbox. A query to the gateway
// (dig @172.18.0.1), which does cross the bridge, shows the count sees
// DNS frames where there are some.
func TestNoDNSOnTheBridge(t *testing.T) {
	worlds := []string{"mem"}
	if runtime.GOOS == "linux" && os.Geteuid() == 0 && !testing.Short() {
		worlds = append(worlds, "netns")
	}
	f, err := scenario.Load("../../scenarios/docker-bridge-tutorial.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	for _, world := range worlds {
		t.Run(world, func(t *testing.T) {
			count := func(ask func(b backend.Backend) (backend.Resolved, error)) (backend.Resolved, map[string]int) {
				var buf bytes.Buffer
				pc, err := capture.New(&buf, fabric.LinkNames(g))
				if err != nil {
					t.Fatal(err)
				}
				b, err := backend.Build(world, g, backend.Options{Seed: 1, Capture: pc})
				if err != nil {
					t.Fatal(err)
				}
				res, err := ask(b)
				if err != nil {
					t.Fatal(err)
				}
				b.Wait(100 * time.Millisecond) // what the lookup still sets off
				b.Close()
				if err := pc.Flush(); err != nil {
					t.Fatal(err)
				}
				return res, dnsFrames(t, &buf)
			}
			res, frames := count(func(b backend.Backend) (backend.Resolved, error) {
				return b.Resolve("containerA", "containerB", dns.TypeA, 2*time.Second)
			})
			if res.Rcode != "NOERROR" || len(res.Addrs) != 1 || res.Addrs[0] != netip.MustParseAddr("172.18.0.3") {
				t.Fatalf("containerB from containerA: %+v, want 172.18.0.3", res)
			}
			for link, n := range frames {
				if strings.Contains(link, "br-mybridge") {
					t.Errorf("%d DNS frames on %s during a container's name lookup, want none", n, link)
				}
			}
			res, frames = count(func(b backend.Backend) (backend.Resolved, error) {
				return b.ResolveAt("containerA", netip.MustParseAddr("172.18.0.1"), "containerB", dns.TypeA, 2*time.Second)
			})
			if res.Err != "port unreachable" {
				t.Errorf("containerB @172.18.0.1: %+v, want port unreachable (refused)", res)
			}
			seen := 0
			for link, n := range frames {
				if strings.Contains(link, "br-mybridge") {
					seen += n
				}
			}
			if seen == 0 {
				t.Errorf("no DNS frame on the bridge for a query to the gateway: the count misses them (%v)", frames)
			}
		})
	}
}

// dnsFrames counts the frames to or from port 53 (UDP or TCP) in a
// pcapng capture, by interface (link) name.
func dnsFrames(t *testing.T, r io.Reader) map[string]int {
	t.Helper()
	ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for {
		data, ci, err := ng.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		dnsPort := false
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			dnsPort = u.SrcPort == 53 || u.DstPort == 53
		}
		if tc, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			dnsPort = tc.SrcPort == 53 || tc.DstPort == 53
		}
		if !dnsPort {
			continue
		}
		iface, err := ng.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatal(err)
		}
		out[iface.Name]++
	}
}
