package stack_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// segment is what a test link sees of a TCP frame it carries.
type segment struct {
	dir  int // 0: a -> b, 1: b -> a
	n    int // index among the TCP segments of that direction
	tcp  *layers.TCP
	data int
}

func (s segment) String() string {
	return fmt.Sprintf("dir %d #%d %s seq %d ack %d len %d", s.dir, s.n, flags(s.tcp), s.tcp.Seq, s.tcp.Ack, s.data)
}

func flags(t *layers.TCP) string {
	var f []string
	for _, x := range []struct {
		on bool
		s  string
	}{{t.SYN, "S"}, {t.FIN, "F"}, {t.RST, "R"}, {t.PSH, "P"}, {t.ACK, "."}} {
		if x.on {
			f = append(f, x.s)
		}
	}
	return strings.Join(f, "")
}

// tcpPair joins a (10.0.0.1) and b (10.0.0.2) by a 1 ms wire that drops
// the TCP segments drop picks, and records every TCP segment carried.
type tcpPair struct {
	e      *clock.Manual
	a, b   *stack.Host
	seen   []segment
	events []trace.Event
}

func newTCPPair(t testing.TB, drop func(s segment) bool) *tcpPair {
	t.Helper()
	p := &tcpPair{e: clock.NewManual()}
	tr := trace.Func(func(ev trace.Event) { p.events = append(p.events, ev) })
	p.a = stack.New(stack.Options{Name: "a", Clock: p.e, Tracer: tr})
	p.b = stack.New(stack.Options{Name: "b", Clock: p.e, Tracer: tr})
	counts := [2]int{}
	wire := func(dir int, to *stack.Host) link.Sender {
		return link.Func(func(frame []byte) error {
			pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
			if tl, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
				s := segment{dir: dir, n: counts[dir], tcp: tl, data: len(tl.Payload)}
				counts[dir]++
				p.seen = append(p.seen, s)
				if drop != nil && drop(s) {
					return nil
				}
			}
			cp := append([]byte(nil), frame...)
			p.e.AfterFunc(time.Millisecond, func() { to.Input(0, cp) })
			return nil
		})
	}
	if _, err := p.a.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/24"), wire(0, p.b)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.b.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 2}, netip.MustParsePrefix("10.0.0.2/24"), wire(1, p.a)); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *tcpPair) dump(t *testing.T) {
	t.Helper()
	for _, s := range p.seen {
		t.Logf("  %v", s)
	}
	for _, e := range p.events {
		t.Logf("  %v %s", e.Time.Sub(clock.Epoch), trace.Narrate(e))
	}
}

func pattern(n int, salt byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ salt
	}
	return b
}

