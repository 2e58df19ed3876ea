package stack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// shortcutHost is a host at 10.0.0.1/24 that records what it sends, traces
// and answers, to compare what input does with a frame to what
// inputDecoded (gopacket's way, past arpNotForMe and inputEcho) does.
type shortcutHost struct {
	h       *Host
	out     link.Channel
	events  []trace.Event
	results []PingResult
}

var (
	scMAC  = header.MAC{2, 0, 0, 0, 0, 1}
	scPeer = header.MAC{2, 0, 0, 0, 0, 2}
	scAddr = netip.MustParseAddr("10.0.0.1")
	scFrom = netip.MustParseAddr("10.0.0.2")
)

func newShortcutHost(t *testing.T, clk clock.Clock, traced bool) *shortcutHost {
	t.Helper()
	s := &shortcutHost{}
	o := Options{Name: "h", Clock: clk}
	if traced {
		o.Tracer = trace.Func(func(e trace.Event) { s.events = append(s.events, e) })
	}
	s.h = New(o)
	if _, err := s.h.AddIface("eth0", scMAC, netip.MustParsePrefix("10.0.0.1/24"), &s.out); err != nil {
		t.Fatal(err)
	}
	// The peer is a resolved neighbour, so that echo replies are built
	// in place; two echo requests of ours wait for replies.
	s.h.input(s.h.ifaces[0], arpFrame(header.ARPRequest, scPeer, scFrom, scAddr), link.Offload{}, true)
	for seq := range uint16(2) {
		s.h.echo[7<<16|uint32(seq)] = echoWait{sent: clk.Now(), gen: 1, done: func(r PingResult) { s.results = append(s.results, r) }}
	}
	s.out.Drain()
	s.events = nil
	return s
}

func arpFrame(op uint16, sender header.MAC, from, target netip.Addr) []byte {
	f := make([]byte, header.EthernetLen+header.ARPLen)
	header.PutEthernet(f, header.Broadcast, sender, header.EtherTypeARP)
	header.PutARP(f[header.EthernetLen:], op, sender, from, header.MAC{}, target)
	return f
}

// echoFrame is an echo message from scFrom (at scPeer) to dst at dstMAC,
// with checksums.
func echoFrame(dstMAC header.MAC, dst netip.Addr, typ, code uint8, seq uint16, size int) []byte {
	n := header.IPv4MinLen + header.ICMPv4Len + size
	f := make([]byte, header.EthernetLen+n)
	header.PutEthernet(f, dstMAC, scPeer, header.EtherTypeIPv4)
	m := header.ICMPv4(f[header.EthernetLen+header.IPv4MinLen:])
	m[0], m[1] = typ, code
	binary.BigEndian.PutUint16(m[4:], 7)
	binary.BigEndian.PutUint16(m[6:], seq)
	for k := range m.Payload() {
		m.Payload()[k] = byte(3 * k)
	}
	m.FixChecksum()
	header.PutIPv4(f[header.EthernetLen:], header.IPv4Fields{TotalLen: n, ID: 9, TTL: 64, Protocol: header.ProtocolICMP, Src: scFrom, Dst: dst})
	return f
}

// edit returns a copy of f changed by fn.
func edit(f []byte, fn func(f []byte) []byte) []byte { return fn(append([]byte(nil), f...)) }

