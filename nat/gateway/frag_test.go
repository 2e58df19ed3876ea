package gateway_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat/gateway"
)

var outerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}

// bigUDP builds a UDP datagram of n payload bytes in one frame (IP ID id).
func bigUDP(t testing.TB, srcMAC, dstMAC net.HardwareAddr, src, dst netip.AddrPort, n int, id uint16, df bool) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	if df {
		ip.Flags = layers.IPv4DontFragment
	}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = u.SetNetworkLayerForChecksum(ip)
	return frame(t, srcMAC, dstMAC, ip, u, gopacket.Payload(pattern(n)))
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// cut cuts a frame's IPv4 packet into fragments of chunk data bytes (a
// multiple of 8), each a frame, the way a sender's kernel would.
func cut(fr []byte, chunk int) [][]byte {
	pkt := fr[14:]
	hl := int(pkt[0]&0xf) * 4
	data := pkt[hl:]
	var out [][]byte
	for off := 0; off < len(data); off += chunk {
		n := min(chunk, len(data)-off)
		b := append(append(append([]byte(nil), fr[:14]...), pkt[:hl]...), data[off:off+n]...)
		ip := b[14:]
		binary.BigEndian.PutUint16(ip[2:], uint16(hl+n))
		ff := uint16(off / 8)
		if off+n < len(data) {
			ff |= 0x2000
		}
		binary.BigEndian.PutUint16(ip[6:], ff)
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^csum.Fold(csum.Sum(ip[:hl], 0)))
		out = append(out, b)
	}
	return out
}

// fragmentAt returns one fragment of the datagram with identification id:
// payload bytes [off, off+n), with MF as given.
func fragmentAt(t testing.TB, src, dst netip.Addr, id uint16, off, n int, mf bool) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), FragOffset: uint16(off / 8)}
	if mf {
		ip.Flags = layers.IPv4MoreFragments
	}
	data := pattern(off + n)[off:]
	return frame(t, ctrMAC, gwMAC, ip, gopacket.Payload(data))
}

// checkFragments checks that frames are valid IPv4 fragments of at most
// mtu bytes from src to dst (gopacket decodes each, header checksums
// right), reassembles them with gopacket's defragmenter and returns the
// UDP layer of the whole, its checksum checked.
func checkFragments(t *testing.T, frames [][]byte, mtu int, src, dst netip.AddrPort) *layers.UDP {
	t.Helper()
	d := ip4defrag.NewIPv4Defragmenter()
	var whole *layers.IPv4
	for i, f := range frames {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("fragment %d does not decode: %v", i, el.Error())
		}
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil {
			t.Fatalf("fragment %d is not IPv4: %v", i, p)
		}
		if int(ip.Length) > mtu || len(f) > 14+mtu {
			t.Errorf("fragment %d: %d bytes, over %d", i, ip.Length, mtu)
		}
		if csum.Fold(csum.Sum(ip.Contents, 0)) != 0xffff {
			t.Errorf("fragment %d: header checksum %#04x wrong", i, ip.Checksum)
		}
		if !ip.SrcIP.Equal(src.Addr().AsSlice()) || !ip.DstIP.Equal(dst.Addr().AsSlice()) {
			t.Errorf("fragment %d: %s -> %s, want %s -> %s", i, ip.SrcIP, ip.DstIP, src.Addr(), dst.Addr())
		}
		out, err := d.DefragIPv4(ip)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if out != nil {
			whole = out
		}
	}
	if whole == nil {
		t.Fatalf("%d fragments do not make a datagram", len(frames))
	}
	p := gopacket.NewPacket(whole.Payload, layers.LayerTypeUDP, gopacket.Default)
	u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if u == nil {
		t.Fatalf("reassembled: not UDP")
	}
	if netip.AddrPortFrom(src.Addr(), uint16(u.SrcPort)) != src || netip.AddrPortFrom(dst.Addr(), uint16(u.DstPort)) != dst {
		t.Errorf("reassembled %d -> %d, want %v -> %v", u.SrcPort, u.DstPort, src, dst)
	}
	got := u.Checksum
	_ = u.SetNetworkLayerForChecksum(whole)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, u, gopacket.Payload(u.Payload))
	if want := binary.BigEndian.Uint16(buf.Bytes()[6:]); got != want {
		t.Errorf("reassembled UDP checksum %#04x, want %#04x", got, want)
	}
	return u
}