// TestTCPStreamExchange: a client sends a 3000-byte message, the server
// answers with 3000 bytes of its own, both close; whichever segment the
// wire loses, both sides end up with the other's bytes, in order, and an
// orderly close.
func TestTCPStreamExchange(t *testing.T) {
	const size = 3000
	isSYN := func(s segment) bool { return s.tcp.SYN }
	isFIN := func(s segment) bool { return s.tcp.FIN }
	hasData := func(s segment) bool { return s.data > 0 }
	pureACK := func(s segment) bool { return s.data == 0 && s.tcp.ACK && !s.tcp.SYN && !s.tcp.FIN && !s.tcp.RST }
	cases := []struct {
		name string
		drop func() func(s segment) bool
		// retransmissions by a (the client) and b (the server), at least
		minA, minB uint64
	}{
		{name: "no loss"},
		{name: "SYN lost", drop: nth(0, 0, isSYN), minA: 1},
		{name: "SYN-ACK lost", drop: nth(1, 0, isSYN), minB: 1},
		{name: "first request segment lost", drop: nth(0, 0, hasData), minA: 1},
		{name: "last request segment lost", drop: nth(0, 2, hasData), minA: 1},
		{name: "first answer segment lost", drop: nth(1, 0, hasData), minB: 1},
		{name: "second answer segment lost", drop: nth(1, 1, hasData), minB: 1},
		{name: "an ACK of the answer lost", drop: nth(0, 1, pureACK)},
		{name: "client FIN lost", drop: nth(0, 0, isFIN), minA: 1},
		{name: "server FIN lost", drop: nth(1, 0, isFIN), minB: 1},
		{name: "last ACK lost", drop: func() func(s segment) bool {
			fin, done := false, false
			return func(s segment) bool {
				if s.dir == 0 && fin && !done && pureACK(s) {
					done = true
					return true
				}
				fin = fin || s.dir == 1 && s.tcp.FIN
				return false
			}
		}, minB: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var drop func(segment) bool
			if tc.drop != nil {
				drop = tc.drop()
			}
			p := newTCPPair(t, drop)
			var gotByServer, gotByClient []byte
			var serverErr, clientErr error
			serverClosed, clientClosed := false, false
			req, ans := pattern(size, 0x11), pattern(size, 0x22)
			if _, err := p.b.ListenTCPStream(53, func(c *stack.TCPStream) {
				c.OnData = func(b []byte) {
					gotByServer = append(gotByServer, b...)
					if len(gotByServer) == size {
						if err := c.Write(ans); err != nil {
							t.Errorf("server Write: %v", err)
						}
					}
				}
				c.OnClose = func(err error) { serverErr, serverClosed = err, true }
			}); err != nil {
				t.Fatal(err)
			}
			c, err := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:53"))
			if err != nil {
				t.Fatal(err)
			}
			c.OnData = func(b []byte) {
				gotByClient = append(gotByClient, b...)
				if len(gotByClient) == size {
					c.Close()
				}
			}
			c.OnClose = func(err error) { clientErr, clientClosed = err, true }
			if err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			p.e.AdvanceUntil(func() bool { return serverClosed && clientClosed && p.a.TCPConns() == 0 && p.b.TCPConns() == 0 }, 5*time.Minute)
			if !bytes.Equal(gotByServer, req) || !bytes.Equal(gotByClient, ans) {
				p.dump(t)
				t.Fatalf("server got %d bytes, client %d; want %d each, equal to what was sent", len(gotByServer), len(gotByClient), size)
			}
			if !serverClosed || !clientClosed || serverErr != nil || clientErr != nil {
				p.dump(t)
				t.Fatalf("closed: server %v (%v), client %v (%v); want both, orderly", serverClosed, serverErr, clientClosed, clientErr)
			}
			if n := p.a.TCPConns() + p.b.TCPConns(); n != 0 {
				t.Errorf("%d connections left after TIME-WAIT, want 0", n)
			}
			if r := p.a.Stats().TCPRetransmits; r < tc.minA {
				p.dump(t)
				t.Errorf("client retransmitted %d segments, want at least %d", r, tc.minA)
			}
			if r := p.b.Stats().TCPRetransmits; r < tc.minB {
				p.dump(t)
				t.Errorf("server retransmitted %d segments, want at least %d", r, tc.minB)
			}
			if tc.drop == nil && p.a.Stats().TCPRetransmits+p.b.Stats().TCPRetransmits != 0 {
				t.Errorf("retransmissions without loss: %+v %+v", p.a.Stats(), p.b.Stats())
			}
			for _, s := range p.seen {
				if s.data > 1460 {
					t.Errorf("segment %v is larger than the MSS", s)
				}
			}
		})
	}
}

// nth drops the k-th segment (from 0) of direction dir that what picks.
func nth(dir, k int, what func(s segment) bool) func() func(s segment) bool {
	return func() func(s segment) bool {
		seen := 0
		return func(s segment) bool {
			if s.dir != dir || !what(s) {
				return false
			}
			seen++
			return seen == k+1
		}
	}
}

// TestTCPStreamSegmentsAtPeerMSS: the sender cuts its data at the MSS the
// peer announced, never above its own.
func TestTCPStreamSegmentsAtPeerMSS(t *testing.T) {
	p := newTCPPair(t, nil)
	got := 0
	if _, err := p.b.ListenTCPStream(7, func(c *stack.TCPStream) { c.OnData = func(b []byte) { got += len(b) } }); err != nil {
		t.Fatal(err)
	}
	c, err := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:7"))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Write(pattern(10000, 0))
	p.e.AdvanceUntil(func() bool { return got == 10000 }, time.Minute)
	if got != 10000 {
		p.dump(t)
		t.Fatalf("server got %d bytes, want 10000", got)
	}
	var sizes []int
	for _, s := range p.seen {
		if s.tcp.SYN {
			mss := 0
			for _, o := range s.tcp.Options {
				if o.OptionType == layers.TCPOptionKindMSS {
					mss = int(o.OptionData[0])<<8 | int(o.OptionData[1])
				}
			}
			if mss != stack.TCPMSS {
				t.Errorf("%v announces MSS %d, want %d", s, mss, stack.TCPMSS)
			}
		}
		if s.data > 0 {
			sizes = append(sizes, s.data)
		}
	}
	want := []int{1460, 1460, 1460, 1460, 1460, 1460, 1240}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("data segments %v, want %v", sizes, want)
	}
}

