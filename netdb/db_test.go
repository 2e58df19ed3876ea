package netdb

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
)

// converge builds a cluster of n hosts with one peer each on ov and
// runs it until every host has every peer.
func converge(t *testing.T, n int, seed uint64) (*lab, time.Duration) {
	t.Helper()
	l := newLab(t, n, seed)
	l.joinAll("ov", 1)
	d := l.until("converged", func() bool { return l.converged("ov", n) }, time.Minute)
	return l, d
}

func TestConverges(t *testing.T) {
	l, d := converge(t, 3, 1)
	// Exact instants on this seed: host1 is the seed; host2 hears of host3
	// in host1's first membership gossip; host3's own first table round
	// reaches host2 last.
	if d != 314529056*time.Nanosecond {
		t.Errorf("converged after %v, want 314.529056ms (the same seed gives the same instants)\n%s", d, l.narration(50))
	}
	want := "host2 learned c3 10.0.3.4 02:42:0a:00:03:04 on ov at VTEP 192.168.56.13 (gossip from host3, round 2)"
	ev := l.find("host2", trace.OpPeerAdded)
	if len(ev) != 2 || trace.Narrate(ev[1]) != want || at(ev[1]) != d {
		t.Fatalf("host2's peers learned = %v, want the last %q at %v", ev, want, d)
	}
	// OnChange saw the same, with the sender and its round.
	c := l.changes["host2"][1]
	if c.Op != OpCreate || c.Entry.Key != "c3" || c.Entry.Owner != "host3" || c.From != "host3" || c.Round != 2 || c.Reason != "gossip" {
		t.Errorf("host2's second change = %+v, want create c3 of host3, gossip from host3 round 2", c)
	}
	for _, db := range l.dbs {
		ms := db.Members()
		if len(ms) != 3 || slices.ContainsFunc(ms, func(m Member) bool { return m.State != StateAlive }) {
			t.Errorf("%s: members %v, want 3 alive", db.Name(), ms)
		}
		es := db.Entries("ov", PeerTable)
		if !slices.IsSortedFunc(es, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) }) {
			t.Errorf("%s: entries not sorted by key: %v", db.Name(), es)
		}
	}
}

// TestSameSeedSameEvents: a run is a function of its seed: the same
// events at the same instants, the same changes in the same order.
func TestSameSeedSameEvents(t *testing.T) {
	run := func(seed uint64) string {
		l, _ := converge(t, 4, seed)
		l.db(4).Stop()
		l.until("host4 forgotten", func() bool { return l.converged("ov", 3) }, time.Minute)
		var b strings.Builder
		b.WriteString(l.narration(len(l.events)))
		for _, db := range l.dbs {
			for _, c := range l.changes[db.Name()] {
				fmt.Fprintf(&b, "%s %v %s %s %d %s\n", db.Name(), c.Op, c.Entry.Key, c.From, c.Round, c.Reason)
			}
		}
		return b.String()
	}
	a, b := run(7), run(7)
	if a != b {
		t.Errorf("two runs of seed 7 differ:\n%s\n---\n%s", a, b)
	}
	if c := run(8); c == a {
		t.Errorf("seeds 7 and 8 gave the same run; the seed is not used")
	}
}

