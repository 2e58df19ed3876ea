package netdb

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
)

// Timing is the control plane's clockwork. Zero fields take Docker's
// values: memberlist's DefaultLANConfig for membership and gossip, and
// NetworkDB's own constants for bulk sync, reconnection and reaping.
type Timing struct {
	GossipInterval time.Duration // 200 ms: a gossip round (memberlist GossipInterval)
	GossipNodes    int           // 3: members each round's messages go to (GossipNodes; NetworkDB's mRandomNodes(3))
	RetransmitMult int           // 4: a broadcast goes out in RetransmitMult × ceil(log10(n+1)) rounds
	ProbeInterval  time.Duration // 1 s: one member probed per interval
	ProbeTimeout   time.Duration // 500 ms: no ack by then, and it is suspect
	SuspicionMult  int           // 4: suspect for SuspicionMult × max(1, log10(n)) × ProbeInterval, then dead
	// SuspicionMaxTimeoutMult (6) scales the longest suspicion, which
	// independent confirmations shorten towards the shortest.
	SuspicionMaxTimeoutMult int
	PushPullInterval        time.Duration // 30 s: membership state exchanged with one member, and each network's tables bulk-synced with one member
	ReconnectInterval       time.Duration // 1 s: a dead member (or the seeds, before any answer) is asked to join again (NetworkDB retryInterval)
	GossipToTheDeadTime     time.Duration // 30 s: how long a dead member still gets membership gossip
	Reap                    time.Duration // 30 min: a tombstone's life (NetworkDB reapEntryInterval)
	NodeReap                time.Duration // 24 h: a dead member is forgotten (NetworkDB nodeReapInterval)
}

// DefaultTiming returns Docker's timing.
func DefaultTiming() Timing {
	return Timing{
		GossipInterval: 200 * time.Millisecond, GossipNodes: 3, RetransmitMult: 4,
		ProbeInterval: time.Second, ProbeTimeout: 500 * time.Millisecond,
		SuspicionMult: 4, SuspicionMaxTimeoutMult: 6,
		PushPullInterval: 30 * time.Second, ReconnectInterval: time.Second,
		GossipToTheDeadTime: 30 * time.Second, Reap: DefaultReap, NodeReap: 24 * time.Hour,
	}
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	return Timing{
		GossipInterval: cmp.Or(t.GossipInterval, d.GossipInterval), GossipNodes: cmp.Or(t.GossipNodes, d.GossipNodes),
		RetransmitMult: cmp.Or(t.RetransmitMult, d.RetransmitMult),
		ProbeInterval:  cmp.Or(t.ProbeInterval, d.ProbeInterval), ProbeTimeout: cmp.Or(t.ProbeTimeout, d.ProbeTimeout),
		SuspicionMult: cmp.Or(t.SuspicionMult, d.SuspicionMult), SuspicionMaxTimeoutMult: cmp.Or(t.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult),
		PushPullInterval: cmp.Or(t.PushPullInterval, d.PushPullInterval), ReconnectInterval: cmp.Or(t.ReconnectInterval, d.ReconnectInterval),
		GossipToTheDeadTime: cmp.Or(t.GossipToTheDeadTime, d.GossipToTheDeadTime),
		Reap:                cmp.Or(t.Reap, d.Reap), NodeReap: cmp.Or(t.NodeReap, d.NodeReap),
	}
}

// Config configures a DB.
type Config struct {
	Name   string         // this member's name, unique in the cluster (the Docker host's)
	Addr   netip.AddrPort // this member's gossip address (UDP 7946 on the host's underlay address)
	Clock  clock.Clock    // nil: the wall clock
	Rand   *rand.Rand     // the only randomness (required): gossip targets, probe order, timer stagger
	Tracer trace.Tracer   // nil: no events
	// Send sends one datagram of at most MaxPacket bytes (required). The
	// callee may not keep msg after it returns.
	Send     func(dst netip.AddrPort, msg []byte) error
	Accept   func(e Entry) string // see StoreConfig.Accept
	OnChange func(c Change)       // see StoreConfig.OnChange
	Timing   Timing               // zero fields: DefaultTiming
}

