package stack_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/stack"
)

// TestListenUDPAddr: a socket bound to 127.0.0.11:53 gets what is sent
// there, ahead of one bound to port 53 on every address, which gets the
// rest; without that one, another address's port 53 is unreachable. A
// query over loopback comes from 127.0.0.1, as Linux's local route says.
func TestListenUDPAddr(t *testing.T) {
	e := clock.NewManual()
	h := stack.New(stack.Options{Clock: e})
	at, err := h.ListenUDPAddr(netip.MustParseAddr("127.0.0.11"), 53)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ListenUDPAddr(netip.MustParseAddr("127.0.0.11"), 53); !errors.Is(err, stack.ErrPortInUse) {
		t.Errorf("a second socket on 127.0.0.11:53: %v, want ErrPortInUse", err)
	}
	if _, err := h.ListenUDPAddr(netip.MustParseAddr("10.9.9.9"), 53); !errors.Is(err, stack.ErrNotLocal) {
		t.Errorf("a socket on an address the host lacks: %v, want ErrNotLocal", err)
	}
	var gotAt, gotAny []netip.AddrPort
	at.OnRecv = func(src, _ netip.AddrPort, _ []byte) { gotAt = append(gotAt, src) }
	c, err := h.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	var failed error
	c.OnError = func(err error) { failed = err }
	c.SendTo(netip.MustParseAddrPort("127.0.0.12:53"), []byte("x"))
	e.Advance(time.Millisecond)
	if failed == nil {
		t.Errorf("127.0.0.12:53 with only 127.0.0.11:53 bound: no error, want port unreachable")
	}
	any, err := h.ListenUDP(53)
	if err != nil {
		t.Fatalf("port 53 on every address beside 127.0.0.11:53: %v", err)
	}
	any.OnRecv = func(src, _ netip.AddrPort, _ []byte) { gotAny = append(gotAny, src) }
	c.SendTo(netip.MustParseAddrPort("127.0.0.11:53"), []byte("x"))
	c.SendTo(netip.MustParseAddrPort("127.0.0.12:53"), []byte("y"))
	e.Advance(time.Millisecond)
	from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), c.Port())
	if len(gotAt) != 1 || gotAt[0] != from || len(gotAny) != 1 {
		t.Errorf("127.0.0.11:53 got %v, every address's got %v; want one each, from %v", gotAt, gotAny, from)
	}
	at.Close()
	c.SendTo(netip.MustParseAddrPort("127.0.0.11:53"), []byte("z"))
	e.Advance(time.Millisecond)
	if len(gotAny) != 2 {
		t.Errorf("after 127.0.0.11:53 closed, port 53 on every address got %d datagrams, want 2", len(gotAny))
	}
}
