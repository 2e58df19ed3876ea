package vxlan_test

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
	"github.com/netyard/netyard/switch/vxlan"
)

var (
	_ link.Endpoint   = (*vxlan.VTEP)(nil)
	_ vxlan.Transport = vxlan.TransportFunc(nil)
	_ vxlan.Queuer    = (*queuing)(nil)
)

// TestEncapsulationAgainstGopacket: what the VTEP sends is, byte for
// byte, what gopacket's VXLAN layer serialises around the frame, and
// gopacket decodes it back to the VNI and the inner frame.
func TestEncapsulationAgainstGopacket(t *testing.T) {
	for _, vni := range []uint32{0, 1, 4096, 0xabcdef, vxlan.MaxVNI} {
		r := newRig(t, vxlan.Config{VNI: vni})
		if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
			t.Fatal(err)
		}
		f := frame(mac(3), mac(2), 56)
		if err := r.v.Receive(f); err != nil {
			t.Fatal(err)
		}
		ps := r.w.take()
		if len(ps) != 1 {
			t.Fatalf("VNI %d: %d packets sent, want 1", vni, len(ps))
		}
		if want := netip.AddrPortFrom(vtepB, 4789); ps[0].dst != want {
			t.Errorf("VNI %d: sent to %v, want %v", vni, ps[0].dst, want)
		}
		if want := packet(vni, f); !bytes.Equal(ps[0].pkt, want) {
			t.Errorf("VNI %d: packet\n%x\nwant (gopacket)\n%x", vni, ps[0].pkt, want)
		}
		vx, p := decode(t, ps[0].pkt)
		if !vx.ValidIDFlag || vx.VNI != vni {
			t.Errorf("gopacket reads I=%v VNI %d, want I=true VNI %d", vx.ValidIDFlag, vx.VNI, vni)
		}
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if eth == nil || !bytes.Equal(ps[0].pkt[header.VXLANLen:], f) || eth.DstMAC.String() != mac(3).String() {
			t.Errorf("inner frame %v, want the frame sent", p)
		}
	}
}

// TestDecapsulationAgainstGopacket: a packet gopacket builds is
// delivered as its inner frame, exactly.
func TestDecapsulationAgainstGopacket(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 4096})
	f := frame(mac(2), mac(3), 100)
	r.mux.Input(from(vtepB), packet(4096, f))
	got := r.sink.Drain()
	if len(got) != 1 || !bytes.Equal(got[0], f) {
		t.Fatalf("delivered %x, want %x", got, f)
	}
	if st := r.v.Stats(); st.RxFrames != 1 || st.RxBytes != uint64(len(f)) || st.Dropped() != 0 {
		t.Errorf("Stats() = %+v, want 1 frame of %d bytes in, no drops", st, len(f))
	}
	if st := r.mux.Stats(); st.Packets != 1 || st.Bytes != uint64(len(f)+8) || st.Dropped() != 0 {
		t.Errorf("mux Stats() = %+v", st)
	}
}

// TestForwarding: where each kind of frame goes, by the static table,
// the learned table and the flood list.
func TestForwarding(t *testing.T) {
	bc := header.Broadcast
	mc := header.MAC{0x01, 0x00, 0x5e, 0, 0, 1}
	cases := []struct {
		name    string
		learn   bool
		flood   []netip.Addr
		learned map[header.MAC]netip.Addr // learned first (decapsulated from)
		dst     header.MAC
		want    []netip.Addr
		drop    string
	}{
		{name: "static unicast", dst: mac(3), want: []netip.Addr{vtepB}},
		{name: "static unicast ignores the flood list", dst: mac(3), flood: []netip.Addr{vtepC}, want: []netip.Addr{vtepB}},
		{name: "unknown unicast floods", dst: mac(9), flood: []netip.Addr{vtepB, vtepC}, want: []netip.Addr{vtepB, vtepC}},
		{name: "broadcast floods in list order", dst: bc, flood: []netip.Addr{vtepC, vtepB}, want: []netip.Addr{vtepC, vtepB}},
		{name: "multicast floods", dst: mc, flood: []netip.Addr{vtepC}, want: []netip.Addr{vtepC}},
		{name: "broadcast without a flood list", dst: bc, drop: "no-flood"},
		{name: "multicast without a flood list", dst: mc, drop: "no-flood"},
		{name: "unknown unicast without a flood list", dst: mac(9), drop: "no-flood"},
		{name: "learned unicast", learn: true, learned: map[header.MAC]netip.Addr{mac(9): vtepC}, flood: []netip.Addr{vtepB}, dst: mac(9), want: []netip.Addr{vtepC}},
		{name: "learning off: not learned, flooded", learned: map[header.MAC]netip.Addr{mac(9): vtepC}, flood: []netip.Addr{vtepB}, dst: mac(9), want: []netip.Addr{vtepB}},
		{name: "broadcast is never learned", learn: true, learned: map[header.MAC]netip.Addr{mac(9): vtepC}, flood: []netip.Addr{vtepB}, dst: bc, want: []netip.Addr{vtepB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, vxlan.Config{VNI: 42, Learn: c.learn, Flood: c.flood})
			if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
				t.Fatal(err)
			}
			for m, at := range c.learned {
				r.mux.Input(from(at), packet(42, frame(mac(2), m, 10)))
			}
			r.sink.Drain()
			r.w.take()
			f := frame(c.dst, mac(2), 10)
			_ = r.v.Receive(f)
			got := dsts(r.w.take())
			var want []netip.AddrPort
			for _, a := range c.want {
				want = append(want, from(a))
			}
			if !slices.Equal(got, want) {
				t.Errorf("frame to %s sent to %v, want %v", c.dst, got, want)
			}
			st := r.v.Stats()
			if c.drop != "" && st.Drops[c.drop] != 1 || c.drop == "" && st.Dropped() != 0 {
				t.Errorf("drops %v, want %q", st.Drops, c.drop)
			}
			if st.TxFrames != uint64(len(c.want)) || st.TxBytes != uint64(len(c.want)*len(f)) {
				t.Errorf("Tx %d frames %d bytes, want %d frames of %d", st.TxFrames, st.TxBytes, len(c.want), len(f))
			}
		})
	}
}

