package router_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
	"github.com/netyard/netyard/router"
)

// decided sums the counters of which each IPv4 packet received adds to
// exactly one.
func decided(s router.Stats) uint64 {
	return s.Forwarded + s.HeaderErrors + s.Truncated + s.BadChecksum + s.MartianSource + s.MartianDest + s.SourceRouted +
		s.Broadcast + s.LinkBroadcast + s.NoRoute + s.TTLExceeded + s.FragFails +
		s.EchoReplies + s.Refused + s.LocalIgnored + s.LocalFragments + s.LocalBadChecksum
}

// headerOK reports whether an IPv4 header's checksum is right.
func headerOK(ip *layers.IPv4) bool {
	return csum.Fold(csum.Sum(ip.Contents, 0)) == 0xffff
}

// icmpOf returns the IPv4 and ICMP layers of p, failing the test without.
func icmpOf(t *testing.T, p gopacket.Packet) (*layers.IPv4, *layers.ICMPv4) {
	t.Helper()
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ip == nil || ic == nil {
		t.Fatalf("want an ICMP packet, got %v", p)
	}
	if !headerOK(ip) {
		t.Errorf("IPv4 header checksum of %v is wrong", p)
	}
	if csum.Fold(csum.Sum(ip.Payload, 0)) != 0xffff {
		t.Errorf("ICMP checksum of %v is wrong", p)
	}
	return ip, ic
}

// wantICMP checks an ICMP message: its type and code, its addresses, and
// for an error, that it quotes the packet sent to quoted.
func wantICMP(typ, code uint8, src, dst, quoted string) func(*testing.T, []gopacket.Packet) {
	return func(t *testing.T, ps []gopacket.Packet) {
		ip, ic := icmpOf(t, ps[0])
		if got := ic.TypeCode; got != layers.CreateICMPv4TypeCode(typ, code) {
			t.Errorf("ICMP type = %v, want %v", got, layers.CreateICMPv4TypeCode(typ, code))
		}
		if ip.SrcIP.String() != src || ip.DstIP.String() != dst {
			t.Errorf("ICMP %v -> %v, want %s -> %s", ip.SrcIP, ip.DstIP, src, dst)
		}
		if ip.TTL != router.DefaultTTL {
			t.Errorf("ICMP TTL = %d, want %d", ip.TTL, router.DefaultTTL)
		}
		if quoted != "" {
			q := ic.Payload
			if len(q) < 20 || netip.AddrFrom4([4]byte(q[16:20])).String() != quoted {
				t.Errorf("ICMP error quotes %x, want the packet to %s", q, quoted)
			}
		}
	}
}

// wantForwarded checks a packet forwarded to the neighbour with MAC dst
// out of the interface with MAC src, its TTL 63.
func wantForwarded(dstMAC, srcMAC string, to string) func(*testing.T, []gopacket.Packet) {
	return func(t *testing.T, ps []gopacket.Packet) {
		eth := ps[0].Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip := ps[0].Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if eth.DstMAC.String() != dstMAC || eth.SrcMAC.String() != srcMAC {
			t.Errorf("frame %v -> %v, want %s -> %s", eth.SrcMAC, eth.DstMAC, srcMAC, dstMAC)
		}
		if ip.TTL != 63 {
			t.Errorf("TTL = %d, want 63 (one less than sent)", ip.TTL)
		}
		if ip.DstIP.String() != to {
			t.Errorf("forwarded to %v, want %s", ip.DstIP, to)
		}
		if !headerOK(ip) {
			t.Errorf("header checksum %#04x wrong after the TTL's decrement", ip.Checksum)
		}
	}
}

