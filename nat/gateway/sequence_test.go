package gateway_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/nat/gateway"
)

// A sequence is frames for the gateway with time passing between them, so
// that conntrack, ARP, reassembly and DNS forwarding carry state from one
// to the next. Encoded as records of
//
//	leg (1 byte, mod 3) | delay (1 byte: n x 100 ms; 255: 31 s) | length (2 bytes, big-endian) | frame
//
// A last record shorter than its length takes what is left.

// record encodes one record.
func record(leg byte, delay byte, fr []byte) []byte {
	b := []byte{leg, delay, byte(len(fr) >> 8), byte(len(fr))}
	return append(b, fr...)
}

func delayOf(b byte) time.Duration {
	if b == 255 {
		return gateway.ReasmTime + time.Second
	}
	return time.Duration(b) * 100 * time.Millisecond
}

// seqWorld is the world a sequence runs in: upstreams that answer and
// that do not, the client on net1.
func seqWorld(t testing.TB) *world {
	w := newWorld(t, gateway.Config{MaxDNSForwards: 4}, "192.168.56.53:53", "192.168.56.54:53")
	w.upstream("192.168.56.53", silent, nil)
	w.upstream("192.168.56.54", answers, nil)
	return w
}

// runSequence feeds the records of data to a world, checking the
// gateway's invariants after every frame and once everything timed out.
func runSequence(t *testing.T, data []byte) {
	w := seqWorld(t)
	w.e.Limit = 1 << 20 // a storm is a finding, not a hang
	run := func(d time.Duration) {
		if !w.e.Advance(d) {
			t.Fatalf("event budget spent: a storm\n%s", w.narration())
		}
	}
	mtu := gateway.DefaultMTU
	w.sent = func(leg int, fr []byte) { checkSent(t, leg, fr, mtu) }
	prev := w.gw.Stats()
	for len(data) >= 4 {
		leg, delay, n := int(data[0]%3), delayOf(data[1]), int(binary.BigEndian.Uint16(data[2:4]))
		data = data[4:]
		fr := data[:min(n, len(data))]
		data = data[len(fr):]
		run(delay)
		w.gw.Input(leg, fr)
		prev = checkInvariants(t, w, prev)
	}
	// Everything the gateway holds times out: reassembly after 30 s, DNS
	// after the last upstream, ARP after its retries.
	run(2 * time.Minute)
	checkInvariants(t, w, prev)
	if p := w.gw.Pending(); p != (gateway.Pending{}) {
		t.Errorf("after two minutes: pending %+v, want nothing", p)
	}
}

// checkSent checks one frame the gateway sent: no bigger than the MTU,
// and an IPv4 packet in it valid and from an address a packet may come
// from.
func checkSent(t *testing.T, leg int, fr []byte, mtu int) {
	if len(fr) > 14+mtu {
		t.Fatalf("leg %d: sent a frame of %d bytes, over the MTU %d", leg, len(fr), mtu)
	}
	if len(fr) < 14+20 || fr[12] != 0x08 || fr[13] != 0x00 {
		return
	}
	ip := fr[14:]
	hl := int(ip[0]&0xf) * 4
	tl := int(binary.BigEndian.Uint16(ip[2:4]))
	if ip[0]>>4 != 4 || hl < 20 || hl > tl || tl > len(ip) || tl < len(ip) && len(fr) != 60 { // only padding to Ethernet's 60 bytes
		t.Fatalf("leg %d: sent a bad IPv4 header % x", leg, ip[:min(len(ip), 60)])
	}
	if csum.Fold(csum.Sum(ip[:hl], 0)) != 0xffff {
		t.Fatalf("leg %d: sent a wrong header checksum", leg)
	}
	src := netip.AddrFrom4([4]byte(ip[12:16]))
	a := src.As4()
	martian := a[0] == 0 || a[0] == 127 || a[0] >= 224
	for _, p := range []netip.Prefix{lanPrefix, net1, net2} {
		if bits := p.Bits(); bits < 31 {
			last := p.Masked().Addr().As4()
			for b := bits; b < 32; b++ {
				last[b/8] |= 1 << (7 - b%8)
			}
			martian = martian || src == netip.AddrFrom4(last)
		}
	}
	if martian {
		t.Fatalf("leg %d: sent a packet from the martian source %s", leg, src)
	}
}