// TestNoFloodNarration: a broadcast with no flood list says why it stays
// on its host.
func TestNoFloodNarration(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42})
	_ = r.v.Receive(frame(header.Broadcast, mac(2), 10))
	n := narration(r.tr.take())
	for _, want := range []string{"host1 vx-ov: dropped 02:42:0a:00:00:02 -> ff:ff:ff:ff:ff:ff: no-flood: broadcast", "moby/libnetwork#552"} {
		if !strings.Contains(n, want) {
			t.Errorf("narration %q lacks %q", n, want)
		}
	}
}

// TestProxyARP: requests for peers are answered locally; others follow
// the flood list, or are dropped with Docker's reason.
func TestProxyARP(t *testing.T) {
	req := func(tip netip.Addr) []byte { return arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, tip) }
	cases := []struct {
		name    string
		proxy   bool
		flood   []netip.Addr
		frame   []byte
		reply   bool // answered with peer 3's MAC
		sent    []netip.Addr
		drop    string
		narrate string
	}{
		{name: "request for a peer", proxy: true, frame: req(ip(3)), reply: true,
			narrate: "host1 vx-ov: answered ARP who-has 10.0.0.3 itself from the peer table: 10.0.0.3 is at 02:42:0a:00:00:03 (proxy ARP; no request crosses hosts)"},
		{name: "unicast request for a peer (a refresh)", proxy: true, frame: arpFrame(1, mac(3), mac(2), ip(2), mac(3), ip(3)), reply: true},
		{name: "request for a peer, with a flood list", proxy: true, flood: []netip.Addr{vtepC}, frame: req(ip(3)), reply: true},
		{name: "request for an unknown address", proxy: true, frame: req(ip(9)), drop: "no-flood",
			narrate: "host1 vx-ov: dropped 02:42:0a:00:00:02 -> ff:ff:ff:ff:ff:ff: no-flood: ARP who-has 10.0.0.9 tell 10.0.0.2: no peer has that address, and broadcasts do not cross hosts in Docker's overlay (moby/libnetwork#552)"},
		{name: "request for an unknown address, with a flood list", proxy: true, flood: []netip.Addr{vtepC}, frame: req(ip(9)), sent: []netip.Addr{vtepC}},
		{name: "gratuitous ARP is no question", proxy: true, flood: []netip.Addr{vtepC}, frame: req(ip(2)), sent: []netip.Addr{vtepC}},
		{name: "a reply passes", proxy: true, frame: arpFrame(2, mac(3), mac(2), ip(2), mac(3), ip(3)), sent: []netip.Addr{vtepB}},
		{name: "proxy off: the request is a broadcast", flood: []netip.Addr{vtepC}, frame: req(ip(3)), sent: []netip.Addr{vtepC}},
		{name: "proxy off, no flood list", frame: req(ip(3)), drop: "no-flood"},
		{name: "a truncated request is a broadcast", proxy: true, flood: []netip.Addr{vtepC}, frame: req(ip(3))[:30], sent: []netip.Addr{vtepC}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, vxlan.Config{VNI: 42, ProxyARP: c.proxy, Flood: c.flood})
			if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
				t.Fatal(err)
			}
			_ = r.v.Receive(c.frame)
			got := r.sink.Drain()
			if c.reply {
				if len(got) != 1 {
					t.Fatalf("%d frames back to the switch, want the reply", len(got))
				}
				p := gopacket.NewPacket(got[0], layers.LayerTypeEthernet, gopacket.Default)
				eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
				a, _ := p.Layer(layers.LayerTypeARP).(*layers.ARP)
				if eth == nil || a == nil {
					t.Fatalf("reply %v is no ARP", p)
				}
				if eth.SrcMAC.String() != mac(3).String() || eth.DstMAC.String() != mac(2).String() {
					t.Errorf("reply %s -> %s, want %s -> %s", eth.SrcMAC, eth.DstMAC, mac(3), mac(2))
				}
				if a.Operation != layers.ARPReply || net.HardwareAddr(a.SourceHwAddress).String() != mac(3).String() ||
					!net.IP(a.SourceProtAddress).Equal(net.IP{10, 0, 0, 3}) || net.HardwareAddr(a.DstHwAddress).String() != mac(2).String() ||
					!net.IP(a.DstProtAddress).Equal(net.IP{10, 0, 0, 2}) {
					t.Errorf("reply %+v, want 10.0.0.3 is-at %s to %s 10.0.0.2", a, mac(3), mac(2))
				}
				if st := r.v.Stats(); st.ProxyARP != 1 {
					t.Errorf("ProxyARP = %d, want 1", st.ProxyARP)
				}
			} else if len(got) != 0 {
				t.Errorf("%d frames back to the switch, want none", len(got))
			}
			var want []netip.AddrPort
			for _, a := range c.sent {
				want = append(want, from(a))
			}
			if got := dsts(r.w.take()); !slices.Equal(got, want) {
				t.Errorf("sent to %v, want %v", got, want)
			}
			if st := r.v.Stats(); c.drop != "" && st.Drops[c.drop] != 1 || c.drop == "" && st.Dropped() != 0 {
				t.Errorf("drops %v, want %q", st.Drops, c.drop)
			}
			if n := narration(r.tr.take()); c.narrate != "" && !strings.Contains(n, c.narrate) {
				t.Errorf("narration\n%s\nlacks\n%s", n, c.narrate)
			}
		})
	}
}

