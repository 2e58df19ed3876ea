package link_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/link"
)

// superFrame builds a TCP/IPv4 (or IPv6) frame carrying payload, with valid
// checksums, and the offload metadata that asks for segments of mss.
func superFrame(t testing.TB, v6 bool, payload []byte, mss uint16) ([]byte, link.Offload) {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5201, Seq: 0xfffff000, Ack: 7, ACK: true, PSH: true, FIN: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	var net3 gopacket.SerializableLayer
	o := link.Offload{Flags: link.FlagNeedsCsum, GSOType: link.GSOTCPv4, GSOSize: mss, CsumOffset: 16}
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		net3, o.GSOType, o.CsumStart = ip, link.GSOTCPv6, 14+40
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0xfffe, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		net3, o.CsumStart = ip, 14+20
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, net3, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), o
}

// reserialize decodes a frame with gopacket and serialises it again with
// fresh checksums: equal bytes mean the frame's own checksums were right.
func reserialize(t *testing.T, f []byte) ([]byte, *layers.TCP) {
	t.Helper()
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	if p.ErrorLayer() != nil {
		t.Fatalf("segment does not decode: %v", p.ErrorLayer().Error())
	}
	tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	var ls []gopacket.SerializableLayer
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			_ = tcp.SetNetworkLayerForChecksum(l)
		case *layers.IPv6:
			_ = tcp.SetNetworkLayerForChecksum(l)
		}
		ls = append(ls, l.(gopacket.SerializableLayer))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), tcp
}

func TestSegmentTCP(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		payload := make([]byte, 10000)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		frame, o := superFrame(t, v6, payload, 1400)
		var got []byte
		var segs int
		err := link.Resolve(frame, o, make([]byte, 2000), func(seg []byte) error {
			segs++
			want, tcp := reserialize(t, seg)
			if !bytes.Equal(seg, want) {
				t.Fatalf("v6=%v segment %d: checksums or lengths wrong\n got %x\nwant %x", v6, segs, seg[:80], want[:80])
			}
			if tcp.Seq != 0xfffff000+uint32(len(got)) {
				t.Errorf("segment %d seq %#x", segs, tcp.Seq)
			}
			last := len(got)+len(tcp.Payload) == len(payload)
			if tcp.FIN != last || tcp.PSH != last {
				t.Errorf("segment %d: FIN %v PSH %v, last %v", segs, tcp.FIN, tcp.PSH, last)
			}
			got = append(got, tcp.Payload...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if segs != 8 || !bytes.Equal(got, payload) {
			t.Errorf("v6=%v: %d segments carrying %d bytes, want 8 and the payload", v6, segs, len(got))
		}
	}
}

func TestFillChecksum(t *testing.T) {
	frame, o := superFrame(t, false, []byte("hello, kernel"), 1400)
	want := append([]byte(nil), frame...)
	// What a kernel hands over with CHECKSUM_PARTIAL: the pseudo-header sum
	// in the checksum field, no GSO.
	frame[o.CsumStart+16], frame[o.CsumStart+17] = 0, 0
	p := gopacket.NewPacket(want, layers.LayerTypeEthernet, gopacket.Default)
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ph := pseudo(ip.SrcIP, ip.DstIP, len(want)-int(o.CsumStart))
	frame[o.CsumStart+16], frame[o.CsumStart+17] = byte(ph>>8), byte(ph)
	o.GSOType = link.GSONone
	var out []byte
	if err := link.Resolve(frame, o, make([]byte, 2000), func(f []byte) error { out = append([]byte(nil), f...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("checksum not completed:\n got %x\nwant %x", out, want)
	}
}

func pseudo(src, dst net.IP, l4len int) uint16 {
	s := uint32(6) + uint32(l4len)
	for _, b := range [][]byte{src.To4(), dst.To4()} {
		s += uint32(b[0])<<8 | uint32(b[1]) + uint32(b[2])<<8 | uint32(b[3])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestResolveRefusesNonsense(t *testing.T) {
	frame, o := superFrame(t, false, make([]byte, 3000), 1400)
	for _, bad := range []link.Offload{
		{GSOType: link.GSOTCPv4, GSOSize: 0, CsumStart: o.CsumStart},
		{GSOType: link.GSOTCPv6, GSOSize: 1400, CsumStart: o.CsumStart},
		{GSOType: link.GSOTCPv4, GSOSize: 1400, CsumStart: 9999},
		{GSOType: 9, GSOSize: 1400},
		{Flags: link.FlagNeedsCsum, CsumStart: 60000},
	} {
		if err := link.Resolve(frame, bad, make([]byte, 2000), func([]byte) error { return nil }); err == nil {
			t.Errorf("Resolve(%+v) accepted", bad)
		}
	}
}

// FuzzResolve: arbitrary frames and metadata never panic.
func FuzzResolve(f *testing.F) {
	frame, o := superFrame(f, false, make([]byte, 3000), 1400)
	hdr := make([]byte, link.OffloadLen)
	o.Put(hdr)
	f.Add(hdr, frame)
	frame6, o6 := superFrame(f, true, make([]byte, 3000), 1000)
	o6.Put(hdr)
	f.Add(append([]byte(nil), hdr...), frame6)
	f.Fuzz(func(t *testing.T, h, frame []byte) {
		o, err := link.ParseOffload(h)
		if err != nil {
			return
		}
		_ = link.Resolve(frame, o, make([]byte, 70000), func([]byte) error { return nil })
	})
}
