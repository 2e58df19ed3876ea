package header_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
)

// The reference for every view is gopacket's decoder and serializer: a
// packet built by gopacket reads the same through a view, and a packet a
// setter changed serializes back to the same bytes once gopacket
// recomputes its checksums.

var (
	srcMAC = net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}
	dstMAC = net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x03}
	srcIP  = netip.MustParseAddr("172.17.0.2")
	dstIP  = netip.MustParseAddr("8.8.4.4")
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ip4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Flags: layers.IPv4DontFragment, TOS: 0x10,
		Protocol: proto, SrcIP: srcIP.AsSlice(), DstIP: dstIP.AsSlice()}
}

func tcpPacket(t testing.TB) []byte {
	ip := ip4(layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, SYN: true, ACK: true, PSH: true, Window: 64240}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload("GET / HTTP/1.0\r\n\r\n"))
}

// udpData makes frames longer than Ethernet's minimum: gopacket pads.
const udpData = "a datagram long enough to need no Ethernet padding"

func udpPacket(t testing.TB) []byte {
	ip := ip4(layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: 40001, DstPort: 9999}
	_ = udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, udp, gopacket.Payload(udpData))
}

func icmpPacket(t testing.TB) []byte {
	return serialize(t, ip4(layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 0x4242, Seq: 7},
		gopacket.Payload("ping data"))
}

// reference re-serializes an IPv4 packet with gopacket's checksums:
// what the packet must be, byte for byte, if its checksums are right.
func reference(t testing.TB, pkt []byte) []byte {
	t.Helper()
	p := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.DecodeOptions{NoCopy: false})
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket cannot decode %x: %v", pkt, el.Error())
	}
	var ls []gopacket.SerializableLayer
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.TCP:
			_ = l.SetNetworkLayerForChecksum(ip)
		case *layers.UDP:
			if binary.BigEndian.Uint16(l.Contents[6:]) == 0 {
				// A datagram without a checksum: gopacket would add one.
				ls = append(ls, gopacket.Payload(append(append([]byte(nil), l.Contents...), l.Payload...)))
				return serialize(t, append([]gopacket.SerializableLayer{ip}, ls[1:]...)...)
			}
			_ = l.SetNetworkLayerForChecksum(ip)
		}
		if s, ok := l.(gopacket.SerializableLayer); ok {
			ls = append(ls, s)
		} else {
			ls = append(ls, gopacket.Payload(l.LayerContents()))
		}
	}
	return serialize(t, ls...)
}

func TestIPv4Getters(t *testing.T) {
	pkt := tcpPacket(t)
	ip := header.IPv4(pkt)
	g := gopacket.NewPacket(pkt, layers.LayerTypeIPv4, gopacket.Default).Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Check", ip.Check(), header.OK},
		{"Version", ip.Version(), g.Version},
		{"HeaderLen", ip.HeaderLen(), int(g.IHL) * 4},
		{"TOS", ip.TOS(), g.TOS},
		{"TotalLen", ip.TotalLen(), int(g.Length)},
		{"ID", ip.ID(), g.Id},
		{"DF", ip.DF(), g.Flags&layers.IPv4DontFragment != 0},
		{"MF", ip.MF(), g.Flags&layers.IPv4MoreFragments != 0},
		{"FragOff", ip.FragOff(), int(g.FragOffset) * 8},
		{"IsFragment", ip.IsFragment(), false},
		{"TTL", ip.TTL(), g.TTL},
		{"Protocol", ip.Protocol(), uint8(g.Protocol)},
		{"Checksum", ip.Checksum(), g.Checksum},
		{"ChecksumValid", ip.ChecksumValid(), true},
		{"Src", ip.Src(), srcIP},
		{"Dst", ip.Dst(), dstIP},
		{"Src32", ip.Src32(), uint32(0xac110002)},
		{"Dst32", ip.Dst32(), uint32(0x08080404)},
		{"Payload", string(ip.Payload()), string(g.Payload)},
		{"Header", string(ip.Header()), string(g.Contents)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("IPv4.%s() = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestIPv4Options(t *testing.T) {
	ip := ip4(layers.IPProtocolUDP)
	ip.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	_ = udp.SetNetworkLayerForChecksum(ip)
	pkt := serialize(t, ip, udp)
	v := header.IPv4(pkt)
	if v.HeaderLen() != 24 || !bytes.Equal(v.Options(), []byte{0x94, 4, 0, 0}) || len(v.Payload()) != header.UDPLen {
		t.Errorf("HeaderLen, Options, Payload = %d, %x, %d bytes, want 24, 94040000, 8 bytes", v.HeaderLen(), v.Options(), len(v.Payload()))
	}
	if !v.ChecksumValid() || v.Check() != header.OK {
		t.Errorf("a header with options: ChecksumValid %v, Check %v, want true, ok", v.ChecksumValid(), v.Check())
	}
}

func TestIPv4Check(t *testing.T) {
	good := udpPacket(t)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		pkt  []byte
		want header.Reason
	}{
		{"valid", good, header.OK},
		{"with padding", append(append([]byte(nil), good...), 0, 0, 0, 0), header.OK},
		{"empty", nil, header.Short},
		{"19 bytes", good[:19], header.Short},
		{"version 6", mod(func(b []byte) []byte { b[0] = 0x65; return b }), header.BadVersion},
		{"IHL 4", mod(func(b []byte) []byte { b[0] = 0x44; return b }), header.BadHeaderLen},
		{"IHL beyond the bytes", mod(func(b []byte) []byte { b[0] = 0x4f; return b[:40] }), header.BadHeaderLen},
		{"total length beyond", mod(func(b []byte) []byte { return b[:len(b)-1] }), header.Truncated},
		{"total length under the header", mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 19); return b }), header.BadTotalLen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := header.IPv4(c.pkt).Check(); got != c.want {
				t.Errorf("IPv4(%x).Check() = %v, want %v", c.pkt, got, c.want)
			}
			if got, want := header.IsIPv4(c.pkt), len(c.pkt) >= 20 && c.pkt[0]>>4 == 4; got != want {
				t.Errorf("IsIPv4(%x) = %v, want %v", c.pkt, got, want)
			}
		})
	}
	bad := mod(func(b []byte) []byte { b[10] ^= 1; return b })
	if header.IPv4(bad).ChecksumValid() {
		t.Errorf("ChecksumValid() of a header with a flipped checksum bit = true, want false")
	}
}

