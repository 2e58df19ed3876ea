package dnsd_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/leak"
)

// TestMain fails the run when a goroutine (a server's, a client's)
// outlives the tests.
func TestMain(m *testing.M) { os.Exit(leak.Run(m)) }

var loopback = netip.MustParseAddr("127.0.0.1")

// listen serves s on a loopback port over UDP and TCP for the test, with
// the loopback client on network lo.
func listen(t *testing.T, s *dnsd.Server) *dnsd.Service {
	t.Helper()
	leak.Check(t) // first: its check runs after the Close below
	s.Add("lo", "me", loopback)
	v, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return v
}

// holders registers n containers on lo answering to alias, with
// addresses 10.1.x.y.
func holders(s *dnsd.Server, alias string, n int) {
	for i := range n {
		s.Add("lo", fmt.Sprintf("%s%05d", alias, i), netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), alias)
	}
}

// query returns a query for name's A records, with an OPT record of UDP
// size edns when edns is not 0.
// dialTCP connects to a server over TCP, with a deadline of 10 s for the
// whole conversation, closed when the test ends.
func dialTCP(t *testing.T, addr string) *dns.Conn {
	t.Helper()
	co, err := dns.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.Close() })
	_ = co.SetDeadline(time.Now().Add(10 * time.Second))
	return co
}

func query(name string, edns uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	if edns != 0 {
		q.SetEdns0(edns, false)
	}
	return q
}