// TestTCPReset: Abort on either side resets the other, which reports
// ErrConnReset; a SYN to a closed port is refused.
func TestTCPReset(t *testing.T) {
	for _, who := range []string{"client", "server"} {
		t.Run(who+" aborts", func(t *testing.T) {
			p := newTCPPair(t, nil)
			var server *stack.TCPStream
			var serverErr, clientErr error
			if _, err := p.b.ListenTCPStream(80, func(c *stack.TCPStream) {
				server = c
				c.OnClose = func(err error) { serverErr = err }
			}); err != nil {
				t.Fatal(err)
			}
			c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
			c.OnClose = func(err error) { clientErr = err }
			p.e.AdvanceUntil(func() bool { return server != nil }, time.Minute)
			if server == nil || c.State() != "ESTABLISHED" {
				t.Fatalf("not connected: client %s", c.State())
			}
			if who == "client" {
				c.Abort()
			} else {
				server.Abort()
			}
			p.e.Advance(time.Second)
			wantServer, wantClient := stack.ErrConnReset, stack.ErrConnAborted
			if who == "server" {
				wantServer, wantClient = stack.ErrConnAborted, stack.ErrConnReset
			}
			if !errors.Is(serverErr, wantServer) || !errors.Is(clientErr, wantClient) {
				t.Errorf("server closed with %v, client with %v; want %v and %v", serverErr, clientErr, wantServer, wantClient)
			}
			if p.a.TCPConns()+p.b.TCPConns() != 0 {
				t.Errorf("connections left: %d and %d", p.a.TCPConns(), p.b.TCPConns())
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		p := newTCPPair(t, nil)
		c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:81"))
		var err error
		c.OnClose = func(e error) { err = e }
		p.e.Advance(time.Second)
		if !errors.Is(err, stack.ErrConnRefused) {
			t.Errorf("connect to a closed port: %v, want %v", err, stack.ErrConnRefused)
		}
	})
}

// TestTCPListenerBound: a listener holds at most MaxConns connections; a
// SYN beyond is dropped and counted, and the client gets in once a
// connection has gone.
func TestTCPListenerBound(t *testing.T) {
	p := newTCPPair(t, nil)
	var accepted []*stack.TCPStream
	l, err := p.b.ListenTCPStream(80, func(c *stack.TCPStream) { accepted = append(accepted, c) })
	if err != nil {
		t.Fatal(err)
	}
	l.MaxConns = 2
	for range 3 {
		if _, err := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80")); err != nil {
			t.Fatal(err)
		}
	}
	p.e.Advance(500 * time.Millisecond)
	if len(accepted) != 2 || l.Conns() != 2 || p.b.Stats().TCPListenDrops != 1 {
		t.Fatalf("accepted %d, listener holds %d, drops %d; want 2, 2, 1", len(accepted), l.Conns(), p.b.Stats().TCPListenDrops)
	}
	accepted[0].Abort()
	p.e.Advance(2 * time.Second) // the third client's SYN comes again after 1 s
	if len(accepted) != 3 || l.Conns() != 2 {
		t.Errorf("after one went: accepted %d, listener holds %d; want 3 and 2", len(accepted), l.Conns())
	}
}

// TestTCPSendBufferBound: a write that would hold more than the bound is
// refused whole and counted.
func TestTCPSendBufferBound(t *testing.T) {
	p := newTCPPair(t, func(s segment) bool { return s.dir == 1 && !s.tcp.SYN }) // the server's ACKs never arrive
	var werr []error
	l, _ := p.b.ListenTCPStream(80, nil)
	_ = l
	c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
	p.e.Advance(100 * time.Millisecond)
	for range 3 {
		werr = append(werr, c.Write(make([]byte, stack.TCPSendBuffer/2)))
	}
	if werr[0] != nil || werr[1] != nil || !errors.Is(werr[2], stack.ErrSendBufferFull) || p.a.Stats().TCPSendFull != 1 {
		t.Errorf("writes %v, refused %d; want nil, nil, %v and 1", werr, p.a.Stats().TCPSendFull, stack.ErrSendBufferFull)
	}
	if c.Buffered() != stack.TCPSendBuffer {
		t.Errorf("Buffered() = %d, want %d", c.Buffered(), stack.TCPSendBuffer)
	}
}

// TestTCPGivesUp: data nobody acknowledges is retransmitted with a
// doubling timeout, TCPRetries times, then the connection is reported
// timed out.
func TestTCPGivesUp(t *testing.T) {
	lost := false
	p := newTCPPair(t, func(s segment) bool { return lost })
	if _, err := p.b.ListenTCPStream(80, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
	var err error
	closed := time.Duration(0)
	c.OnClose = func(e error) { err, closed = e, p.e.Elapsed() }
	p.e.Advance(100 * time.Millisecond)
	lost = true
	start := p.e.Elapsed()
	_ = c.Write([]byte("hello"))
	p.e.AdvanceUntil(func() bool { return err != nil }, time.Hour)
	if !errors.Is(err, stack.ErrTimedOut) || p.a.Stats().TCPTimeouts != 1 || p.a.Stats().TCPRetransmits != stack.TCPRetries {
		t.Fatalf("closed with %v; timeouts %d, retransmits %d; want %v, 1, %d", err, p.a.Stats().TCPTimeouts, p.a.Stats().TCPRetransmits, stack.ErrTimedOut, stack.TCPRetries)
	}
	// RTO 200 ms (the floor, after a 2 ms RTT), doubled at each retry: 0.2 s x (2^9 - 1).
	if d, want := closed-start, 200*time.Millisecond*(1<<(stack.TCPRetries+1)-1); d != want {
		t.Errorf("gave up after %v, want %v", d, want)
	}
	if p.a.TCPConns() != 0 {
		t.Errorf("client still holds %d connections", p.a.TCPConns())
	}
}

// TestTCPIdleTimeout: a connection nothing crosses is closed with a FIN
// after the listener's idle timeout, and both sides finish cleanly.
func TestTCPIdleTimeout(t *testing.T) {
	p := newTCPPair(t, nil)
	l, _ := p.b.ListenTCPStream(80, nil)
	l.IdleTimeout = 5 * time.Second
	c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
	var err error
	closedAt := time.Duration(-1)
	c.OnClose = func(e error) { err, closedAt = e, p.e.Elapsed() }
	p.e.Advance(3 * time.Second)
	_ = c.Write([]byte("x"))     // activity moves the deadline
	p.e.Advance(2 * time.Minute) // the server, which closed first, waits in TIME-WAIT for a minute
	if err != nil || p.b.Stats().TCPIdleClosed != 1 || l.Conns() != 0 {
		t.Fatalf("client closed with %v; idle closes %d, listener holds %d; want nil, 1, 0", err, p.b.Stats().TCPIdleClosed, l.Conns())
	}
	if closedAt < 8*time.Second || closedAt > 9*time.Second {
		t.Errorf("client closed at %v, want about 8 s (idle since 3 s, timeout 5 s)", closedAt)
	}
}

// rawPeer drives a host from a test: it sends hand-made TCP segments from
// 10.0.0.9 and keeps what the host sends back.
type rawPeer struct {
	e   *clock.Manual
	h   *stack.Host
	out *link.Channel
}

func newRawPeer(t testing.TB, tr trace.Tracer) *rawPeer {
	t.Helper()
	r := &rawPeer{e: clock.NewManual(), out: &link.Channel{}}
	r.h = stack.New(stack.Options{Name: "h", Clock: r.e, Tracer: tr})
	if _, err := r.h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/24"), r.out); err != nil {
		t.Fatal(err)
	}
	return r
}

var peerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 9}