func TestForward(t *testing.T) {
	type want struct {
		out    int                                 // interface of the IPv4 output; -1: none
		n      int                                 // packets out of it
		check  func(*testing.T, []gopacket.Packet) // of those packets
		stat   func(router.Stats) uint64           // the counter the packet adds one to
		reason string                              // in a drop's reason, for drops
		also   func(*testing.T, router.Stats)      // more counters
	}
	cases := []struct {
		name    string
		in      int
		pkt     pkt
		edit    func([]byte) // of the frame, before it is sent
		advance time.Duration
		want    want
	}{
		{name: "to a connected subnet", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10"},
			want: want{out: 1, n: 1, check: wantForwarded(macH3.String(), macEth1.String(), "10.0.2.10"), stat: forwarded}},
		{name: "by a static route to its next hop", pkt: pkt{src: "10.0.1.10", dst: "10.0.3.5"},
			want: want{out: 2, n: 1, check: wantForwarded(macR2.String(), macEth2.String(), "10.0.3.5"), stat: forwarded}},
		{name: "longest prefix: the /25 beats the /24", pkt: pkt{src: "10.0.1.10", dst: "10.0.3.200"},
			want: want{out: 1, n: 1, check: wantForwarded(macNB.String(), macEth1.String(), "10.0.3.200"), stat: forwarded}},
		{name: "longest prefix: connected /24 beats the static /16", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10"},
			want: want{out: 1, n: 1, check: wantForwarded(macH3.String(), macEth1.String(), "10.0.2.10"), stat: forwarded}},
		{name: "the /16 catches the rest", pkt: pkt{src: "10.0.1.10", dst: "10.0.77.1"},
			want: want{out: 2, n: 1, check: wantForwarded(macR2.String(), macEth2.String(), "10.0.77.1"), stat: forwarded}},
		{name: "back out of the interface it came in by", in: 2, pkt: pkt{src: "10.0.3.5", dst: "10.0.3.6", srcMAC: macR2, dstMAC: macEth2},
			want: want{out: 2, n: 1, check: wantForwarded(macR2.String(), macEth2.String(), "10.0.3.6"), stat: forwarded}},
		{name: "TTL 1 expires", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", ttl: 1},
			want: want{out: 0, n: 1, check: wantICMP(11, 0, "10.0.1.1", "10.0.1.10", "10.0.2.10"), stat: func(s router.Stats) uint64 { return s.TTLExceeded },
				reason: "TTL 1 exceeded in transit: answered with ICMP time exceeded"}},
		{name: "TTL expiry is answered from the interface towards the sender", in: 2, pkt: pkt{src: "10.0.3.9", dst: "10.0.2.10", ttl: 1, srcMAC: macR2, dstMAC: macEth2},
			want: want{out: 2, n: 1, check: wantICMP(11, 0, "10.0.12.1", "10.0.3.9", "10.0.2.10"), stat: func(s router.Stats) uint64 { return s.TTLExceeded }}},
		{name: "no route", pkt: pkt{src: "10.0.1.10", dst: "192.0.2.1"},
			want: want{out: 0, n: 1, check: wantICMP(3, 0, "10.0.1.1", "10.0.1.10", "192.0.2.1"), stat: func(s router.Stats) uint64 { return s.NoRoute },
				reason: "192.0.2.1: no route: answered with ICMP network unreachable"}},
		{name: "no route is found before the TTL is looked at", pkt: pkt{src: "10.0.1.10", dst: "192.0.2.1", ttl: 1},
			want: want{out: 0, n: 1, check: wantICMP(3, 0, "10.0.1.1", "10.0.1.10", "192.0.2.1"), stat: func(s router.Stats) uint64 { return s.NoRoute }}},
		{name: "the next hop does not answer ARP", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.99"}, advance: 3500 * time.Millisecond,
			want: want{out: 0, n: 1, check: wantICMP(3, 1, "10.0.1.1", "10.0.1.10", "10.0.2.99"), stat: forwarded,
				reason: "did not answer ARP: answered with ICMP host unreachable",
				also: func(t *testing.T, s router.Stats) {
					if s.HostUnreachable != 1 || s.ARPFailures != 1 || s.ARPRequests < 3 {
						t.Errorf("HostUnreachable %d, ARPFailures %d, ARPRequests %d; want 1, 1, >= 3", s.HostUnreachable, s.ARPFailures, s.ARPRequests)
					}
				}}},
		{name: "ping the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1"},
			want: want{out: 0, n: 1, check: wantICMP(0, 0, "10.0.1.1", "10.0.1.10", ""), stat: func(s router.Stats) uint64 { return s.EchoReplies }}},
		{name: "ping the router's far address", pkt: pkt{src: "10.0.1.10", dst: "10.0.12.1"},
			want: want{out: 0, n: 1, check: wantICMP(0, 0, "10.0.12.1", "10.0.1.10", ""), stat: func(s router.Stats) uint64 { return s.EchoReplies }}},
		{name: "a ping from beyond a next hop is answered through it", in: 2, pkt: pkt{src: "10.0.3.9", dst: "10.0.1.1", srcMAC: macR2, dstMAC: macEth2},
			want: want{out: 2, n: 1, check: wantICMP(0, 0, "10.0.1.1", "10.0.3.9", ""), stat: func(s router.Stats) uint64 { return s.EchoReplies }}},
		{name: "a ping with no route back", pkt: pkt{src: "192.0.2.7", dst: "10.0.1.1"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.EchoReplies }, reason: "no route back to 192.0.2.7",
				also: func(t *testing.T, s router.Stats) {
					if s.OwnUndelivered != 1 {
						t.Errorf("OwnUndelivered = %d, want 1", s.OwnUndelivered)
					}
				}}},
		{name: "too big with DF", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", flags: layers.IPv4DontFragment, l4: echoReq(1, 1, 1200)},
			want: want{out: 0, n: 1, stat: func(s router.Stats) uint64 { return s.FragFails }, reason: "do not fit the MTU 1000 of eth1 and DF is set",
				check: func(t *testing.T, ps []gopacket.Packet) {
					wantICMP(3, 4, "10.0.1.1", "10.0.1.10", "10.0.2.10")(t, ps)
					_, ic := icmpOf(t, ps[0])
					if ic.Seq != 1000 { // the next-hop MTU, in the low half of the second word (RFC 1191)
						t.Errorf("fragmentation needed says MTU %d, want 1000", ic.Seq)
					}
					if len(ic.Payload) != 576-28 {
						t.Errorf("error quotes %d bytes, want %d (576 in all, RFC 1812)", len(ic.Payload), 576-28)
					}
				}}},
		{name: "too big without DF: fragments", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", l4: echoReq(1, 1, 2000)},
			want: want{out: 1, n: 3, stat: forwarded, check: wantFragments(2008, 1000),
				also: func(t *testing.T, s router.Stats) {
					if s.FragOKs != 1 || s.FragCreates != 3 {
						t.Errorf("FragOKs %d, FragCreates %d, want 1, 3", s.FragOKs, s.FragCreates)
					}
				}}},
		{name: "fragments carry only the copied options after the first",
			pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", l4: echoReq(1, 1, 1500), options: []layers.IPv4Option{
				{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}},          // router alert: copied
				{OptionType: 0x07, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, // record route: not copied
			}},
			want: want{out: 1, n: 2, stat: forwarded, check: func(t *testing.T, ps []gopacket.Packet) {
				first := ps[0].Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				second := ps[1].Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if first.IHL != 8 || second.IHL != 6 {
					t.Errorf("IHL %d then %d, want 8 (both options) then 6 (router alert only)", first.IHL, second.IHL)
				}
				if len(second.Options) < 1 || second.Options[0].OptionType != 0x94 {
					t.Errorf("second fragment's options %v, want the router alert", second.Options)
				}
				wantFragments(1508, 1000)(t, ps)
			}}},
		{name: "no ICMP error about an ICMP error", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", ttl: 1, l4: []gopacket.SerializableLayer{
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(make([]byte, 28))}},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.TTLExceeded }, reason: "no ICMP error, as it is an ICMP error itself"}},
		{name: "no ICMP error about a later fragment", pkt: pkt{src: "10.0.1.10", dst: "192.0.2.1", fragOff: 100, l4: []gopacket.SerializableLayer{gopacket.Payload(make([]byte, 64))}},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.NoRoute }, reason: "not a first fragment"}},
		{name: "a directed broadcast is not routed", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.255"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.Broadcast }, reason: "broadcast or multicast address: not routed"}},
		{name: "multicast is not routed", pkt: pkt{src: "10.0.1.10", dst: "239.1.2.3"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.Broadcast }}},
		{name: "unicast in a broadcast frame is not forwarded", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", dstMAC: layers.EthernetBroadcast},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.LinkBroadcast }, reason: "link-layer broadcast"}},
		{name: "bad header checksum", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10"}, edit: func(f []byte) { f[14+10] ^= 0xff },
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.BadChecksum }, reason: "checksum"}},
		{name: "truncated", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10"}, edit: func(f []byte) { binary.BigEndian.PutUint16(f[14+2:], 2000) },
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.Truncated }}},
		{name: "martian source: loopback", pkt: pkt{src: "127.0.0.1", dst: "10.0.2.10"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.MartianSource }, reason: "martian source 127.0.0.1"}},
		{name: "martian source: the router's own address", pkt: pkt{src: "10.0.2.1", dst: "10.0.2.10"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.MartianSource }, reason: "own addresses"}},
		{name: "martian destination", pkt: pkt{src: "10.0.1.10", dst: "0.1.2.3"},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.MartianDest }}},
		{name: "a source route", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", options: []layers.IPv4Option{{OptionType: 131, OptionLength: 7, OptionData: []byte{4, 10, 0, 3, 1}}, {OptionType: 0}}},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.SourceRouted }}},
		{name: "a malformed option", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.10", options: []layers.IPv4Option{{OptionType: 7, OptionLength: 3, OptionData: []byte{4}}}},
			edit: func(f []byte) { f[14+21] = 40; fixHeader(f) },
			want: want{out: 0, n: 1, check: wantICMP(12, 0, "10.0.1.1", "10.0.1.10", "10.0.2.10"), stat: func(s router.Stats) uint64 { return s.HeaderErrors }}},
		{name: "UDP to the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{&layers.UDP{SrcPort: 5000, DstPort: 53}, gopacket.Payload("q")}},
			want: want{out: 0, n: 1, check: wantICMP(3, 3, "10.0.1.1", "10.0.1.10", "10.0.1.1"), stat: func(s router.Stats) uint64 { return s.Refused },
				reason: "UDP to port 53: nothing listens on the router: answered with ICMP port unreachable"}},
		{name: "TCP to the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.2.1", l4: []gopacket.SerializableLayer{&layers.TCP{SrcPort: 40000, DstPort: 22, SYN: true, Seq: 1000, Window: 1024}}},
			want: want{out: 0, n: 1, stat: func(s router.Stats) uint64 { return s.Refused }, check: func(t *testing.T, ps []gopacket.Packet) {
				ip := ps[0].Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				tcp, _ := ps[0].Layer(layers.LayerTypeTCP).(*layers.TCP)
				if tcp == nil || !tcp.RST || !tcp.ACK || tcp.Ack != 1001 || tcp.SrcPort != 22 || tcp.DstPort != 40000 || ip.SrcIP.String() != "10.0.2.1" {
					t.Fatalf("want RST-ACK ack 1001 from 10.0.2.1:22, got %v", ps[0])
				}
				sum := csum.Sum(ip.Contents[12:20], 0) + 6 + uint64(len(ip.Payload))
				if csum.Fold(csum.Sum(ip.Payload, sum)) != 0xffff {
					t.Errorf("RST's TCP checksum is wrong")
				}
			}}},
		{name: "another protocol to the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{gopacket.Payload("x")}},
			want: want{out: 0, n: 1, check: wantICMP(3, 2, "10.0.1.1", "10.0.1.10", "10.0.1.1"), stat: func(s router.Stats) uint64 { return s.Refused }}},
		{name: "an echo reply for the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: 1, Seq: 1}}},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.LocalIgnored }, reason: "nothing waits for it"}},
		{name: "a fragment for the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1", flags: layers.IPv4MoreFragments},
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.LocalFragments }}},
		{name: "a bad ICMP checksum for the router", pkt: pkt{src: "10.0.1.10", dst: "10.0.1.1"}, edit: func(f []byte) { f[14+20+2] ^= 0xff },
			want: want{out: -1, stat: func(s router.Stats) uint64 { return s.LocalBadChecksum }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newRig(t, testConfig())
			w.learn(0, "10.0.1.10")
			w.learn(1, "10.0.2.10")
			w.learn(1, "10.0.2.2")
			w.learn(2, "10.0.12.2")
			w.reset()
			fr := c.pkt.frame(t)
			if c.edit != nil {
				c.edit(fr)
			}
			w.r.Input(c.in, fr)
			w.clk.Advance(c.advance)
			s := w.r.Stats()
			if got := decided(s); got != 1 {
				t.Errorf("the packet was counted %d times, want once: %+v", got, s)
			}
			if got := c.want.stat(s); got != 1 {
				t.Errorf("its counter = %d, want 1: %+v", got, s)
			}
			for i := range 3 {
				ps := w.ipFrames(i)
				want := 0
				if i == c.want.out {
					want = c.want.n
				}
				if len(ps) != want {
					t.Fatalf("%d IPv4 packets out of %s, want %d:\n%v\ntrace:\n%s", len(ps), ifNames[i], want, ps, w.narration())
				}
				if want > 0 && c.want.check != nil {
					c.want.check(t, ps)
				}
			}
			if c.want.also != nil {
				c.want.also(t, s)
			}
			for _, e := range w.events {
				if miss := tracetest.Missing(e); len(miss) > 0 || e.Detail != "" {
					t.Errorf("event %+v: fields %v missing, detail %q (typed events have none)", e, miss, e.Detail)
				}
			}
			if c.want.reason != "" && !strings.Contains(w.narration(), c.want.reason) {
				t.Errorf("trace does not say %q:\n%s", c.want.reason, w.narration())
			}
		})
	}
}