// TestCrash: a member stopped without a word is probed, suspected,
// declared dead SuspicionMult × ProbeInterval later (4 s for 3 members),
// and its entries go at that instant.
func TestCrash(t *testing.T) {
	l, _ := converge(t, 3, 1)
	crash := l.clk.Elapsed()
	l.db(3).Stop()
	l.until("host3's peer forgotten", func() bool { return l.converged("ov", 2) }, time.Minute)
	detected := 0
	for _, h := range []string{"host1", "host2"} {
		var dead, removed []trace.Event
		for _, e := range l.find(h, trace.OpMemberDead) {
			if e.Member == "host3" {
				dead = append(dead, e)
			}
		}
		removed = l.find(h, trace.OpPeerRemoved)
		if len(dead) != 1 || len(removed) != 1 {
			t.Fatalf("%s: dead %v, removed %v, want one each\n%s", h, dead, removed, l.narration(30))
		}
		if at(removed[0]) != at(dead[0]) || removed[0].Container != "c3" || removed[0].Reason != "host3 is dead" {
			t.Errorf("%s: %q at %v, want c3 forgotten at %v, when host3 was declared dead", h, trace.Narrate(removed[0]), at(removed[0]), at(dead[0]))
		}
		if dead[0].Reason != "suspect for 4s" {
			continue // it heard from the other
		}
		detected++
		var susp []trace.Event
		for _, e := range l.find(h, trace.OpMemberSuspect) {
			if e.Member == "host3" {
				susp = append(susp, e)
			}
		}
		if len(susp) != 1 || at(dead[0])-at(susp[0]) != 4*time.Second {
			t.Errorf("%s: suspect %v, dead at %v: want dead exactly 4s after suspect", h, susp, at(dead[0]))
		}
		// Probed within three probe intervals (a shuffled round robin of
		// two), then the probe timeout.
		if s := at(susp[0]) - crash; s > 3*time.Second+500*time.Millisecond {
			t.Errorf("%s: suspected host3 %v after the crash, want at most 3.5s", h, s)
		}
	}
	if detected == 0 {
		t.Errorf("nobody detected host3's death itself\n%s", l.narration(30))
	}
	if got := l.changes["host1"][len(l.changes["host1"])-1]; got.Op != OpDelete || got.Entry.Key != "c3" || got.Reason != "host3 is dead" {
		t.Errorf("host1's last change = %+v, want c3 deleted: host3 is dead", got)
	}
}

// TestLeave: a graceful leave reaches the others in one hop: they drop its
// entries the instant the word arrives.
func TestLeave(t *testing.T) {
	l, _ := converge(t, 3, 2)
	left := l.clk.Elapsed()
	l.db(3).Leave()
	l.until("host3 forgotten", func() bool { return l.converged("ov", 2) }, time.Minute)
	for _, h := range []string{"host1", "host2"} {
		ls, rm := l.find(h, trace.OpMemberLeft), l.find(h, trace.OpPeerRemoved)
		if len(ls) != 1 || len(rm) != 1 || at(ls[0]) != left+l.latency || at(rm[0]) != left+l.latency {
			t.Fatalf("%s: left %v, removed %v, want both at %v", h, ls, rm, left+l.latency)
		}
		if want := "host3 left the cluster"; rm[0].Reason != want {
			t.Errorf("%s: removed because %q, want %q", h, rm[0].Reason, want)
		}
	}
	if ms := l.db(1).Members(); ms[2].State != StateLeft {
		t.Errorf("host1's members = %v, want host3 left", ms)
	}
}