// TestSettersKeepChecksums changes each field a checksum covers and
// checks the packet against gopacket's checksums.
func TestSettersKeepChecksums(t *testing.T) {
	nat := netip.MustParseAddr("192.168.1.10")
	cases := []struct {
		name  string
		build func(testing.TB) []byte
		set   func(ip header.IPv4)
	}{
		{"TTL", tcpPacket, func(ip header.IPv4) { ip.SetTTL(ip.TTL() - 1) }},
		{"ID", udpPacket, func(ip header.IPv4) { ip.SetID(0xbeef) }},
		{"flags and offset", udpPacket, func(ip header.IPv4) { ip.SetFlagsFrag(header.IPv4MF | 3) }},
		{"total length", udpPacket, func(ip header.IPv4) { ip.SetTotalLen(ip.TotalLen()) }},
		{"source, header only (ICMP)", icmpPacket, func(ip header.IPv4) { ip.SetSrc(nat) }},
		{"destination, header only (ICMP)", icmpPacket, func(ip header.IPv4) { ip.SetDst(nat) }},
		{"TCP source address", tcpPacket, func(ip header.IPv4) { ip.SetSrcL4(nat, header.TCP(ip.Payload()).Sum()) }},
		{"TCP destination address", tcpPacket, func(ip header.IPv4) { ip.SetDstL4(nat, header.TCP(ip.Payload()).Sum()) }},
		{"TCP ports", tcpPacket, func(ip header.IPv4) {
			tcp := header.TCP(ip.Payload())
			tcp.SetSrcPort(1024)
			tcp.SetDstPort(8080)
		}},
		{"TCP seq and flags", tcpPacket, func(ip header.IPv4) {
			tcp := header.TCP(ip.Payload())
			tcp.SetSeq(0xfffffff0)
			tcp.SetFlags(header.TCPFin | header.TCPAck)
		}},
		{"UDP source address and port", udpPacket, func(ip header.IPv4) {
			ip.SetSrcL4(nat, header.UDP(ip.Payload()).Sum())
			header.UDP(ip.Payload()).SetSrcPort(33333)
		}},
		{"UDP destination address and port", udpPacket, func(ip header.IPv4) {
			ip.SetDstL4(nat, header.UDP(ip.Payload()).Sum())
			header.UDP(ip.Payload()).SetDstPort(5300)
		}},
		{"ICMP echo id", icmpPacket, func(ip header.IPv4) { header.ICMPv4(ip.Payload()).SetID(1025) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkt := c.build(t)
			c.set(header.IPv4(pkt))
			if want := reference(t, pkt); !bytes.Equal(pkt, want) {
				t.Errorf("after the setter:\n got %x\nwant %x (gopacket's checksums)", pkt, want)
			}
		})
	}
}