// TestLearning: flood and learn as the Linux vxlan device: a source is
// learned behind the VTEP it came from, moves when it comes from another,
// and unicast follows it.
func TestLearning(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, Learn: true, Flood: []netip.Addr{vtepB}})
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10))) // a refresh: no event
	want := []vxlan.Entry{{MAC: mac(9), VTEP: vtepB, Learned: true}}
	if got := r.v.FDB(); !reflect.DeepEqual(got, want) {
		t.Errorf("FDB() = %v, want %v", got, want)
	}
	_ = r.v.Receive(frame(mac(9), mac(2), 10))
	if got := dsts(r.w.take()); !slices.Equal(got, []netip.AddrPort{from(vtepB)}) {
		t.Errorf("to the learned MAC: sent to %v", got)
	}
	r.mux.Input(from(vtepC), packet(42, frame(mac(2), mac(9), 10))) // it moved
	_ = r.v.Receive(frame(mac(9), mac(2), 10))
	if got := dsts(r.w.take()); !slices.Equal(got, []netip.AddrPort{from(vtepC)}) {
		t.Errorf("after the move: sent to %v, want %v", got, from(vtepC))
	}
	var learned []string
	for _, e := range r.tr.take() {
		if e.Op == trace.OpPeerLearned {
			learned = append(learned, trace.Narrate(e))
		}
	}
	wantN := []string{
		"host1 vx-ov: learned 02:42:0a:00:00:09 on VXLAN 42 behind VTEP 192.168.56.12 (flood and learn)",
		"host1 vx-ov: learned 02:42:0a:00:00:09 on VXLAN 42 behind VTEP 192.168.56.13 (flood and learn)",
	}
	if !slices.Equal(learned, wantN) {
		t.Errorf("learned events\n%s\nwant\n%s", strings.Join(learned, "\n"), strings.Join(wantN, "\n"))
	}
	if st := r.v.Stats(); st.Learned != 1 || st.RxFrames != 3 || st.Dropped() != 0 {
		t.Errorf("Stats() = %+v, want 1 learned, 3 in, no drops", st)
	}
	// A static entry takes the MAC over.
	if err := r.v.AddPeer(vxlan.Peer{IP: ip(9), MAC: mac(9), VTEP: vtepB}); err != nil {
		t.Fatal(err)
	}
	if got, want := r.v.FDB(), []vxlan.Entry{{MAC: mac(9), VTEP: vtepB}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after AddPeer, FDB() = %v, want %v", got, want)
	}
}

