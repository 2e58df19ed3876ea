package vxlan_test

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/switch/vxlan"
)

// pair is two Muxes, host A (vtepA) and host B (vtepB), joined by an
// in-memory transport that delivers each packet synchronously, one VTEP
// each on VNI 42; what B decapsulates goes to a counter.
type pair struct {
	a, b      *vxlan.Mux
	va, vb    *vxlan.VTEP
	delivered atomic.Int64
}

func newPair(tb testing.TB, learn bool) *pair {
	p := &pair{}
	clk := clock.NewManual()
	var a, b *vxlan.Mux
	a = vxlan.NewMux(vxlan.TransportFunc(func(dst netip.AddrPort, pkt []byte) error {
		b.Input(netip.AddrPortFrom(vtepA, 4789), pkt)
		return nil
	}), vxlan.Options{Clock: clk})
	b = vxlan.NewMux(vxlan.TransportFunc(func(dst netip.AddrPort, pkt []byte) error {
		a.Input(netip.AddrPortFrom(vtepB, 4789), pkt)
		return nil
	}), vxlan.Options{Clock: clk})
	p.a, p.b = a, b
	var err error
	if p.va, err = a.Add(vxlan.Config{VNI: 42, Learn: learn}); err != nil {
		tb.Fatal(err)
	}
	if p.vb, err = b.Add(vxlan.Config{VNI: 42, Learn: learn}); err != nil {
		tb.Fatal(err)
	}
	if err := p.va.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB}); err != nil {
		tb.Fatal(err)
	}
	if !learn {
		if err := p.vb.AddPeer(vxlan.Peer{IP: ip(2), MAC: mac(2), VTEP: vtepA}); err != nil {
			tb.Fatal(err)
		}
	}
	p.va.Attach(link.Funcs{})
	p.vb.Attach(link.Funcs{Frame: func([]byte) { p.delivered.Add(1) }})
	return p
}

// TestNoAllocs: encapsulation and decapsulation allocate nothing on the
// steady path when nobody traces.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers on purpose under the race detector")
	}
	static, learning := newPair(t, false), newPair(t, true)
	f := frame(mac(3), mac(2), 1400)
	pkt := packet(42, frame(mac(2), mac(3), 1400))
	discard := vxlan.NewMux(vxlan.TransportFunc(func(netip.AddrPort, []byte) error { return nil }), vxlan.Options{})
	flood, _ := discard.Add(vxlan.Config{VNI: 1, Flood: []netip.Addr{vtepB, vtepC}})
	super := tcpSuper(20000)
	proxy, _ := discard.Add(vxlan.Config{VNI: 2, ProxyARP: true})
	_ = proxy.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	proxy.Attach(link.Funcs{})
	arp := arpFrame(1, header.Broadcast, mac(2), ip(2), header.MAC{}, ip(3))
	bc, unknown := frame(header.Broadcast, mac(2), 10), frame(mac(9), mac(2), 10)
	enc, _ := discard.Add(vxlan.Config{VNI: 3})
	_ = enc.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	cases := []struct {
		name string
		f    func()
	}{
		{"encapsulate to a static peer", func() { _ = enc.Receive(f) }},
		{"round trip, static", func() { _ = static.va.Receive(f) }},
		{"decapsulate, static check", func() { static.b.Input(from(vtepA), pkt) }},
		{"decapsulate, learning refresh", func() { learning.b.Input(from(vtepA), pkt) }},
		{"round trip, learned", func() { _ = learning.va.Receive(f) }},
		{"flood to two", func() { _ = flood.Receive(bc) }},
		{"segment a super-frame", func() { _ = flood.ReceiveOffload(super, gsoTCP) }},
		{"proxy ARP", func() { _ = proxy.Receive(arp) }},
		{"unknown VNI", func() { discard.Input(from(vtepB), pkt) }},
		{"no flood list", func() { _ = static.va.Receive(unknown) }},
	}
	for _, c := range cases {
		c.f()
		if n := testing.AllocsPerRun(1000, c.f); n != 0 {
			t.Errorf("%s: %v allocs per frame, want 0", c.name, n)
		}
	}
	if static.delivered.Load() == 0 || learning.delivered.Load() == 0 {
		t.Errorf("delivered %d and %d frames: the round trips went nowhere", static.delivered.Load(), learning.delivered.Load())
	}
}

