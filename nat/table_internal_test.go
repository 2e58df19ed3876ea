package nat

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"
)

// checkInvariants reports the first way t's structures disagree: the flow
// map, the expiry heap, the early-drop lists, the port sets, the bound and
// the counters.
func checkInvariants(t *Table) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.heap) > t.max {
		return fmt.Errorf("%d flows, bound %d", len(t.heap), t.max)
	}
	tuples := 0
	for i, f := range t.heap {
		if f.hidx != i {
			return fmt.Errorf("heap[%d] has index %d", i, f.hidx)
		}
		if i > 0 && before(f, t.heap[(i-1)/2]) {
			return fmt.Errorf("heap[%d] comes before its parent", i)
		}
		if f.due.After(f.expires) {
			return fmt.Errorf("flow %v filed at %v, after its expiry %v", f.orig, f.due, f.expires)
		}
		if t.flows[f.orig] != f || t.flows[f.reply] != f {
			return fmt.Errorf("flow %v is not entered under both its tuples", f.orig)
		}
		tuples += 2
		if f.orig == f.reply {
			tuples--
		}
		if c := classOf(f); c != f.class {
			return fmt.Errorf("flow %v in class %d, belongs in %d", f.orig, f.class, c)
		}
	}
	if len(t.flows) != tuples {
		return fmt.Errorf("%d tuples entered for %d flows (want %d)", len(t.flows), len(t.heap), tuples)
	}
	listed := 0
	for c := range t.drop {
		for e := t.drop[c].Front(); e != nil; e = e.Next() {
			f := e.Value.(*flow)
			if f.elem != e || f.class != uint8(c) || f.hidx < 0 {
				return fmt.Errorf("list %d is broken at %v", c, f.orig)
			}
			listed++
		}
	}
	open := 0
	want := map[portKey][]uint16{}
	for _, f := range t.heap {
		if f.class == noClass {
			open++
		}
		if f.kind != kindPublished {
			k, p := keyOf(f.reply)
			want[k] = append(want[k], p)
		}
	}
	if listed+open != len(t.heap) {
		return fmt.Errorf("%d flows listed and %d open, of %d", listed, open, len(t.heap))
	}
	if len(want) != len(t.ports) {
		return fmt.Errorf("%d port sets, want %d", len(t.ports), len(want))
	}
	for k, ports := range want {
		s := t.ports[k]
		if s == nil {
			return fmt.Errorf("no port set for %v", k)
		}
		if got := s.list(); !slices.Equal(got, slices.Sorted(slices.Values(ports))) {
			return fmt.Errorf("port set %v holds %v, want %v", k, got, ports)
		}
	}
	st := t.stats
	if st.Created != uint64(len(t.heap))+st.Expired+st.EarlyDropped+st.Closed {
		return fmt.Errorf("stats %+v do not add up to %d flows", st, len(t.heap))
	}
	return nil
}

// list returns the set's ports, ascending.
func (s *portSet) list() []uint16 {
	if s.bits != nil {
		if len(s.small) != 0 {
			return nil // both forms at once: wrong
		}
		return s.bits.list(nil)
	}
	return slices.Sorted(slices.Values(s.small))
}

// raw builds an IPv4 packet with no valid checksum (the table checks
// none): TCP with flags, UDP, or an ICMP echo request (flags 0) or reply.
func raw(proto uint8, src, dst netip.AddrPort, flags uint8) []byte {
	l4 := map[uint8]int{TCP: 20, UDP: 8, ICMP: 8}[proto]
	b := make([]byte, 20+l4)
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	switch proto {
	case TCP:
		binary.BigEndian.PutUint16(b[20:], src.Port())
		binary.BigEndian.PutUint16(b[22:], dst.Port())
		b[32], b[33] = 5<<4, flags
	case UDP:
		binary.BigEndian.PutUint16(b[20:], src.Port())
		binary.BigEndian.PutUint16(b[22:], dst.Port())
	case ICMP:
		b[20] = 8
		if flags != 0 {
			b[20] = 0
		}
		binary.BigEndian.PutUint16(b[24:], src.Port())
	}
	return b
}

var (
	fzHost = netip.MustParseAddr("192.168.56.11")
	fzGw   = netip.MustParseAddr("172.18.0.1")
)

