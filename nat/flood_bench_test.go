package nat_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/nat"
)

// The flood benchmarks run at the default table size. Their packets are
// templates with ports and addresses patched in place: the table never
// checks a checksum, so they need not be right.

// setEnds writes a TCP or UDP packet's addresses and ports.
func setEnds(b []byte, src, dst netip.AddrPort) {
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[20:], src.Port())
	binary.BigEndian.PutUint16(b[22:], dst.Port())
}

// floodFlow is the i-th of up to 60 000 × 256 distinct flows from
// container towards outside: source ports 2000-61999 kept (no clash), one
// destination port per 60 000.
func floodFlow(from, to netip.Addr, i int) (src, dst netip.AddrPort) {
	return ap(from, uint16(2000+i%60000)), ap(to, uint16(1+i/60000))
}

// fullTable returns a table of nat.DefaultMax flows from container to
// outside: handshakes completed (assured, never dropped early) with
// assured, else SYNs never answered.
func fullTable(b *testing.B, assured bool) *nat.Table {
	tb := nat.New(0)
	syn := pkt(b, nat.TCP, ap(container, 1), ap(outside, 1), "syn")
	synack := pkt(b, nat.TCP, ap(outside, 1), ap(host, 1), "synack")
	ack := pkt(b, nat.TCP, ap(container, 1), ap(outside, 1), "ack")
	buf := make([]byte, len(syn))
	for i := range nat.DefaultMax {
		src, dst := floodFlow(container, outside, i)
		copy(buf, syn)
		setEnds(buf, src, dst)
		if _, err := tb.Outbound(buf, host, t0); err != nil {
			b.Fatalf("flow %d: %v", i, err)
		}
		if !assured {
			continue
		}
		copy(buf, synack)
		setEnds(buf, dst, ap(host, src.Port()))
		if _, err := tb.Inbound(buf, t0); err != nil {
			b.Fatalf("flow %d SYN-ACK: %v", i, err)
		}
		copy(buf, ack)
		setEnds(buf, src, dst)
		if _, err := tb.Outbound(buf, host, t0); err != nil {
			b.Fatalf("flow %d ACK: %v", i, err)
		}
	}
	return tb
}

// benchFlood times a new SYN per iteration against a full table, each of
// another flow, a second after the table filled (nothing has expired).
func benchFlood(b *testing.B, assured bool, want error) {
	tb := fullTable(b, assured)
	attacker := netip.MustParseAddr("172.18.0.66")
	victim := netip.MustParseAddr("192.168.56.66")
	syn := pkt(b, nat.TCP, ap(attacker, 1), ap(victim, 1), "syn")
	buf := make([]byte, len(syn))
	now := t0.Add(time.Second)
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		copy(buf, syn)
		src, dst := floodFlow(attacker, victim, i)
		setEnds(buf, src, dst)
		i++
		if _, err := tb.Outbound(buf, host, now); !errors.Is(err, want) {
			b.Fatalf("SYN %d: %v, want %v", i, err, want)
		}
	}
}

// BenchmarkFloodRefused: every flow of the full table is assured, so a new
// flow finds nothing to drop early and is refused.
func BenchmarkFloodRefused(b *testing.B) { benchFlood(b, true, nat.ErrFull) }

// BenchmarkFloodEarlyDrop: the full table holds only unanswered SYNs, so
// each new flow gets in by dropping the oldest of them.
func BenchmarkFloodEarlyDrop(b *testing.B) { benchFlood(b, false, nil) }

// BenchmarkFreePort20000: 20 000 containers open a flow to the same
// destination from the same source port, so every flow after the first
// needs another port. Reported per flow.
func BenchmarkFreePort20000(b *testing.B) {
	const flows = 20000
	p := pkt(b, nat.UDP, ap(container, 5000), ap(outside, 53), "")
	buf := make([]byte, len(p))
	b.ReportAllocs()
	for b.Loop() {
		tb := nat.New(0)
		for i := range flows {
			copy(buf, p)
			from := netip.AddrFrom4([4]byte{172, 18, byte(i >> 8), byte(i)})
			setEnds(buf, ap(from, 5000), ap(outside, 53))
			if _, err := tb.Outbound(buf, host, t0); err != nil {
				b.Fatalf("flow %d: %v", i, err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*flows), "ns/flow")
}
