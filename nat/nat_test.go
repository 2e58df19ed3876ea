package nat_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/nat"
)

var (
	t0        = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	host      = netip.MustParseAddr("192.168.56.11")
	container = netip.MustParseAddr("172.18.0.10")
	outside   = netip.MustParseAddr("192.168.56.50")
)

// pkt builds an IPv4 packet with valid checksums.
func pkt(t testing.TB, proto uint8, src, dst netip.AddrPort, flags string) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
	var l4 gopacket.SerializableLayer
	switch proto {
	case nat.TCP:
		ip.Protocol = layers.IPProtocolTCP
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: 1, Window: 100,
			SYN: flags == "syn" || flags == "synack", ACK: flags == "synack" || flags == "ack", RST: flags == "rst", FIN: flags == "fin"}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		l4 = tcp
	case nat.UDP:
		ip.Protocol = layers.IPProtocolUDP
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		_ = udp.SetNetworkLayerForChecksum(ip)
		l4 = udp
	case nat.ICMP:
		ip.Protocol = layers.IPProtocolICMPv4
		typ := uint8(layers.ICMPv4TypeEchoRequest)
		if flags == "reply" {
			typ = layers.ICMPv4TypeEchoReply
		}
		l4 = &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: src.Port(), Seq: 1}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, l4, gopacket.Payload("hello")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// check decodes a translated packet and compares it with one built afresh
// with the expected addresses: equal bytes mean the incremental checksums
// are right.
func check(t *testing.T, got []byte, proto uint8, src, dst netip.AddrPort, flags string) {
	t.Helper()
	want := pkt(t, proto, src, dst, flags)
	if !bytes.Equal(got, want) {
		t.Errorf("translated packet differs from %v -> %v:\n got %x\nwant %x", src, dst, got, want)
	}
}

func ap(a netip.Addr, p uint16) netip.AddrPort { return netip.AddrPortFrom(a, p) }

func TestMasquerade(t *testing.T) {
	for _, proto := range []uint8{nat.UDP, nat.TCP, nat.ICMP} {
		tb := nat.New(0)
		first := "syn"
		reply := "synack"
		if proto == nat.ICMP {
			first, reply = "", "reply"
		}
		out := pkt(t, proto, ap(container, 40000), ap(outside, 53), first)
		if proto == nat.ICMP {
			out = pkt(t, proto, ap(container, 40000), ap(outside, 40000), first)
		}
		if _, err := tb.Outbound(out, host, t0); err != nil {
			t.Fatal(err)
		}
		dport := uint16(53)
		if proto == nat.ICMP {
			dport = 40000
		}
		check(t, out, proto, ap(host, 40000), ap(outside, dport), first)
		back := pkt(t, proto, ap(outside, dport), ap(host, 40000), reply)
		if _, err := tb.Inbound(back, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		check(t, back, proto, ap(outside, dport), ap(container, 40000), reply)
	}
}

func TestPortClashGetsAnotherPort(t *testing.T) {
	tb := nat.New(0)
	other := netip.MustParseAddr("172.18.0.11")
	a := pkt(t, nat.UDP, ap(container, 5000), ap(outside, 53), "")
	b := pkt(t, nat.UDP, ap(other, 5000), ap(outside, 53), "")
	_, _ = tb.Outbound(a, host, t0)
	_, _ = tb.Outbound(b, host, t0)
	check(t, a, nat.UDP, ap(host, 5000), ap(outside, 53), "")
	check(t, b, nat.UDP, ap(host, 1024), ap(outside, 53), "")
}

func TestPublishedPort(t *testing.T) {
	tb := nat.New(0)
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(host, 8080), To: ap(container, 80)}); err != nil {
		t.Fatal(err)
	}
	in := pkt(t, nat.TCP, ap(outside, 33000), ap(host, 8080), "syn")
	if _, err := tb.Inbound(in, t0); err != nil {
		t.Fatal(err)
	}
	check(t, in, nat.TCP, ap(outside, 33000), ap(container, 80), "syn") // the container sees the client
	resp := pkt(t, nat.TCP, ap(container, 80), ap(outside, 33000), "synack")
	if _, err := tb.Outbound(resp, host, t0); err != nil {
		t.Fatal(err)
	}
	check(t, resp, nat.TCP, ap(host, 8080), ap(outside, 33000), "synack")
	if _, err := tb.Inbound(pkt(t, nat.TCP, ap(outside, 33000), ap(host, 9090), "syn"), t0); !errors.Is(err, nat.ErrRefused) {
		t.Errorf("an unpublished port: %v", err)
	}
	if f := tb.Dump(t0); len(f) != 1 || f[0].Kind != "published" || f[0].State != "syn-recv" {
		t.Errorf("dump %+v", f)
	}
}