// TestAgeing: a learned entry lives exactly Ageing after the last frame
// from it, on the node's clock, and its removal is narrated then.
func TestAgeing(t *testing.T) {
	for _, ageing := range []time.Duration{0, 10 * time.Second} {
		r := newRig(t, vxlan.Config{VNI: 42, Learn: true, Flood: []netip.Addr{vtepC}, Ageing: ageing})
		life := ageing
		if life == 0 {
			life = vxlan.DefaultAgeing
		}
		r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
		r.clk.Advance(life / 2)
		r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10))) // refreshed at life/2
		r.clk.Advance(life - time.Nanosecond)                           // 1ns before life/2 + life
		if len(r.v.FDB()) != 1 {
			t.Fatalf("ageing %v: gone before its time", life)
		}
		_ = r.v.Receive(frame(mac(9), mac(2), 10))
		if got := dsts(r.w.take()); !slices.Equal(got, []netip.AddrPort{from(vtepB)}) {
			t.Errorf("ageing %v: 1ns before expiry, sent to %v", life, got)
		}
		r.tr.take()
		r.clk.Advance(time.Nanosecond)
		if fdb := r.v.FDB(); len(fdb) != 0 {
			t.Errorf("ageing %v: FDB() = %v at expiry, want empty", life, fdb)
		}
		ev := r.tr.take()
		if len(ev) != 1 || ev[0].Kind != trace.Aged || ev[0].Src != mac(9).String() || ev[0].VTEP != vtepB || ev[0].VNI != 42 ||
			!ev[0].Time.Equal(r.clk.Now()) || ev[0].Port != "vx-ov" {
			t.Errorf("ageing %v: events at expiry %+v, want one Aged of %s at %v", life, ev, mac(9), r.clk.Now())
		}
		_ = r.v.Receive(frame(mac(9), mac(2), 10))
		if got := dsts(r.w.take()); !slices.Equal(got, []netip.AddrPort{from(vtepC)}) {
			t.Errorf("ageing %v: after expiry, sent to %v, want the flood list", life, got)
		}
		if r.clk.Pending() != 0 {
			t.Errorf("ageing %v: %d timers pending with an empty table", life, r.clk.Pending())
		}
	}
}

// TestLearnBound: a full table learns nothing new (learn-full), still
// delivers, and learns again once an entry has aged.
func TestLearnBound(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, Learn: true, MaxEntries: 2, Ageing: time.Minute})
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(7), 10)))
	r.clk.Advance(time.Second)
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(8), 10)))
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
	st := r.v.Stats()
	if st.Learned != 2 || st.Drops["learn-full"] != 1 || st.RxFrames != 3 {
		t.Errorf("Stats() = %+v, want 2 learned, 1 learn-full, 3 delivered", st)
	}
	if n := narration(r.tr.take()); !strings.Contains(n, "learn-full: 02:42:0a:00:00:09 behind VTEP 192.168.56.12 not learned: the table holds its maximum of 2") {
		t.Errorf("narration\n%s", n)
	}
	r.clk.Advance(time.Minute - time.Second) // mac(7) ages
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
	var got []header.MAC
	for _, e := range r.v.FDB() {
		got = append(got, e.MAC)
	}
	if want := []header.MAC{mac(8), mac(9)}; !slices.Equal(got, want) {
		t.Errorf("FDB MACs %v, want %v", got, want)
	}
}

// TestWrongVTEP: a frame whose source the peer table puts behind another
// VTEP is dropped, with learning on too (Linux never moves a static
// entry); from the right VTEP it is delivered.
func TestWrongVTEP(t *testing.T) {
	for _, learn := range []bool{false, true} {
		r := newRig(t, vxlan.Config{VNI: 42, Learn: learn})
		if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
			t.Fatal(err)
		}
		f := frame(mac(2), mac(3), 10)
		r.mux.Input(from(vtepC), packet(42, f))
		if got := r.sink.Drain(); len(got) != 0 {
			t.Errorf("learn %v: a claim from the wrong VTEP was delivered", learn)
		}
		n := narration(r.tr.take())
		if !strings.Contains(n, "wrong-vtep: VTEP 192.168.56.13 sent a frame from 02:42:0a:00:00:03, which the peer table puts behind VTEP 192.168.56.12: a peer claiming another host's container") {
			t.Errorf("learn %v: narration %q", learn, n)
		}
		r.mux.Input(from(vtepB), packet(42, f))
		if got := r.sink.Drain(); len(got) != 1 {
			t.Errorf("learn %v: from the right VTEP: %d delivered, want 1", learn, len(got))
		}
		if st := r.v.Stats(); st.Drops["wrong-vtep"] != 1 || st.Learned != 0 || st.RxFrames != 1 {
			t.Errorf("learn %v: Stats() = %+v", learn, st)
		}
		if got := r.v.FDB(); len(got) != 1 || got[0].Learned || got[0].VTEP != vtepB {
			t.Errorf("learn %v: FDB() = %v, want the static entry only", learn, got)
		}
	}
}

