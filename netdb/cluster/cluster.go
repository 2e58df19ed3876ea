// Package cluster is netdb's tables on hashicorp/memberlist, for real
// machines: the same Store, with memberlist for membership, failure
// detection and transport (TCP and UDP 7946 by default), as Docker's
// NetworkDB runs it.
//
// # The binding
//
// The tables are memberlist's Delegate: table and network events are
// queued in a TransmitLimitedQueue and handed out by GetBroadcasts,
// arrive by NotifyMsg; a push/pull (LocalState, MergeRemoteState, on
// join and every PushPullInterval) carries every member's network
// attachments and this member's networks' whole tables, which is the
// bulk sync. Joining a network bulk-syncs it with its members at once
// over memberlist's reliable (TCP) messages, and they answer with theirs.
// The EventDelegate's NotifyLeave, for a member dead or left, removes its
// entries, as NetworkDB's does. Dead members are asked to join again
// every second (NetworkDB's reconnectNode), so a healed partition
// rejoins.
//
// # Concurrency
//
// memberlist calls the delegates from its own goroutines, and timers run
// on the wall clock, so a DB is safe for concurrent use. OnChange and the
// tracer are called without locks held, in the order of the changes.
package cluster

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/netdb"
)

// DefaultPort is memberlist's and Docker's gossip port, TCP and UDP.
const DefaultPort = 7946

// Config configures a DB.
type Config struct {
	Name string // this member's name, unique in the cluster
	// Addr is the address to bind and advertise; port 0 means
	// DefaultPort. An unspecified address binds every address and
	// advertises the one memberlist picks.
	Addr     netip.AddrPort
	Tracer   trace.Tracer             // nil: no events
	Accept   func(netdb.Entry) string // see netdb.StoreConfig.Accept
	OnChange func(netdb.Change)       // see netdb.StoreConfig.OnChange
	Reap     time.Duration            // a tombstone's life; 0: netdb.DefaultReap
	// Memberlist, when set, adjusts memberlist's configuration (which
	// starts as DefaultLANConfig with the name and addresses above)
	// before the DB is made: tests shorten its timings and bind port 0.
	// Delegates and logging are the DB's.
	Memberlist func(*memberlist.Config)
	// Logf receives memberlist's log lines; nil: silent.
	Logf func(format string, args ...any)
}

// DB is one member's NetworkDB on memberlist.
type DB struct {
	store *netdb.Store
	ml    *memberlist.Memberlist
	live  atomic.Pointer[memberlist.Memberlist] // ml, once Create returned (the delegates run before)
	q     *memberlist.TransmitLimitedQueue
	name  string

	mu        sync.Mutex
	rnd       *rand.Rand                // guarded by mu: which dead member to ask back
	dead      map[string]netip.AddrPort // guarded by mu: members memberlist has declared dead (not left)
	reconnect clock.Timer               // guarded by mu
	stopped   bool                      // guarded by mu
}

var _ netdb.Gossip = (*DB)(nil)

// New makes a DB and starts memberlist listening; Join joins a cluster.
func New(c Config) (*DB, error) {
	// Which dead member to ask back needs no real randomness: a stream
	// of the member's name will do, and keeps the package free of the
	// global source.
	var seed uint64
	for _, c := range []byte(c.Name) {
		seed = seed*131 + uint64(c)
	}
	d := &DB{name: c.Name, dead: map[string]netip.AddrPort{}, rnd: rand.New(rand.NewPCG(seed, 7946))}
	conf := memberlist.DefaultLANConfig()
	conf.Name = c.Name
	port := cmp.Or(int(c.Addr.Port()), DefaultPort)
	conf.BindPort, conf.AdvertisePort = port, port
	if a := c.Addr.Addr(); a.IsValid() && !a.IsUnspecified() {
		conf.BindAddr, conf.AdvertiseAddr = a.String(), a.String()
	}
	if c.Memberlist != nil {
		c.Memberlist(conf)
	}
	conf.Delegate = delegate{d}
	conf.Events = events{d}
	conf.LogOutput = io.Discard
	if c.Logf != nil {
		conf.Logger = log.New(logWriter(c.Logf), "", 0)
		conf.LogOutput = nil
	}
	s, err := netdb.NewStore(netdb.StoreConfig{Name: c.Name, Addr: c.Addr, Clock: clock.Real, Tracer: c.Tracer,
		Accept: c.Accept, OnChange: c.OnChange, Reap: c.Reap, Gossip: d})
	if err != nil {
		return nil, err
	}
	d.store = s
	d.q = &memberlist.TransmitLimitedQueue{NumNodes: func() int {
		if ml := d.live.Load(); ml != nil {
			return ml.NumMembers()
		}
		return 1
	}, RetransmitMult: conf.RetransmitMult}
	ml, err := memberlist.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("netdb/cluster: %w", err)
	}
	d.ml = ml
	d.live.Store(ml)
	d.mu.Lock()
	d.reconnect = clock.Real.AfterFunc(time.Second, d.reconnectTick)
	d.mu.Unlock()
	return d, nil
}

