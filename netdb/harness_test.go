package netdb

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
)

// lab is a cluster of DBs on one manual clock, over a fake network that
// delivers each datagram after a fixed latency unless the two ends are
// partitioned.
type lab struct {
	t       testing.TB
	clk     *clock.Manual
	latency time.Duration
	seed    uint64
	dbs     []*DB
	byAddr  map[netip.AddrPort]*DB
	group   map[string]int // partition group per member; all 0 when whole
	events  []trace.Event
	changes map[string][]Change
	sent    int
	timing  Timing
	accept  func(Entry) string
	quiet   bool // keep no events (the benchmark)
}

func newLab(t testing.TB, n int, seed uint64) *lab {
	l := &lab{t: t, clk: clock.NewManual(), latency: time.Millisecond, seed: seed,
		byAddr: map[netip.AddrPort]*DB{}, group: map[string]int{}, changes: map[string][]Change{}}
	l.clk.Limit = 50_000_000
	for i := range n {
		l.add(i + 1)
	}
	return l
}

func hostName(i int) string { return fmt.Sprintf("host%d", i) }

func hostAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(56 + i/250), byte(10 + i%250)}), 7946)
}

// add makes host i (not yet joined).
func (l *lab) add(i int) *DB {
	name, addr := hostName(i), hostAddr(i)
	db, err := New(Config{
		Name: name, Addr: addr, Clock: l.clk, Rand: rand.New(rand.NewPCG(l.seed, uint64(i))),
		Tracer: trace.Func(func(e trace.Event) {
			if !l.quiet {
				l.events = append(l.events, e)
			}
		}),
		Send:     func(dst netip.AddrPort, msg []byte) error { return l.send(addr, dst, msg) },
		Accept:   func(e Entry) string { return l.acceptFn(e) },
		OnChange: func(c Change) { l.changes[name] = append(l.changes[name], c) },
		Timing:   l.timing,
	})
	if err != nil {
		l.t.Fatal(err)
	}
	l.dbs = append(l.dbs, db)
	l.byAddr[addr] = db
	return db
}

func (l *lab) acceptFn(e Entry) string {
	if l.accept != nil {
		return l.accept(e)
	}
	return ""
}

func (l *lab) send(src, dst netip.AddrPort, msg []byte) error {
	if len(msg) > MaxPacket {
		l.t.Errorf("%s sent a datagram of %d bytes to %s, more than %d", src, len(msg), dst, MaxPacket)
	}
	to := l.byAddr[dst]
	from := l.byAddr[src]
	if to == nil {
		return fmt.Errorf("no route to %s", dst)
	}
	l.sent++
	if l.group[from.name] != l.group[to.name] {
		return nil // lost in the partition
	}
	b := append([]byte(nil), msg...)
	l.clk.AfterFunc(l.latency, func() { to.Input(src, b) })
	return nil
}

func (l *lab) db(i int) *DB { return l.dbs[i-1] }

// joinAll starts every DB with host1 as the seed, joins network nw and
// puts each host's peer record for container c<i>.
func (l *lab) joinAll(nw string, perHost int) {
	for i, db := range l.dbs {
		db.Join([]netip.AddrPort{hostAddr(1)})
		if err := db.JoinNetwork(nw); err != nil {
			l.t.Fatal(err)
		}
		for j := range perHost {
			l.putPeer(i+1, nw, container(i+1, j))
		}
	}
}

func container(host, j int) string {
	if j == 0 {
		return fmt.Sprintf("c%d", host)
	}
	return fmt.Sprintf("c%d-%d", host, j)
}

func peerRecord(host int, name string) PeerRecord {
	ip := netip.AddrFrom4([4]byte{10, 0, byte(host), byte(2 + len(name))})
	return PeerRecord{Container: name, IP: ip, MAC: header.MAC{0x02, 0x42, 10, 0, byte(host), byte(2 + len(name))}, VTEP: hostAddr(host).Addr()}
}

func (l *lab) putPeer(host int, nw, name string) {
	v, err := peerRecord(host, name).Marshal()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := l.db(host).Put(nw, PeerTable, name, v); err != nil {
		l.t.Fatal(err)
	}
}

// converged reports whether every running DB holds want entries of the
// peer table of nw.
func (l *lab) converged(nw string, want int) bool {
	for _, db := range l.dbs {
		if !db.stopped && len(db.Entries(nw, PeerTable)) != want {
			return false
		}
	}
	return true
}

// until advances the clock until cond holds, at most d, and fails the
// test if it does not.
func (l *lab) until(what string, cond func() bool, d time.Duration) time.Duration {
	l.t.Helper()
	start := l.clk.Elapsed()
	if !l.clk.AdvanceUntil(cond, d) {
		l.t.Fatalf("%s: not after %v\n%s", what, d, l.narration(40))
	}
	return l.clk.Elapsed() - start
}

// narration returns the last n events, narrated with their instants.
func (l *lab) narration(n int) string {
	evs := l.events
	if len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%10v %s\n", e.Time.Sub(clock.Epoch), trace.Narrate(e))
	}
	return b.String()
}

// find returns the events of node with op, in order.
func (l *lab) find(node string, op trace.Op) []trace.Event {
	var out []trace.Event
	for _, e := range l.events {
		if e.Node == node && e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

func at(e trace.Event) time.Duration { return e.Time.Sub(clock.Epoch) }