// TestUDPWithoutChecksum: a datagram sent without a checksum stays
// without one when NAT rewrites it.
func TestUDPWithoutChecksum(t *testing.T) {
	pkt := udpPacket(t)
	ip := header.IPv4(pkt)
	udp := header.UDP(ip.Payload())
	binary.BigEndian.PutUint16(udp[6:], 0)
	if !udp.Sum().None() {
		t.Fatalf("UDP.Sum().None() for a zero checksum = false, want true")
	}
	ip.SetSrcL4(netip.MustParseAddr("10.9.8.7"), udp.Sum())
	udp.SetSrcPort(4444)
	if udp.Checksum() != 0 || !ip.ChecksumValid() {
		t.Errorf("UDP checksum %#04x, IPv4 ChecksumValid %v, want 0, true", udp.Checksum(), ip.ChecksumValid())
	}
}

// TestPartialChecksum: a TCP checksum an offload is still to compute
// holds the pseudo-header sum; an address changed through a partial
// Checksum gives, once the sum is finished, gopacket's checksum.
func TestPartialChecksum(t *testing.T) {
	pkt := tcpPacket(t)
	ip := header.IPv4(pkt)
	tcp := header.TCP(ip.Payload())
	binary.BigEndian.PutUint16(tcp[16:], csum.Fold(ip.PseudoSum(header.ProtocolTCP, len(tcp)))) // as a TAP hands it over
	nat := netip.MustParseAddr("192.168.1.10")
	ip.SetSrcL4(nat, tcp.Sum().Partial())
	tcp.SetDstPortSum(8080, tcp.Sum().Partial()) // a port: the final sum covers it
	if got, want := tcp.Checksum(), csum.Fold(ip.PseudoSum(header.ProtocolTCP, len(tcp))); got != want {
		t.Errorf("partial checksum after SetSrcL4 = %#04x, want the new pseudo-header sum %#04x", got, want)
	}
	tcp.FixChecksum(ip.PseudoSum(header.ProtocolTCP, len(tcp)))
	if want := reference(t, pkt); !bytes.Equal(pkt, want) {
		t.Errorf("finished:\n got %x\nwant %x", pkt, want)
	}
}

func TestFixChecksum(t *testing.T) {
	for _, build := range []func(testing.TB) []byte{tcpPacket, udpPacket, icmpPacket} {
		pkt := build(t)
		want := append([]byte(nil), pkt...)
		ip := header.IPv4(pkt)
		ip.SetChecksum(0xdead)
		ip.FixChecksum()
		switch l4 := ip.Payload(); ip.Protocol() {
		case header.ProtocolTCP:
			header.TCP(l4).FixChecksum(ip.PseudoSum(ip.Protocol(), len(l4)))
		case header.ProtocolUDP:
			header.UDP(l4).FixChecksum(ip.PseudoSum(ip.Protocol(), len(l4)))
		case header.ProtocolICMP:
			header.ICMPv4(l4).FixChecksum()
			if !header.ICMPv4(l4).ChecksumValid() {
				t.Errorf("ICMPv4.ChecksumValid() after FixChecksum = false")
			}
		}
		if !bytes.Equal(pkt, want) {
			t.Errorf("protocol %d after FixChecksum:\n got %x\nwant %x", ip.Protocol(), pkt, want)
		}
	}
}

func TestPutIPv4(t *testing.T) {
	want := udpPacket(t)
	got := append([]byte(nil), want...)
	clear(got[:header.IPv4MinLen])
	header.PutIPv4(got, header.IPv4Fields{TOS: 0x10, TotalLen: len(want), ID: 0x1234, FlagsFrag: header.IPv4DF,
		TTL: 64, Protocol: header.ProtocolUDP, Src: srcIP, Dst: dstIP})
	if !bytes.Equal(got, want) {
		t.Errorf("PutIPv4:\n got %x\nwant %x", got, want)
	}
}