// TestMuxDrops: what no VTEP takes is counted and narrated by reason,
// and the flows that worked still work.
func TestMuxDrops(t *testing.T) {
	good := packet(42, frame(mac(2), mac(3), 10))
	noI := bytes.Clone(good)
	noI[0] = 0
	gbpOnly := bytes.Clone(good)
	gbpOnly[0] = 0x80 // G set, I not
	reserved := bytes.Clone(good)
	reserved[1], reserved[7] = 0xff, 0xff // reserved bits: ignored
	cases := []struct {
		name    string
		pkt     []byte
		reason  string
		narrate string
	}{
		{"empty", nil, "runt", "host1 dropped: runt: a 0-byte packet from 192.168.56.12:4789, shorter than a VXLAN header (8 bytes)"},
		{"7 bytes", good[:7], "runt", "a 7-byte packet"},
		{"I flag missing", noI, "bad-flags", "host1 dropped: bad-flags: flags 0x00 from 192.168.56.12:4789: the I flag is not set"},
		{"GBP without I", gbpOnly, "bad-flags", "flags 0x80"},
		{"unknown VNI", packet(43, frame(mac(2), mac(3), 10)), "unknown-vni", "host1 dropped: unknown-vni: VXLAN 43 from 192.168.56.12:4789: no overlay network here has that VNI"},
		{"reserved bits set", reserved, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, vxlan.Config{VNI: 42})
			r.mux.Input(from(vtepB), c.pkt)
			st := r.mux.Stats()
			if c.reason != "" && (st.Drops[c.reason] != 1 || st.Dropped() != 1) || c.reason == "" && st.Dropped() != 0 {
				t.Errorf("mux drops %v, want one %q", st.Drops, c.reason)
			}
			ev := r.tr.take()
			if n := narration(ev); c.narrate != "" && !strings.Contains(n, c.narrate) {
				t.Errorf("narration %q lacks %q", n, c.narrate)
			}
			if c.reason != "" && (len(ev) != 1 || ev[0].Kind != trace.Dropped || ev[0].VTEP != vtepB) {
				t.Errorf("events %+v, want one drop naming VTEP %v", ev, vtepB)
			}
			r.sink.Drain()
			r.mux.Input(from(vtepB), good)
			if got := r.sink.Drain(); len(got) != 1 {
				t.Errorf("a good packet after it: %d delivered, want 1", len(got))
			}
		})
	}
}

// TestVTEPDrops: every drop a VTEP makes, counted under its reason and
// traced; a good frame still passes afterwards.
func TestVTEPDrops(t *testing.T) {
	tooBig := frame(mac(3), mac(2), 1450-28+4+1) // 1469 bytes: the MTU, an Ethernet header, a tag's slack, and one
	gso := link.Offload{GSOType: link.GSOTCPv4, GSOSize: 1460, CsumStart: 34, CsumOffset: 16, Flags: link.FlagNeedsCsum}
	cases := []struct {
		name   string
		setup  func(r *rig)
		do     func(r *rig)
		reason string
		sent   int // packets that still went out
	}{
		{name: "runt from the switch", do: func(r *rig) { _ = r.v.Receive(make([]byte, 13)) }, reason: "runt"},
		{name: "runt super-frame", do: func(r *rig) { _ = r.v.ReceiveOffload(make([]byte, 13), gso) }, reason: "runt"},
		{name: "runt inner frame", do: func(r *rig) { r.mux.Input(from(vtepB), packet(42, make([]byte, 13))) }, reason: "runt"},
		{name: "too big", do: func(r *rig) { _ = r.v.Receive(tooBig) }, reason: "too-big"},
		{name: "just fits", do: func(r *rig) { _ = r.v.Receive(tooBig[:len(tooBig)-1]) }, sent: 1},
		{name: "GSO segments too big", do: func(r *rig) { _ = r.v.ReceiveOffload(tcpSuper(8000), gso) }, reason: "too-big"},
		{name: "bad offload", do: func(r *rig) {
			_ = r.v.ReceiveOffload(frame(mac(3), mac(2), 100), link.Offload{GSOType: link.GSOUDP, GSOSize: 100})
		}, reason: "bad-offload"},
		{name: "no flood list", do: func(r *rig) { _ = r.v.Receive(frame(mac(9), mac(2), 10)) }, reason: "no-flood"},
		{name: "multicast inner source", do: func(r *rig) {
			r.mux.Input(from(vtepB), packet(42, frame(mac(2), header.MAC{1, 0, 0x5e, 0, 0, 1}, 10)))
		}, reason: "bad-source"},
		{name: "zero inner source", do: func(r *rig) { r.mux.Input(from(vtepB), packet(42, frame(mac(2), header.MAC{}, 10))) }, reason: "bad-source"},
		{name: "wrong VTEP", do: func(r *rig) { r.mux.Input(from(vtepC), packet(42, frame(mac(2), mac(3), 10))) }, reason: "wrong-vtep"},
		{name: "learn-full", setup: func(r *rig) {
			r.mux.Input(from(vtepB), packet(43, frame(mac(2), mac(8), 10)))
		}, do: func(r *rig) { r.mux.Input(from(vtepB), packet(43, frame(mac(2), mac(9), 10))) }, reason: "learn-full"},
		{name: "tx error", setup: func(r *rig) { r.w.err = errors.New("no route") }, do: func(r *rig) { _ = r.v.Receive(frame(mac(3), mac(2), 10)) }, reason: "tx-error"},
		{name: "nothing attached", setup: func(r *rig) { r.v.Attach(nil) }, do: func(r *rig) { r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(3), 10))) }, reason: "down"},
		{name: "carrier down", setup: func(r *rig) { r.v.Carrier(false) }, do: func(r *rig) { r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(3), 10))) }, reason: "down"},
		{name: "proxy reply with nothing attached", setup: func(r *rig) { r.v.Attach(nil) }, do: func(r *rig) {
			_ = r.v.Receive(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3)))
		}, reason: "down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, vxlan.Config{VNI: 42, ProxyARP: true})
			full, err := r.mux.Add(vxlan.Config{VNI: 43, Name: "vx-43", Learn: true, MaxEntries: 1})
			if err != nil {
				t.Fatal(err)
			}
			full.Attach(link.Funcs{})
			if err := r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
				t.Fatal(err)
			}
			if c.setup != nil {
				c.setup(r)
			}
			r.tr.take()
			c.do(r)
			st := r.v.Stats()
			if c.name == "learn-full" {
				st = full.Stats()
			}
			if c.reason != "" && (st.Drops[c.reason] != 1 || st.Dropped() != 1) || c.reason == "" && st.Dropped() != 0 {
				t.Errorf("drops %v, want one %q", st.Drops, c.reason)
			}
			if got := len(r.w.take()); got != c.sent {
				t.Errorf("%d packets sent, want %d", got, c.sent)
			}
			var drops []trace.Event
			for _, e := range r.tr.take() {
				if e.Kind == trace.Dropped {
					drops = append(drops, e)
				}
			}
			if c.reason != "" && (len(drops) != 1 || !strings.HasPrefix(drops[0].Reason, c.reason+": ") || drops[0].Node != "host1" || drops[0].Port == "" || drops[0].VNI == 0) {
				t.Errorf("drop events %+v, want one %q naming node, port and VNI", drops, c.reason)
			}
			// Existing flows keep working.
			r.w.err = nil
			r.v.Attach(link.Funcs{Frame: func(f []byte) { _ = r.sink.Send(f) }})
			r.v.Carrier(true)
			_ = r.v.Receive(frame(mac(3), mac(2), 10))
			r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(3), 10)))
			if got, dl := len(r.w.take()), len(r.sink.Drain()); got != 1 || dl != 1 {
				t.Errorf("afterwards %d sent and %d delivered, want 1 and 1", got, dl)
			}
		})
	}
}