func TestExpiry(t *testing.T) {
	tb := nat.New(0)
	_, _ = tb.Outbound(pkt(t, nat.UDP, ap(container, 5000), ap(outside, 53), ""), host, t0)
	if _, err := tb.Inbound(pkt(t, nat.UDP, ap(outside, 53), ap(host, 5000), ""), t0.Add(nat.UDPTimeout-time.Nanosecond)); err != nil {
		t.Errorf("a reply just in time: %v", err)
	}
	// Answered: now the stream timeout applies.
	late := t0.Add(nat.UDPTimeout + nat.UDPStreamTimeout)
	if _, err := tb.Inbound(pkt(t, nat.UDP, ap(outside, 53), ap(host, 5000), ""), late); !errors.Is(err, nat.ErrRefused) {
		t.Errorf("a reply after expiry: %v", err)
	}
	if tb.Stats().Expired != 1 {
		t.Errorf("stats %+v", tb.Stats())
	}
}

// TestFullTableKeepsExistingFlows fills the table with connections that
// completed their handshake, which are never dropped early: the overflow
// is refused and counted, and existing flows keep working.
func TestFullTableKeepsExistingFlows(t *testing.T) {
	tb := nat.New(100)
	// The first flow is a UDP stream: answered, and still going 3 s on.
	first := pkt(t, nat.UDP, ap(container, 2000), ap(outside, 53), "")
	_, _ = tb.Outbound(first, host, t0)
	_, _ = tb.Inbound(pkt(t, nat.UDP, ap(outside, 53), ap(host, 2000), ""), t0)
	now := t0.Add(3 * time.Second)
	_, _ = tb.Outbound(pkt(t, nat.UDP, ap(container, 2000), ap(outside, 53), ""), host, now)
	full := 0
	for i := range 300 {
		port := uint16(3000 + i)
		_, err := tb.Outbound(pkt(t, nat.TCP, ap(container, port), ap(outside, 80), "syn"), host, now)
		if errors.Is(err, nat.ErrFull) {
			full++
			continue
		}
		_, _ = tb.Inbound(pkt(t, nat.TCP, ap(outside, 80), ap(host, port), "synack"), now)
		_, _ = tb.Outbound(pkt(t, nat.TCP, ap(container, port), ap(outside, 80), "ack"), host, now)
	}
	if full != 201 || tb.Stats().Full != 201 {
		t.Errorf("%d refused (stats %+v), want 201", full, tb.Stats())
	}
	again := pkt(t, nat.UDP, ap(container, 2000), ap(outside, 53), "")
	if _, err := tb.Outbound(again, host, now.Add(time.Second)); err != nil {
		t.Errorf("an existing flow failed on a full table: %v", err)
	}
	reply := pkt(t, nat.UDP, ap(outside, 53), ap(host, 2000), "")
	if _, err := tb.Inbound(reply, now.Add(time.Second)); err != nil {
		t.Errorf("a reply on a full table: %v", err)
	}
}

func TestNoAllocsEstablished(t *testing.T) {
	tb := nat.New(0)
	out := pkt(t, nat.TCP, ap(container, 40000), ap(outside, 443), "syn")
	_, _ = tb.Outbound(out, host, t0)
	p := pkt(t, nat.TCP, ap(container, 40000), ap(outside, 443), "ack")
	buf := make([]byte, len(p))
	if n := testing.AllocsPerRun(1000, func() {
		copy(buf, p)
		_, _ = tb.Outbound(buf, host, t0)
	}); n != 0 {
		t.Errorf("%v allocs per established packet, want 0", n)
	}
}

func BenchmarkOutboundEstablished(b *testing.B) {
	tb := nat.New(0)
	_, _ = tb.Outbound(pkt(b, nat.TCP, ap(container, 40000), ap(outside, 443), "syn"), host, t0)
	p := pkt(b, nat.TCP, ap(container, 40000), ap(outside, 443), "ack")
	buf := make([]byte, len(p))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, p)
		_, _ = tb.Outbound(buf, host, t0)
	}
}