// TestConcurrent feeds a VTEP from several goroutines while the
// transport's reader decapsulates and the control plane changes peers
// and the flood list (run with -race).
func TestConcurrent(t *testing.T) {
	p := newPair(t, true)
	var wg sync.WaitGroup
	const n = 2000
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				_ = p.va.Receive(frame(mac(byte(3+i%2)), mac(byte(2+g*10)), 64))
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		pkt := packet(42, frame(mac(2), mac(7), 64))
		for range n {
			p.a.Input(from(vtepB), pkt)
		}
	}()
	go func() {
		defer wg.Done()
		for i := range n {
			_ = p.va.AddPeer(vxlan.Peer{IP: ip(byte(100 + i%50)), MAC: mac(byte(100 + i%50)), VTEP: vtepB})
			p.va.RemovePeer(mac(byte(100 + (i+25)%50)))
			p.va.SetFlood([]netip.Addr{vtepB})
			_ = p.va.FDB()
			_ = p.va.Stats()
		}
	}()
	wg.Wait()
	if st := p.va.Stats(); st.TxFrames == 0 || st.RxFrames != n {
		t.Errorf("Stats() = %+v, want frames out and %d in", st, n)
	}
}

// BenchmarkEncap: one 1500-byte frame to a static peer, encapsulated
// and handed to a transport that discards it.
func BenchmarkEncap(b *testing.B) {
	m := vxlan.NewMux(vxlan.TransportFunc(func(netip.AddrPort, []byte) error { return nil }), vxlan.Options{})
	v, _ := m.Add(vxlan.Config{VNI: 42})
	_ = v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	f := frame(mac(3), mac(2), 1450-28)
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		_ = v.Receive(f)
	}
}

// BenchmarkDecap: one packet checked, its VTEP found, its source checked
// against the static table and its frame delivered.
func BenchmarkDecap(b *testing.B) {
	for _, learn := range []bool{false, true} {
		b.Run(fmt.Sprintf("learn=%v", learn), func(b *testing.B) {
			m := vxlan.NewMux(vxlan.TransportFunc(func(netip.AddrPort, []byte) error { return nil }), vxlan.Options{})
			v, _ := m.Add(vxlan.Config{VNI: 42, Learn: learn})
			if !learn {
				_ = v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
			}
			v.Attach(link.Funcs{})
			pkt := packet(42, frame(mac(2), mac(3), 1450-28))
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				m.Input(from(vtepB), pkt)
			}
		})
	}
}

// BenchmarkRoundTrip: a frame encapsulated by host A's VTEP and
// decapsulated by host B's, through an in-memory transport.
func BenchmarkRoundTrip(b *testing.B) {
	p := newPair(b, false)
	f := frame(mac(3), mac(2), 1450-28)
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		_ = p.va.Receive(f)
	}
	if p.delivered.Load() == 0 {
		b.Fatal("nothing delivered")
	}
}

// BenchmarkEncapGSO: a 64 KiB TCP super-frame segmented (MSS 1398) and
// every segment encapsulated; per super-frame.
func BenchmarkEncapGSO(b *testing.B) {
	m := vxlan.NewMux(vxlan.TransportFunc(func(netip.AddrPort, []byte) error { return nil }), vxlan.Options{})
	v, _ := m.Add(vxlan.Config{VNI: 42})
	_ = v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: vtepB})
	super := tcpSuper(65000)
	b.ReportAllocs()
	b.SetBytes(int64(len(super)))
	for b.Loop() {
		_ = v.ReceiveOffload(super, gsoTCP)
	}
}
