package dnsd_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netyard/netyard/dnsd"
)

// TestBurst: a burst of queries on one socket, plain ones (the fast path,
// read and answered in batches) among ones the general path answers
// (EDNS0, PTR, MX, a malformed one), gets every answer, each the bytes
// AnswerBytes gives for it.
// The malformed query gets miekg/dns's FORMERR. On 127.0.0.1 (batches)
// and on 0.0.0.0 (one datagram at a time, answered from the address it
// came to).
func TestBurst(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	v := listen(t, s)
	burst(t, s, v.Addr().String())
	w, err := s.Listen("0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	burst(t, s, netip.AddrPortFrom(loopback, w.Addr().Port()).String())
}

func burst(t *testing.T, s *dnsd.Server, addr string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[uint16][]byte{}
	var sent [][]byte
	for i := range 200 {
		q := new(dns.Msg)
		switch i % 5 {
		case 0, 1, 2:
			q.SetQuestion("me.", dns.TypeA)
		case 3:
			q.SetQuestion("me.lo.", dns.TypeMX)
			q.SetEdns0(1232, false)
		case 4:
			q.SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
		}
		q.Id = uint16(i + 1)
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if want[q.Id], err = s.AnswerBytes(loopback, b); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, b)
	}
	// A name cut short: FORMERR from miekg/dns, RD kept (AnswerBytes's
	// drops it).
	bad := []byte{0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'x'}
	want[0xbeef] = []byte{0xbe, 0xef, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}
	sent = append(sent, bad)
	for _, b := range sent {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for len(want) > 0 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%d answers missing: %v", len(want), err)
		}
		id := uint16(buf[0])<<8 | uint16(buf[1])
		w, ok := want[id]
		if !ok {
			t.Fatalf("an answer to query %d, unasked or twice", id)
		}
		if string(w) != string(buf[:n]) {
			t.Errorf("query %d: answer %x, want %x", id, buf[:n], w)
		}
		delete(want, id)
	}
	if st := s.Stats(); st != (dnsd.Stats{}) {
		t.Errorf("Stats = %+v, want none", st)
	}
}