// exchangeUDP sends q and returns the datagram that answers it, read with
// a buffer large enough for any.
func exchangeUDP(t *testing.T, addr netip.AddrPort, q *dns.Msg) []byte {
	t.Helper()
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(wire); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound on a failure, not a wait
	buf := make([]byte, 1<<16)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// exchangeTCP sends q on a new TCP connection and returns the message
// that answers it, without its length prefix.
func exchangeTCP(t *testing.T, addr netip.AddrPort, q *dns.Msg) []byte {
	t.Helper()
	co := dialTCP(t, addr.String())
	if err := co.WriteMsg(q); err != nil {
		t.Fatal(err)
	}
	// ReadMsg would unpack; the test wants the bytes, and their count.
	var n [2]byte
	if _, err := io.ReadFull(co.Conn, n[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, int(n[0])<<8|int(n[1]))
	if _, err := io.ReadFull(co.Conn, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTruncation: a 2000-byte answer comes back cut to 512 bytes with TC
// over UDP without EDNS, whole over UDP with EDNS 4096 and over TCP; an
// answer over 64 KiB comes back cut with TC over TCP (and UDP with EDNS
// 65535), as many records as fit, never lost.
func TestTruncation(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	holders(s, "big", 105)   // 105 A records: 2016 bytes
	holders(s, "huge", 5000) // 5000: 80 000 bytes compressed
	v := listen(t, s)
	tests := []struct {
		name    string
		tcp     bool
		q       *dns.Msg
		max     int // bytes
		records int // how many, -1 for as many as fit
		tc      bool
	}{
		{"2000 bytes, UDP", false, query("big.", 0), 512, -1, true},
		{"2000 bytes, UDP, EDNS 4096", false, query("big.", 4096), 4096, 105, false},
		{"2000 bytes, UDP, EDNS 600", false, query("big.", 600), 600, -1, true},
		{"2000 bytes, UDP, EDNS 100 (as 512)", false, query("big.", 100), 512, -1, true},
		{"2000 bytes, TCP", true, query("big.", 0), 65535, 105, false},
		{"80 000 bytes, TCP", true, query("huge.", 0), 65535, -1, true},
		{"80 000 bytes, TCP, EDNS", true, query("huge.", 4096), 65535, -1, true},
		{"80 000 bytes, UDP, EDNS 65535", false, query("huge.", 65535), dnsd.MaxUDPSize, -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wire []byte
			if tc.tcp {
				wire = exchangeTCP(t, v.Addr(), tc.q)
			} else {
				wire = exchangeUDP(t, v.Addr(), tc.q)
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatalf("the answer does not unpack: %v", err)
			}
			if len(wire) > tc.max || r.Truncated != tc.tc {
				t.Errorf("answer of %d bytes with TC %v, want at most %d with TC %v", len(wire), r.Truncated, tc.max, tc.tc)
			}
			if tc.records >= 0 && len(r.Answer) != tc.records {
				t.Errorf("%d records, want %d", len(r.Answer), tc.records)
			}
			if tc.records == 105 && len(wire) < 2000 {
				t.Errorf("the whole answer is %d bytes, not the 2000 the test is about", len(wire))
			}
			// As many as fit: one more record would not have.
			if tc.records < 0 && (len(r.Answer) == 0 || len(wire)+16 <= tc.max) {
				t.Errorf("%d records in %d bytes: room for more within %d", len(r.Answer), len(wire), tc.max)
			}
			if (tc.q.IsEdns0() != nil) != (r.IsEdns0() != nil) {
				t.Errorf("OPT in the answer %v, in the query %v", r.IsEdns0() != nil, tc.q.IsEdns0() != nil)
			}
		})
	}
	if st := s.Stats(); st.TruncatedUDP != 4 || st.TruncatedTCP != 2 {
		t.Errorf("Stats() = %+v, want 4 UDP and 2 TCP answers truncated", st)
	}
}

// TestTCPSeveralQueries: one connection carries several queries, one
// after the other and 300 pipelined, each answered in turn (RFC 7766
// §6.2.1).
func TestTCPSeveralQueries(t *testing.T) {
	s := server(dnsd.Options{})
	s.Add("lo", "peer", netip.MustParseAddr("127.0.0.9"))
	v := listen(t, s)
	co := dialTCP(t, v.Addr().String())
	check := func(r *dns.Msg, err error, id uint16) {
		t.Helper()
		if err != nil || r.Id != id || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.9" {
			t.Fatalf("answer %d = %v, %v", id, r, err)
		}
	}
	for id := uint16(1); id <= 3; id++ {
		q := query("peer.", 0)
		q.Id = id
		if err := co.WriteMsg(q); err != nil {
			t.Fatal(err)
		}
		r, err := co.ReadMsg()
		check(r, err, id)
	}
	// More than miekg/dns's default bound of 128 a connection.
	for id := uint16(10); id < 310; id++ {
		q := query("peer.", 0)
		q.Id = id
		if err := co.WriteMsg(q); err != nil {
			t.Fatal(err)
		}
	}
	for id := uint16(10); id < 310; id++ {
		r, err := co.ReadMsg()
		check(r, err, id)
	}
}

// TestTCPIdleTimeout: a connection idle for TCPIdleTimeout after an answer
// is closed by the server.
func TestTCPIdleTimeout(t *testing.T) {
	s := dnsd.New(dnsd.Options{TCPIdleTimeout: 50 * time.Millisecond})
	v := listen(t, s)
	co := dialTCP(t, v.Addr().String())
	if err := co.WriteMsg(query("me.", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := co.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := co.ReadMsg(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("closed after %v idle, want about 50ms", d)
	}
}

// TestTCPConnLimit: beyond MaxTCPConns open connections, a new one is
// closed at once and counted; those open keep being answered.
func TestTCPConnLimit(t *testing.T) {
	s := dnsd.New(dnsd.Options{MaxTCPConns: 2})
	v := listen(t, s)
	var open []*dns.Conn
	for range 2 {
		co := dialTCP(t, v.Addr().String())
		if err := co.WriteMsg(query("me.", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := co.ReadMsg(); err != nil { // accepted and served
			t.Fatal(err)
		}
		open = append(open, co)
	}
	co := dialTCP(t, v.Addr().String())
	_ = co.WriteMsg(query("me.", 0)) // may fail: the server may have closed it
	if r, err := co.ReadMsg(); err == nil {
		t.Fatalf("a third connection was answered: %v", r)
	}
	if n := s.Stats().TCPRefused; n != 1 {
		t.Errorf("TCPRefused = %d, want 1", n)
	}
	for _, co := range open {
		if err := co.WriteMsg(query("me.", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := co.ReadMsg(); err != nil {
			t.Errorf("an open connection is no longer answered: %v", err)
		}
	}
}

// TestListenAddresses: Listen takes what net.ListenPacket takes, and
// refuses an address without a port, a port out of range and a
// port in use.
func TestListenAddresses(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	v := listen(t, s)
	for _, addr := range []string{"localhost:0", ":0"} {
		w, err := s.Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		if w.Addr().Port() == 0 {
			t.Errorf("Listen(%q) answers on %v, port 0", addr, w.Addr())
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	for _, addr := range []string{"localhost", "127.0.0.1:99999", v.Addr().String()} {
		if w, err := s.Listen(addr); err == nil {
			_ = w.Close()
			t.Errorf("Listen(%q) = nil error, want one", addr)
		}
	}
}

// TestEDNS: RFC 6891's rules that do not depend on sizes.
func TestEDNS(t *testing.T) {
	s := server(dnsd.Options{})
	twoOPT := query("containerB.", 4096)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	v1 := query("containerB.", 4096)
	v1.IsEdns0().SetVersion(1)
	status := query("containerB.", 0)
	status.Opcode = dns.OpcodeStatus
	tests := []struct {
		name  string
		q     *dns.Msg
		rcode int
		opt   bool
	}{
		{"EDNS 0", query("containerB.", 4096), dns.RcodeSuccess, true},
		{"no EDNS", query("containerB.", 0), dns.RcodeSuccess, false},
		{"two OPT records: FORMERR (§6.1.1)", twoOPT, dns.RcodeFormatError, true},
		{"version 1: BADVERS (§6.1.3)", v1, dns.RcodeBadVers, true},
		{"opcode STATUS: NOTIMP", status, dns.RcodeNotImplemented, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := dnsd.PackUDP(tc.q, s.Answer(a, tc.q))
			if err != nil {
				t.Fatal(err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tc.rcode || (r.IsEdns0() != nil) != tc.opt {
				t.Errorf("rcode %s, OPT %v; want %s, OPT %v", dns.RcodeToString[r.Rcode], r.IsEdns0() != nil, dns.RcodeToString[tc.rcode], tc.opt)
			}
			if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
				t.Errorf("answer's EDNS version %d, want 0", opt.Version())
			}
		})
	}
}

// TestPackUDPLimit: a path's limit cuts below what the query allows, and
// never below 512 bytes.
func TestPackUDPLimit(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	s.Add("lo", "me", loopback)
	holders(s, "big", 300) // 5700 bytes, 4800 compressed
	tests := []struct {
		edns  uint16
		limit int
		max   int
	}{
		{4096, 1472, 1472},
		{1232, 1472, 1232},
		{0, 1472, 512},
		{4096, 100, 512},
		{4096, 65535, 4096},
	}
	for _, tc := range tests {
		q := query("big.", tc.edns)
		wire, err := dnsd.PackUDPLimit(q, s.Answer(loopback, q), tc.limit)
		r := new(dns.Msg)
		if err != nil || r.Unpack(wire) != nil || len(wire) > tc.max || !r.Truncated || len(wire)+16 <= tc.max {
			t.Errorf("PackUDPLimit(EDNS %d, limit %d) = %d bytes, TC %v, %v; want at most %d, full, with TC", tc.edns, tc.limit, len(wire), r.Truncated, err, tc.max)
		}
	}
}