type logWriter func(format string, args ...any)

func (f logWriter) Write(p []byte) (int, error) {
	f("%s", string(p))
	return len(p), nil
}

// Addr returns the address memberlist advertises.
func (d *DB) Addr() netip.AddrPort {
	n := d.ml.LocalNode()
	a, _ := netip.AddrFromSlice(n.Addr)
	return netip.AddrPortFrom(a.Unmap(), n.Port)
}

// Store returns the tables.
func (d *DB) Store() *netdb.Store { return d.store }

// Join joins the cluster through the seeds (memberlist's Join: a
// push/pull with each).
func (d *DB) Join(seeds []netip.AddrPort) error {
	var ss []string
	for _, s := range seeds {
		ss = append(ss, s.String())
	}
	if _, err := d.ml.Join(ss); err != nil {
		return fmt.Errorf("netdb/cluster: join: %w", err)
	}
	return nil
}

// Leave leaves the cluster gracefully (memberlist's Leave, waiting up to
// a second for it to be gossiped) and shuts down.
func (d *DB) Leave() error {
	err := d.ml.Leave(time.Second)
	return errors.Join(err, d.Stop())
}

// Stop shuts down without a word, as a crash would: the others find out
// by probing.
func (d *DB) Stop() error {
	d.mu.Lock()
	d.stopped = true
	if d.reconnect != nil {
		d.reconnect.Stop()
	}
	d.mu.Unlock()
	d.store.Stop()
	return d.ml.Shutdown()
}

// JoinNetwork, LeaveNetwork, Put, Delete and Entries are the Store's.
func (d *DB) JoinNetwork(nw string) error  { return d.store.JoinNetwork(nw) }
func (d *DB) LeaveNetwork(nw string) error { return d.store.LeaveNetwork(nw) }
func (d *DB) Put(nw, table, key string, value []byte) error {
	return d.store.Put(nw, table, key, value)
}
func (d *DB) Delete(nw, table, key string) error { return d.store.Delete(nw, table, key) }
func (d *DB) Entries(nw, table string) []netdb.Entry {
	return d.store.Entries(nw, table)
}