// TestPartitionHeals: two halves declare each other dead and forget each
// other's entries; when the cable is back, the dead are asked to join
// again, refute, and their entries return through bulk sync.
func TestPartitionHeals(t *testing.T) {
	l, _ := converge(t, 4, 3)
	l.group["host3"], l.group["host4"] = 1, 1
	l.until("halves apart", func() bool { return l.converged("ov", 2) }, time.Minute)
	for _, db := range l.dbs {
		n := 0
		for _, m := range db.Members() {
			if m.State == StateDead {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%s: %d dead members, want 2: %v", db.Name(), n, db.Members())
		}
	}
	heal := l.clk.Elapsed()
	clear(l.group)
	allAlive := func() bool {
		for _, db := range l.dbs {
			for _, m := range db.Members() {
				if m.State != StateAlive {
					return false
				}
			}
		}
		return true
	}
	d := l.until("healed", func() bool { return allAlive() && l.converged("ov", 4) }, time.Minute)
	if d > 5*time.Second {
		t.Errorf("healed %v after the partition ended, want within 5s (reconnects every 1s)", d)
	}
	back := 0
	for _, e := range l.events {
		if e.Op == trace.OpMemberJoined && strings.HasPrefix(e.Reason, "it came back") && at(e) >= heal {
			back++
		}
	}
	if back == 0 {
		t.Errorf("no member came back\n%s", l.narration(60))
	}
	if n := len(l.find("host1", trace.OpBulkSync)); n == 0 {
		t.Errorf("host1 did not bulk-sync after the partition")
	}
}

// TestTombstones: a delete leaves a tombstone for the reap interval on
// every member (the owner's from its delete, the others' for the time the
// delete said was left), and an older create cannot bring the entry back.
func TestTombstones(t *testing.T) {
	l := newLab(t, 2, 4)
	l.timing.Reap = time.Minute
	l.dbs, l.byAddr = nil, map[netip.AddrPort]*DB{}
	l.add(1)
	l.add(2)
	l.joinAll("ov", 1)
	l.until("converged", func() bool { return l.converged("ov", 2) }, time.Minute)
	del := l.clk.Elapsed()
	if err := l.db(1).Delete("ov", PeerTable, "c1"); err != nil {
		t.Fatal(err)
	}
	l.until("deleted", func() bool { return len(l.db(2).Entries("ov", PeerTable)) == 1 }, time.Minute)
	heard := l.clk.Elapsed()
	c := l.changes["host2"][len(l.changes["host2"])-1]
	if c.Op != OpDelete || c.Entry.Key != "c1" || c.From != "host1" || c.Round == 0 || !strings.HasPrefix(c.Reason, "host1 deleted it (gossip from host1, round ") {
		t.Errorf("host2's last change = %+v, want c1 deleted by host1's gossip", c)
	}
	rm := l.find("host2", trace.OpPeerRemoved)
	if len(rm) != 1 || !strings.HasPrefix(trace.Narrate(rm[0]), "host2 forgot c1 10.0.1.4 on ov at VTEP 192.168.56.11: host1 deleted it") {
		t.Errorf("host2's peers removed = %v", rm)
	}
	for _, db := range l.dbs {
		if n := db.Store().Tombstones(); n != 1 {
			t.Errorf("%s: %d tombstones, want 1", db.Name(), n)
		}
	}
	// An older create of c1 (Lamport 1) arrives late: stale.
	old := encodeGossip("host1", 1, [][]byte{appendTable(nil, tableEvent{Op: OpCreate, Network: "ov", Table: PeerTable, Key: "c1", Owner: "host1", Lamport: 1, Value: mustPeer(t, 1, "c1")})})
	stale := l.db(2).Stats().Ignored[IgnoredStale]
	l.db(2).Input(hostAddr(1), old)
	if got := l.db(2).Stats().Ignored[IgnoredStale]; got != stale+1 || len(l.db(2).Entries("ov", PeerTable)) != 1 {
		t.Errorf("a late old create: stale %d -> %d, entries %v; want it ignored as stale", stale, got, l.db(2).Entries("ov", PeerTable))
	}
	for i, want := range []time.Duration{del + time.Minute, heard + time.Minute} {
		db := l.db(i + 1)
		l.until(db.Name()+"'s tombstone reaped", func() bool { return db.Store().Tombstones() == 0 }, 2*time.Minute)
		if got := l.clk.Elapsed(); got != want {
			t.Errorf("%s: tombstone reaped at %v, want %v", db.Name(), got, want)
		}
	}
}

func mustPeer(t testing.TB, host int, name string) []byte {
	v, err := peerRecord(host, name).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLamport: an event replaces an entry when its Lamport time is later,
// or equal with a greater owner name; the same or an older one is stale.
func TestLamport(t *testing.T) {
	l, _ := converge(t, 3, 5)
	// Take c1's tombstone on host2 as the base, so that any owner may
	// write it.
	if err := l.db(1).Delete("ov", PeerTable, "c1"); err != nil {
		t.Fatal(err)
	}
	l.until("deleted", func() bool { return len(l.db(2).Entries("ov", PeerTable)) == 2 }, time.Minute)
	base := l.db(1).store.entries[entryKey{"ov", PeerTable, "c1"}].lamport
	send := func(from int, owner string, lamport uint64) {
		b := appendTable(nil, tableEvent{Op: OpCreate, Network: "ov", Table: PeerTable, Key: "c1", Owner: owner, Lamport: lamport, Value: mustPeer(t, from, "c1")})
		l.db(2).Input(hostAddr(from), encodeGossip(hostName(from), 50, [][]byte{b}))
	}
	owner := func() (string, uint64) {
		e := l.db(2).store.entries[entryKey{"ov", PeerTable, "c1"}]
		return e.owner, e.lamport
	}
	for _, c := range []struct {
		name      string
		from      int
		owner     string
		lamport   uint64
		wantOwner string
		wantL     uint64
	}{
		{"older", 1, "host1", base - 1, "host1", base},
		{"same time, smaller owner", 1, "host1", base, "host1", base},
		{"same time, greater owner", 3, "host3", base, "host3", base},
		{"later", 3, "host3", base + 5, "host3", base + 5},
		{"same again", 3, "host3", base + 5, "host3", base + 5},
		{"later from the first owner, while host3 owns it", 1, "host1", base + 9, "host3", base + 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			send(c.from, c.owner, c.lamport)
			if o, lt := owner(); o != c.wantOwner || lt != c.wantL {
				t.Errorf("c1 on host2 after %s@%d = %s@%d, want %s@%d", c.owner, c.lamport, o, lt, c.wantOwner, c.wantL)
			}
		})
	}
	// The table clock witnessed the latest time: host2's next write is later.
	if err := l.db(2).Put("ov", EndpointTable, "c2", mustEndpoint(t, "c2")); err != nil {
		t.Fatal(err)
	}
	if e := l.db(2).Entries("ov", EndpointTable); len(e) != 1 || e[0].Lamport <= base+9 {
		t.Errorf("host2's next write at Lamport %v, want after %d", e, base+9)
	}
}

func mustEndpoint(t testing.TB, name string) []byte {
	v, err := EndpointRecord{Container: name, IP: netip.MustParseAddr("10.0.0.9"), Aliases: []string{"web", "db"}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBounds: writes that would not fit a datagram are refused; a bulk
// sync of many entries is split, every datagram within MaxPacket (the lab
// checks every one).
func TestBounds(t *testing.T) {
	l := newLab(t, 2, 6)
	db := l.db(1)
	db.Join(nil)
	long := strings.Repeat("n", MaxName)
	for _, nw := range []string{"ov", long} {
		if err := db.JoinNetwork(nw); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name       string
		nw, tb, k  string
		value      []byte
		wantSubstr string
	}{
		{"long key", "ov", "t", strings.Repeat("k", MaxKey+1), nil, "key"},
		{"empty key", "ov", "t", "", nil, "key"},
		{"long value", "ov", "t", "k", make([]byte, MaxValue+1), "value"},
		{"too big together", long, strings.Repeat("t", MaxName), strings.Repeat("k", MaxKey), make([]byte, MaxValue), "does not fit"},
		{"control byte", "ov", "t", "a\nb", nil, "control"},
		{"not in network", "other", "t", "k", nil, "not in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := db.Put(c.nw, c.tb, c.k, c.value); err == nil || !strings.Contains(err.Error(), c.wantSubstr) {
				t.Errorf("Put(%q, %q, %d-byte key, %d bytes) = %v, want an error about %s", c.nw, c.tb, len(c.k), len(c.value), err, c.wantSubstr)
			}
		})
	}
	const n = 150
	for i := range n {
		l.putPeer(1, "ov", fmt.Sprintf("container-%03d", i))
	}
	l.db(2).Join([]netip.AddrPort{hostAddr(1)})
	l.until("host2 in the cluster", func() bool { return len(l.db(2).Members()) == 2 }, time.Minute)
	if err := l.db(2).JoinNetwork("ov"); err != nil {
		t.Fatal(err)
	}
	l.until("bulk sync", func() bool { return len(l.db(2).Entries("ov", PeerTable)) == n }, time.Second)
	parts := 0
	for _, e := range l.find("host2", trace.OpBulkSync) {
		if strings.HasPrefix(e.Reason, "received, part") {
			parts++
		}
	}
	if parts < 2 {
		t.Errorf("host2 received the bulk sync of %d entries in %d parts, want several", n, parts)
	}
}

// TestRejections: every kind of bad input is counted under its reason,
// traced, and the DB goes on.
func TestRejections(t *testing.T) {
	l, _ := converge(t, 3, 9)
	l.accept = func(e Entry) string {
		var r PeerRecord
		if e.Table == PeerTable && r.Unmarshal(e.Value) == nil && r.VTEP != e.OwnerAddr {
			return fmt.Sprintf("VTEP %s of %s is not %s's address %s", r.VTEP, e.Key, e.Owner, e.OwnerAddr)
		}
		return ""
	}
	table := func(owner, key string, value []byte) []byte {
		return encodeGossip(owner, 7, [][]byte{appendTable(nil, tableEvent{Op: OpCreate, Network: "ov", Table: PeerTable, Key: key, Owner: owner, Lamport: 1000, Value: value})})
	}
	bad := append(encodePing(1, "host3", "host2"), 0)
	for _, c := range []struct {
		name   string
		src    int
		msg    []byte
		reason string
		why    string // in the narration
	}{
		{"truncated", 3, []byte{Version, typeGossip, 5, 'h'}, "malformed: truncated", "refused gossip from host3 (192.168.56.13): malformed: truncated"},
		{"bad version", 3, []byte{9, typePing}, "malformed: bad version", "bad version 9"},
		{"unknown type", 3, []byte{Version, 99}, "malformed: unknown message type", "unknown message type 99"},
		{"trailing bytes", 3, bad, "malformed: trailing bytes", "trailing bytes"},
		{"control byte in a name", 3, encodePing(1, "ho\x00st3", "host2"), "malformed: bad name", "control byte"},
		{"gossip inside gossip", 3, encodeGossip("host3", 1, [][]byte{encodePing(1, "host3", "host2")[1:]}), "malformed: unexpected part", "unexpected part"},
		{"too large", 3, make([]byte, MaxPacket+1), ReasonTooLarge, "a datagram of 1401 bytes"},
		{"impostor", 3, encodePing(1, "host1", "host2"), ReasonImpostor, "says it is host1, whose address is 192.168.56.11:7946"},
		{"probe for another", 3, encodePing(1, "host3", "host9"), ReasonUnexpected, "a probe for host9 reached host2"},
		{"claims another's container", 3, table("host3", "c1", mustPeer(t, 3, "c1")), ReasonOwned, "refused gossip from host3 (192.168.56.13): claims c1, which host1 owns"},
		{"VTEP not its owner's", 3, table("host3", "c9", mustPeer(t, 1, "c9")), ReasonRefused, "VTEP 192.168.56.11 of c9 is not host3's address 192.168.56.13"},
		{"bad peer record", 3, table("host3", "c8", []byte{1, 2, 3}), ReasonBadRecord, "host3's overlay_peer_table entry c8 does not decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := l.db(2).Stats().Rejected[c.reason]
			n := len(l.events)
			l.db(2).Input(hostAddr(c.src), c.msg)
			if got := l.db(2).Stats().Rejected[c.reason]; got != before+1 {
				t.Errorf("Rejected[%q] = %d, want %d", c.reason, got, before+1)
			}
			var said []string
			for _, e := range l.events[n:] {
				if e.Op == trace.OpGossipRejected {
					said = append(said, trace.Narrate(e))
				}
			}
			if len(said) != 1 || !strings.Contains(said[0], c.why) {
				t.Errorf("narrated %q, want one rejection saying %q", said, c.why)
			}
		})
	}
	// The cluster goes on: a new entry still spreads, and nothing bad
	// was taken.
	l.putPeer(3, "ov", "c3-new")
	l.until("still gossiping", func() bool { return l.converged("ov", 4) }, time.Minute)
	for _, e := range l.db(2).Entries("ov", PeerTable) {
		if e.Key == "c9" || e.Key == "c8" || e.Key == "c1" && e.Owner != "host1" {
			t.Errorf("host2 took %+v", e)
		}
	}
	if s := l.db(1).Stats(); s.Sent == 0 || s.Received == 0 || s.Rounds == 0 || s.Probes == 0 {
		t.Errorf("host1's stats = %+v, want traffic counted", s)
	}
}

