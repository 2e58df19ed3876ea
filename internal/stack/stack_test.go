package stack_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
)

// twoHosts joins a (10.0.0.1) and b (10.0.0.2) with a 1 ms link.
func twoHosts(t testing.TB) (*clock.Manual, *stack.Host, *stack.Host) {
	e, _, a, b := twoHostsLink(t)
	return e, a, b
}

// wire is the 1 ms link of twoHostsLink; capture, if set, sees every frame
// sent into it.
type wire struct {
	capture func(frame []byte)
}

func twoHostsLink(t testing.TB) (*clock.Manual, *wire, *stack.Host, *stack.Host) {
	t.Helper()
	e := clock.NewManual()
	w := &wire{}
	var hosts [2]*stack.Host
	end := func(to int) link.Sender {
		return link.Func(func(frame []byte) error {
			if w.capture != nil {
				w.capture(frame)
			}
			cp := append([]byte(nil), frame...)
			e.AfterFunc(time.Millisecond, func() { hosts[to].Input(0, cp) })
			return nil
		})
	}
	for i, name := range []string{"a", "b"} {
		n := byte(i + 1)
		h := stack.New(stack.Options{Name: name, Clock: e})
		mac := net.HardwareAddr{2, 0, 0, 0, 0, n}
		if _, err := h.AddIface("eth0", header.MAC(mac), netip.MustParsePrefix("10.0.0."+string('0'+n)+"/24"), end(1-i)); err != nil {
			t.Fatal(err)
		}
		hosts[i] = h
	}
	return e, w, hosts[0], hosts[1]
}

func ping(t *testing.T, e *clock.Manual, h *stack.Host, to string) stack.PingResult {
	t.Helper()
	var res *stack.PingResult
	if _, err := h.Ping(netip.MustParseAddr(to), 1, 1, 56, func(r stack.PingResult) { res = &r }); err != nil {
		return stack.PingResult{Err: err}
	}
	e.AdvanceUntil(func() bool { return res != nil }, 10*time.Second)
	if res == nil {
		return stack.PingResult{}
	}
	return *res
}

func TestPingResolvesThenReplies(t *testing.T) {
	e, a, _ := twoHosts(t)
	r := ping(t, e, a, "10.0.0.2")
	// ARP request and reply, then echo request and reply: four 1 ms hops.
	if !r.Reply || r.RTT != 4*time.Millisecond {
		t.Errorf("first ping: %+v, want a reply after 4ms", r)
	}
	r = ping(t, e, a, "10.0.0.2")
	if !r.Reply || r.RTT != 2*time.Millisecond {
		t.Errorf("second ping: %+v, want a reply after 2ms", r)
	}
	if c := a.ARPCache(); len(c) != 1 || c[0].Addr != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("ARP cache %v", c)
	}
}

func TestARPFailureIsHostUnreachable(t *testing.T) {
	e, a, _ := twoHosts(t)
	start := e.Elapsed()
	r := ping(t, e, a, "10.0.0.9")
	if !errors.Is(r.Err, stack.ErrHostUnreach) {
		t.Fatalf("ping to nobody: %+v, want host unreachable", r)
	}
	if d := e.Elapsed() - start; d != stack.ARPRetries*stack.ARPRetry {
		t.Errorf("gave up after %v, want %v", d, stack.ARPRetries*stack.ARPRetry)
	}
	if a.Stats().ARPFailures != 1 {
		t.Errorf("stats %+v", a.Stats())
	}
}

func TestNoRoute(t *testing.T) {
	e, a, _ := twoHosts(t)
	if r := ping(t, e, a, "192.0.2.1"); !errors.Is(r.Err, stack.ErrNoRoute) {
		t.Errorf("ping off-link without gateway: %+v, want no route", r)
	}
}

func TestUDPDeliveryAndPortUnreachable(t *testing.T) {
	e, a, b := twoHosts(t)
	srv, err := b.ListenUDP(5000)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	srv.OnRecv = func(src, dst netip.AddrPort, p []byte) { got = src.Addr().String() + " " + string(p) }
	c, _ := a.ListenUDP(0)
	var icmpErr error
	c.OnError = func(err error) { icmpErr = err }
	_ = c.SendTo(netip.MustParseAddrPort("10.0.0.2:5000"), []byte("hi"))
	_ = c.SendTo(netip.MustParseAddrPort("10.0.0.2:5001"), []byte("nobody"))
	e.AdvanceUntil(nil, time.Hour)
	if got != "10.0.0.1 hi" {
		t.Errorf("server got %q", got)
	}
	var ie *stack.ICMPError
	if !errors.As(icmpErr, &ie) || ie.Type != 3 || ie.Code != 3 {
		t.Errorf("closed port gave %v, want ICMP port unreachable", icmpErr)
	}
	if _, err := b.ListenUDP(5000); !errors.Is(err, stack.ErrPortInUse) {
		t.Errorf("second bind: %v, want port in use", err)
	}
}