// TestFragmentedUDPCrossesNAT: a 4000-byte UDP datagram in fragments
// crosses masquerade and a published port, both ways, and leaves in valid
// fragments no bigger than the leg's MTU.
func TestFragmentedUDPCrossesNAT(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	r.resolveLAN(t)
	ext := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(lanAddr, port) }
	for _, c := range []struct {
		name     string
		in       int // leg
		from, to netip.AddrPort
		out      *leg
		as       [2]netip.AddrPort // what leaves
	}{
		{"masqueraded out", 1, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 9000), r.lan, [2]netip.AddrPort{ext(4000), netip.AddrPortFrom(outer, 9000)}},
		{"its reply in", 0, netip.AddrPortFrom(outer, 9000), ext(4000), r.br, [2]netip.AddrPort{netip.AddrPortFrom(outer, 9000), netip.AddrPortFrom(ctr, 4000)}},
		{"to a published port", 0, netip.AddrPortFrom(outer, 7000), ext(5353), r.br, [2]netip.AddrPort{netip.AddrPortFrom(outer, 7000), netip.AddrPortFrom(ctr, 53)}},
		{"the published port's reply", 1, netip.AddrPortFrom(ctr, 53), netip.AddrPortFrom(outer, 7000), r.lan, [2]netip.AddrPort{ext(5353), netip.AddrPortFrom(outer, 7000)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, dst := ctrMAC, gwMAC
			if c.in == 0 {
				src, dst = outerMAC, lanMAC
			}
			before := r.gw.Stats()
			for _, f := range cut(bigUDP(t, src, dst, c.from, c.to, 4000, 1000, false), 1480) {
				r.gw.Input(c.in, f)
			}
			out := c.out.Drain()
			if len(out) != 3 {
				t.Fatalf("%d frames out, want 3 fragments", len(out))
			}
			u := checkFragments(t, out, gateway.DefaultMTU, c.as[0], c.as[1])
			if !bytes.Equal(u.Payload, pattern(4000)) {
				t.Errorf("payload changed on the way")
			}
			st := r.gw.Stats()
			if st.ReasmReqds-before.ReasmReqds != 3 || st.ReasmOKs-before.ReasmOKs != 1 || st.FragCreates-before.FragCreates != 3 || st.Forwarded-before.Forwarded != 1 {
				t.Errorf("stats %+v, want 3 fragments in, 1 datagram routed, 3 fragments out", st)
			}
		})
	}
}

// TestRefragmentsAsReceived: a datagram that came in small fragments
// leaves in fragments no bigger (Linux's frag_max_size), though the leg
// would take more.
func TestRefragmentsAsReceived(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	r.resolveLAN(t)
	for _, f := range cut(bigUDP(t, ctrMAC, gwMAC, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 9000), 2000, 7, false), 552) {
		r.gw.Input(1, f)
	}
	out := r.lan.Drain()
	if len(out) != 4 {
		t.Fatalf("%d frames out, want 4", len(out))
	}
	checkFragments(t, out, 20+552, netip.AddrPortFrom(lanAddr, 4000), netip.AddrPortFrom(outer, 9000))
}

// TestTooBigWithDF: a packet bigger than the leg it leaves by is cut into
// fragments, or with DF set dropped and answered with fragmentation
// needed and the MTU.
func TestTooBigWithDF(t *testing.T) {
	for _, df := range []bool{false, true} {
		r := newTracedRig(t)
		r.introduce(t)
		r.resolveLAN(t)
		r.gw.Input(1, bigUDP(t, ctrMAC, gwMAC, netip.AddrPortFrom(ctr, 4000), netip.AddrPortFrom(outer, 9000), 2000, 9, df))
		lan, br := r.lan.Drain(), r.br.Drain()
		st := r.gw.Stats()
		if !df {
			if len(lan) != 2 || st.FragOKs != 1 || st.FragCreates != 2 {
				t.Fatalf("DF clear: %d frames out, stats %+v; want 2 fragments", len(lan), st)
			}
			checkFragments(t, lan, gateway.DefaultMTU, netip.AddrPortFrom(lanAddr, 4000), netip.AddrPortFrom(outer, 9000))
			continue
		}
		if len(lan) != 0 || len(br) != 1 || st.FragFails != 1 {
			t.Fatalf("DF set: %d frames out, %d back, stats %+v; want only fragmentation needed back", len(lan), len(br), st)
		}
		ic, _ := decode(br[0]).Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if ic == nil || ic.TypeCode != layers.CreateICMPv4TypeCode(3, 4) || ic.Seq != gateway.DefaultMTU {
			t.Errorf("got %v, want ICMP fragmentation needed, next-hop MTU 1500", decode(br[0]))
		}
		if n := drops(r.events); n != 1 {
			t.Errorf("%d drops traced, want 1", n)
		}
	}
}