// TestShortcutsDecideAsGopacket hands frames the shortcuts take, and
// frames near them that they must leave alone, to two hosts alike: one
// through input, one through inputDecoded. What each sends, traces,
// counts and answers is the same.
func TestShortcutsDecideAsGopacket(t *testing.T) {
	me, bcast := scAddr, netip.MustParseAddr("10.0.0.255")
	req := echoFrame(scMAC, me, header.ICMPv4EchoRequest, 0, 1, 56)
	ip := func(f []byte) header.IPv4 { return header.IPv4(f[header.EthernetLen:]) }
	frames := map[string][]byte{
		"request":             req,
		"request empty":       echoFrame(scMAC, me, header.ICMPv4EchoRequest, 0, 1, 0),
		"request padded":      append(echoFrame(scMAC, me, header.ICMPv4EchoRequest, 0, 1, 4), make([]byte, 14)...),
		"request code 1":      echoFrame(scMAC, me, header.ICMPv4EchoRequest, 1, 1, 8),
		"request truncated":   req[:len(req)-4],
		"request to lo":       echoFrame(scMAC, netip.MustParseAddr("127.0.0.1"), header.ICMPv4EchoRequest, 0, 1, 8),
		"request bcast":       echoFrame(header.Broadcast, bcast, header.ICMPv4EchoRequest, 0, 1, 8),
		"request all-ones":    echoFrame(header.Broadcast, netip.MustParseAddr("255.255.255.255"), header.ICMPv4EchoRequest, 0, 1, 8),
		"request multicast":   echoFrame(header.MAC{1, 0, 0x5e, 0, 0, 1}, me, header.ICMPv4EchoRequest, 0, 1, 8),
		"request not my IP":   echoFrame(scMAC, netip.MustParseAddr("10.0.0.9"), header.ICMPv4EchoRequest, 0, 1, 8),
		"request not my MAC":  echoFrame(scPeer, me, header.ICMPv4EchoRequest, 0, 1, 8),
		"request MF":          edit(req, func(f []byte) []byte { ip(f).SetFlagsFrag(header.IPv4MF); return f }),
		"request offset":      edit(req, func(f []byte) []byte { ip(f).SetFlagsFrag(1); return f }),
		"request length 0":    edit(req, func(f []byte) []byte { ip(f).SetTotalLen(0); return f }),
		"request length 24":   edit(req, func(f []byte) []byte { ip(f).SetTotalLen(24); return f }),
		"request length 19":   edit(req, func(f []byte) []byte { ip(f).SetTotalLen(19); return f }),
		"request version 6":   edit(req, func(f []byte) []byte { f[header.EthernetLen] = 0x65; return f }),
		"request IHL 4":       edit(req, func(f []byte) []byte { f[header.EthernetLen] = 0x44; return f }),
		"request with option": withOption(req),
		"request UDP":         edit(req, func(f []byte) []byte { f[header.EthernetLen+9] = header.ProtocolUDP; return f }),
		"request runt":        req[:header.EthernetLen+header.IPv4MinLen+4],
		"reply waited for":    echoFrame(scMAC, me, header.ICMPv4EchoReply, 0, 0, 8),
		"reply padded":        append(echoFrame(scMAC, me, header.ICMPv4EchoReply, 0, 1, 0), make([]byte, 18)...),
		"reply to nothing":    echoFrame(scMAC, me, header.ICMPv4EchoReply, 0, 5, 8),
		"timestamp":           echoFrame(scMAC, me, 13, 0, 1, 12),
		"arp for another":     arpFrame(header.ARPRequest, header.MAC{2, 0, 0, 0, 0, 3}, netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4")),
		"arp from known":      arpFrame(header.ARPRequest, scPeer, scFrom, netip.MustParseAddr("10.0.0.4")),
		"arp for me":          arpFrame(header.ARPRequest, header.MAC{2, 0, 0, 0, 0, 3}, netip.MustParseAddr("10.0.0.3"), me),
	}
	for _, traced := range []bool{false, true} {
		for name, f := range frames {
			clk := clock.NewManual()
			a, b := newShortcutHost(t, clk, traced), newShortcutHost(t, clk, traced)
			clk.Advance(time.Millisecond)
			a.h.input(a.h.ifaces[0], f, link.Offload{}, true)
			b.h.inputDecoded(b.h.ifaces[0], f)
			if ga, gb := a.out.Drain(), b.out.Drain(); !reflect.DeepEqual(ga, gb) {
				t.Errorf("%s (traced %v): sent %x, gopacket's way %x", name, traced, ga, gb)
			}
			if !reflect.DeepEqual(a.events, b.events) {
				t.Errorf("%s (traced %v): traced %+v, gopacket's way %+v", name, traced, a.events, b.events)
			}
			if a.h.stats != b.h.stats {
				t.Errorf("%s (traced %v): counted %+v, gopacket's way %+v", name, traced, a.h.stats, b.h.stats)
			}
			if !reflect.DeepEqual(a.results, b.results) || len(a.h.echo) != len(b.h.echo) {
				t.Errorf("%s (traced %v): answered %+v (%d waiting), gopacket's way %+v (%d)", name, traced, a.results, len(a.h.echo), b.results, len(b.h.echo))
			}
			if na, nb := a.neighbours(), b.neighbours(); !reflect.DeepEqual(na, nb) {
				t.Errorf("%s (traced %v): neighbours %v, gopacket's way %v", name, traced, na, nb)
			}
		}
	}
}

// withOption returns f, an echo frame, with 4 bytes of IPv4 options (NOP).
func withOption(f []byte) []byte {
	h := header.EthernetLen + header.IPv4MinLen
	g := append(append(append([]byte(nil), f[:h]...), 1, 1, 1, 1), f[h:]...)
	ip := header.IPv4(g[header.EthernetLen:])
	ip[0] = 0x46
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip.FixChecksum()
	return g
}

// neighbours lists the neighbour table: address, MAC, when confirmed and
// updated, tries, by address.
func (s *shortcutHost) neighbours() []string {
	var out []string
	for _, n := range s.h.arp.all() {
		out = append(out, fmt.Sprint(n.addr, n.mac, n.confirmed, n.updated, n.tries))
	}
	slices.Sort(out)
	return out
}

// TestFillOffsets checks the copied pattern against a byte at a time, at
// lengths around its period.
func TestFillOffsets(t *testing.T) {
	for _, n := range []int{0, 1, 56, 255, 256, 257, 1000, 65507} {
		b := make([]byte, n)
		fillOffsets(b)
		for i := range b {
			if b[i] != byte(i) {
				t.Fatalf("length %d: byte %d is %d", n, i, b[i])
			}
		}
	}
}