// checkInvariants checks the gateway's counters against each other, its
// bounds and its trace, and that no counter went down; it returns the
// counters.
func checkInvariants(t *testing.T, w *world, prev gateway.Stats) gateway.Stats {
	t.Helper()
	st, p := w.gw.Stats(), w.gw.Pending()
	nv, pv := reflect.ValueOf(st), reflect.ValueOf(prev)
	for i := range nv.NumField() {
		if nv.Field(i).Uint() < pv.Field(i).Uint() {
			t.Fatalf("%s went down from %d to %d", nv.Type().Field(i).Name, pv.Field(i).Uint(), nv.Field(i).Uint())
		}
	}
	if st.ReasmFails != st.ReasmTimeout+st.ReasmOverlaps+st.ReasmFull+st.ReasmMalformed {
		t.Fatalf("ReasmFails %d is not the sum of its reasons: %+v", st.ReasmFails, st)
	}
	if st.DNSForwarded != st.DNSRelayed+st.DNSServFail+uint64(p.DNSQueries) {
		t.Fatalf("DNSForwarded %d != relayed %d + SERVFAIL %d + waiting %d", st.DNSForwarded, st.DNSRelayed, st.DNSServFail, p.DNSQueries)
	}
	if p.Reassemblies > gateway.MaxReasmDatagrams || p.ReasmBytes > gateway.MaxReasmBytes || p.ReasmBytes < 0 || p.DNSQueries > 4 {
		t.Fatalf("pending %+v beyond its bounds", p)
	}
	if p.Reassemblies == 0 && p.ReasmBytes != 0 {
		t.Fatalf("no datagram in reassembly, %d bytes held", p.ReasmBytes)
	}
	counted := st.Isolated + st.Internal + st.Direct + st.TTLExceeded + st.NATDropped + st.NATEarlyDropped + st.NoRoute + st.SendErrors +
		st.HeaderErrors + st.Truncated + st.BadChecksum + st.MartianSource + st.MartianDest + st.ReasmFails + st.FragFails +
		st.DNSDropped + st.DNSRefused + st.DNSStray
	if traced := uint64(w.gatewayDrops()); traced != counted {
		t.Fatalf("%d drops traced, %d counted: %+v\n%s", traced, counted, st, w.narration())
	}
	return st
}

// FuzzGatewaySequence: any sequence of frames on any legs, with time
// passing, never panics and keeps the invariants of checkInvariants and
// checkSent.
func FuzzGatewaySequence(f *testing.F) {
	for _, s := range sequenceSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(runSequence)
}

// TestGatewaySequenceSeeds runs the fuzz seeds as a test, so that the
// invariants hold in every `go test`.
func TestGatewaySequenceSeeds(t *testing.T) {
	for i, s := range sequenceSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { runSequence(t, s) })
	}
}

func sequenceSeeds(t testing.TB) [][]byte {
	arpReply := frame(t, outerMAC, lanMAC, &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPReply, SourceHwAddress: outerMAC, SourceProtAddress: outer.AsSlice(),
		DstHwAddress: lanMAC, DstProtAddress: lanAddr.AsSlice(),
	})
	out := udp(t, 64, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 53))
	reply := udp(t, 64, netip.AddrPortFrom(outer, 53), netip.AddrPortFrom(lanAddr, 4000))
	copy(reply, lanMAC)
	frags := cut(bigUDP(t, ctrMAC, gwMAC, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 9000), 4000, 1, false), 1480)
	inFrags := cut(bigUDP(t, outerMAC, lanMAC, netip.AddrPortFrom(outer, 9000), netip.AddrPortFrom(lanAddr, 4000), 4000, 2, false), 1480)
	q := new(dns.Msg)
	q.SetQuestion("outside.test.", dns.TypeA)
	qw, _ := q.Pack()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ctr.AsSlice(), DstIP: gwAddr.AsSlice()}
	u := &layers.UDP{SrcPort: 5000, DstPort: 53}
	_ = u.SetNetworkLayerForChecksum(ip)
	query := frame(t, ctrMAC, gwMAC, ip, u, gopacket.Payload(qw))
	martian := udp(t, 64, netip.MustParseAddrPort("127.0.0.1:1"), netip.AddrPortFrom(outer, 53))
	join := func(rs ...[]byte) []byte {
		var b []byte
		for _, r := range rs {
			b = append(b, r...)
		}
		return b
	}
	return [][]byte{
		join(record(1, 0, out)),
		join(record(0, 0, arpReply), record(1, 1, out), record(0, 1, reply)),
		join(record(0, 0, arpReply), record(1, 0, frags[0]), record(1, 3, frags[1]), record(1, 3, frags[2]),
			record(0, 1, inFrags[2]), record(0, 1, inFrags[0]), record(0, 1, inFrags[1])),
		join(record(1, 0, frags[0]), record(1, 255, frags[1])),
		join(record(1, 0, frags[0]), record(1, 0, frags[0]), record(1, 0, frags[2])),
		join(record(1, 0, query), record(1, 10, query), record(1, 50, query)),
		join(record(1, 0, martian), record(2, 0, out), record(0, 0, out)),
		join(record(1, 0, query), record(1, 0, query), record(1, 0, query), record(1, 0, query), record(1, 0, query), record(1, 0, query)),
	}
}