// drops counts the drops the gateway traced (not its stack's, which carry
// their interface).
func drops(events []trace.Event) int {
	n := 0
	for _, e := range events {
		if e.Kind == trace.Dropped && e.Port == "" {
			n++
		}
	}
	return n
}

// TestReassemblyTimeout: a datagram not whole within 30 s is dropped and
// counted; the gateway answers time exceeded only for its own.
func TestReassemblyTimeout(t *testing.T) {
	for _, c := range []struct {
		name string
		to   netip.Addr
		icmp bool
	}{{"forwarded", outer, false}, {"for the gateway", gwAddr, true}} {
		t.Run(c.name, func(t *testing.T) {
			r := newTracedRig(t)
			r.introduce(t)
			r.gw.Input(1, fragmentAt(t, ctr, c.to, 5, 0, 1480, true))
			r.e.Advance(gateway.ReasmTime - time.Millisecond)
			if p := r.gw.Pending(); p.Reassemblies != 1 || p.ReasmBytes == 0 {
				t.Fatalf("before the timeout: pending %+v, want the datagram", p)
			}
			r.e.Advance(time.Millisecond)
			st := r.gw.Stats()
			if p := r.gw.Pending(); p.Reassemblies != 0 || p.ReasmBytes != 0 || st.ReasmTimeout != 1 || st.ReasmFails != 1 {
				t.Fatalf("after 30s: pending %+v, stats %+v; want it dropped", p, st)
			}
			back := r.br.Drain()
			if !c.icmp {
				if len(back) != 0 {
					t.Errorf("%d frames back, want none", len(back))
				}
				return
			}
			if len(back) != 1 {
				t.Fatalf("%d frames back, want time exceeded", len(back))
			}
			ic, _ := decode(back[0]).Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
			if ic == nil || ic.TypeCode != layers.CreateICMPv4TypeCode(11, 1) {
				t.Errorf("got %v, want ICMP fragment reassembly time exceeded", decode(back[0]))
			}
		})
	}
}