// TestNetworkScope: only members of a network get its table events; one
// that leaves it drops the others' entries and the others drop its own.
func TestNetworkScope(t *testing.T) {
	l, _ := converge(t, 3, 10)
	if err := l.db(1).JoinNetwork("blue"); err != nil {
		t.Fatal(err)
	}
	if err := l.db(2).JoinNetwork("blue"); err != nil {
		t.Fatal(err)
	}
	l.putPeer(1, "blue", "b1")
	l.until("b1 on host2", func() bool { return len(l.db(2).Entries("blue", PeerTable)) == 1 }, time.Minute)
	l.clk.Advance(10 * time.Second)
	if e := l.db(3).Entries("blue", PeerTable); len(e) != 0 {
		t.Errorf("host3, not in blue, holds %v", e)
	}
	if err := l.db(1).LeaveNetwork("ov"); err != nil {
		t.Fatal(err)
	}
	if e := l.db(1).Entries("ov", PeerTable); len(e) != 0 {
		t.Errorf("host1 left ov but holds %v", e)
	}
	l.until("host1 gone from ov", func() bool {
		return len(l.db(2).Entries("ov", PeerTable)) == 2 && len(l.db(3).Entries("ov", PeerTable)) == 2
	}, time.Minute)
	rm := l.find("host2", trace.OpPeerRemoved)
	if len(rm) != 1 || rm[0].Reason != "host1 left network ov" {
		t.Errorf("host2 removed %v, want c1: host1 left network ov", rm)
	}
	if e := l.db(2).Entries("blue", PeerTable); len(e) != 1 {
		t.Errorf("host2's blue entries = %v, want b1 still", e)
	}
}