// seg builds a segment from 10.0.0.9:port to 10.0.0.1:80.
func seg(port uint16, t *layers.TCP, data []byte) []byte {
	t.SrcPort, t.DstPort = layers.TCPPort(port), 80
	if t.Window == 0 && !t.RST {
		t.Window = 65535
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 9}, DstIP: net.IP{10, 0, 0, 1}}
	_ = t.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: peerMAC, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4},
		ip, t, gopacket.Payload(data))
	return buf.Bytes()
}

// replies returns the TCP segments the host sent since the last call.
func (r *rawPeer) replies() []*layers.TCP {
	var out []*layers.TCP
	for _, f := range r.out.Drain() {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if t, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			out = append(out, t)
		}
	}
	return out
}

// handshake opens a connection from port; it returns the host's ISS.
func (r *rawPeer) handshake(t *testing.T, port uint16, iss uint32) uint32 {
	t.Helper()
	r.h.Input(0, seg(port, &layers.TCP{SYN: true, Seq: iss, Options: []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted},
		{OptionType: layers.TCPOptionKindTimestamps, OptionData: make([]byte, 8)},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{7}},
	}}, nil))
	rs := r.replies()
	if len(rs) != 1 || !rs[0].SYN || !rs[0].ACK || rs[0].Ack != iss+1 {
		t.Fatalf("answer to SYN: %v, want one SYN-ACK acknowledging %d", rs, iss+1)
	}
	for _, o := range rs[0].Options {
		if o.OptionType != layers.TCPOptionKindMSS {
			t.Errorf("SYN-ACK carries option %v: only the MSS is implemented", o)
		}
	}
	r.h.Input(0, seg(port, &layers.TCP{ACK: true, Seq: iss + 1, Ack: rs[0].Seq + 1}, nil))
	return rs[0].Seq
}