func FuzzTranslate(f *testing.F) {
	f.Add(pkt(f, nat.TCP, ap(container, 40000), ap(outside, 443), "syn"))
	f.Add(pkt(f, nat.UDP, ap(container, 5000), ap(outside, 53), ""))
	f.Add(pkt(f, nat.ICMP, ap(container, 7), ap(outside, 7), ""))
	f.Add(pkt(f, nat.TCP, ap(outside, 40000), ap(container, 80), "syn")) // direct routing
	f.Add(pkt(f, nat.TCP, ap(host, 32768), ap(host, 8080), "syn"))       // from the host
	f.Add(icmpErr(f, outside, host, 3, 3, pkt(f, nat.UDP, ap(host, 5000), ap(outside, 53), "")))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb := nat.New(4)
		_ = tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(host, 8080), To: ap(container, 80)})
		c := append([]byte(nil), b...)
		_, _ = tb.Outbound(c, host, t0)
		c = append([]byte(nil), b...)
		_, _ = tb.Inbound(c, t0)
		for _, o := range []nat.Origin{nat.Hairpinned, nat.Routed, nat.FromHost} {
			c = append([]byte(nil), b...)
			_, _ = tb.Translate(c, o, netip.MustParseAddr("172.18.0.1"), t0, false)
		}
	})
}

// icmpErr builds an ICMP error from src to dst quoting the first 28 bytes
// of quote.
func icmpErr(t testing.TB, src, dst netip.Addr, typ, code uint8, quote []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)}, gopacket.Payload(quote[:28]))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestICMPErrorTranslated: a port unreachable from outside, quoting the
// masqueraded datagram, reaches the container quoting what it sent.
func TestICMPErrorTranslated(t *testing.T) {
	tb := nat.New(0)
	orig := pkt(t, nat.UDP, ap(container, 5000), ap(outside, 53), "")
	sent := append([]byte(nil), orig...)
	if _, err := tb.Outbound(sent, host, t0); err != nil {
		t.Fatal(err)
	}
	in := icmpErr(t, outside, host, 3, 3, sent)
	if _, err := tb.Inbound(in, t0); err != nil {
		t.Fatal(err)
	}
	if want := icmpErr(t, outside, container, 3, 3, orig); !bytes.Equal(in, want) {
		t.Errorf("translated error:\n got %x\nwant %x", in, want)
	}
	// Errors about no flow are refused.
	stray := icmpErr(t, outside, host, 3, 1, pkt(t, nat.UDP, ap(host, 9999), ap(outside, 53), ""))
	if _, err := tb.Inbound(stray, t0); !errors.Is(err, nat.ErrRefused) {
		t.Errorf("an error about no flow: %v", err)
	}
}

// TestICMPErrorFromContainer: a container's port unreachable to a client of
// a published port leaves quoting the client's packet as the client sent it.
func TestICMPErrorFromContainer(t *testing.T) {
	tb := nat.New(0)
	_ = tb.AddPublish(nat.Publish{Proto: nat.UDP, Ext: ap(host, 5353), To: ap(container, 53)})
	fromClient := pkt(t, nat.UDP, ap(outside, 40000), ap(host, 5353), "")
	delivered := append([]byte(nil), fromClient...)
	if _, err := tb.Inbound(delivered, t0); err != nil {
		t.Fatal(err)
	}
	out := icmpErr(t, container, outside, 3, 3, delivered)
	if _, err := tb.Outbound(out, host, t0); err != nil {
		t.Fatal(err)
	}
	if want := icmpErr(t, host, outside, 3, 3, fromClient); !bytes.Equal(out, want) {
		t.Errorf("translated error:\n got %x\nwant %x", out, want)
	}
}

// TestHairpin: a container reaching its own host's published port is
// sent to the container behind it from the gateway's address, and the
// reply comes back looking like it came from the published port.
func TestHairpin(t *testing.T) {
	tb := nat.New(0)
	gw := netip.MustParseAddr("172.18.0.1")
	other := netip.MustParseAddr("172.18.0.2")
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(host, 8080), To: ap(container, 80)}); err != nil {
		t.Fatal(err)
	}
	in := pkt(t, nat.TCP, ap(other, 40000), ap(host, 8080), "syn")
	if _, err := tb.Hairpin(in, gw, t0); err != nil {
		t.Fatal(err)
	}
	check(t, in, nat.TCP, ap(gw, 40000), ap(container, 80), "syn")
	resp := pkt(t, nat.TCP, ap(container, 80), ap(gw, 40000), "synack")
	if _, err := tb.Outbound(resp, host, t0); err != nil {
		t.Fatal(err)
	}
	check(t, resp, nat.TCP, ap(host, 8080), ap(other, 40000), "synack")
	if f := tb.Dump(t0); len(f) != 1 || f[0].Kind != "hairpin" {
		t.Errorf("dump %+v", f)
	}
}