// TestRemove: a removed VNI is unknown; its VTEP drops what it is handed
// and stops ageing.
func TestRemove(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, Learn: true, Flood: []netip.Addr{vtepB}})
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
	if r.clk.Pending() != 1 {
		t.Fatalf("%d timers pending, want the ageing timer", r.clk.Pending())
	}
	r.mux.Remove(42)
	r.mux.Remove(42) // twice: nothing
	if r.mux.VTEP(42) != nil {
		t.Error("VTEP(42) still there")
	}
	if r.clk.Pending() != 0 {
		t.Errorf("%d timers pending after Remove", r.clk.Pending())
	}
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(9), 10)))
	_ = r.v.Receive(frame(mac(9), mac(2), 10))
	if st := r.mux.Stats(); st.Drops["unknown-vni"] != 1 {
		t.Errorf("mux drops %v, want one unknown-vni", st.Drops)
	}
	if st := r.v.Stats(); st.Drops["down"] != 1 {
		t.Errorf("VTEP drops %v, want one down", st.Drops)
	}
	if _, err := r.mux.Add(vxlan.Config{VNI: 42}); err != nil {
		t.Errorf("Add after Remove: %v", err)
	}
}

// TestAddErrors: bad configurations are refused with a clear error.
func TestAddErrors(t *testing.T) {
	m := vxlan.NewMux(&wire{}, vxlan.Options{})
	if _, err := m.Add(vxlan.Config{VNI: 7}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		c    vxlan.Config
		want error
		text string
	}{
		{"VNI 2^24", vxlan.Config{VNI: 1 << 24}, vxlan.ErrVNIRange, "16777216"},
		{"VNI taken", vxlan.Config{VNI: 7}, vxlan.ErrVNITaken, "7"},
		{"flood to nowhere", vxlan.Config{VNI: 8, Flood: []netip.Addr{{}}}, vxlan.ErrBadConfig, "flood list"},
		{"flood to multicast", vxlan.Config{VNI: 8, Flood: []netip.Addr{netip.MustParseAddr("239.1.1.1")}}, vxlan.ErrBadConfig, "239.1.1.1"},
		{"flood to 0.0.0.0", vxlan.Config{VNI: 8, Flood: []netip.Addr{netip.IPv4Unspecified()}}, vxlan.ErrBadConfig, "0.0.0.0"},
		{"MTU 67", vxlan.Config{VNI: 8, MTU: 67}, vxlan.ErrBadConfig, "MTU 67"},
		{"MTU 65536", vxlan.Config{VNI: 8, MTU: 65536}, vxlan.ErrBadConfig, "MTU 65536"},
		{"negative bound", vxlan.Config{VNI: 8, MaxEntries: -1}, vxlan.ErrBadConfig, "MaxEntries"},
		{"negative ageing", vxlan.Config{VNI: 8, Ageing: -time.Second}, vxlan.ErrBadConfig, "Ageing"},
	}
	for _, c := range cases {
		v, err := m.Add(c.c)
		if !errors.Is(err, c.want) || err != nil && !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: Add(%+v) = %v, %v; want %v mentioning %q", c.name, c.c, v, err, c.want, c.text)
		}
	}
	if m.VTEP(8) != nil {
		t.Error("a refused VTEP was added")
	}
}