func forwarded(s router.Stats) uint64 { return s.Forwarded }

// fixHeader recomputes the IPv4 header checksum of a frame.
func fixHeader(f []byte) {
	ip := f[14:]
	hl := int(ip[0]&0xf) * 4
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^csum.Fold(csum.Sum(ip[:hl], 0)))
}

// wantFragments checks that the packets are fragments of at most mtu
// bytes, in order, that carry size bytes of payload between them, and
// that reassembled they are an echo request of the data echoReq makes.
func wantFragments(size, mtu int) func(*testing.T, []gopacket.Packet) {
	return func(t *testing.T, ps []gopacket.Packet) {
		var data []byte
		for i, p := range ps {
			ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			if int(ip.Length) > mtu || !headerOK(ip) || ip.TTL != 63 {
				t.Errorf("fragment %d: %d bytes (MTU %d), TTL %d, checksum ok %v", i, ip.Length, mtu, ip.TTL, headerOK(ip))
			}
			if int(ip.FragOffset)*8 != len(data) {
				t.Errorf("fragment %d at offset %d, want %d", i, int(ip.FragOffset)*8, len(data))
			}
			if mf := ip.Flags&layers.IPv4MoreFragments != 0; mf != (i < len(ps)-1) {
				t.Errorf("fragment %d: MF %v", i, mf)
			}
			data = append(data, ip.Payload...)
		}
		if len(data) != size {
			t.Fatalf("fragments carry %d bytes, want %d", len(data), size)
		}
		m := data[8:]
		for i := range m {
			if m[i] != byte(i) {
				t.Fatalf("reassembled data differs at byte %d", i)
			}
		}
		if data[0] != 8 || csum.Fold(csum.Sum(data, 0)) != 0xffff {
			t.Errorf("reassembled, not the echo request sent")
		}
	}
}

