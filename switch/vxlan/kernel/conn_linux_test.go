package kernel_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil/nstest"
	"github.com/netyard/netyard/switch/vxlan"
	"github.com/netyard/netyard/switch/vxlan/kernel"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// wait is how long a test waits for a packet on loopback before failing:
// long, as nothing but a stuck test should reach it.
const wait = 20 * time.Second

// host is one end: a Conn, a Mux on it with VTEP VNI 42, and the frames
// that VTEP decapsulates.
type host struct {
	c      *kernel.Conn
	m      *vxlan.Mux
	v      *vxlan.VTEP
	frames chan []byte
	done   chan error
}

// listen opens a Conn on addr and runs a Mux over it whose packets go to
// port; Close and the end of Run are the test's cleanup.
func listen(t testing.TB, addr netip.AddrPort, port uint16) *host {
	t.Helper()
	c, err := kernel.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	if port == 0 {
		port = c.LocalAddr().Port()
	}
	h := &host{c: c, frames: make(chan []byte, 4096), done: make(chan error, 1)}
	h.m = vxlan.NewMux(c, vxlan.Options{Port: port})
	if h.v, err = h.m.Add(vxlan.Config{VNI: 42}); err != nil {
		t.Fatal(err)
	}
	h.v.Attach(link.Funcs{Frame: func(f []byte) {
		select {
		case h.frames <- bytes.Clone(f):
		default:
		}
	}})
	go func() { h.done <- c.Run(h.m) }()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if err := <-h.done; err != nil {
			t.Errorf("Run = %v after Close, want nil", err)
		}
	})
	return h
}