// TestAddPeerErrors: a peer that cannot be one is refused.
func TestAddPeerErrors(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42})
	good := vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}
	with := func(f func(p *vxlan.Peer)) vxlan.Peer { p := good; f(&p); return p }
	cases := []struct {
		name string
		p    vxlan.Peer
	}{
		{"no IP", with(func(p *vxlan.Peer) { p.IP = netip.Addr{} })},
		{"IPv6", with(func(p *vxlan.Peer) { p.IP = netip.MustParseAddr("fd00::3") })},
		{"0.0.0.0", with(func(p *vxlan.Peer) { p.IP = netip.IPv4Unspecified() })},
		{"multicast IP", with(func(p *vxlan.Peer) { p.IP = netip.MustParseAddr("224.0.0.1") })},
		{"broadcast IP", with(func(p *vxlan.Peer) { p.IP = netip.MustParseAddr("255.255.255.255") })},
		{"loopback IP", with(func(p *vxlan.Peer) { p.IP = netip.MustParseAddr("127.0.0.1") })},
		{"zero MAC", with(func(p *vxlan.Peer) { p.MAC = header.MAC{} })},
		{"multicast MAC", with(func(p *vxlan.Peer) { p.MAC = header.Broadcast })},
		{"no VTEP", with(func(p *vxlan.Peer) { p.VTEP = netip.Addr{} })},
		{"multicast VTEP", with(func(p *vxlan.Peer) { p.VTEP = netip.MustParseAddr("239.0.0.1") })},
	}
	for _, c := range cases {
		if err := r.v.AddPeer(c.p); !errors.Is(err, vxlan.ErrBadPeer) {
			t.Errorf("%s: AddPeer(%+v) = %v, want ErrBadPeer", c.name, c.p, err)
		}
		if err := r.v.AddPeers([]vxlan.Peer{good, c.p}); !errors.Is(err, vxlan.ErrBadPeer) {
			t.Errorf("%s: AddPeers = %v, want ErrBadPeer", c.name, err)
		}
	}
	if ps := r.v.Peers(); len(ps) != 0 {
		t.Errorf("Peers() = %v after refusals, want none", ps)
	}
	// A mapped IPv4 address is IPv4.
	mapped := with(func(p *vxlan.Peer) { p.IP = netip.AddrFrom16(ip(3).As16()); p.VTEP = netip.AddrFrom16(vtepB.As16()) })
	if err := r.v.AddPeer(mapped); err != nil {
		t.Errorf("AddPeer(%v) = %v", mapped, err)
	}
	if ps := r.v.Peers(); !slices.Equal(ps, []vxlan.Peer{good}) {
		t.Errorf("Peers() = %v, want %v", ps, good)
	}
}

// TestPeerReplacement: one peer per MAC and per IP, the newest winning.
func TestPeerReplacement(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, ProxyARP: true})
	add := func(p vxlan.Peer) {
		if err := r.v.AddPeer(p); err != nil {
			t.Fatal(err)
		}
	}
	add(vxlan.Peer{IP: ip(4), MAC: mac(4), VTEP: vtepB})
	add(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	add(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepC}) // moved host
	add(vxlan.Peer{IP: ip(5), MAC: mac(4), VTEP: vtepB}) // new address
	add(vxlan.Peer{IP: ip(3), MAC: mac(6), VTEP: vtepB}) // the address reused by another container
	want := []vxlan.Peer{{IP: ip(3), MAC: mac(6), VTEP: vtepB}, {IP: ip(5), MAC: mac(4), VTEP: vtepB}}
	if got := r.v.Peers(); !slices.Equal(got, want) {
		t.Errorf("Peers() = %v, want %v", got, want)
	}
	r.v.RemovePeer(mac(4))
	r.v.RemovePeer(mac(99))
	if got := r.v.Peers(); !slices.Equal(got, want[:1]) {
		t.Errorf("after RemovePeer, Peers() = %v, want %v", got, want[:1])
	}
	_ = r.v.Receive(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(5)))
	_ = r.v.Receive(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3)))
	got := r.sink.Drain()
	if len(got) != 1 || header.ARP(got[0][14:]).SenderMAC() != mac(6) {
		t.Errorf("proxy ARP answered %d requests (want 1, for 10.0.0.3 at %s)", len(got), mac(6))
	}
}