func TestRecords(t *testing.T) {
	p := peerRecord(2, "web")
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var q PeerRecord
	if err := q.Unmarshal(b); err != nil || q != p {
		t.Errorf("PeerRecord round trip = %+v, %v; want %+v", q, err, p)
	}
	e := EndpointRecord{Container: "web", IP: netip.MustParseAddr("10.0.0.3"), Aliases: []string{"www", "front"}}
	if b, err = e.Marshal(); err != nil {
		t.Fatal(err)
	}
	var f EndpointRecord
	if err := f.Unmarshal(b); err != nil || f.Container != e.Container || f.IP != e.IP || !slices.Equal(f.Aliases, e.Aliases) {
		t.Errorf("EndpointRecord round trip = %+v, %v; want %+v", f, err, e)
	}
	for _, c := range []struct {
		name string
		r    interface{ Marshal() ([]byte, error) }
	}{
		{"peer without name", PeerRecord{IP: p.IP, VTEP: p.VTEP}},
		{"peer without VTEP", PeerRecord{Container: "x", IP: p.IP}},
		{"endpoint without IP", EndpointRecord{Container: "x"}},
		{"endpoint with an empty alias", EndpointRecord{Container: "x", IP: p.IP, Aliases: []string{""}}},
	} {
		if _, err := c.r.Marshal(); err == nil {
			t.Errorf("%s: Marshal succeeded, want an error", c.name)
		}
	}
}