func TestTransportGetters(t *testing.T) {
	tcp := header.TCP(header.IPv4(tcpPacket(t)).Payload())
	g := gopacket.NewPacket(tcp, layers.LayerTypeTCP, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
	udp := header.UDP(header.IPv4(udpPacket(t)).Payload())
	icmp := header.ICMPv4(header.IPv4(icmpPacket(t)).Payload())
	checks := []struct {
		name      string
		got, want any
	}{
		{"TCP.Check", tcp.Check(), header.OK},
		{"TCP.SrcPort", tcp.SrcPort(), uint16(g.SrcPort)},
		{"TCP.DstPort", tcp.DstPort(), uint16(g.DstPort)},
		{"TCP.Seq", tcp.Seq(), g.Seq},
		{"TCP.Ack", tcp.Ack(), g.Ack},
		{"TCP.DataOff", tcp.DataOff(), int(g.DataOffset) * 4},
		{"TCP.Flags", tcp.Flags(), uint8(header.TCPSyn | header.TCPAck | header.TCPPsh)},
		{"TCP.Window", tcp.Window(), g.Window},
		{"TCP.Checksum", tcp.Checksum(), g.Checksum},
		{"TCP.Payload", string(tcp.Payload()), string(g.Payload)},
		{"TCP.FlagNames", string(bytes.Join(toBytes(tcp.FlagNames(nil)), []byte(","))), "SYN,PSH,ACK"},
		{"UDP.Check", udp.Check(), header.OK},
		{"UDP.SrcPort", udp.SrcPort(), uint16(40001)},
		{"UDP.DstPort", udp.DstPort(), uint16(9999)},
		{"UDP.Length", udp.Length(), len(udp)},
		{"UDP.Payload", string(udp.Payload()), udpData},
		{"ICMPv4.Check", icmp.Check(), header.OK},
		{"ICMPv4.Type", icmp.Type(), uint8(header.ICMPv4EchoRequest)},
		{"ICMPv4.Code", icmp.Code(), uint8(0)},
		{"ICMPv4.IsEcho", icmp.IsEcho(), true},
		{"ICMPv4.IsError", icmp.IsError(), false},
		{"ICMPv4.ID", icmp.ID(), uint16(0x4242)},
		{"ICMPv4.Seq", icmp.Seq(), uint16(7)},
		{"ICMPv4.ChecksumValid", icmp.ChecksumValid(), true},
		{"ICMPv4.Payload", string(icmp.Payload()), "ping data"},
		{"TCP(short).Check", header.TCP(tcp[:19]).Check(), header.Short},
		{"TCP(offset 4).Check", header.TCP(append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40}, make([]byte, 7)...)).Check(), header.BadHeaderLen},
		{"UDP(short).Check", header.UDP(udp[:7]).Check(), header.Short},
		{"ICMPv4(short).Check", header.ICMPv4(icmp[:7]).Check(), header.Short},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s() = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func toBytes(ss []string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func TestEthernet(t *testing.T) {
	payload := udpPacket(t)
	untagged := serialize(t, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(payload))
	tagged := serialize(t, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{Priority: 5, DropEligible: true, VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, gopacket.Payload(payload))
	src, _ := header.MACFrom(srcMAC)
	dst, _ := header.MACFrom(dstMAC)
	for _, c := range []struct {
		name   string
		frame  header.Ethernet
		tagged bool
		l3     int
	}{{"untagged", untagged, false, 14}, {"tagged", tagged, true, 18}} {
		t.Run(c.name, func(t *testing.T) {
			e := c.frame
			if e.Check() != header.OK || e.Dst() != dst || e.Src() != src || e.Tagged() != c.tagged || e.L3Off() != c.l3 ||
				e.InnerType() != header.EtherTypeIPv4 || !bytes.Equal(e.L3(), payload) {
				t.Errorf("Check %v Dst %v Src %v Tagged %v L3Off %d InnerType %#04x, want ok %v %v %v %d 0x0800 and the packet",
					e.Check(), e.Dst(), e.Src(), e.Tagged(), e.L3Off(), e.InnerType(), dst, src, c.tagged, c.l3)
			}
			if e.Dst48() != dst.Uint64() || e.Src48() != src.Uint64() {
				t.Errorf("Dst48, Src48 = %#x, %#x, want %#x, %#x", e.Dst48(), e.Src48(), dst.Uint64(), src.Uint64())
			}
			if got := e.AppendTagged(nil, 5<<13|0x1000|100); !bytes.Equal(got, tagged) {
				t.Errorf("AppendTagged:\n got %x\nwant %x", got, tagged)
			}
			if got := e.AppendUntagged(nil); !bytes.Equal(got, untagged) {
				t.Errorf("AppendUntagged:\n got %x\nwant %x", got, untagged)
			}
		})
	}
	e := header.Ethernet(tagged)
	if e.VID() != 100 || e.PCP() != 5 || !e.DEI() || e.EtherType() != header.EtherTypeVLAN {
		t.Errorf("VID, PCP, DEI, EtherType = %d, %d, %v, %#04x, want 100, 5, true, 0x8100", e.VID(), e.PCP(), e.DEI(), e.EtherType())
	}
	for _, c := range []struct {
		name  string
		frame []byte
	}{{"13 bytes", untagged[:13]}, {"tagged, 17 bytes", tagged[:17]}} {
		if got := header.Ethernet(c.frame).Check(); got != header.Short {
			t.Errorf("%s: Check() = %v, want short", c.name, got)
		}
	}
	b := make([]byte, header.EthernetLen)
	header.PutEthernet(b, dst, src, header.EtherTypeARP)
	if want := serialize(t, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeARP}); !bytes.Equal(b, want[:header.EthernetLen]) {
		t.Errorf("PutEthernet = %x, want %x", b, want)
	}
}

func TestARP(t *testing.T) {
	pkt := serialize(t, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPReply, SourceHwAddress: srcMAC, SourceProtAddress: srcIP.AsSlice(), DstHwAddress: dstMAC, DstProtAddress: dstIP.AsSlice()})
	a := header.ARP(pkt)
	src, _ := header.MACFrom(srcMAC)
	dst, _ := header.MACFrom(dstMAC)
	if a.Check() != header.OK || a.Op() != header.ARPReply || a.SenderMAC() != src || a.SenderIP() != srcIP || a.TargetMAC() != dst || a.TargetIP() != dstIP {
		t.Errorf("ARP view: Check %v Op %d sender %v %v target %v %v, want ok 2 %v %v %v %v",
			a.Check(), a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP(), src, srcIP, dst, dstIP)
	}
	b := make([]byte, header.ARPLen)
	header.PutARP(b, header.ARPReply, src, srcIP, dst, dstIP)
	if !bytes.Equal(b, pkt[:header.ARPLen]) {
		t.Errorf("PutARP = %x, want %x", b, pkt[:header.ARPLen])
	}
	if got := header.ARP(pkt[:27]).Check(); got != header.Short {
		t.Errorf("ARP(27 bytes).Check() = %v, want short", got)
	}
	b[1] = 6 // IEEE 802
	if got := header.ARP(b).Check(); got != header.Unsupported {
		t.Errorf("ARP(htype 6).Check() = %v, want unsupported", got)
	}
}

func TestIPv6(t *testing.T) {
	ip := &layers.IPv6{Version: 6, TrafficClass: 0xb8, FlowLabel: 0xabcde, NextHeader: layers.IPProtocolUDP, HopLimit: 255,
		SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	udp := &layers.UDP{SrcPort: 546, DstPort: 547}
	_ = udp.SetNetworkLayerForChecksum(ip)
	pkt := serialize(t, ip, udp, gopacket.Payload("dhcp6"))
	v := header.IPv6(pkt)
	if v.Check() != header.OK || v.Version() != 6 || v.TrafficClass() != 0xb8 || v.FlowLabel() != 0xabcde || v.PayloadLen() != 13 ||
		v.NextHeader() != header.ProtocolUDP || v.HopLimit() != 255 || v.Src() != netip.MustParseAddr("fd00::1") || v.Dst() != netip.MustParseAddr("fd00::2") {
		t.Errorf("IPv6 view: %v %d %#x %#x %d %d %d %v %v", v.Check(), v.Version(), v.TrafficClass(), v.FlowLabel(), v.PayloadLen(), v.NextHeader(), v.HopLimit(), v.Src(), v.Dst())
	}
	u := header.UDP(v.Payload())
	want := u.Checksum()
	u.FixChecksum(v.PseudoSum(header.ProtocolUDP, len(u)))
	if u.Checksum() != want {
		t.Errorf("UDP over IPv6 FixChecksum = %#04x, want gopacket's %#04x", u.Checksum(), want)
	}
	for _, c := range []struct {
		name string
		pkt  []byte
		want header.Reason
	}{{"39 bytes", pkt[:39], header.Short}, {"truncated", pkt[:len(pkt)-1], header.Truncated}, {"version 4", append([]byte{0x45}, pkt[1:]...), header.BadVersion}} {
		if got := header.IPv6(c.pkt).Check(); got != c.want {
			t.Errorf("%s: IPv6.Check() = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVXLAN(t *testing.T) {
	inner := []byte("an inner frame")
	pkt := serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: 0x123456}, gopacket.Payload(inner))
	v := header.VXLAN(pkt)
	if v.Check() != header.OK || v.VNI() != 0x123456 || !bytes.Equal(v.Payload(), inner) {
		t.Errorf("VXLAN view: Check %v VNI %#x payload %q, want ok 0x123456 %q", v.Check(), v.VNI(), v.Payload(), inner)
	}
	b := make([]byte, header.VXLANLen)
	header.PutVXLAN(b, 0x123456)
	if !bytes.Equal(b, pkt[:header.VXLANLen]) {
		t.Errorf("PutVXLAN = %x, want gopacket's %x", b, pkt[:header.VXLANLen])
	}
	if got := header.VXLAN(pkt[:7]).Check(); got != header.Short {
		t.Errorf("VXLAN(7 bytes).Check() = %v, want short", got)
	}
	b[0] = 0
	if got := header.VXLAN(b).Check(); got != header.Unsupported {
		t.Errorf("VXLAN(no I flag).Check() = %v, want unsupported", got)
	}
}

func TestMAC(t *testing.T) {
	cases := []struct {
		in                               string
		want                             header.MAC
		multicast, broadcast, link, zero bool
	}{
		{"02:42:ac:11:00:02", header.MAC{0x02, 0x42, 0xac, 0x11, 0, 2}, false, false, false, false},
		{"FF-FF-FF-FF-FF-FF", header.Broadcast, true, true, false, false},
		{"01:80:c2:00:00:0e", header.MAC{1, 0x80, 0xc2, 0, 0, 0x0e}, true, false, true, false},
		{"01:80:c2:00:00:10", header.MAC{1, 0x80, 0xc2, 0, 0, 0x10}, true, false, false, false},
		{"0000.0000.0000", header.MAC{}, false, false, false, true},
	}
	for _, c := range cases {
		m, err := header.ParseMAC(c.in)
		if err != nil || m != c.want {
			t.Errorf("ParseMAC(%q) = %v, %v, want %v", c.in, m, err, c.want)
			continue
		}
		if m.IsMulticast() != c.multicast || m.IsBroadcast() != c.broadcast || m.IsLinkLocal() != c.link || m.IsZero() != c.zero {
			t.Errorf("%v: multicast %v broadcast %v link-local %v zero %v, want %v %v %v %v", m,
				m.IsMulticast(), m.IsBroadcast(), m.IsLinkLocal(), m.IsZero(), c.multicast, c.broadcast, c.link, c.zero)
		}
		if m.String() != net.HardwareAddr(m[:]).String() {
			t.Errorf("%v.String() = %q, want %q", c.want, m.String(), net.HardwareAddr(m[:]).String())
		}
		if header.MACFromUint64(m.Uint64()) != m {
			t.Errorf("MACFromUint64(%v.Uint64()) = %v", m, header.MACFromUint64(m.Uint64()))
		}
	}
	for _, bad := range []string{"", "02:42:ac:11:00", "02:00:5e:10:00:00:00:01", "zz:42:ac:11:00:02"} {
		if _, err := header.ParseMAC(bad); err == nil {
			t.Errorf("ParseMAC(%q) = nil error, want one", bad)
		}
	}
	if _, ok := header.MACFrom(make([]byte, 8)); ok {
		t.Errorf("MACFrom(8 bytes) ok = true, want false")
	}
	if !(header.MAC{0x02}).IsLocal() || (header.MAC{0x00, 0x1b}).IsLocal() {
		t.Errorf("IsLocal wrong for 02:... or 00:1b:...")
	}
}

// TestNoAllocs: reading and changing headers allocates nothing.
func TestNoAllocs(t *testing.T) {
	pkt := tcpPacket(t)
	frame := serialize(t, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(pkt))
	nat := netip.MustParseAddr("192.168.1.10")
	var sink uint64
	n := testing.AllocsPerRun(100, func() {
		e := header.Ethernet(frame)
		if e.Check() != header.OK {
			return
		}
		ip := header.IPv4(e.L3())
		if ip.Check() != header.OK || !ip.ChecksumValid() {
			return
		}
		tcp := header.TCP(ip.Payload())
		sink += uint64(ip.Src32()) + uint64(tcp.SrcPort()) + e.Src48()
		ip.SetSrcL4(nat, tcp.Sum())
		ip.SetTTL(ip.TTL())
		tcp.SetSrcPort(tcp.SrcPort() + 1)
		_ = ip.Dst()
	})
	if n != 0 {
		t.Errorf("reading and rewriting a frame: %v allocations, want 0", n)
	}
	_ = sink
}