// TestSetFlood: the flood list changes while running; bad addresses and
// repeats are left out.
func TestSetFlood(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, Flood: []netip.Addr{vtepB, vtepB}})
	if got := r.v.Flood(); !slices.Equal(got, []netip.Addr{vtepB}) {
		t.Errorf("Flood() = %v, want [%v]", got, vtepB)
	}
	r.v.SetFlood([]netip.Addr{vtepC, {}, netip.MustParseAddr("224.0.0.1"), vtepB, vtepC})
	if got, want := r.v.Flood(), []netip.Addr{vtepC, vtepB}; !slices.Equal(got, want) {
		t.Errorf("Flood() = %v, want %v", got, want)
	}
	_ = r.v.Receive(frame(header.Broadcast, mac(2), 10))
	if got, want := dsts(r.w.take()), []netip.AddrPort{from(vtepC), from(vtepB)}; !slices.Equal(got, want) {
		t.Errorf("broadcast sent to %v, want %v", got, want)
	}
	r.v.SetFlood(nil)
	_ = r.v.Receive(frame(header.Broadcast, mac(2), 10))
	if st := r.v.Stats(); st.Drops["no-flood"] != 1 {
		t.Errorf("drops %v, want no-flood", st.Drops)
	}
}

// TestOptionsPort: packets go to Options.Port (Linux's 8472, say).
func TestOptionsPort(t *testing.T) {
	w := &wire{}
	m := vxlan.NewMux(w, vxlan.Options{Port: 8472})
	v, _ := m.Add(vxlan.Config{VNI: 1, Flood: []netip.Addr{vtepB}})
	_ = v.Receive(frame(header.Broadcast, mac(2), 10))
	if got := dsts(w.take()); !slices.Equal(got, []netip.AddrPort{netip.AddrPortFrom(vtepB, 8472)}) {
		t.Errorf("sent to %v, want port 8472", got)
	}
	if m.Port() != 8472 || vxlan.NewMux(w, vxlan.Options{}).Port() != 4789 {
		t.Error("Port() is not the port asked, or 4789 by default")
	}
}

// TestTraceEvents: encapsulation and decapsulation are narrated per
// frame with node, port, VNI and VTEP.
func TestTraceEvents(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 4096})
	_ = r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	f := frame(mac(3), mac(2), 56) // 98 bytes
	_ = r.v.Receive(f)
	r.mux.Input(from(vtepB), packet(4096, frame(mac(2), mac(3), 56)))
	ev := r.tr.take()
	want := []string{
		"host1 vx-ov: encapsulated 02:42:0a:00:00:02 -> 02:42:0a:00:00:03 (98 bytes) in VXLAN 4096 to VTEP 192.168.56.12",
		"host1 vx-ov: decapsulated 02:42:0a:00:00:03 -> 02:42:0a:00:00:02 (98 bytes) from VXLAN 4096 of VTEP 192.168.56.12",
	}
	if got := strings.Split(strings.TrimSpace(narration(ev)), "\n"); !slices.Equal(got, want) {
		t.Errorf("narration\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range ev {
		if e.Node != "host1" || e.Port != "vx-ov" || e.Kind != trace.Overlay || e.VNI != 4096 || e.VTEP != vtepB || e.Len != 98 || !e.Time.Equal(r.clk.Now()) {
			t.Errorf("event %+v lacks a field", e)
		}
	}
}

// TestEventsCarryTheirFields: every event the VTEP and the Mux emit has
// the fields its kind and op promise (tracetest), so a program reads
// them rather than the sentence. An aged learned entry is Kind Aged, as
// the switch's, which has no VLAN to give.
func TestEventsCarryTheirFields(t *testing.T) {
	r := newRig(t, vxlan.Config{VNI: 42, Learn: true, ProxyARP: true, MaxEntries: 1, Ageing: time.Second})
	_ = r.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	_ = r.v.Receive(frame(mac(3), mac(2), 10))                                         // encap
	_ = r.v.Receive(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3))) // proxy ARP
	_ = r.v.Receive(arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(9))) // no-flood
	r.mux.Input(from(vtepB), packet(42, frame(mac(2), mac(3), 10)))                    // decap
	r.mux.Input(from(vtepC), packet(42, frame(mac(2), mac(8), 10)))                    // learned
	r.mux.Input(from(vtepC), packet(42, frame(mac(2), mac(9), 10)))                    // learn-full
	r.mux.Input(from(vtepC), packet(42, frame(mac(2), mac(3), 10)))                    // wrong-vtep
	r.mux.Input(from(vtepC), packet(77, frame(mac(2), mac(3), 10)))                    // unknown-vni
	r.mux.Input(from(vtepC), []byte{1, 2, 3})                                          // runt
	r.clk.Advance(time.Second)                                                         // aged
	seen := map[string]bool{}
	for _, e := range r.tr.take() {
		key := string(e.Kind) + " " + e.Op.String()
		seen[key] = true
		miss := tracetest.Missing(e)
		if e.Kind == trace.Aged && slices.Equal(miss, []string{"VLAN"}) {
			continue
		}
		if len(miss) > 0 {
			t.Errorf("%s lacks %v: %+v", trace.Narrate(e), miss, e)
		}
	}
	for _, k := range []string{"overlay encap", "overlay decap", "overlay proxy-arp", "overlay peer-learned", "dropped ", "aged "} {
		if !seen[k] {
			t.Errorf("no %q event", k)
		}
	}
}
