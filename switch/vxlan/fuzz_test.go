package vxlan_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/switch/vxlan"
)

// FuzzInput feeds Mux.Input packets from the network: nothing panics,
// every packet is either delivered whole (its inner frame, exactly what
// gopacket finds after the VXLAN header) or counted as one drop, and a
// good packet is still delivered afterwards.
func FuzzInput(f *testing.F) {
	good := packet(42, frame(mac(2), mac(3), 20))
	f.Add(good, uint8(2))
	f.Add(good[:7], uint8(2))
	f.Add(good[:8], uint8(2))
	f.Add(good[:21], uint8(2))
	f.Add(packet(43, frame(mac(2), mac(3), 20)), uint8(2))
	f.Add(packet(42, frame(mac(2), header.Broadcast, 20)), uint8(2))
	f.Add(packet(42, frame(mac(2), mac(4), 20)), uint8(3)) // learned
	f.Add(packet(42, frame(mac(2), mac(3), 20)), uint8(3)) // wrong VTEP
	f.Add(append([]byte{0x80, 0xff, 0xff, 0xff, 0, 0, 42, 0xff}, frame(mac(2), mac(3), 1)...), uint8(2))
	f.Add([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, pkt []byte, src uint8) {
		r := newRig(t, vxlan.Config{VNI: 42, Learn: true, MaxEntries: 4, ProxyARP: true, Flood: []netip.Addr{vtepB}})
		if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
			t.Fatal(err)
		}
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 56, src}), 4789)
		in := bytes.Clone(pkt)
		r.mux.Input(from, in)
		if !bytes.Equal(in, pkt) {
			t.Fatal("Input changed the packet")
		}
		got := r.sink.Drain()
		ms, vs := r.mux.Stats(), r.v.Stats()
		learnFull := vs.Drops["learn-full"] // counted beside a delivery
		drops := ms.Dropped() + vs.Dropped() - learnFull
		if uint64(len(got))+drops != 1 {
			t.Fatalf("%d delivered and %d dropped (mux %v, vtep %v), want one or the other", len(got), drops, ms.Drops, vs.Drops)
		}
		if len(got) == 1 {
			vx, p := &layers.VXLAN{}, gopacket.NewPacket(pkt, layers.LayerTypeVXLAN, gopacket.NoCopy)
			if l, ok := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN); ok {
				vx = l
			}
			if !vx.ValidIDFlag || vx.VNI != 42 || !bytes.Equal(got[0], pkt[8:]) {
				t.Fatalf("delivered %x from %x, which gopacket reads as I=%v VNI %d", got[0], pkt, vx.ValidIDFlag, vx.VNI)
			}
		}
		r.mux.Input(netip.AddrPortFrom(vtepB, 4789), good)
		if got := r.sink.Drain(); len(got) != 1 {
			t.Fatalf("a good packet afterwards: %d delivered", len(got))
		}
	})
}

// FuzzReceive feeds a VTEP frames from the switch (a container's):
// nothing panics, and every packet sent is gopacket's VXLAN around the
// frame as it came, or the frame is answered (proxy ARP) or counted as
// a drop.
func FuzzReceive(f *testing.F) {
	f.Add(frame(mac(3), mac(2), 20))
	f.Add(frame(header.Broadcast, mac(2), 20))
	f.Add(frame(mac(9), mac(2), 20))
	f.Add(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3)))
	f.Add(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(9)))
	f.Add(arpFrame(1, header.Broadcast, header.MAC{}, ip(2), header.MAC{}, ip(3)))
	f.Add(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3))[:41])
	f.Add(make([]byte, 13))
	f.Add(frame(mac(3), mac(2), 1500))
	f.Fuzz(func(t *testing.T, fr []byte) {
		r := newRig(t, vxlan.Config{VNI: 7, ProxyARP: true, Flood: []netip.Addr{vtepB, vtepC}})
		if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
			t.Fatal(err)
		}
		in := bytes.Clone(fr)
		if err := r.v.Receive(in); err != nil {
			t.Fatalf("Receive = %v: drops are counted, not returned", err)
		}
		if !bytes.Equal(in, fr) {
			t.Fatal("Receive changed the frame")
		}
		ps, back, st := r.w.take(), r.sink.Drain(), r.v.Stats()
		for _, p := range ps {
			if !bytes.Equal(p.pkt, packet(7, fr)) {
				t.Fatalf("sent %x for %x", p.pkt, fr)
			}
		}
		switch {
		case len(ps) > 0 && (len(back) > 0 || st.Dropped() > 0):
			t.Fatalf("sent and answered or dropped too: %d back, drops %v", len(back), st.Drops)
		case len(ps) == 0 && uint64(len(back))+st.Dropped() != 1:
			t.Fatalf("not sent, and %d answers and drops %v: want one or the other", len(back), st.Drops)
		}
	})
}

// FuzzReceiveOffload feeds a VTEP frames with offload metadata (from a
// TAP's virtio-net header): nothing panics, and whatever is sent fits the
// inner MTU and carries the VNI.
func FuzzReceiveOffload(f *testing.F) {
	o := gsoTCP
	f.Add(tcpSuper(5000), o.Flags, o.GSOType, o.GSOSize, o.CsumStart, o.CsumOffset)
	f.Add(tcpSuper(100), uint8(link.FlagNeedsCsum), uint8(0), uint16(0), uint16(34), uint16(16))
	f.Add(tcpSuper(5000), o.Flags, o.GSOType, uint16(9000), o.CsumStart, o.CsumOffset)
	f.Add(tcpSuper(5000), o.Flags, uint8(link.GSOUDP), o.GSOSize, o.CsumStart, o.CsumOffset)
	f.Add(tcpSuper(5000), o.Flags, o.GSOType, o.GSOSize, uint16(60000), o.CsumOffset)
	f.Add(tcpSuper(10), o.Flags, o.GSOType, uint16(1), o.CsumStart, o.CsumOffset)
	f.Fuzz(func(t *testing.T, fr []byte, flags, gso uint8, size, start, off uint16) {
		var bad []byte
		m := vxlan.NewMux(vxlan.TransportFunc(func(_ netip.AddrPort, pkt []byte) error {
			if len(pkt) > header.VXLANLen+vxlan.DefaultMTU+header.EthernetLen+header.VLANTagLen || header.VXLAN(pkt).VNI() != 7 {
				bad = bytes.Clone(pkt)
			}
			return nil
		}), vxlan.Options{})
		v, _ := m.Add(vxlan.Config{VNI: 7, Flood: []netip.Addr{vtepB}})
		if err := v.ReceiveOffload(fr, link.Offload{Flags: flags, GSOType: gso, GSOSize: size, CsumStart: start, CsumOffset: off}); err != nil {
			t.Fatalf("ReceiveOffload = %v", err)
		}
		if bad != nil {
			t.Fatalf("sent a %d-byte packet for VNI %d", len(bad), header.VXLAN(bad).VNI())
		}
	})
}