func TestLookup(t *testing.T) {
	c := testConfig()
	c.Routes = append(c.Routes,
		router.Route{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.2.2")},
		router.Route{To: netip.MustParsePrefix("10.0.5.0/24"), Via: netip.MustParseAddr("10.0.12.2"), Metric: 10},
		router.Route{To: netip.MustParsePrefix("10.0.5.0/24"), Via: netip.MustParseAddr("10.0.2.2"), Metric: 5},
	)
	w := newRig(t, c)
	for _, tc := range []struct{ dst, want string }{
		{"10.0.1.7", "10.0.1.0/24 dev eth0 proto kernel scope link"},
		{"10.0.2.200", "10.0.2.0/24 dev eth1 proto kernel scope link"},
		{"10.0.3.5", "10.0.3.0/24 via 10.0.12.2 dev eth2"},
		{"10.0.3.128", "10.0.3.128/25 via 10.0.2.2 dev eth1"},
		{"10.0.200.1", "10.0.0.0/16 via 10.0.12.2 dev eth2"},
		{"10.0.5.1", "10.0.5.0/24 via 10.0.2.2 dev eth1 metric 5"},
		{"8.8.8.8", "default via 10.0.2.2 dev eth1"},
		{"10.0.12.2", "10.0.12.0/30 dev eth2 proto kernel scope link"},
	} {
		got, ok := w.r.Lookup(netip.MustParseAddr(tc.dst))
		if !ok || got.String() != tc.want {
			t.Errorf("Lookup(%s) = %q, %v, want %q", tc.dst, got, ok, tc.want)
		}
	}
	var table []string
	for _, e := range w.r.Routes() {
		table = append(table, e.String())
	}
	want := []string{
		"10.0.12.0/30 dev eth2 proto kernel scope link",
		"10.0.3.128/25 via 10.0.2.2 dev eth1",
		"10.0.1.0/24 dev eth0 proto kernel scope link",
		"10.0.2.0/24 dev eth1 proto kernel scope link",
		"10.0.3.0/24 via 10.0.12.2 dev eth2",
		"10.0.5.0/24 via 10.0.2.2 dev eth1 metric 5",
		"10.0.5.0/24 via 10.0.12.2 dev eth2 metric 10",
		"10.0.0.0/16 via 10.0.12.2 dev eth2",
		"default via 10.0.2.2 dev eth1",
	}
	if strings.Join(table, "\n") != strings.Join(want, "\n") {
		t.Errorf("Routes() =\n%s\nwant\n%s", strings.Join(table, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigCheck(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	cases := []struct {
		name  string
		edit  func(*router.Config)
		iface int
		route int
		field string
		msg   string
	}{
		{"host bits", func(c *router.Config) { c.Routes[0].To = pfx("10.0.3.1/24") }, -1, 0, "to", "did you mean 10.0.3.0/24?"},
		{"via off-link", func(c *router.Config) { c.Routes[0].Via = addr("10.0.9.1") }, -1, 0, "via", "on none of the router's subnets"},
		{"via the router itself", func(c *router.Config) { c.Routes[0].Via = addr("10.0.12.1") }, -1, 0, "via", "own address"},
		{"duplicate", func(c *router.Config) { c.Routes = append(c.Routes, c.Routes[0]) }, -1, 3, "to", "is there already (via 10.0.12.2)"},
		{"a connected subnet again", func(c *router.Config) { c.Routes[0].To = pfx("10.0.1.0/24") }, -1, 0, "to", "connected subnet already"},
		{"inside a connected subnet", func(c *router.Config) { c.Routes[0].To = pfx("10.0.1.128/25") }, -1, 0, "to", "not supported"},
		{"an IPv6 route", func(c *router.Config) { c.Routes[0].To = pfx("2001:db8::/32") }, -1, 0, "to", "IPv4 prefix"},
		{"overlapping subnets", func(c *router.Config) { c.Ifaces[1].Addr = pfx("10.0.1.2/16") }, 1, -1, "addr", "overlaps"},
		{"a network address", func(c *router.Config) { c.Ifaces[0].Addr = pfx("10.0.1.0/24") }, 0, -1, "addr", "network or broadcast"},
		{"MTU too small", func(c *router.Config) { c.Ifaces[1].MTU = 67 }, 1, -1, "mtu", "outside 68-65535"},
		{"twice the same name", func(c *router.Config) { c.Ifaces[2].Name = "eth0" }, 2, -1, "name", "also interface 0's"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			c.edit(&cfg)
			errs := cfg.Check()
			if len(errs) == 0 {
				t.Fatalf("Check() = nothing, want a problem at %s", c.field)
			}
			e := errs[0]
			if e.Iface != c.iface || e.Route != c.route || e.Field != c.field || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("Check()[0] = %+v, want interface %d route %d field %s saying %q", *e, c.iface, c.route, c.field, c.msg)
			}
			if _, err := router.New(cfg, router.Options{}); !errors.Is(err, router.ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
	cfg := testConfig()
	if errs := cfg.Check(); len(errs) != 0 {
		t.Errorf("the test's config has problems: %v", errs)
	}
}

// TestCarrier: nothing leaves by an interface without carrier, and what
// arrives on one is dropped.
func TestCarrier(t *testing.T) {
	w := newRig(t, testConfig())
	w.learn(1, "10.0.2.10")
	w.reset()
	w.r.SetCarrier(1, false)
	w.r.Input(0, pkt{src: "10.0.1.10", dst: "10.0.2.10"}.frame(t))
	if s := w.r.Stats(); s.Forwarded != 1 || s.SendErrors != 1 || len(w.sent[1]) != 0 {
		t.Errorf("with eth1 down: Forwarded %d, SendErrors %d, %d frames out; want 1, 1, 0", s.Forwarded, s.SendErrors, len(w.sent[1]))
	}
	w.r.Input(1, pkt{src: "10.0.2.10", dst: "10.0.1.10", srcMAC: macH3, dstMAC: macEth1}.frame(t))
	if s := w.r.Stats(); s.LinkDropped == 0 || s.Forwarded != 1 {
		t.Errorf("a frame in on eth1 while down: LinkDropped %d, Forwarded %d; want > 0 and still 1", s.LinkDropped, s.Forwarded)
	}
}

// TestARPQueue: packets for a next hop being resolved wait, and leave
// when it answers.
func TestARPQueue(t *testing.T) {
	w := newRig(t, testConfig())
	w.r.Input(0, pkt{src: "10.0.1.10", dst: "10.0.3.5"}.frame(t))
	w.r.Input(0, pkt{src: "10.0.1.10", dst: "10.0.3.6"}.frame(t))
	if n := len(w.ipFrames(2)); n != 0 {
		t.Fatalf("%d packets left before ARP was answered", n)
	}
	w.clk.Advance(10 * time.Millisecond)
	ps := w.ipFrames(2)
	if len(ps) != 2 {
		t.Fatalf("%d packets left after ARP was answered, want 2:\n%s", len(ps), w.narration())
	}
	wantForwarded(macR2.String(), macEth2.String(), "10.0.3.5")(t, ps[:1])
	wantForwarded(macR2.String(), macEth2.String(), "10.0.3.6")(t, ps[1:])
}

// TestTrace: a forwarded packet is narrated with where it went and its
// TTL.
func TestTrace(t *testing.T) {
	w := newRig(t, testConfig())
	w.learn(2, "10.0.12.2")
	w.reset()
	w.r.Input(0, pkt{src: "10.0.1.10", dst: "10.0.3.5"}.frame(t))
	want := "r1 eth0: routed icmp 10.0.1.10:1 -> 10.0.3.5:1 out of eth2"
	if got := w.narration(); !strings.Contains(got, want) {
		t.Errorf("trace:\n%s\nwant a line %q", got, want)
	}
	var routed *trace.Event
	for i := range w.events {
		if w.events[i].Kind == trace.Routed {
			routed = &w.events[i]
		}
	}
	if routed == nil || routed.SrcIP != netip.MustParseAddr("10.0.1.10") || routed.DstIP != netip.MustParseAddr("10.0.3.5") ||
		routed.Proto != trace.ICMP || routed.Port != "eth0" || len(routed.Ports) != 1 || routed.Ports[0] != "eth2" || routed.ID != 1 || routed.Seq != 1 {
		t.Errorf("routed event %+v, want its fields: 10.0.1.10 -> 10.0.3.5, icmp, in eth0, out eth2, id 1 seq 1", routed)
	}
}

// TestNoAllocs: forwarding to a resolved next hop allocates nothing.
func TestNoAllocs(t *testing.T) {
	c := testConfig()
	r, err := router.New(c, router.Options{Clock: clock.NewManual()})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ifNames {
		r.Endpoint(n).Attach(link.Funcs{})
	}
	// h3 asks for the router: the router learns it.
	arp := serialize(t, &layers.Ethernet{SrcMAC: macH3, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: macH3, SourceProtAddress: netip.MustParseAddr("10.0.2.10").AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: netip.MustParseAddr("10.0.2.1").AsSlice()})
	r.Input(1, arp)
	fr := pkt{src: "10.0.1.10", dst: "10.0.2.10"}.frame(t)
	orig := bytes.Clone(fr)
	if n := testing.AllocsPerRun(1000, func() { r.Input(0, fr) }); n != 0 {
		t.Errorf("forwarding allocates %v times a packet, want 0", n)
	}
	if s := r.Stats(); s.Forwarded < 1000 || s.SendErrors != 0 {
		t.Errorf("Forwarded %d, SendErrors %d", s.Forwarded, s.SendErrors)
	}
	if !bytes.Equal(fr, orig) {
		t.Errorf("the router changed the frame it was given")
	}
	// Nobody traces: a dropped packet costs no allocation either, so a
	// flood of martians is not a flood of garbage.
	martian := pkt{src: "127.0.0.1", dst: "10.0.2.10"}.frame(t)
	if n := testing.AllocsPerRun(1000, func() { r.Input(0, martian) }); n != 0 {
		t.Errorf("dropping a martian allocates %v times a packet, want 0", n)
	}
	if s := r.Stats(); s.MartianSource < 1000 {
		t.Errorf("MartianSource %d: the martians were not dropped as such", s.MartianSource)
	}
}

func BenchmarkForward(b *testing.B) {
	r, err := router.New(testConfig(), router.Options{Clock: clock.NewManual()})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range ifNames {
		r.Endpoint(n).Attach(link.Funcs{})
	}
	r.Input(1, serialize(b, &layers.Ethernet{SrcMAC: macH3, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: macH3, SourceProtAddress: netip.MustParseAddr("10.0.2.10").AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: netip.MustParseAddr("10.0.2.1").AsSlice()}))
	fr := pkt{src: "10.0.1.10", dst: "10.0.2.10", l4: echoReq(1, 1, 900)}.frame(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		r.Input(0, fr)
	}
}

// TestInputOffload: a frame whose TCP checksum is still to fill (a TAP's
// offload) is forwarded with it filled.
func TestInputOffload(t *testing.T) {
	w := newRig(t, testConfig())
	w.learn(1, "10.0.2.10")
	w.reset()
	fr := pkt{src: "10.0.1.10", dst: "10.0.2.10", l4: []gopacket.SerializableLayer{&layers.TCP{SrcPort: 40000, DstPort: 80, ACK: true, Seq: 1, Window: 512}, gopacket.Payload("hello")}}.frame(t)
	ip := fr[14 : 14+int(binary.BigEndian.Uint16(fr[16:18]))] // without the Ethernet padding
	l4 := ip[20:]
	binary.BigEndian.PutUint16(l4[16:], csum.Fold(csum.Sum(ip[12:20], 0)+6+uint64(len(l4)))) // the pseudo-header's sum only
	w.r.InputOffload(0, fr, link.Offload{Flags: link.FlagNeedsCsum, CsumStart: 14 + 20, CsumOffset: 16})
	ps := w.ipFrames(1)
	if len(ps) != 1 {
		t.Fatalf("%d packets out of eth1, want 1:\n%s", len(ps), w.narration())
	}
	out := ps[0].Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if sum := csum.Sum(out.Contents[12:20], 0) + 6 + uint64(len(out.Payload)); csum.Fold(csum.Sum(out.Payload, sum)) != 0xffff {
		t.Errorf("forwarded TCP checksum is not filled")
	}
	if out.TTL != 63 {
		t.Errorf("TTL %d, want 63", out.TTL)
	}
}
