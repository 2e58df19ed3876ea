package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
)

// BenchmarkARPFlood: one ping from a new spoofed on-link source into a host
// whose neighbour table is full of entries too young to evict: the cost of
// a refusal, which must not grow with the table.
func BenchmarkARPFlood(b *testing.B) {
	f := newFloodHost(b)
	for n := range stack.MaxARPEntries {
		f.h.Input(0, whoHasFrom(n))
	}
	frames := make([][]byte, 4096)
	for i := range frames {
		frames[i] = echoFrom(stack.MaxARPEntries + i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.h.Input(0, frames[i%len(frames)])
	}
	if f.h.ARPEntries() > stack.MaxARPEntries {
		b.Fatalf("%d entries", f.h.ARPEntries())
	}
}

// quietPair joins a (10.0.0.1) and b (10.0.0.2) by a 1 ms wire, without
// traces or captures.
func quietPair(t testing.TB) (*clock.Manual, *stack.Host, *stack.Host) {
	e := clock.NewManual()
	a := stack.New(stack.Options{Name: "a", Clock: e})
	b := stack.New(stack.Options{Name: "b", Clock: e})
	wire := func(to *stack.Host) link.Sender {
		return link.Func(func(frame []byte) error {
			cp := append([]byte(nil), frame...)
			e.AfterFunc(time.Millisecond, func() { to.Input(0, cp) })
			return nil
		})
	}
	if _, err := a.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/24"), wire(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 2}, netip.MustParsePrefix("10.0.0.2/24"), wire(a)); err != nil {
		t.Fatal(err)
	}
	return e, a, b
}

// BenchmarkTCPStream: 64 KiB from a client to a server over the mem wire
// (1 ms each way), per operation: the cost of segmenting, acknowledging
// and delivering, in virtual time.
func BenchmarkTCPStream(b *testing.B) {
	e, a, bh := quietPair(b)
	got := 0
	if _, err := bh.ListenTCPStream(9, func(c *stack.TCPStream) { c.OnData = func(d []byte) { got += len(d) } }); err != nil {
		b.Fatal(err)
	}
	c, err := a.ConnectTCPStream(netip.MustParseAddrPort("10.0.0.2:9"))
	if err != nil {
		b.Fatal(err)
	}
	e.Advance(10 * time.Millisecond)
	chunk := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		want := got + len(chunk)
		if err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
		e.AdvanceUntil(func() bool { return got == want }, time.Minute)
		if got != want {
			b.Fatalf("delivered %d, want %d", got, want)
		}
	}
}