// TestReassemblyBounds: datagrams, bytes and fragments per datagram in
// reassembly are bounded; what does not fit is dropped and counted.
func TestReassemblyBounds(t *testing.T) {
	t.Run("datagrams", func(t *testing.T) {
		r := newTracedRig(t)
		for id := range gateway.MaxReasmDatagrams + 1 {
			r.gw.Input(1, fragmentAt(t, ctr, outer, uint16(id), 0, 8, true))
		}
		if p, st := r.gw.Pending(), r.gw.Stats(); p.Reassemblies != gateway.MaxReasmDatagrams || st.ReasmFull != 1 || st.ReasmFails != 1 {
			t.Errorf("pending %+v, stats %+v: want %d held, 1 refused", p, st, gateway.MaxReasmDatagrams)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		r := newTracedRig(t)
		for id := range 1000 {
			for i := range 3 {
				r.gw.Input(1, fragmentAt(t, ctr, outer, uint16(id), i*1480, 1480, true))
			}
		}
		p, st := r.gw.Pending(), r.gw.Stats()
		if p.ReasmBytes > gateway.MaxReasmBytes || st.ReasmFull == 0 || st.ReasmFull != st.ReasmFails {
			t.Errorf("pending %+v, stats %+v: want at most %d bytes held, the rest refused", p, st, gateway.MaxReasmBytes)
		}
		if n := drops(r.events); uint64(n) != st.ReasmFails {
			t.Errorf("%d drops traced, %d counted", n, st.ReasmFails)
		}
	})
	t.Run("fragments", func(t *testing.T) {
		r := newTracedRig(t)
		for i := range gateway.MaxFragments + 1 {
			r.gw.Input(1, fragmentAt(t, ctr, outer, 1, i*8, 8, true))
		}
		if p, st := r.gw.Pending(), r.gw.Stats(); p.Reassemblies != 0 || st.ReasmFull != 1 {
			t.Errorf("pending %+v, stats %+v: want the datagram dropped at fragment %d", p, st, gateway.MaxFragments+1)
		}
	})
}

// TestFragmentConflicts: a fragment overlapping another drops its whole
// datagram (as Linux does since 4.19); a duplicate is ignored; fragments
// that disagree on the end drop the datagram too.
func TestFragmentConflicts(t *testing.T) {
	type frag struct {
		off, n int
		mf     bool
	}
	for _, c := range []struct {
		name  string
		frags []frag
		whole bool // the datagram leaves
		count func(gateway.Stats) uint64
	}{
		{"overlap", []frag{{0, 1480, true}, {1472, 1480, true}, {2952, 100, false}}, false, func(s gateway.Stats) uint64 { return s.ReasmOverlaps }},
		{"overlap before", []frag{{1480, 1480, true}, {8, 1480, true}, {0, 1480, true}, {2960, 100, false}}, false, func(s gateway.Stats) uint64 { return s.ReasmOverlaps }},
		{"duplicate", []frag{{0, 1480, true}, {0, 1480, true}, {1480, 100, false}}, true, func(s gateway.Stats) uint64 { return s.ReasmDuplicates }},
		{"contained duplicate", []frag{{0, 1480, true}, {1480, 1480, true}, {8, 1600, true}, {2960, 100, false}}, true, func(s gateway.Stats) uint64 { return s.ReasmDuplicates }},
		{"two ends", []frag{{1480, 100, false}, {1480, 200, false}}, false, func(s gateway.Stats) uint64 { return s.ReasmMalformed }},
		{"data beyond the end", []frag{{1480, 100, false}, {2000, 1480, true}, {0, 1480, true}}, false, func(s gateway.Stats) uint64 { return s.ReasmMalformed }},
		{"over 64 KiB", []frag{{65000, 1000, false}}, false, func(s gateway.Stats) uint64 { return s.ReasmMalformed }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTracedRig(t)
			r.introduce(t)
			r.resolveLAN(t)
			for _, f := range c.frags {
				r.gw.Input(1, fragmentAt(t, ctr, outer, 3, f.off, f.n, f.mf))
			}
			st := r.gw.Stats()
			if got := c.count(st); got != 1 {
				t.Errorf("stats %+v: want the conflict counted once", st)
			}
			if out := r.lan.Drain(); (len(out) > 0) != c.whole {
				t.Errorf("%d frames out; want the datagram out: %v", len(out), c.whole)
			}
			if uint64(drops(r.events)) != st.ReasmFails {
				t.Errorf("%d drops traced, %d counted", drops(r.events), st.ReasmFails)
			}
		})
	}
}

// TestFragmentedToTheGateway: a datagram for the gateway itself (a ping
// to its address) is reassembled and answered, the answer fragmented to
// the leg's MTU.
func TestFragmentedToTheGateway(t *testing.T) {
	r := newRig(t)
	r.introduce(t)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 4, Protocol: layers.IPProtocolICMPv4, SrcIP: ctr.AsSlice(), DstIP: gwAddr.AsSlice()}
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}
	for _, f := range cut(frame(t, ctrMAC, gwMAC, ip, ic, gopacket.Payload(pattern(3000))), 1480) {
		r.gw.Input(1, f)
	}
	out := r.br.Drain()
	if len(out) != 3 {
		t.Fatalf("%d frames back, want the echo reply in 3 fragments", len(out))
	}
	d := ip4defrag.NewIPv4Defragmenter()
	var whole *layers.IPv4
	for _, f := range out {
		if len(f) > 14+gateway.DefaultMTU {
			t.Errorf("frame of %d bytes", len(f))
		}
		if w, err := d.DefragIPv4(ipOf(f)); err != nil {
			t.Fatal(err)
		} else if w != nil {
			whole = w
		}
	}
	if whole == nil || whole.Protocol != layers.IPProtocolICMPv4 || len(whole.Payload) != 8+3000 || whole.Payload[0] != 0 {
		t.Fatalf("reassembled %v, want the echo reply", whole)
	}
}