func TestARPQueueBound(t *testing.T) {
	e := clock.NewManual()
	sent := &link.Channel{}
	h := stack.New(stack.Options{Clock: e})
	_, _ = h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/24"), sent)
	c, _ := h.ListenUDP(0)
	for range stack.ARPQueue + 2 {
		_ = c.SendTo(netip.MustParseAddrPort("10.0.0.2:9"), []byte("x"))
	}
	if h.Stats().ARPQueueDrops != 2 || sent.Len() != 1 {
		t.Errorf("queue drops %d, frames sent %d; want 2 and 1 ARP request", h.Stats().ARPQueueDrops, sent.Len())
	}
}

func TestBadIface(t *testing.T) {
	h := stack.New(stack.Options{})
	if _, err := h.AddIface("eth0", header.MAC{1}, netip.MustParsePrefix("10.0.0.1/24"), link.Discard); err == nil {
		t.Error("multicast MAC accepted")
	}
	if _, err := h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("::1/64"), link.Discard); err == nil {
		t.Error("IPv6 address accepted")
	}
}

// FuzzInput feeds arbitrary frames to a host: it must never panic, and
// whatever it cannot use is counted.
func FuzzInput(f *testing.F) {
	// Seeds: every frame of an ARP exchange, pings, a datagram and a port
	// unreachable, and a TCP connection to a's port 80 carrying data both
	// ways and closed with FINs.
	e, l, a, b := twoHostsLink(f)
	l.capture = func(frame []byte) { f.Add(append([]byte(nil), frame...)) }
	_, _ = a.Ping(netip.MustParseAddr("10.0.0.2"), 1, 1, 8, func(stack.PingResult) {})
	c, _ := b.ListenUDP(0)
	_ = c.SendTo(netip.MustParseAddrPort("10.0.0.1:7"), []byte("x"))
	_, _ = a.ListenTCPStream(80, func(s *stack.TCPStream) { s.OnData = func(p []byte) { _ = s.Write(p) } })
	if s, err := b.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.1:80")); err == nil {
		_ = s.Write(make([]byte, 2000))
		s.Close()
	}
	e.Advance(time.Minute)
	f.Add([]byte{})
	f.Add(make([]byte, 60))
	f.Fuzz(func(t *testing.T, frame []byte) {
		e := clock.NewManual()
		h := stack.New(stack.Options{Clock: e})
		_, _ = h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/24"), link.Discard)
		_, _ = h.ListenUDP(53)
		_, _ = h.ListenTCPStream(80, func(s *stack.TCPStream) { s.OnData = func(p []byte) { _ = s.Write(p) } })
		h.Input(0, frame)
		e.Advance(10 * time.Second)
	})
}

func connect(t *testing.T, e *clock.Manual, h *stack.Host, to string) string {
	t.Helper()
	result := ""
	cancel, err := h.ConnectTCP(netip.MustParseAddrPort(to), func(r string) { result = r })
	if err != nil {
		t.Fatal(err)
	}
	e.AdvanceUntil(func() bool { return result != "" }, 10*time.Second)
	if result == "" {
		cancel()
	}
	return result
}

func TestTCPHandshake(t *testing.T) {
	e, a, b := twoHosts(t)
	l, err := b.ListenTCP(80)
	if err != nil {
		t.Fatal(err)
	}
	if r := connect(t, e, a, "10.0.0.2:80"); r != stack.TCPOpen {
		t.Errorf("connect to a listener: %q", r)
	}
	e.Advance(time.Second)
	if len(l.Accepted) != 1 || l.Accepted[0].Addr().String() != "10.0.0.1" {
		t.Errorf("accepted %v", l.Accepted)
	}
	if r := connect(t, e, a, "10.0.0.2:81"); r != stack.TCPRefused {
		t.Errorf("connect to a closed port: %q", r)
	}
	if r := connect(t, e, a, "10.0.0.9:80"); r != stack.TCPUnreach {
		t.Errorf("connect to nobody: %q", r)
	}
	if _, err := b.ListenTCP(80); err == nil {
		t.Error("a second listener on tcp/80 was accepted")
	}
}

// FuzzDNSAnswer: whatever comes back from the nameserver's port to a
// pending query, the stub must match it or drop it, never panic.
func FuzzDNSAnswer(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("web.", dns.TypeA)
	q.Id = 1
	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: "web.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 600}, A: net.IP{10, 0, 0, 9}})
	good, _ := r.Pack()
	f.Add(good)
	f.Add(good[:12])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, answer []byte) {
		e, a, b := twoHosts(t)
		srv, err := b.ListenUDP(53)
		if err != nil {
			t.Fatal(err)
		}
		srv.OnRecv = func(src, _ netip.AddrPort, _ []byte) { _ = srv.SendTo(src, answer) }
		calls := 0
		if _, err := a.Query(netip.MustParseAddr("10.0.0.2"), "web", dns.TypeA, func(m *dns.Msg, err error) {
			calls++
			if err == nil && (m == nil || m.Id != 1 || len(m.Question) != 1) {
				t.Errorf("matched an answer that does not match: %v", m)
			}
		}); err != nil {
			t.Fatal(err)
		}
		e.Advance(5 * time.Second)
		if calls > 1 {
			t.Errorf("done called %d times", calls)
		}
	})
}