// MemberState is what a member is believed to be.
type MemberState uint8

// The member states, as memberlist's.
const (
	StateAlive MemberState = iota
	StateSuspect
	StateDead
	StateLeft
)

// String names the state: "alive", "suspect", "dead", "left".
func (s MemberState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Member is a member of the cluster as this one knows it.
type Member struct {
	Name        string
	Addr        netip.AddrPort
	State       MemberState
	Incarnation uint32
}

// Stats are a DB's counters.
type Stats struct {
	Sent, Received           uint64 // datagrams
	BytesSent, BytesReceived uint64
	Rounds                   uint64 // gossip rounds run
	Probes                   uint64 // pings sent
	PushPulls                uint64 // membership state exchanges started
	BulkSyncs                uint64 // bulk syncs sent (unsolicited or in answer), one per network
	SendErrors               uint64 // datagrams the transport refused (each traced as a drop)
	StoreStats                      // the tables' counters: entries, rejections and ignored events by reason
}

// DB is one Docker host's NetworkDB on netyard's own deterministic gossip:
// SWIM-style membership and failure detection after memberlist, table
// gossip in rounds after NetworkDB, datagrams through Config.Send. It
// runs on its clock's callbacks and on Input, which must come from one
// goroutine at a time (the engine in mem); it starts none.
type DB struct {
	store *Store
	name  string
	addr  netip.AddrPort
	clk   clock.Clock
	rnd   *rand.Rand
	send  func(netip.AddrPort, []byte) error
	t     Timing

	inc     uint32 // this member's incarnation
	members map[string]*member
	started bool
	stopped bool
	gone    bool // stopped by Leave, not by Stop
	seeds   []netip.AddrPort
	round   uint32

	cluster *queue            // membership records and network events, for everyone
	tables  map[string]*queue // table events, per network

	probeOrder []string
	probeNext  int
	probeSeq   uint32
	probe      *pending

	timers []clock.Timer

	st Stats
}

type member struct {
	Member
	since       time.Time // when State last changed
	susp        *suspicion
	syncPending bool // came back from the dead: exchange state and bulk-sync once it answers
}

type pending struct {
	seq    uint32
	target string
	timer  clock.Timer
}

// suspicion is memberlist's: a timer from the first suspicion, shortened
// by independent confirmations from others.
type suspicion struct {
	from     map[string]bool
	k        int
	min, max time.Duration
	start    time.Time
	timer    clock.Timer
}

var _ Gossip = (*DB)(nil)

// New returns a DB that does nothing until Join.
func New(c Config) (*DB, error) {
	switch {
	case c.Rand == nil:
		return nil, errors.New("netdb: a DB needs a seeded Rand")
	case c.Send == nil:
		return nil, errors.New("netdb: a DB needs a Send function")
	case !c.Addr.IsValid():
		return nil, fmt.Errorf("netdb: member %s: no gossip address", c.Name)
	}
	d := &DB{
		name: c.Name, addr: c.Addr, clk: clock.Or(c.Clock), rnd: c.Rand, send: c.Send, t: c.Timing.withDefaults(),
		members: map[string]*member{}, cluster: &queue{}, tables: map[string]*queue{},
	}
	s, err := NewStore(StoreConfig{Name: c.Name, Addr: c.Addr, Clock: d.clk, Tracer: c.Tracer,
		Accept: c.Accept, OnChange: c.OnChange, Reap: d.t.Reap, Gossip: d})
	if err != nil {
		return nil, err
	}
	d.store = s
	return d, nil
}

// Name returns this member's name.
func (d *DB) Name() string { return d.name }

// Store returns the tables under the DB.
func (d *DB) Store() *Store { return d.store }

// Join starts the DB: it asks the seeds to let it join (again every
// ReconnectInterval until one answers) and starts its timers, each first
// firing at a random point of its interval as NetworkDB staggers them.
// A seed that is this member's own address is skipped.
func (d *DB) Join(seeds []netip.AddrPort) {
	if d.started || d.stopped {
		return
	}
	d.started = true
	for _, s := range seeds {
		if s != d.addr && !slices.Contains(d.seeds, s) {
			d.seeds = append(d.seeds, s)
		}
	}
	d.every(d.t.GossipInterval, d.gossipRound)
	d.every(d.t.ProbeInterval, d.probeTick)
	d.every(d.t.PushPullInterval, d.pushPullTick)
	d.every(d.t.PushPullInterval, d.bulkSyncTick)
	d.every(d.t.ReconnectInterval, d.reconnectTick)
	for _, s := range d.seeds {
		d.sendPushPull(s, flagJoin)
	}
}

// every runs f every interval, the first time at a random offset within it.
func (d *DB) every(interval time.Duration, f func()) {
	var t clock.Timer
	t = d.clk.AfterFunc(time.Duration(d.rnd.Int64N(int64(interval))), func() {
		if d.stopped {
			return
		}
		t.Reset(interval)
		f()
	})
	d.timers = append(d.timers, t)
}

// Stop stops the DB as a crash would: timers stop, nothing more is sent,
// and what arrives is ignored. The others find out by probing.
func (d *DB) Stop() {
	if d.stopped {
		return
	}
	d.stopped = true
	for _, t := range d.timers {
		t.Stop()
	}
	if d.probe != nil {
		d.probe.timer.Stop()
		d.probe = nil
	}
	for _, m := range d.members {
		if m.susp != nil {
			m.susp.timer.Stop()
			m.susp = nil
		}
	}
	d.store.Stop()
}

// Leave leaves the cluster gracefully, as memberlist's Leave: a "left"
// record goes at once to GossipNodes members, which relay it, and the DB
// stops. The others drop this member's entries when they hear it.
func (d *DB) Leave() {
	if !d.started || d.stopped {
		return
	}
	body := appendMember(nil, memberRecord{Type: typeLeft, Name: d.name, Incarnation: d.inc})
	msg := encodeGossip(d.name, d.round, [][]byte{body})
	for _, m := range d.pick(d.gossipTargets(), d.t.GossipNodes) {
		d.sendTo(m.Addr, m.Name, msg)
	}
	d.store.Trace(trace.Event{Op: trace.OpMemberLeft, Member: d.name})
	d.gone = true
	d.Stop()
}

// JoinNetwork attaches this member to a network (see Store.JoinNetwork).
func (d *DB) JoinNetwork(nw string) error {
	if err := d.store.JoinNetwork(nw); err != nil {
		return err
	}
	if d.tables[nw] == nil {
		d.tables[nw] = &queue{}
	}
	return nil
}

// LeaveNetwork detaches this member from a network (see Store.LeaveNetwork).
func (d *DB) LeaveNetwork(nw string) error {
	if err := d.store.LeaveNetwork(nw); err != nil {
		return err
	}
	delete(d.tables, nw)
	return nil
}

// Put creates or updates an entry this member owns (see Store.Put).
func (d *DB) Put(nw, table, key string, value []byte) error {
	return d.store.Put(nw, table, key, value)
}

// Delete deletes an entry this member owns (see Store.Delete).
func (d *DB) Delete(nw, table, key string) error { return d.store.Delete(nw, table, key) }

// Entries returns a table's live entries, by key.
func (d *DB) Entries(nw, table string) []Entry { return d.store.Entries(nw, table) }

// Members returns every member known, this one included (dead after
// Stop, left after Leave), by name.
func (d *DB) Members() []Member {
	self := Member{Name: d.name, Addr: d.addr, State: StateAlive, Incarnation: d.inc}
	switch {
	case d.gone:
		self.State = StateLeft
	case d.stopped:
		self.State = StateDead
	}
	out := []Member{self}
	for _, m := range d.members {
		out = append(out, m.Member)
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Stats returns the DB's counters.
func (d *DB) Stats() Stats {
	st := d.st
	st.StoreStats = d.store.Stats()
	return st
}

// Broadcast queues an event for the gossip rounds (Gossip).
func (d *DB) Broadcast(b Broadcast) {
	if b.Network == "" {
		d.cluster.add(b.ID, b.Body)
		return
	}
	q := d.tables[b.Network]
	if q == nil {
		q = &queue{}
		d.tables[b.Network] = q
	}
	q.add(b.ID, b.Body)
}

// Queued returns the table events queued for a network (Gossip).
func (d *DB) Queued(nw string) int {
	if q := d.tables[nw]; q != nil {
		return q.len()
	}
	return 0
}

// SyncNetwork bulk-syncs a network just joined with every member known in
// it, as NetworkDB's JoinNetwork does (Gossip).
func (d *DB) SyncNetwork(nw string) {
	if !d.started || d.stopped {
		return
	}
	for _, name := range d.store.NetworkMembers(nw) {
		if m := d.members[name]; m != nil && live(m.State) {
			d.bulkSync(nw, m, true)
		}
	}
}

func live(s MemberState) bool { return s == StateAlive || s == StateSuspect }

// sortedMembers returns the members in a state f takes, by name.
func (d *DB) sortedMembers(f func(*member) bool) []*member {
	var out []*member
	for _, m := range d.members {
		if f(m) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// pick returns up to n distinct members of ms at random, in the order
// drawn.
func (d *DB) pick(ms []*member, n int) []*member {
	if len(ms) <= n {
		out := slices.Clone(ms)
		d.rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	out := make([]*member, 0, n)
	for _, i := range d.rnd.Perm(len(ms))[:n] {
		out = append(out, ms[i])
	}
	return out
}

// gossipTargets are the members membership gossip goes to: the live, and
// the recently dead, so that a member wrongly declared dead hears it and
// refutes (memberlist's GossipToTheDeadTime).
func (d *DB) gossipTargets() []*member {
	now := d.clk.Now()
	return d.sortedMembers(func(m *member) bool {
		return live(m.State) || m.State == StateDead && now.Sub(m.since) < d.t.GossipToTheDeadTime
	})
}

// gossipRound is one round: the cluster's queue to GossipNodes members,
// then each network's to GossipNodes of its members (NetworkDB's gossip).
func (d *DB) gossipRound() {
	d.round++
	d.st.Rounds++
	limit := MaxPacket - gossipHeader
	if d.cluster.len() > 0 {
		if ts := d.gossipTargets(); len(ts) > 0 {
			n := len(d.sortedMembers(func(m *member) bool { return live(m.State) })) + 1
			bodies := d.cluster.get(limit, retransmitLimit(d.t.RetransmitMult, n))
			msg := encodeGossip(d.name, d.round, bodies)
			for _, m := range d.pick(ts, d.t.GossipNodes) {
				d.sendTo(m.Addr, m.Name, msg)
			}
		}
	}
	for _, nw := range d.store.Networks() {
		q := d.tables[nw]
		if q == nil || q.len() == 0 {
			continue
		}
		var ts []*member
		for _, name := range d.store.NetworkMembers(nw) {
			if m := d.members[name]; m != nil && live(m.State) {
				ts = append(ts, m)
			}
		}
		if len(ts) == 0 {
			continue
		}
		bodies := q.get(limit, retransmitLimit(d.t.RetransmitMult, len(ts)+1))
		msg := encodeGossip(d.name, d.round, bodies)
		for _, m := range d.pick(ts, d.t.GossipNodes) {
			d.sendTo(m.Addr, m.Name, msg)
		}
	}
}

func (d *DB) sendTo(dst netip.AddrPort, name string, msg []byte) {
	if d.stopped {
		return
	}
	if err := d.send(dst, msg); err != nil {
		d.st.SendErrors++
		d.store.Trace(trace.Event{Kind: trace.Dropped, Reason: fmt.Sprintf("gossip to %s (%s): %s: %v", name, dst, ReasonSendFailed, err)})
		return
	}
	d.st.Sent++
	d.st.BytesSent += uint64(len(msg))
}

// probeTick probes the next member in a shuffled round robin
// (memberlist's probe): a ping, and suspicion if no ack comes within
// ProbeTimeout.
func (d *DB) probeTick() {
	if d.probe != nil {
		return
	}
	var m *member
	for range 2 {
		for d.probeNext < len(d.probeOrder) && m == nil {
			c := d.members[d.probeOrder[d.probeNext]]
			d.probeNext++
			if c != nil && live(c.State) {
				m = c
			}
		}
		if m != nil {
			break
		}
		d.probeOrder = d.probeOrder[:0]
		for _, c := range d.sortedMembers(func(c *member) bool { return live(c.State) }) {
			d.probeOrder = append(d.probeOrder, c.Name)
		}
		d.rnd.Shuffle(len(d.probeOrder), func(i, j int) {
			d.probeOrder[i], d.probeOrder[j] = d.probeOrder[j], d.probeOrder[i]
		})
		d.probeNext = 0
	}
	if m == nil {
		return
	}
	d.probeSeq++
	d.st.Probes++
	p := &pending{seq: d.probeSeq, target: m.Name}
	p.timer = d.clk.AfterFunc(d.t.ProbeTimeout, func() { d.probeExpired(p) })
	d.probe = p
	d.sendTo(m.Addr, m.Name, encodePing(p.seq, d.name, m.Name))
}

func (d *DB) probeExpired(p *pending) {
	if d.probe != p || d.stopped {
		return
	}
	d.probe = nil
	if m := d.members[p.target]; m != nil && m.State == StateAlive {
		d.suspect(m, m.Incarnation, d.name, fmt.Sprintf("no ack to probe %d within %v", p.seq, d.t.ProbeTimeout))
	}
}

// numLive is memberlist's estimate of the cluster's size: the live
// members and this one.
func (d *DB) numLive() int {
	n := 1
	for _, m := range d.members {
		if live(m.State) {
			n++
		}
	}
	return n
}

// suspicionTimeout is memberlist's: mult × max(1, log10(n)) × interval.
func suspicionTimeout(mult, n int, interval time.Duration) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	return time.Duration(mult) * time.Duration(scale*1000) * interval / 1000
}

// suspect marks m suspect at inc, on from's word, and starts or
// confirms its suspicion.
func (d *DB) suspect(m *member, inc uint32, from, why string) {
	if !live(m.State) || inc < m.Incarnation {
		return
	}
	if m.State == StateSuspect {
		if m.susp != nil && !m.susp.from[from] && len(m.susp.from)-1 < m.susp.k {
			m.susp.from[from] = true
			s := m.susp
			frac := math.Log(float64(len(s.from)-1)+1) / math.Log(float64(s.k)+1)
			raw := s.max.Seconds() - frac*(s.max.Seconds()-s.min.Seconds())
			timeout := max(time.Duration(math.Floor(1000*raw))*time.Millisecond, s.min)
			s.timer.Reset(max(timeout-d.clk.Now().Sub(s.start), 0))
			d.cluster.add("member/"+m.Name, appendMember(nil, memberRecord{Type: typeSuspect, Name: m.Name, Incarnation: inc, From: from}))
		}
		return
	}
	n := d.numLive()
	k := d.t.SuspicionMult - 2
	if n-2 < k {
		k = 0
	}
	lo := suspicionTimeout(d.t.SuspicionMult, n, d.t.ProbeInterval)
	hi := time.Duration(d.t.SuspicionMaxTimeoutMult) * lo
	timeout := hi
	if k < 1 {
		timeout = lo
	}
	now := d.clk.Now()
	m.State, m.Incarnation, m.since = StateSuspect, inc, now
	s := &suspicion{from: map[string]bool{from: true}, k: k, min: lo, max: hi, start: now}
	s.timer = d.clk.AfterFunc(timeout, func() { d.suspicionExpired(m, s) })
	m.susp = s
	d.store.Trace(trace.Event{Op: trace.OpMemberSuspect, Member: m.Name, Reason: why})
	d.cluster.add("member/"+m.Name, appendMember(nil, memberRecord{Type: typeSuspect, Name: m.Name, Incarnation: inc, From: from}))
}

func (d *DB) suspicionExpired(m *member, s *suspicion) {
	if d.stopped || m.susp != s || m.State != StateSuspect {
		return
	}
	d.dead(m, m.Incarnation, d.name, fmt.Sprintf("suspect for %v", d.clk.Now().Sub(s.start)))
}

// dead marks m dead (or left) and forgets its entries.
func (d *DB) dead(m *member, inc uint32, from, why string) {
	if m.susp != nil {
		m.susp.timer.Stop()
		m.susp = nil
	}
	m.State, m.Incarnation, m.since = StateDead, inc, d.clk.Now()
	d.store.Trace(trace.Event{Op: trace.OpMemberDead, Member: m.Name, Reason: why})
	d.cluster.add("member/"+m.Name, appendMember(nil, memberRecord{Type: typeDead, Name: m.Name, Incarnation: inc, From: from}))
	d.store.MemberDown(m.Name, m.Name+" is dead")
}

func (d *DB) left(m *member, inc uint32) {
	if m.susp != nil {
		m.susp.timer.Stop()
		m.susp = nil
	}
	m.State, m.Incarnation, m.since = StateLeft, inc, d.clk.Now()
	d.store.Trace(trace.Event{Op: trace.OpMemberLeft, Member: m.Name})
	d.cluster.add("member/"+m.Name, appendMember(nil, memberRecord{Type: typeLeft, Name: m.Name, Incarnation: inc}))
	d.store.MemberDown(m.Name, m.Name+" left the cluster")
}

// refute answers a rumour that this member is suspect or dead with a
// higher incarnation (memberlist's refute).
func (d *DB) refute(inc uint32) bool {
	if inc < d.inc {
		return false
	}
	d.inc = inc + 1
	d.cluster.add("member/"+d.name, appendMember(nil, memberRecord{Type: typeAlive, Name: d.name, Addr: d.addr, Incarnation: d.inc}))
	return true
}

// alive takes an alive record: a new member, a newer incarnation, or one
// back from the dead. It reports whether it was news.
func (d *DB) alive(r memberRecord, how string) bool {
	if r.Name == d.name {
		if r.Incarnation > d.inc {
			d.refute(r.Incarnation)
		}
		return false
	}
	m := d.members[r.Name]
	now := d.clk.Now()
	switch {
	case m == nil:
		m = &member{Member: Member{Name: r.Name, Addr: r.Addr, State: StateAlive, Incarnation: r.Incarnation}, since: now}
		d.members[r.Name] = m
		d.store.Trace(trace.Event{Op: trace.OpMemberJoined, Member: r.Name, VTEP: r.Addr.Addr(), Reason: how})
	case r.Incarnation <= m.Incarnation:
		return false
	case live(m.State):
		was := m.State
		m.Addr, m.Incarnation, m.State = r.Addr, r.Incarnation, StateAlive
		if m.susp != nil {
			m.susp.timer.Stop()
			m.susp = nil
		}
		if was == StateSuspect {
			m.since = now
			d.store.Trace(trace.Event{Op: trace.OpMemberAlive, Member: r.Name})
		}
	default:
		m.Addr, m.Incarnation, m.State, m.since, m.syncPending = r.Addr, r.Incarnation, StateAlive, now, true
		d.store.Trace(trace.Event{Op: trace.OpMemberJoined, Member: r.Name, VTEP: r.Addr.Addr(),
			Reason: fmt.Sprintf("it came back (incarnation %d, %s)", r.Incarnation, how)})
	}
	d.store.MemberUp(r.Name, r.Addr)
	d.cluster.add("member/"+r.Name, appendMember(nil, r))
	return true
}

// memberRecord takes a membership record that sender sent, by gossip or
// in a push/pull. It reports whether this member had to refute a rumour
// about itself. A member back from the dead (unless this is its own
// push/pull) is asked for its state at once, so that its networks and
// entries return.
func (d *DB) memberRecord(r memberRecord, how, sender string, pushPull bool) (refuted bool) {
	if r.Type == typeAlive {
		if d.alive(r, how) && !(pushPull && r.Name == sender) {
			if m := d.members[r.Name]; m.syncPending {
				d.sendPushPull(m.Addr, flagJoin)
			}
		}
		return false
	}
	if r.Name == d.name {
		if r.Type == typeLeft && !pushPull {
			return false // our own leave, come back; we are stopped anyway
		}
		return d.refute(r.Incarnation)
	}
	m := d.members[r.Name]
	if m == nil {
		return false
	}
	switch r.Type {
	case typeSuspect:
		d.suspect(m, r.Incarnation, cmp.Or(r.From, sender), cmp.Or(r.From, sender)+" suspects it")
	case typeDead:
		if pushPull {
			// memberlist: a push/pull's dead is only suspected here.
			d.suspect(m, r.Incarnation, sender, sender+" has it dead")
			return false
		}
		if live(m.State) && r.Incarnation >= m.Incarnation {
			d.dead(m, r.Incarnation, r.From, r.From+" declared it dead")
		}
	case typeLeft:
		if m.State != StateLeft && r.Incarnation >= m.Incarnation {
			d.left(m, r.Incarnation)
		}
	}
	return false
}

// Input takes a datagram from src.
func (d *DB) Input(src netip.AddrPort, msg []byte) {
	if !d.started || d.stopped {
		d.store.Ignore(IgnoredStopped)
		return
	}
	d.st.Received++
	d.st.BytesReceived += uint64(len(msg))
	o := Origin{Addr: src, Member: d.nameOf(src)}
	if len(msg) > MaxPacket {
		d.store.Reject(o, ReasonTooLarge, fmt.Sprintf("a datagram of %d bytes, more than %d", len(msg), MaxPacket))
		return
	}
	m, err := decode(msg)
	if err != nil {
		d.store.Reject(o, reasonOf(err), fmt.Sprintf("%s: %v", reasonOf(err), err))
		return
	}
	if k := d.members[m.From]; k != nil && k.Addr != src && live(k.State) {
		d.store.Reject(o, ReasonImpostor, fmt.Sprintf("says it is %s, whose address is %s", m.From, k.Addr))
		return
	}
	o.Member = m.From
	switch m.Type {
	case typePing:
		if m.Target != d.name {
			d.store.Reject(o, ReasonUnexpected, fmt.Sprintf("a probe for %s reached %s", m.Target, d.name))
			return
		}
		d.sendTo(src, m.From, encodeAck(m.Seq, d.name))
	case typeAck:
		if p := d.probe; p != nil && p.seq == m.Seq && p.target == m.From {
			p.timer.Stop()
			d.probe = nil
		}
	case typeGossip:
		o.Round = int(m.Round)
		for _, p := range m.Parts {
			switch p.Type {
			case typeTable:
				d.store.applyTable(o, p.Table)
			case typeNetwork:
				d.store.applyNetwork(o, p.Net)
			default:
				d.memberRecord(p.Member, "gossip from "+m.From, m.From, false)
			}
		}
	case typePushPull:
		d.pushPull(o, src, m)
	case typeBulkSync:
		o.Bulk = true
		d.store.handleBulk(o, m)
		if m.Flags&flagUnsolicited != 0 && m.Part == 0 && slices.Contains(d.store.Networks(), m.Network) {
			if k := d.members[m.From]; k != nil && live(k.State) {
				d.bulkSync(m.Network, k, false)
			}
		}
	}
}

// nameOf returns the member at addr, or "".
func (d *DB) nameOf(addr netip.AddrPort) string {
	for _, m := range d.sortedMembers(func(m *member) bool { return m.Addr == addr }) {
		return m.Name
	}
	return ""
}

// pushPull merges a push/pull part, answers a request's last part with
// this member's state, asks again when it had to refute a rumour about
// itself, and bulk-syncs with a member back from the dead once the
// exchange is clean.
func (d *DB) pushPull(o Origin, src netip.AddrPort, m message) {
	reply := m.Flags&flagReply != 0
	refuted := false
	for _, r := range m.Members {
		how := "push/pull with " + m.From
		switch {
		case r.Name != m.From:
		case reply:
			how = "it answered our join"
		case m.Flags&flagJoin != 0:
			how = "it asked to join"
		}
		if d.memberRecord(r, how, m.From, true) {
			refuted = true
		}
	}
	for _, n := range m.Nets {
		d.store.applyNetwork(o, n)
	}
	if m.Part != m.Total-1 {
		return
	}
	if !reply {
		d.sendPushPullState(src, flagReply)
	} else if refuted {
		d.sendPushPull(src, flagJoin)
		return
	}
	if k := d.members[m.From]; k != nil && k.syncPending && k.State == StateAlive && !refuted {
		k.syncPending = false
		for _, nw := range d.store.CommonNetworks(k.Name) {
			d.bulkSync(nw, k, true)
		}
	}
}

// sendPushPull starts a state exchange with the member at dst.
func (d *DB) sendPushPull(dst netip.AddrPort, flags byte) {
	d.st.PushPulls++
	d.sendPushPullState(dst, flags)
}

func (d *DB) sendPushPullState(dst netip.AddrPort, flags byte) {
	recs := []memberRecord{{Type: typeAlive, Name: d.name, Addr: d.addr, Incarnation: d.inc}}
	for _, m := range d.sortedMembers(func(*member) bool { return true }) {
		t := byte(typeAlive)
		switch m.State {
		case StateSuspect:
			t = typeSuspect
		case StateDead:
			t = typeDead
		case StateLeft:
			t = typeLeft
		}
		recs = append(recs, memberRecord{Type: t, Name: m.Name, Addr: m.Addr, Incarnation: m.Incarnation})
	}
	name := d.nameOf(dst)
	for _, msg := range encodePushPull(d.name, flags, recs, d.store.networkEvents(flags&flagJoin != 0)) {
		d.sendTo(dst, name, msg)
	}
}

// pushPullTick exchanges state with one live member (memberlist's
// periodic push/pull).
func (d *DB) pushPullTick() {
	ms := d.pick(d.sortedMembers(func(m *member) bool { return m.State == StateAlive }), 1)
	if len(ms) == 1 {
		d.sendPushPull(ms[0].Addr, 0)
	}
}

// bulkSyncTick bulk-syncs each network with one random member of it,
// covering with one member every network shared with it (NetworkDB's
// bulkSyncTables).
func (d *DB) bulkSyncTick() {
	done := map[string]bool{}
	for _, nw := range d.store.Networks() {
		if done[nw] {
			continue
		}
		var ms []*member
		for _, name := range d.store.NetworkMembers(nw) {
			if m := d.members[name]; m != nil && m.State == StateAlive {
				ms = append(ms, m)
			}
		}
		ms = d.pick(ms, 1)
		if len(ms) == 0 {
			continue
		}
		for _, c := range d.store.CommonNetworks(ms[0].Name) {
			if !done[c] {
				done[c] = true
				d.bulkSync(c, ms[0], true)
			}
		}
	}
}

func (d *DB) bulkSync(nw string, m *member, unsolicited bool) {
	d.st.BulkSyncs++
	for _, msg := range d.store.BulkSync(nw, m.Name, unsolicited) {
		d.sendTo(m.Addr, m.Name, msg)
	}
}

// reconnectTick asks the seeds again while no member has answered, and
// otherwise one random dead member (NetworkDB's reconnectNode), and
// forgets members dead for NodeReap.
func (d *DB) reconnectTick() {
	now := d.clk.Now()
	for _, m := range d.sortedMembers(func(m *member) bool { return !live(m.State) && now.Sub(m.since) >= d.t.NodeReap }) {
		delete(d.members, m.Name)
	}
	if len(d.members) == 0 {
		for _, s := range d.seeds {
			d.sendPushPull(s, flagJoin)
		}
		return
	}
	ms := d.pick(d.sortedMembers(func(m *member) bool { return m.State == StateDead }), 1)
	if len(ms) == 1 {
		ms[0].syncPending = true
		d.sendPushPull(ms[0].Addr, flagJoin)
	}
}