// TestTCPOutOfOrderDroppedAndReACKed: data that does not start at the
// next expected byte is dropped, counted and answered with an ACK of what
// was received; in-order data is delivered at once.
func TestTCPOutOfOrderDroppedAndReACKed(t *testing.T) {
	r := newRawPeer(t, nil)
	r.h.Input(0, arpReply(peerMAC, "10.0.0.9", "10.0.0.1")) // so the host answers at once
	var got []byte
	if _, err := r.h.ListenTCPStream(80, func(c *stack.TCPStream) { c.OnData = func(b []byte) { got = append(got, b...) } }); err != nil {
		t.Fatal(err)
	}
	iss := r.handshake(t, 1000, 5000)
	r.h.Input(0, seg(1000, &layers.TCP{ACK: true, PSH: true, Seq: 5001 + 3, Ack: iss + 1}, []byte("def")))
	rs := r.replies()
	if len(got) != 0 || len(rs) != 1 || rs[0].Ack != 5001 || r.h.Stats().TCPOutOfOrder != 1 {
		t.Fatalf("out of order: delivered %q, replies %v, counted %d; want nothing, one ACK of 5001, 1", got, rs, r.h.Stats().TCPOutOfOrder)
	}
	r.h.Input(0, seg(1000, &layers.TCP{ACK: true, PSH: true, Seq: 5001, Ack: iss + 1}, []byte("abc")))
	r.h.Input(0, seg(1000, &layers.TCP{ACK: true, PSH: true, Seq: 5001 + 2, Ack: iss + 1}, []byte("cdef"))) // overlaps: "c" again
	rs = r.replies()
	if string(got) != "abcdef" || len(rs) != 2 || rs[1].Ack != 5007 {
		t.Errorf("in order: delivered %q, replies %v; want abcdef and ACKs up to 5007", got, rs)
	}
}

func arpReply(from net.HardwareAddr, fromIP, toIP string) []byte {
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: from, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: from, SourceProtAddress: netip.MustParseAddr(fromIP).AsSlice(),
			DstHwAddress: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstProtAddress: netip.MustParseAddr(toIP).AsSlice()})
	return buf.Bytes()
}