// pair returns two hosts on 127.0.0.1 and 127.0.0.2, one port, each the
// other's peer.
func pair(t testing.TB) (a, b *host) {
	t.Helper()
	a = listen(t, netip.MustParseAddrPort("127.0.0.1:0"), 0)
	port := a.c.LocalAddr().Port()
	b = listen(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), port), port)
	if err := a.v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: b.c.LocalAddr().Addr()}); err != nil {
		t.Fatal(err)
	}
	if err := b.v.AddPeer(vxlan.Peer{IP: ip(2), MAC: mac(2), VTEP: a.c.LocalAddr().Addr()}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func mac(i byte) header.MAC { return header.MAC{0x02, 0x42, 0x0a, 0, 0, i} }
func ip(i byte) netip.Addr  { return netip.AddrFrom4([4]byte{10, 0, 0, i}) }
func frame(dst, src header.MAC, n int) []byte {
	f := make([]byte, header.EthernetLen+n)
	header.PutEthernet(f, dst, src, header.EtherTypeIPv4)
	for i := range n {
		f[header.EthernetLen+i] = byte(i)
	}
	return f
}

// expect waits for n frames at h and returns them.
func (h *host) expect(t *testing.T, n int) [][]byte {
	t.Helper()
	var got [][]byte
	deadline := time.After(wait)
	for len(got) < n {
		select {
		case f := <-h.frames:
			got = append(got, f)
		case <-deadline:
			t.Fatalf("%d frames arrived within %v, want %d", len(got), wait, n)
		}
	}
	return got
}

// TestLoopback moves frames both ways between two VTEPs over kernel
// sockets on loopback, as between two hosts.
func TestLoopback(t *testing.T) {
	leak.Check(t)
	a, b := pair(t)
	f := frame(mac(3), mac(2), 1400)
	if err := a.v.Receive(f); err != nil {
		t.Fatal(err)
	}
	if got := b.expect(t, 1); !bytes.Equal(got[0], f) {
		t.Errorf("B received %x, want %x", got[0], f)
	}
	back := frame(mac(2), mac(3), 60)
	_ = b.v.Receive(back)
	if got := a.expect(t, 1); !bytes.Equal(got[0], back) {
		t.Errorf("A received %x, want %x", got[0], back)
	}
	// The reader counts a frame once it is delivered, which may be just
	// after the test has it.
	st := b.v.Stats()
	for end := time.Now().Add(wait); st.RxFrames == 0 && time.Now().Before(end); st = b.v.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st.RxFrames != 1 || st.TxFrames != 1 || st.Dropped() != 0 {
		t.Errorf("B's VTEP: %+v", st)
	}
	if st := a.c.Stats(); st.Sent != 1 || st.Received != 1 || st.WriteErrors != 0 {
		t.Errorf("A's Conn: %+v", st)
	}
}

// TestBatching: queued packets leave in one sendmmsg; a lone Send leaves
// at once, with no Flush.
func TestBatching(t *testing.T) {
	leak.Check(t)
	a, b := pair(t)
	dst := b.c.LocalAddr()
	before := a.c.Stats()
	const n = 50
	for i := range n {
		if err := a.c.Queue(dst, vxlanPacket(42, frame(mac(3), mac(2), 10+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.c.Flush(); err != nil {
		t.Fatal(err)
	}
	got := b.expect(t, n)
	for i, f := range got {
		if len(f) != header.EthernetLen+10+i {
			t.Errorf("frame %d: %d bytes, want %d (in order)", i, len(f), header.EthernetLen+10+i)
		}
	}
	after := a.c.Stats()
	if w := after.Writes - before.Writes; w != 1 || after.Sent-before.Sent != n {
		t.Errorf("%d packets in %d sendmmsg calls, want %d in 1", after.Sent-before.Sent, w, n)
	}
	if rb := b.c.Stats(); rb.Reads > n || rb.Received != n {
		t.Errorf("B read %d datagrams in %d calls", rb.Received, rb.Reads)
	}
	// A super-frame's segments are queued by the VTEP and flushed once.
	if err := a.c.Send(dst, vxlanPacket(42, frame(mac(3), mac(2), 10))); err != nil {
		t.Fatal(err)
	}
	b.expect(t, 1)
	if st := a.c.Stats(); st.Writes != after.Writes+1 {
		t.Errorf("a lone Send took %d writes", st.Writes-after.Writes)
	}
}

func vxlanPacket(vni uint32, inner []byte) []byte {
	p := make([]byte, header.VXLANLen+len(inner))
	header.PutVXLAN(p, vni)
	copy(p[header.VXLANLen:], inner)
	return p
}

// TestConcurrentSenders has several goroutines send at once while the
// reader runs (run with -race): every packet is written, none fails.
func TestConcurrentSenders(t *testing.T) {
	leak.Check(t)
	a, b := pair(t)
	const senders, each = 4, 500
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := frame(mac(3), mac(byte(10+g)), 64)
			for range each {
				if err := a.v.Receive(f); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := a.c.Stats()
	if st.Sent != senders*each || st.WriteErrors != 0 {
		t.Errorf("Stats() = %+v, want %d sent, no errors", st, senders*each)
	}
	t.Logf("%d packets in %d sendmmsg calls; %d of them read by B", st.Sent, st.Writes, b.c.Stats().Received)
}

// TestErrors: bad input to the Conn is refused with a clear error.
func TestErrors(t *testing.T) {
	leak.Check(t)
	if _, err := kernel.Listen(netip.AddrPort{}); err == nil {
		t.Error("Listen on no address succeeded")
	}
	a := listen(t, netip.MustParseAddrPort("127.0.0.1:0"), 0)
	var op *kernel.OpError
	if _, err := kernel.Listen(a.c.LocalAddr()); !errors.As(err, &op) {
		t.Errorf("Listen on a port in use: %v, want an *OpError", err)
	}
	pkt := vxlanPacket(42, frame(mac(3), mac(2), 10))
	cases := []struct {
		name string
		dst  netip.AddrPort
		pkt  []byte
	}{
		{"IPv6 destination on an IPv4 socket", netip.MustParseAddrPort("[::1]:4789"), pkt},
		{"no destination", netip.AddrPort{}, pkt},
		{"empty packet", netip.MustParseAddrPort("127.0.0.1:4789"), nil},
		{"packet too big", netip.MustParseAddrPort("127.0.0.1:4789"), make([]byte, kernel.MaxPacket+1)},
	}
	for _, c := range cases {
		if err := a.c.Send(c.dst, c.pkt); !errors.As(err, &op) {
			t.Errorf("%s: Send = %v, want an *OpError", c.name, err)
		}
	}
	if err := a.c.Send(netip.AddrPortFrom(netip.AddrFrom16(netip.MustParseAddr("127.0.0.1").As16()), 9), pkt); err != nil {
		t.Errorf("Send to a mapped IPv4 address: %v", err)
	}
	// Two Runs at once: the later returns ErrRunning at once, the
	// earlier nil at Close.
	two, err := kernel.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	runs := make(chan error, 2)
	for range 2 {
		go func() { runs <- two.Run(a.m) }()
	}
	if err := <-runs; !errors.Is(err, kernel.ErrRunning) {
		t.Errorf("a second Run = %v, want ErrRunning", err)
	}
	_ = two.Close()
	if err := <-runs; err != nil {
		t.Errorf("Run = %v after Close, want nil", err)
	}
	c, err := kernel.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := c.Send(a.c.LocalAddr(), pkt); !errors.Is(err, kernel.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := c.Run(a.m); err != nil {
		t.Errorf("Run after Close = %v, want nil", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("a second Close = %v", err)
	}
}

// TestZeroChecksum: a datagram whose UDP checksum is 0, as Linux's vxlan
// sends with noudpcsum (RFC 7348 §5 allows it), is accepted, over IPv4
// and over IPv6 (UDP_NO_CHECK6_RX).
func TestZeroChecksum(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sends hand-made UDP through a raw socket")
	}
	leak.Check(t)
	for _, lo := range []string{"127.0.0.1", "::1"} {
		t.Run(lo, func(t *testing.T) {
			h := listen(t, netip.AddrPortFrom(netip.MustParseAddr(lo), 0), 0)
			network := "ip4:udp"
			if netip.MustParseAddr(lo).Is6() {
				network = "ip6:udp"
			}
			raw, err := net.ListenPacket(network, lo)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			inner := frame(mac(3), mac(2), 30)
			payload := vxlanPacket(42, inner)
			udp := make([]byte, 8, 8+len(payload))
			binary.BigEndian.PutUint16(udp[0:], 54321)
			binary.BigEndian.PutUint16(udp[2:], h.c.LocalAddr().Port())
			binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
			udp = append(udp, payload...) // checksum bytes 6-7 stay 0
			if _, err := raw.WriteTo(udp, &net.IPAddr{IP: net.ParseIP(lo)}); err != nil {
				t.Fatal(err)
			}
			if got := h.expect(t, 1); !bytes.Equal(got[0], inner) {
				t.Errorf("received %x, want %x", got[0], inner)
			}
		})
	}
}

// BenchmarkLoopback: packets per second from one VTEP to another over
// kernel sockets on loopback, 1400-byte frames; "queue32" queues 32
// before each flush, as a super-frame's segments are.
func BenchmarkLoopback(b *testing.B) {
	for _, batch := range []int{1, 32} {
		name := "send"
		if batch > 1 {
			name = fmt.Sprintf("queue%d", batch)
		}
		b.Run(name, func(b *testing.B) {
			a, r := pair(b)
			var got atomic.Int64
			r.v.Attach(link.Funcs{Frame: func([]byte) { got.Add(1) }})
			dst := r.c.LocalAddr()
			pkt := vxlanPacket(42, frame(mac(3), mac(2), 1400))
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				if batch == 1 {
					_ = a.c.Send(dst, pkt)
				} else if _ = a.c.Queue(dst, pkt); i%batch == batch-1 {
					_ = a.c.Flush()
				}
			}
			_ = a.c.Flush()
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "sent/s")
			b.ReportMetric(float64(got.Load())/el.Seconds(), "received/s")
			st := a.c.Stats()
			b.ReportMetric(float64(st.Sent)/float64(max(st.Writes, 1)), "pkts/write")
		})
	}
}

// TestSendNoAllocs: writing allocates nothing (reading does: x/net makes
// a net.UDPAddr for every datagram's source). Nobody reads the packets
// here, so nothing else allocates meanwhile.
func TestSendNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	c, err := kernel.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := vxlan.NewMux(c, vxlan.Options{Port: dst.Port()})
	v, _ := m.Add(vxlan.Config{VNI: 42})
	_ = v.AddPeer(vxlan.Peer{IP: ip(3), MAC: mac(3), VTEP: dst.Addr()})
	pkt := vxlanPacket(42, frame(mac(3), mac(2), 1400))
	f := frame(mac(3), mac(2), 1400)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Send", func() { _ = c.Send(dst, pkt) }},
		{"Queue and Flush", func() { _ = c.Queue(dst, pkt); _ = c.Queue(dst, pkt); _ = c.Flush() }},
		{"through the VTEP", func() { _ = v.Receive(f) }},
	} {
		if n := testing.AllocsPerRun(200, c.f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", c.name, n)
		}
	}
	if st := c.Stats(); st.WriteErrors != 0 || st.Sent < 800 {
		t.Errorf("Stats() = %+v", st)
	}
}