// playOps runs ops, 3 bytes each, through a table of 1+ops[0]%96 flows,
// checking the invariants after every packet, and returns the table.
func playOps(t *testing.T, ops []byte) *Table {
	if len(ops) == 0 {
		return nil
	}
	tb := New(1 + int(ops[0])%96)
	_ = tb.AddPublish(Publish{Proto: TCP, Ext: netip.AddrPortFrom(fzHost, 8080), To: netip.MustParseAddrPort("172.18.0.10:80")})
	_ = tb.AddPublish(Publish{Proto: UDP, Ext: netip.AddrPortFrom(fzHost, 1030), To: netip.MustParseAddrPort("172.18.0.10:53")})
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	flags := [...]uint8{0x02, 0x12, 0x10, 0x04, 0x11, 0x18, 0, 0x02}
	for i := 1; i+3 <= len(ops); i += 3 {
		op, a, c := ops[i], ops[i+1], ops[i+2]
		proto := [...]uint8{TCP, UDP, ICMP, TCP}[op>>2&3]
		container := netip.AddrFrom4([4]byte{172, 18, 0, 2 + a%200})
		outside := netip.AddrFrom4([4]byte{192, 168, 56, 20 + c&3})
		port := uint16(1024 + int(c>>2&7)) // few ports: clashes
		if a&1 == 0 {
			port = 5000
		}
		far := netip.AddrPortFrom(outside, 50+uint16(c>>5))
		fl := flags[op>>4&7]
		switch op & 3 {
		case 0: // from a container
			_, _ = tb.Outbound(raw(proto, netip.AddrPortFrom(container, port), far, fl), fzHost, now)
		case 1: // from outside: a reply, or to a published port
			to := netip.AddrPortFrom(fzHost, port)
			if op&0x80 != 0 {
				to = netip.AddrPortFrom(fzHost, [2]uint16{8080, 1030}[a>>7])
			}
			_, _ = tb.Inbound(raw(proto, far, to, fl), now)
		case 2: // a container to a published port
			_, _ = tb.Hairpin(raw(proto, netip.AddrPortFrom(container, port), netip.AddrPortFrom(fzHost, 8080), fl), fzGw, now)
		case 3: // time passes: up to about 4 minutes
			now = now.Add(time.Duration(a) * time.Duration(c) * 4 * time.Millisecond)
		}
		if err := checkInvariants(tb); err != nil {
			t.Fatalf("after op %d (%#x %#x %#x): %v", i/3, op, a, c, err)
		}
	}
	return tb
}

// FuzzTable feeds the table a sequence of packets and time steps (the
// state carries over from one to the next), checks its structures after
// each, and replays the sequence to check the outcome is the same.
func FuzzTable(f *testing.F) {
	f.Add([]byte{8, 0x00, 1, 4, 0x11, 1, 4, 0x20, 1, 4, 0x03, 100, 100})
	f.Add([]byte{3, 0x00, 0, 0, 0x00, 2, 0, 0x00, 4, 0, 0x00, 6, 0, 0x00, 8, 0})
	f.Add([]byte{95, 0x81, 0, 1, 0x00, 10, 1, 0x32, 10, 1, 0x03, 255, 255, 0x00, 12, 1})
	f.Add([]byte{64, 0x04, 1, 0, 0x05, 1, 0, 0x14, 1, 0, 0x03, 30, 30, 0x04, 1, 0})
	f.Add(bigGroup())
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3*500 {
			return
		}
		a, b := playOps(t, ops), playOps(t, ops)
		if a == nil {
			return
		}
		now := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		if !reflect.DeepEqual(a.Dump(now), b.Dump(now)) || a.Stats() != b.Stats() {
			t.Fatalf("two runs of the same packets differ")
		}
	})
}

// bigGroup is a sequence of 90 flows from different containers from port
// 5000 to one destination: the port set outgrows its list.
func bigGroup() []byte {
	ops := []byte{95}
	for i := range 90 {
		ops = append(ops, 0x00, byte(2*i), 0)
	}
	return append(ops, 0x03, 200, 200, 0x00, 1, 0)
}

func TestBigGroupPlays(t *testing.T) {
	tb := playOps(t, bigGroup())
	if n := len(tb.ports); n != 1 {
		t.Fatalf("%d port sets, want 1", n)
	}
}

// FuzzPortBits checks the port bitmap's lowest-free search against a
// slow reference, and the port set's change of form, over any sequence
// of ports added and removed.
func FuzzPortBits(f *testing.F) {
	f.Add([]byte{0, 4, 0, 0, 255, 255, 1, 4, 0})
	f.Add(slices.Repeat([]byte{0, 4, 1}, 100))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s portSet
		in := map[uint16]bool{}
		var ref [65536]bool
		for i := 0; i+3 <= len(ops); i += 3 {
			p := binary.BigEndian.Uint16(ops[i+1:])
			if ops[i]&1 == 0 && !in[p] {
				s.add(p)
				in[p], ref[p] = true, true
			} else if ops[i]&1 == 1 && in[p] {
				s.del(p)
				delete(in, p)
				ref[p] = false
			}
			asList := s.bits == nil && len(s.small) == s.n && s.n <= smallPorts
			asBits := s.bits != nil && len(s.small) == 0 && s.n > smallPorts/2
			if s.n != len(in) || !asList && !asBits {
				t.Fatalf("set of %d ports (list of %d, bitmap %v), want %d", s.n, len(s.small), s.bits != nil, len(in))
			}
			if want := slices.Sorted(maps.Keys(in)); !slices.Equal(s.list(), want) {
				t.Fatalf("set holds %v, want %v", s.list(), want)
			}
			if s.bits == nil {
				continue
			}
			for _, from := range []uint32{0, 1024, uint32(p), uint32(p) + 1, 65535, 65536} {
				want, wantOK := uint16(0), false
				for q := from; q <= 65535; q++ {
					if !ref[q] {
						want, wantOK = uint16(q), true
						break
					}
				}
				if got, ok := s.bits.next(from); got != want || ok != wantOK {
					t.Fatalf("next(%d) = %d, %v, want %d, %v", from, got, ok, want, wantOK)
				}
			}
		}
	})
}
