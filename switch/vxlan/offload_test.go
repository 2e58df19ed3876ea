package vxlan_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/switch/vxlan"
)

// tcpSuper returns a TCP super-frame mac(3) <- mac(2) with n payload
// bytes, its checksum left to an offload (the pseudo-header sum in the
// field), as a TAP with TSO hands it over.
func tcpSuper(n int) []byte {
	buf := gopacket.NewSerializeBuffer()
	ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 2}, DstIP: net.IP{10, 0, 0, 3}, Id: 100, Flags: layers.IPv4DontFragment}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 1, ACK: true, PSH: true, Window: 512}
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	_ = tcp.SetNetworkLayerForChecksum(ip4)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{DstMAC: mac(3).HardwareAddr(), SrcMAC: mac(2).HardwareAddr(), EthernetType: layers.EthernetTypeIPv4},
		ip4, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	f := buf.Bytes()
	// The checksum field holds the pseudo-header sum, as with CHECKSUM_PARTIAL.
	tl := len(f) - 34
	ph := header.IPv4(f[14:]).PseudoSum(header.ProtocolTCP, tl)
	for ph > 0xffff {
		ph = ph>>16 + ph&0xffff
	}
	binary.BigEndian.PutUint16(f[34+16:], uint16(ph))
	return f
}

var gsoTCP = link.Offload{Flags: link.FlagNeedsCsum, GSOType: link.GSOTCPv4, HdrLen: 54, GSOSize: 1398, CsumStart: 34, CsumOffset: 16}

// TestSegmentation: a super-frame leaves as the segments link.Resolve
// cuts, each in its own VXLAN packet, queued and flushed once on a
// transport that queues; gopacket decodes every one with good checksums.
func TestSegmentation(t *testing.T) {
	super := tcpSuper(10000)
	var want [][]byte
	if err := link.Resolve(super, gsoTCP, make([]byte, 2000), func(seg []byte) error {
		want = append(want, bytes.Clone(seg))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, queue := range []bool{false, true} {
		var tr interface {
			vxlan.Transport
			take() []sent
		} = &wire{}
		q := &queuing{}
		if queue {
			tr = q
		}
		m := vxlan.NewMux(tr, vxlan.Options{})
		v, _ := m.Add(vxlan.Config{VNI: 42})
		_ = v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
		if err := v.ReceiveOffload(super, gsoTCP); err != nil {
			t.Fatal(err)
		}
		got := tr.take()
		if len(got) != len(want) {
			t.Fatalf("queue %v: %d packets, want %d segments", queue, len(got), len(want))
		}
		for i, p := range got {
			if !bytes.Equal(p.pkt[header.VXLANLen:], want[i]) {
				t.Errorf("queue %v: segment %d differs from link.Resolve's", queue, i)
			}
			_, dp := decode(t, p.pkt)
			ip4, _ := dp.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			tcp, _ := dp.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if ip4 == nil || tcp == nil {
				t.Fatalf("segment %d: %v", i, dp)
			}
			if want := uint32(1000 + i*1398); tcp.Seq != want {
				t.Errorf("segment %d: seq %d, want %d", i, tcp.Seq, want)
			}
			if !header.IPv4(p.pkt[header.VXLANLen+14:]).ChecksumValid() {
				t.Errorf("segment %d: IPv4 checksum wrong", i)
			}
			if len(p.pkt)-header.VXLANLen > v.MTU()+14 {
				t.Errorf("segment %d: %d bytes, beyond the MTU", i, len(p.pkt))
			}
		}
		if queue && q.flushes != 1 {
			t.Errorf("%d flushes for one super-frame, want 1", q.flushes)
		}
		if st := v.Stats(); st.TxFrames != uint64(len(want)) || st.Dropped() != 0 {
			t.Errorf("queue %v: Stats() = %+v", queue, st)
		}
	}
}

// TestChecksumOffload: a frame whose checksum is still to do leaves with
// it done.
func TestChecksumOffload(t *testing.T) {
	f := tcpSuper(100)
	o := link.Offload{Flags: link.FlagNeedsCsum, CsumStart: 34, CsumOffset: 16}
	var want []byte
	_ = link.Resolve(f, o, make([]byte, 2000), func(seg []byte) error { want = bytes.Clone(seg); return nil })
	w := &wire{}
	m := vxlan.NewMux(w, vxlan.Options{})
	v, _ := m.Add(vxlan.Config{VNI: 42, Flood: []netip.Addr{vtepB}})
	_ = v.ReceiveOffload(f, o)
	got := w.take()
	if len(got) != 1 || !bytes.Equal(got[0].pkt[8:], want) {
		t.Fatalf("sent %d packets; want one with the checksum filled in", len(got))
	}
	p := gopacket.NewPacket(got[0].pkt[8:], layers.LayerTypeEthernet, gopacket.Default)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	ip4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if tcp == nil || ip4 == nil {
		t.Fatal(p)
	}
	sum := tcp.Checksum
	_ = tcp.SetNetworkLayerForChecksum(ip4)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, tcp, gopacket.Payload(tcp.Payload))
	if tcp.Checksum != sum {
		t.Errorf("TCP checksum %#04x, gopacket computes %#04x", sum, tcp.Checksum)
	}
}