// Members returns memberlist's members, this one included, by name.
func (d *DB) Members() []netdb.Member {
	var out []netdb.Member
	for _, n := range d.ml.Members() {
		st := netdb.StateAlive
		switch n.State {
		case memberlist.StateSuspect:
			st = netdb.StateSuspect
		case memberlist.StateDead:
			st = netdb.StateDead
		case memberlist.StateLeft:
			st = netdb.StateLeft
		}
		out = append(out, netdb.Member{Name: n.Name, Addr: addrOf(n), State: st})
	}
	slices.SortFunc(out, func(a, b netdb.Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Stats returns the tables' counters.
func (d *DB) Stats() netdb.StoreStats { return d.store.Stats() }

func addrOf(n *memberlist.Node) netip.AddrPort {
	a, _ := netip.AddrFromSlice(n.Addr)
	return netip.AddrPortFrom(a.Unmap(), n.Port)
}

// Broadcast queues an event for memberlist's gossip (netdb.Gossip).
func (d *DB) Broadcast(b netdb.Broadcast) {
	d.q.QueueBroadcast(&broadcast{name: b.Network + "/" + b.ID, msg: d.store.BroadcastMessage(b)})
}

// Queued returns the broadcasts queued, all networks together (netdb.Gossip).
func (d *DB) Queued(string) int { return d.q.NumQueued() }

// SyncNetwork bulk-syncs a network just joined with each of its members
// over memberlist's reliable messages (netdb.Gossip).
func (d *DB) SyncNetwork(nw string) {
	for _, name := range d.store.NetworkMembers(nw) {
		if name != d.name {
			d.sendBulk(nw, name, true)
		}
	}
}

func (d *DB) node(name string) *memberlist.Node {
	for _, n := range d.ml.Members() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (d *DB) sendBulk(nw, name string, unsolicited bool) {
	n := d.node(name)
	if n == nil || n.State != memberlist.StateAlive {
		return
	}
	for _, msg := range d.store.BulkSync(nw, name, unsolicited) {
		if err := d.ml.SendReliable(n, msg); err != nil {
			d.store.Trace(trace.Event{Kind: trace.Dropped, Reason: fmt.Sprintf("bulk sync of %s to %s (%s): %s: %v", nw, name, addrOf(n), netdb.ReasonSendFailed, err)})
			return
		}
	}
}

// reconnectTick asks one dead member to join again, every second
// (NetworkDB's reconnectNode); memberlist alone gives up on the dead
// after GossipToTheDeadTime, so a long partition would never heal.
func (d *DB) reconnectTick() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	var dead []string
	for name := range d.dead {
		dead = append(dead, name)
	}
	slices.Sort(dead)
	var addr netip.AddrPort
	if len(dead) > 0 {
		addr = d.dead[dead[d.rnd.IntN(len(dead))]]
	}
	d.reconnect.Reset(time.Second)
	d.mu.Unlock()
	if addr.IsValid() {
		d.ml.Join([]string{net.JoinHostPort(addr.Addr().String(), strconv.Itoa(int(addr.Port())))}) //nolint:errcheck // tried again next second
	}
}

// broadcast is a queued event; a newer one of the same network, table
// and key invalidates it.
type broadcast struct {
	name string
	msg  []byte
}

func (b *broadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(*broadcast)
	return ok && ob.name == b.name
}
func (b *broadcast) Name() string    { return b.name }
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished()       {}

// delegate is memberlist's Delegate.
type delegate struct{ d *DB }

func (delegate) NodeMeta(int) []byte { return nil }

// NotifyMsg takes an event or a bulk sync; an unsolicited bulk sync is
// answered with this member's own table of that network.
func (g delegate) NotifyMsg(b []byte) {
	if len(b) == 0 {
		return
	}
	msg := slices.Clone(b)
	if nw := g.d.store.HandleMessage(netdb.Origin{}, msg); nw != "" {
		if from := senderOf(msg); from != "" {
			g.d.sendBulk(nw, from, false)
		}
	}
}

// senderOf reads the sender's name from a bulk sync (version, type, name).
func senderOf(b []byte) string {
	if len(b) < 3 || int(b[2])+3 > len(b) {
		return ""
	}
	return string(b[3 : 3+int(b[2])])
}

func (g delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return g.d.q.GetBroadcasts(overhead, limit)
}

// LocalState is the push/pull's payload: every member's network
// attachments (this member's bumped on a join, as NetworkDB does), then
// this member's networks' whole tables, each message length-prefixed.
func (g delegate) LocalState(join bool) []byte {
	s := g.d.store
	msgs := [][]byte{s.NetworkState(join)}
	for _, nw := range s.Networks() {
		msgs = append(msgs, s.BulkSync(nw, "", false)...)
	}
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(m)))
		out = append(out, m...)
	}
	return out
}

// MergeRemoteState takes another member's LocalState.
func (g delegate) MergeRemoteState(b []byte, join bool) {
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if n > len(b)-4 {
			g.d.store.Reject(netdb.Origin{}, "malformed: truncated", fmt.Sprintf("malformed: truncated push/pull state (%d of %d bytes)", len(b)-4, n))
			return
		}
		g.d.store.HandleMessage(netdb.Origin{Bulk: true}, slices.Clone(b[4:4+n]))
		b = b[4+n:]
	}
}

// events is memberlist's EventDelegate.
type events struct{ d *DB }

func (e events) NotifyJoin(n *memberlist.Node) {
	if n.Name == e.d.name {
		return
	}
	e.d.mu.Lock()
	_, back := e.d.dead[n.Name]
	delete(e.d.dead, n.Name)
	e.d.mu.Unlock()
	reason := "memberlist: it joined"
	if back {
		reason = "memberlist: it came back"
	}
	e.d.store.MemberUp(n.Name, addrOf(n))
	e.d.store.Trace(trace.Event{Op: trace.OpMemberJoined, Member: n.Name, VTEP: addrOf(n).Addr(), Reason: reason})
}

// NotifyLeave is a member dead or left: its entries go (NetworkDB's
// eventDelegate).
func (e events) NotifyLeave(n *memberlist.Node) {
	if n.Name == e.d.name {
		return
	}
	reason := n.Name + " is dead"
	if n.State == memberlist.StateLeft {
		reason = n.Name + " left the cluster"
		e.d.store.Trace(trace.Event{Op: trace.OpMemberLeft, Member: n.Name})
	} else {
		e.d.mu.Lock()
		e.d.dead[n.Name] = addrOf(n)
		e.d.mu.Unlock()
		e.d.store.Trace(trace.Event{Op: trace.OpMemberDead, Member: n.Name, Reason: "memberlist declared it dead"})
	}
	e.d.store.MemberDown(n.Name, reason)
}

func (e events) NotifyUpdate(n *memberlist.Node) {
	if n.Name != e.d.name {
		e.d.store.MemberUp(n.Name, addrOf(n))
	}
}
