package header_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
)

// FuzzEthernet reads any bytes through the views as the nodes do, each
// only after its Check says OK: no view may panic then, and what the
// Ethernet view and its tag say must be what gopacket decodes.
func FuzzEthernet(f *testing.F) {
	for _, p := range [][]byte{tcpPacket(f), udpPacket(f), icmpPacket(f)} {
		f.Add(serialize(f, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(p)))
		f.Add(serialize(f, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, gopacket.Payload(p)))
	}
	f.Add(serialize(f, &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: srcMAC, SourceProtAddress: srcIP.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: dstIP.AsSlice()}))
	f.Add([]byte{})
	f.Add(make([]byte, 13))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x81\x00\x00"))                     // a tag cut short
	f.Add([]byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd\x60\x00\x00\x00\x00\x08")) // IPv6, short
	f.Fuzz(func(t *testing.T, frame []byte) {
		e := header.Ethernet(frame)
		if e.Check() != header.OK {
			if len(frame) >= header.EthernetLen+header.VLANTagLen {
				t.Fatalf("Ethernet(%d bytes).Check() = %v, want ok", len(frame), e.Check())
			}
			return
		}
		// Only the Ethernet and 802.1Q layers: decoding on through
		// whatever the bytes say can take gopacket a long time.
		var eth layers.Ethernet
		if eth.DecodeFromBytes(frame, gopacket.NilDecodeFeedback) == nil {
			if e.Dst().String() != eth.DstMAC.String() || e.Src().String() != eth.SrcMAC.String() ||
				e.EtherType() >= 0x600 && e.EtherType() != uint16(eth.EthernetType) { // under 0x600: an 802.3 length
				t.Errorf("Ethernet view %v %v %#04x, gopacket %v %v %#04x", e.Dst(), e.Src(), e.EtherType(), eth.DstMAC, eth.SrcMAC, uint16(eth.EthernetType))
			}
			var q layers.Dot1Q
			if e.Tagged() && q.DecodeFromBytes(eth.Payload, gopacket.NilDecodeFeedback) == nil &&
				(e.VID() != q.VLANIdentifier || e.PCP() != q.Priority || e.DEI() != q.DropEligible || e.InnerType() != uint16(q.Type)) {
				t.Errorf("tag view VID %d PCP %d DEI %v type %#04x, gopacket %d %d %v %#04x", e.VID(), e.PCP(), e.DEI(), e.InnerType(),
					q.VLANIdentifier, q.Priority, q.DropEligible, uint16(q.Type))
			}
		}
		untagged := header.Ethernet(e.AppendUntagged(nil))
		if want := len(frame) - (e.L3Off() - header.EthernetLen); len(untagged) != want || untagged.Dst() != e.Dst() || untagged.EtherType() != e.InnerType() {
			t.Errorf("AppendUntagged: %d bytes, EtherType %#04x, want %d, %#04x", len(untagged), untagged.EtherType(), want, e.InnerType())
		}
		retagged := header.Ethernet(e.AppendTagged(nil, 0x2064))
		if retagged.VID() != 0x64 || retagged.InnerType() != e.InnerType() || !bytes.Equal(retagged.L3(), e.L3()) {
			t.Errorf("AppendTagged: VID %d inner %#04x, want 100 %#04x and the same L3", retagged.VID(), retagged.InnerType(), e.InnerType())
		}
		readL3(t, e.InnerType(), e.L3())
		readVXLAN(e.L3())
	})
}

// readL3 reads l3 through its view and what it carries, as far as the
// checks allow.
func readL3(t *testing.T, etherType uint16, l3 []byte) {
	switch etherType {
	case header.EtherTypeIPv4:
		ip := header.IPv4(l3)
		if ip.Check() != header.OK {
			return
		}
		ip = ip[:ip.TotalLen()]
		_, _, _, _ = ip.Src(), ip.Dst(), ip.Src32()+ip.Dst32(), ip.Options()
		_, _, _ = ip.ChecksumValid(), ip.IsFragment(), ip.FragOff()
		readL4(ip.Protocol(), ip.Payload())
	case header.EtherTypeIPv6:
		ip := header.IPv6(l3)
		if ip.Check() != header.OK {
			return
		}
		_, _, _, _ = ip.Src(), ip.Dst(), ip.FlowLabel(), ip.TrafficClass()
		readL4(ip.NextHeader(), ip.Payload()[:ip.PayloadLen()])
	case header.EtherTypeARP:
		a := header.ARP(l3)
		if a.Check() != header.OK {
			return
		}
		_, _, _, _, _ = a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP()
	}
}