// TestTCPNarration: every segment the stack sends and receives is narrated
// with its flags, the probe's closing RST included.
func TestTCPNarration(t *testing.T) {
	p := newTCPPair(t, nil)
	if _, err := p.b.ListenTCP(80); err != nil {
		t.Fatal(err)
	}
	result := ""
	if _, err := p.a.ConnectTCP(netip.MustParseAddrPort("10.0.0.2:80"), func(r string) { result = r }); err != nil {
		t.Fatal(err)
	}
	p.e.Advance(time.Second)
	if result != stack.TCPOpen {
		t.Fatalf("connect: %q", result)
	}
	var got []string
	for _, e := range p.events {
		if d := trace.Narrate(e); strings.Contains(d, "tcp ") {
			got = append(got, d)
		}
	}
	want := []string{
		"a tcp 32768 -> 10.0.0.2:80: SYN",
		"b eth0: tcp 80 <- 10.0.0.1:32768: SYN",
		"b tcp 80 -> 10.0.0.1:32768: SYN-ACK",
		"a eth0: tcp 32768 <- 10.0.0.2:80: SYN-ACK: connected",
		"a tcp 32768 -> 10.0.0.2:80: ACK",
		"a tcp 32768 -> 10.0.0.2:80: RST: handshake done, closing",
		"b eth0: tcp 80 <- 10.0.0.1:32768: ACK: connection accepted",
		"b eth0: tcp 80 <- 10.0.0.1:32768: RST: connection reset by peer",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("narration:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTCPNarrationOfData: data segments show their length, FINs and
// retransmissions are named.
func TestTCPNarrationOfData(t *testing.T) {
	dropped := false
	p := newTCPPair(t, func(s segment) bool {
		if s.dir == 0 && s.data > 0 && !dropped {
			dropped = true
			return true
		}
		return false
	})
	if _, err := p.b.ListenTCPStream(80, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
	_ = c.Write([]byte("hello"))
	c.Close()
	p.e.Advance(2 * time.Minute)
	var all []string
	for _, e := range p.events {
		all = append(all, trace.Narrate(e))
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"a tcp 32768 -> 10.0.0.2:80: PSH-ACK, 5 bytes\n",
		"a tcp 32768 -> 10.0.0.2:80: PSH-ACK, 5 bytes: retransmitted\n",
		"b eth0: tcp 80 <- 10.0.0.1:32768: PSH-ACK, 5 bytes\n",
		"a tcp 32768 -> 10.0.0.2:80: FIN-ACK\n",
		"b eth0: tcp 80 <- 10.0.0.1:32768: FIN-ACK: the peer has finished sending\n",
		"b tcp 80 -> 10.0.0.1:32768: FIN-ACK\n",
		"a eth0: tcp 32768 <- 10.0.0.2:80: FIN-ACK: connection closed, TIME-WAIT\n",
		"b eth0: tcp 80 <- 10.0.0.1:32768: ACK: connection closed\n",
		"a tcp 32768 <-> 10.0.0.2:80: TIME-WAIT over: connection closed",
	} {
		if !strings.Contains(text+"\n", want) {
			t.Errorf("narration lacks %q:\n%s", want, text)
		}
	}
}

// TestQueryTCP: the stub resolver over TCP gets an answer too large for a
// segment, from a server built on ListenTCPStream and Framer.
func TestQueryTCP(t *testing.T) {
	p := newTCPPair(t, nil)
	serveDNS(t, p.b, 60)
	var got *dns.Msg
	var qerr error
	done := false
	if _, err := p.a.QueryTCP(netip.MustParseAddr("10.0.0.2"), "big", dns.TypeA, func(m *dns.Msg, err error) { got, qerr, done = m, err, true }); err != nil {
		t.Fatal(err)
	}
	p.e.AdvanceUntil(func() bool { return done }, time.Minute)
	if qerr != nil || got == nil || len(got.Answer) != 60 {
		p.dump(t)
		t.Fatalf("QueryTCP = %v, %v; want 60 answers", got, qerr)
	}
	p.e.Advance(2 * time.Minute)
	if n := p.a.TCPConns() + p.b.TCPConns(); n != 0 {
		t.Errorf("%d connections left", n)
	}
}

// serveDNS answers every A query on h's TCP port 53 with n records, each
// query of a connection in turn.
func serveDNS(t testing.TB, h *stack.Host, n int) *stack.TCPListener {
	l, err := h.ListenTCPStream(stack.DNSPort, func(c *stack.TCPStream) {
		var f stack.Framer
		c.OnData = func(b []byte) {
			f.Feed(b, func(m []byte) {
				q := new(dns.Msg)
				if q.Unpack(m) != nil || len(q.Question) != 1 {
					c.Abort()
					return
				}
				r := new(dns.Msg)
				r.SetReply(q)
				for i := range n {
					r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 600}, A: net.IP{10, 1, byte(i >> 8), byte(i)}})
				}
				wire, _ := r.Pack()
				framed, _ := stack.AppendFramed(nil, wire)
				_ = c.Write(framed)
			})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestFramer: messages split and joined across chunks come out whole and
// in order.
func TestFramer(t *testing.T) {
	var stream []byte
	var msgs [][]byte
	for i, n := range []int{0, 1, 2, 300, 5000} {
		m := pattern(n, byte(i))
		msgs = append(msgs, m)
		stream, _ = stack.AppendFramed(stream, m)
	}
	for _, chunk := range []int{1, 2, 3, 7, 1000, len(stream)} {
		var f stack.Framer
		var got [][]byte
		for b := stream; len(b) > 0; {
			k := min(chunk, len(b))
			f.Feed(b[:k], func(m []byte) { got = append(got, append([]byte(nil), m...)) })
			b = b[k:]
		}
		if len(got) != len(msgs) || f.Pending() != 0 {
			t.Fatalf("chunks of %d: %d messages, %d pending; want %d, 0", chunk, len(got), f.Pending(), len(msgs))
		}
		for i := range msgs {
			if !bytes.Equal(got[i], msgs[i]) {
				t.Errorf("chunks of %d: message %d differs", chunk, i)
			}
		}
	}
	if _, err := stack.AppendFramed(nil, make([]byte, stack.MaxFramed+1)); !errors.Is(err, stack.ErrFrameTooLong) {
		t.Errorf("AppendFramed(65536 bytes) = %v, want %v", err, stack.ErrFrameTooLong)
	}
}

// TestTCPCloseIsReportedAtOnce: the side that closes first hears OnClose
// when the FINs are through, not a TIME-WAIT later, and its connection
// lingers TCPTimeWait only inside the stack.
func TestTCPCloseIsReportedAtOnce(t *testing.T) {
	p := newTCPPair(t, nil)
	if _, err := p.b.ListenTCPStream(80, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := p.a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:80"))
	closedAt := time.Duration(-1)
	var cerr error
	c.OnClose = func(err error) { cerr, closedAt = err, p.e.Elapsed() }
	p.e.Advance(10 * time.Millisecond)
	c.Close()
	p.e.Advance(time.Second)
	if closedAt < 0 || closedAt > 20*time.Millisecond || cerr != nil {
		t.Errorf("OnClose(%v) at %v, want nil within 20ms", cerr, closedAt)
	}
	if c.State() != "TIME-WAIT" || p.a.TCPConns() != 1 || p.b.TCPConns() != 0 {
		t.Errorf("client %s, connections %d and %d; want TIME-WAIT, 1 and 0", c.State(), p.a.TCPConns(), p.b.TCPConns())
	}
	p.e.Advance(stack.TCPTimeWait)
	if p.a.TCPConns() != 0 {
		t.Errorf("client holds %d connections after TIME-WAIT", p.a.TCPConns())
	}
}

// TestTCPSynFloodBounded: SYNs nobody completes fill a listener only up to
// MaxConns (the rest dropped and counted); each half-open connection sends
// its SYN-ACK 1 + TCPSynAckRetries times, then goes.
func TestTCPSynFloodBounded(t *testing.T) {
	r := newRawPeer(t, nil)
	r.h.Input(0, arpReply(peerMAC, "10.0.0.9", "10.0.0.1"))
	l, err := r.h.ListenTCPStream(80, nil)
	if err != nil {
		t.Fatal(err)
	}
	const flood = 1000
	for i := range flood {
		r.h.Input(0, seg(uint16(2000+i), &layers.TCP{SYN: true, Seq: uint32(i)}, nil))
	}
	st := r.h.Stats()
	if l.Conns() != stack.TCPMaxConns || st.TCPListenDrops != flood-stack.TCPMaxConns {
		t.Errorf("half-open %d, SYNs dropped %d; want %d and %d", l.Conns(), st.TCPListenDrops, stack.TCPMaxConns, flood-stack.TCPMaxConns)
	}
	r.e.Advance(2 * time.Minute)
	synAcks := 0
	for _, s := range r.replies() {
		if s.SYN && s.ACK {
			synAcks++
		}
	}
	if l.Conns() != 0 || r.h.Stats().TCPTimeouts != stack.TCPMaxConns || synAcks != stack.TCPMaxConns*(1+stack.TCPSynAckRetries) {
		t.Errorf("after 2 minutes: %d half-open, %d timed out, %d SYN-ACKs; want 0, %d, %d", l.Conns(), r.h.Stats().TCPTimeouts, synAcks, stack.TCPMaxConns, stack.TCPMaxConns*(1+stack.TCPSynAckRetries))
	}
}