// TestICMPErrorHairpin: through the hairpin both ends of the quoted packet
// were translated; the container behind the port reports an error, and
// the sender gets it from the published address, quoting what it sent.
func TestICMPErrorHairpin(t *testing.T) {
	tb := nat.New(0)
	gw := netip.MustParseAddr("172.18.0.1")
	other := netip.MustParseAddr("172.18.0.2")
	_ = tb.AddPublish(nat.Publish{Proto: nat.UDP, Ext: ap(host, 5353), To: ap(container, 53)})
	sent := pkt(t, nat.UDP, ap(other, 40000), ap(host, 5353), "")
	delivered := append([]byte(nil), sent...)
	if _, err := tb.Hairpin(delivered, gw, t0); err != nil {
		t.Fatal(err)
	}
	check(t, delivered, nat.UDP, ap(gw, 40000), ap(container, 53), "")
	back := icmpErr(t, container, gw, 3, 3, delivered)
	if _, err := tb.Hairpin(back, gw, t0); err != nil {
		t.Fatal(err)
	}
	if want := icmpErr(t, host, other, 3, 3, sent); !bytes.Equal(back, want) {
		t.Errorf("translated error:\n got %x\nwant %x", back, want)
	}
}

// TestPartialChecksum: a TCP segment whose checksum is still to compute
// (its field holds the pseudo-header sum) leaves with the sum of its new
// pseudo-header, ports untouched in it, as the final computation expects.
func TestPartialChecksum(t *testing.T) {
	pseudo := func(src, dst netip.Addr, n int) uint16 {
		var ph []byte
		ph = append(ph, src.AsSlice()...)
		ph = append(ph, dst.AsSlice()...)
		ph = append(ph, 0, nat.TCP, byte(n>>8), byte(n))
		return csum.Fold(csum.Sum(ph, 0))
	}
	tb := nat.New(0)
	b := pkt(t, nat.TCP, ap(container, 40000), ap(outside, 80), "syn")
	l4 := len(b) - 20
	binary.BigEndian.PutUint16(b[36:], pseudo(container, outside, l4))
	if _, err := tb.Translate(b, nat.FromInside, host, t0, true); err != nil {
		t.Fatal(err)
	}
	if got, want := binary.BigEndian.Uint16(b[36:]), pseudo(host, outside, l4); got != want {
		t.Errorf("partial sum %#04x, want %#04x", got, want)
	}
	// Finished in software, it is the checksum gopacket computes.
	binary.BigEndian.PutUint16(b[36:], ^csum.Fold(csum.Sum(b[20:], 0)))
	check(t, b, nat.TCP, ap(host, 40000), ap(outside, 80), "syn")
}

// TestUntranslate: a translated packet, in either direction, goes back to
// how it arrived.
func TestUntranslate(t *testing.T) {
	tb := nat.New(0)
	out := pkt(t, nat.UDP, ap(container, 5000), ap(outside, 53), "")
	if _, err := tb.Outbound(out, host, t0); err != nil {
		t.Fatal(err)
	}
	if !tb.Untranslate(out, t0) {
		t.Fatal("no flow found")
	}
	check(t, out, nat.UDP, ap(container, 5000), ap(outside, 53), "")
	in := pkt(t, nat.UDP, ap(outside, 53), ap(host, 5000), "")
	if _, err := tb.Inbound(in, t0); err != nil {
		t.Fatal(err)
	}
	if !tb.Untranslate(in, t0) {
		t.Fatal("no flow found for the reply")
	}
	check(t, in, nat.UDP, ap(outside, 53), ap(host, 5000), "")
	if tb.Untranslate(pkt(t, nat.UDP, ap(outside, 1), ap(host, 2), ""), t0) {
		t.Error("a packet of no flow was untranslated")
	}
}

// TestUnmasqueraded: a flow from a network that does not masquerade leaves
// untouched and is tracked, so that its reply comes in untouched too,
// while a packet from outside that starts nothing is still refused.
func TestUnmasqueraded(t *testing.T) {
	tb := nat.New(0)
	out := pkt(t, nat.TCP, ap(container, 40000), ap(outside, 22), "syn")
	if _, _, err := tb.TranslateFlow(out, nat.Unmasqueraded, netip.Addr{}, t0, false); err != nil {
		t.Fatal(err)
	}
	check(t, out, nat.TCP, ap(container, 40000), ap(outside, 22), "syn")
	back := pkt(t, nat.TCP, ap(outside, 22), ap(container, 40000), "synack")
	if _, err := tb.Inbound(back, t0.Add(time.Second)); err != nil {
		t.Fatalf("the reply: %v", err)
	}
	check(t, back, nat.TCP, ap(outside, 22), ap(container, 40000), "synack")
	if f := tb.Dump(t0.Add(time.Second)); len(f) != 1 || f[0].Kind != "routed" {
		t.Errorf("flows %+v, want one routed", f)
	}
	stray := pkt(t, nat.TCP, ap(outside, 23), ap(container, 40001), "syn")
	if _, err := tb.Inbound(stray, t0.Add(time.Second)); err == nil {
		t.Errorf("a new flow from outside to a container was let in")
	}
}