func readL4(proto uint8, l4 []byte) {
	switch proto {
	case header.ProtocolTCP:
		if tcp := header.TCP(l4); tcp.Check() == header.OK {
			_, _, _, _ = tcp.SrcPort()+tcp.DstPort(), tcp.Seq()+tcp.Ack(), tcp.FlagNames(nil), tcp.Payload()
		}
	case header.ProtocolUDP:
		if udp := header.UDP(l4); udp.Check() == header.OK {
			_, _, _, _ = udp.SrcPort()+udp.DstPort(), udp.Length(), udp.Sum().None(), udp.Payload()
		}
	case header.ProtocolICMP:
		if m := header.ICMPv4(l4); m.Check() == header.OK {
			_, _, _, _ = m.Type(), m.ID()+m.Seq(), m.IsError(), m.Payload()
			if m.IsError() {
				q := header.IPv4(m.Payload())
				if header.IsIPv4(q) && q.HeaderLen() >= header.IPv4MinLen && len(q) >= q.HeaderLen()+8 {
					_, _ = q.Src(), header.TCP(q.Payload()).Seq()
				}
			}
		}
	}
}

func readVXLAN(b []byte) {
	if v := header.VXLAN(b); v.Check() == header.OK {
		_, _ = v.VNI(), v.Payload()
	}
}

// FuzzIPv4 checks the IPv4 view against gopacket's decoder, and that the
// setters keep every checksum valid that was valid.
func FuzzIPv4(f *testing.F) {
	f.Add(tcpPacket(f))
	f.Add(udpPacket(f))
	f.Add(icmpPacket(f))
	f.Add([]byte("\x45\x00\x00\x14\x00\x00\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02"))
	f.Add([]byte("\x4f\x00\x00\x14"))                                                                                                 // IHL 15, cut short
	f.Add([]byte("\x46\x00\x00\x1c\x00\x01\x20\x01\x01\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x94\x04\x00\x00\x00\x35\x00\x35")) // a fragment with an option
	f.Fuzz(func(t *testing.T, pkt []byte) {
		pkt = append([]byte(nil), pkt...) // the setters write
		ip := header.IPv4(pkt)
		r := ip.Check()
		if header.IsIPv4(pkt) != (len(pkt) >= 20 && pkt[0]>>4 == 4) {
			t.Fatalf("IsIPv4 wrong")
		}
		if r != header.OK {
			return
		}
		ip = ip[:ip.TotalLen()]
		g := &layers.IPv4{}
		if err := g.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err == nil {
			if ip.HeaderLen() != int(g.IHL)*4 || ip.TotalLen() != int(g.Length) || ip.ID() != g.Id || ip.TTL() != g.TTL ||
				ip.Protocol() != uint8(g.Protocol) || ip.Checksum() != g.Checksum || ip.FragOff() != int(g.FragOffset)*8 ||
				ip.DF() != (g.Flags&layers.IPv4DontFragment != 0) || ip.MF() != (g.Flags&layers.IPv4MoreFragments != 0) ||
				ip.Src().String() != g.SrcIP.String() || ip.Dst().String() != g.DstIP.String() || !bytes.Equal(ip.Payload(), g.Payload) {
				t.Errorf("view and gopacket differ on %x", []byte(ip))
			}
		} else if ip.HeaderLen() == header.IPv4MinLen {
			t.Errorf("gopacket refuses a packet with no options that Check takes: %v", err)
		}

		// The setters keep a valid header checksum valid, and a valid
		// TCP or UDP checksum too.
		ip.FixChecksum()
		l4 := ip.Payload()
		var sum header.Checksum
		switch {
		case ip.Protocol() == header.ProtocolTCP && header.TCP(l4).Check() == header.OK:
			header.TCP(l4).FixChecksum(ip.PseudoSum(header.ProtocolTCP, len(l4)))
			sum = header.TCP(l4).Sum()
		case ip.Protocol() == header.ProtocolUDP && header.UDP(l4).Check() == header.OK:
			header.UDP(l4).FixChecksum(ip.PseudoSum(header.ProtocolUDP, len(l4)))
			sum = header.UDP(l4).Sum()
		}
		a := netip.AddrFrom4([4]byte{byte(len(pkt)), 1, 2, pkt[0]})
		ip.SetTTL(ip.TTL() ^ 0x55)
		ip.SetID(^ip.ID())
		ip.SetFlagsFrag(ip.FlagsFrag() ^ header.IPv4DF)
		ip.SetSrcL4(a, sum)
		ip.SetDstL4(ip.Src(), sum)
		if !ip.ChecksumValid() {
			t.Errorf("header checksum invalid after the setters: %x", []byte(ip))
		}
		if !sum.None() {
			switch ip.Protocol() {
			case header.ProtocolTCP:
				header.TCP(l4).SetSrcPort(^header.TCP(l4).SrcPort())
				header.TCP(l4).SetSeq(header.TCP(l4).Seq() + 1)
			case header.ProtocolUDP:
				header.UDP(l4).SetDstPort(header.UDP(l4).DstPort() + 1)
			}
			if csum.Fold(csum.Sum(l4, ip.PseudoSum(ip.Protocol(), len(l4)))) != 0xffff {
				t.Errorf("protocol %d checksum invalid after the setters: %x", ip.Protocol(), []byte(ip))
			}
		}
	})
}
