package router_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
)

// FuzzInput hands the router any frame on any interface. It must not
// panic; an IPv4 frame for it is counted exactly once whatever becomes of
// it (and another frame not at all); and whatever the router sends is
// well formed: IPv4 headers with their checksums, within the egress MTU,
// TTL at least 1, ICMP with its checksum.
func FuzzInput(f *testing.F) {
	seeds := []pkt{
		{src: "10.0.1.10", dst: "10.0.2.10"},
		{src: "10.0.1.10", dst: "10.0.3.200"},
		{src: "10.0.1.10", dst: "10.0.2.10", ttl: 1},
		{src: "10.0.1.10", dst: "192.0.2.1"},
		{src: "10.0.1.10", dst: "10.0.2.99"},
		{src: "10.0.1.10", dst: "10.0.1.1"},
		{src: "10.0.1.10", dst: "10.0.2.10", l4: echoReq(1, 1, 2000)},
		{src: "10.0.1.10", dst: "10.0.2.10", flags: layers.IPv4DontFragment, l4: echoReq(1, 1, 1200)},
		{src: "10.0.1.10", dst: "10.0.2.10", fragOff: 3, flags: layers.IPv4MoreFragments},
		{src: "10.0.1.10", dst: "10.0.2.10", l4: echoReq(1, 1, 1500), options: []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}},
		{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{&layers.UDP{SrcPort: 5000, DstPort: 53}, gopacket.Payload("q")}},
		{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{&layers.TCP{SrcPort: 40000, DstPort: 22, SYN: true, Seq: 9}}},
		{src: "10.0.1.10", dst: "10.0.1.1", l4: []gopacket.SerializableLayer{gopacket.Payload("x")}},
		{src: "10.0.1.10", dst: "10.0.2.255"},
		{src: "10.0.1.10", dst: "10.0.2.10", dstMAC: layers.EthernetBroadcast},
	}
	for _, p := range seeds {
		f.Add(uint8(0), p.frame(f))
	}
	f.Add(uint8(2), pkt{src: "10.0.3.9", dst: "10.0.1.1", srcMAC: macR2, dstMAC: macEth2}.frame(f))
	f.Add(uint8(1), []byte{})
	f.Add(uint8(0), append(append([]byte(nil), macEth0...), 2, 0, 0, 0, 1, 10, 8, 0, 0x45))
	mtu := []int{1500, 1000, 1500}
	tl := func(p []byte) int { return int(binary.BigEndian.Uint16(p[2:4])) }
	routerAddrs := map[netip.Addr]bool{}
	for _, c := range testConfig().Ifaces {
		routerAddrs[c.Addr.Addr()] = true
	}
	f.Fuzz(func(t *testing.T, in uint8, frame []byte) {
		w := newRig(t, testConfig())
		w.learn(0, "10.0.1.10")
		w.learn(2, "10.0.12.2")
		w.reset()
		i := int(in % 3)
		own := []byte(macEth0)
		switch i {
		case 1:
			own = macEth1
		case 2:
			own = macEth2
		}
		mine := len(frame) >= 14 && frame[12] == 0x08 && frame[13] == 0x00 && (frame[0]&1 == 1 || bytes.Equal(frame[:6], own))
		orig := bytes.Clone(frame)
		w.r.Input(i, frame)
		w.clk.Advance(4 * time.Second)
		if !bytes.Equal(frame, orig) {
			t.Errorf("the router changed the frame it was given")
		}
		want := uint64(0)
		if mine {
			want = 1
		}
		if got := decided(w.r.Stats()); got != want {
			t.Errorf("counted %d times, want %d: %+v", got, want, w.r.Stats())
		}
		for k, sent := range w.sent {
			for _, fr := range sent {
				if len(fr) < 14 {
					t.Fatalf("out of %s: a runt of %d bytes", ifNames[k], len(fr))
				}
				if binary.BigEndian.Uint16(fr[12:14]) != 0x0800 {
					continue
				}
				p := fr[14:]
				switch {
				case len(p) < 20 || p[0]>>4 != 4 || int(p[0]&0xf)*4 < 20:
					t.Fatalf("out of %s: not an IPv4 header: %x", ifNames[k], p)
				case tl(p) != len(p) && (tl(p) > len(p) || len(fr) != 60):
					// Padding only to Ethernet's 60 bytes (the stack pads what waited for ARP).
					t.Errorf("out of %s: total length %d, %d bytes", ifNames[k], tl(p), len(p))
				case tl(p) > mtu[k]:
					t.Errorf("out of %s: %d bytes over the MTU %d", ifNames[k], len(p), mtu[k])
				case csum.Fold(csum.Sum(p[:int(p[0]&0xf)*4], 0)) != 0xffff:
					t.Errorf("out of %s: header checksum wrong: %x", ifNames[k], p)
				case p[8] == 0:
					t.Errorf("out of %s: TTL 0", ifNames[k])
				}
				hl := int(p[0]&0xf) * 4
				made := routerAddrs[netip.AddrFrom4([4]byte(p[12:16]))] // forwarded ICMP is left as it came
				if made && p[9] == 1 && binary.BigEndian.Uint16(p[6:8])&0x3fff == 0 && csum.Fold(csum.Sum(p[hl:], 0)) != 0xffff {
					t.Errorf("out of %s: ICMP checksum wrong: %x", ifNames[k], p)
				}
			}
		}
	})
}
