package netdb

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
)

// Entry is one entry of a table: a value under (network, table, key),
// written by its owner at a Lamport time.
type Entry struct {
	Network, Table, Key string
	Value               []byte
	Owner               string     // the member that wrote it
	OwnerAddr           netip.Addr // the owner's gossip address, as this member knows it
	Lamport             uint64
	Deleted             bool // a tombstone (in a Change of a delete)
}

// Change is an entry created, updated or deleted here by what another
// member said, or because a member went away.
type Change struct {
	Op    TableOp
	Entry Entry // as it is now; for a delete, as it was
	// From is the member whose message brought the change (the sender,
	// which relays the owner's event), or the member that went away.
	From string
	// Round is the sender's gossip round the change came in; 0 for a bulk
	// sync or a change of membership.
	Round int
	// Reason says how it came: "gossip", "bulk sync", or why the entry
	// went ("host1 is dead", "host1 left the cluster", "host1 left
	// network ov", "we left network ov").
	Reason string
}

// Origin says where a message came from.
type Origin struct {
	Member string         // the member that sent it (not necessarily the entries' owner)
	Addr   netip.AddrPort // its address
	Round  int            // the sender's gossip round; 0 when not gossip
	Bulk   bool           // a bulk sync (or a push/pull of the whole state)
}

// Broadcast is an encoded event (a message body, see wire.go) for the
// layer below to disseminate.
type Broadcast struct {
	// Network scopes a table event to the members of a network; ""
	// means the whole cluster (network attachments, membership).
	Network string
	// ID names what the event is about: a queued broadcast with the same
	// Network and ID is superseded by a newer one (memberlist's
	// Invalidates, as NetworkDB uses it).
	ID   string
	Body []byte
}

// Gossip is the layer under a Store: membership and transport. DB
// implements it with netyard's own deterministic gossip and failure
// detection; netdb/cluster with hashicorp/memberlist. The Store calls it
// outside its lock, in the order of the changes that caused the calls,
// except Queued, which it calls holding its lock (the lock order is
// Store, then the layer's queue: the layer never calls the Store holding
// its queue's lock).
type Gossip interface {
	// Broadcast queues an event for dissemination.
	Broadcast(b Broadcast)
	// Queued returns the number of broadcasts queued for network nw.
	Queued(nw string) int
	// SyncNetwork starts a bulk sync of nw with its other members: this
	// member has just joined it.
	SyncNetwork(nw string)
}

// StoreConfig configures a Store. Zero fields take the defaults said.
type StoreConfig struct {
	Name   string         // this member's name (required)
	Addr   netip.AddrPort // this member's gossip address
	Clock  clock.Clock    // nil: the wall clock
	Tracer trace.Tracer   // nil: no events
	// Accept, when set, is asked about every entry another member
	// creates or updates here, before it is taken: a reason to refuse it,
	// or "". It is called with the Store's lock held and must not call
	// back into the Store.
	Accept func(e Entry) string
	// OnChange is told of every entry created, updated or deleted here
	// by another member's doing, in order, without the Store's lock held
	// (it may call the Store). Changes of several goroutines are told by
	// one of them at a time, in the order they were made.
	OnChange func(c Change)
	// Reap is how long a tombstone lives: NetworkDB's reapEntryInterval,
	// 30 minutes.
	Reap time.Duration
	// Gossip is the layer below (required).
	Gossip Gossip
}

// DefaultReap is NetworkDB's reapEntryInterval: a deleted entry is kept
// as a tombstone this long, so that a late create cannot resurrect it.
const DefaultReap = 30 * time.Minute

// networkReapExtra is how much longer than a tombstone a left network's
// attachment is kept (NetworkDB: reapNetworkInterval = reapEntryInterval
// + 5 × reapPeriod of 5 s).
const networkReapExtra = 25 * time.Second

// maxQueuedOnSync is NetworkDB's maxQueueLenBroadcastOnSync: entries
// learned from a bulk sync are relayed only while fewer broadcasts than
// this are queued.
const maxQueuedOnSync = 500

// Reasons a message or an entry is refused (Stats.Rejected keys; decoding
// errors add "malformed: ..." keys).
const (
	ReasonOwned      = "owned by another member" // an entry for a key another live member owns
	ReasonRefused    = "refused by Accept"       // the Accept hook said no
	ReasonBadRecord  = "bad record"              // a peer or endpoint record that does not decode
	ReasonImpostor   = "sender address mismatch" // a known member's name from another address
	ReasonSendFailed = "send failed"             // the transport refused a datagram
	ReasonTooLarge   = "message too large"       // a datagram over MaxPacket
	ReasonUnexpected = "unexpected message"      // a well-formed message this side does not take
)

// Reasons an event is ignored without being wrong (Stats.Ignored keys).
const (
	IgnoredStale        = "stale"                // not newer than what is held
	IgnoredOwn          = "own event"            // an event this member wrote, come back
	IgnoredNotInNetwork = "not in network"       // for a network this member is not in
	IgnoredOwnerAbsent  = "owner not in network" // its owner is not (yet) known in the network
	IgnoredUnknown      = "unknown member"       // a network event of a member not in the cluster
	IgnoredStopped      = "stopped"              // arrived after Stop or Leave
)

// Store is the table core both layers share: entries per network, their
// Lamport clock, tombstones, network attachments of every member, and
// the rules by which an event changes an entry (NetworkDB's
// handleTableEvent and handleNetworkEvent). It is safe for concurrent
// use.
type Store struct {
	name     string
	addr     netip.AddrPort
	clk      clock.Clock
	tracer   trace.Tracer
	accept   func(Entry) string
	onChange func(Change)
	reap     time.Duration
	gossip   Gossip

	mu         sync.Mutex
	lamport    uint64                          // guarded by mu: the table clock
	netClock   uint64                          // guarded by mu: the network clock
	members    map[string]netip.AddrPort       // guarded by mu: live members but this one
	nets       map[string]map[string]*attached // guarded by mu: member -> network -> attachment
	entries    map[entryKey]*entry             // guarded by mu
	reapTimer  clock.Timer                     // guarded by mu
	reapAt     time.Time                       // guarded by mu: when reapTimer fires (zero: not armed)
	rejected   map[string]uint64               // guarded by mu
	ignored    map[string]uint64               // guarded by mu
	applied    uint64                          // guarded by mu
	out        []outItem                       // guarded by mu: what to tell, in order
	delivering bool                            // guarded by mu: some goroutine is telling out
	syncID     uint32                          // guarded by mu
}

type entryKey struct{ network, table, key string }

type entry struct {
	value   []byte
	owner   string
	lamport uint64
	deleted bool
	reapAt  time.Time // tombstones: when it goes
}

type attached struct {
	lamport uint64
	leaving bool
	reapAt  time.Time // leaving: when the attachment is forgotten
}

// outItem is one thing to tell outside the lock.
type outItem struct {
	event *trace.Event
	chg   *Change
	bc    *Broadcast
	sync  string // a network to bulk-sync
}

// NewStore returns an empty store.
func NewStore(c StoreConfig) (*Store, error) {
	if c.Name == "" || len(c.Name) > MaxName {
		return nil, fmt.Errorf("netdb: member name %q: empty or longer than %d bytes", c.Name, MaxName)
	}
	if c.Gossip == nil {
		return nil, errors.New("netdb: a store needs a gossip layer")
	}
	s := &Store{
		name: c.Name, addr: c.Addr, clk: clock.Or(c.Clock), tracer: c.Tracer,
		accept: c.Accept, onChange: c.OnChange, reap: cmp.Or(c.Reap, DefaultReap), gossip: c.Gossip,
		members:  map[string]netip.AddrPort{},
		nets:     map[string]map[string]*attached{},
		entries:  map[entryKey]*entry{},
		rejected: map[string]uint64{},
		ignored:  map[string]uint64{},
	}
	return s, nil
}

// Name returns this member's name.
func (s *Store) Name() string { return s.name }

// unlockAndFlush releases the lock and tells what the locked section
// queued: trace events, changes, broadcasts, syncs, in order. A goroutine
// that finds another telling leaves its items to it, so the order holds
// across goroutines and a callback that calls the Store does not recurse.
func (s *Store) unlockAndFlush() {
	if s.delivering {
		s.mu.Unlock()
		return
	}
	s.delivering = true
	for len(s.out) > 0 {
		out := s.out
		s.out = nil
		s.mu.Unlock()
		for _, it := range out {
			switch {
			case it.event != nil:
				s.tracer.Trace(*it.event)
			case it.chg != nil:
				if s.onChange != nil {
					s.onChange(*it.chg)
				}
			case it.bc != nil:
				s.gossip.Broadcast(*it.bc)
			default:
				s.gossip.SyncNetwork(it.sync)
			}
		}
		s.mu.Lock()
	}
	s.delivering = false
	s.mu.Unlock()
}

// Trace tells the tracer e (Node, Kind and Time filled in) in order with
// the Store's own events. The layers trace membership through it.
func (s *Store) Trace(e trace.Event) {
	if s.tracer == nil {
		return
	}
	s.mu.Lock()
	s.traceLocked(e)
	s.unlockAndFlush()
}

func (s *Store) traceLocked(e trace.Event) {
	if s.tracer == nil {
		return
	}
	e.Node, e.Time = s.name, s.clk.Now()
	if e.Kind == "" {
		e.Kind = trace.Overlay
	}
	s.out = append(s.out, outItem{event: &e})
}

// Reject counts a refused message under reason and traces it with the
// sentence why.
func (s *Store) Reject(o Origin, reason, why string) {
	s.mu.Lock()
	s.rejectLocked(o, reason, why)
	s.unlockAndFlush()
}

func (s *Store) rejectLocked(o Origin, reason, why string) {
	s.rejected[reason]++
	s.traceLocked(trace.Event{Op: trace.OpGossipRejected, From: o.Member, VTEP: o.Addr.Addr(), Reason: why})
}

// Ignore counts an event ignored under reason.
func (s *Store) Ignore(reason string) {
	s.mu.Lock()
	s.ignored[reason]++
	s.mu.Unlock()
}

// MemberUp records a live member and its address: its entries and
// network attachments are taken from now on.
func (s *Store) MemberUp(name string, addr netip.AddrPort) {
	if name == s.name {
		return
	}
	s.mu.Lock()
	s.members[name] = addr
	s.mu.Unlock()
}

// MemberDown forgets a member that is dead or left, as NetworkDB does when
// a node leaves or fails: its network attachments and every entry it
// owns go (tombstones too, so that its entries are taken again when it
// comes back), each entry told as deleted for reason ("host1 is dead").
func (s *Store) MemberDown(name, reason string) {
	if name == s.name {
		return
	}
	s.mu.Lock()
	delete(s.members, name)
	delete(s.nets, name)
	var gone []entryKey
	for k, e := range s.entries {
		if e.owner == name {
			gone = append(gone, k)
		}
	}
	sortKeys(gone)
	for _, k := range gone {
		e := s.entries[k]
		delete(s.entries, k)
		if !e.deleted {
			s.changedLocked(OpDelete, k, e, Origin{Member: name}, reason)
		}
	}
	s.unlockAndFlush()
}

func sortKeys(ks []entryKey) {
	slices.SortFunc(ks, func(a, b entryKey) int {
		return cmp.Or(cmp.Compare(a.network, b.network), cmp.Compare(a.table, b.table), cmp.Compare(a.key, b.key))
	})
}

// ownerAddrLocked returns a member's address as known here.
func (s *Store) ownerAddrLocked(name string) netip.Addr {
	if name == s.name {
		return s.addr.Addr()
	}
	return s.members[name].Addr()
}

func (s *Store) entryOf(k entryKey, e *entry) Entry {
	return Entry{Network: k.network, Table: k.table, Key: k.key, Value: e.value, Owner: e.owner,
		OwnerAddr: s.ownerAddrLocked(e.owner), Lamport: e.lamport, Deleted: e.deleted}
}

// changedLocked queues a change and its trace (peer-table entries are
// narrated as peers learned and forgotten).
func (s *Store) changedLocked(op TableOp, k entryKey, e *entry, o Origin, reason string) {
	c := Change{Op: op, Entry: s.entryOf(k, e), From: o.Member, Round: o.Round, Reason: reason}
	s.out = append(s.out, outItem{chg: &c})
	if k.table != PeerTable || s.tracer == nil {
		return
	}
	var r PeerRecord
	if r.Unmarshal(e.value) != nil {
		return
	}
	ev := trace.Event{Network: k.network, Container: r.Container, SrcIP: r.IP, VTEP: r.VTEP, Lamport: e.lamport}
	if op == OpDelete {
		ev.Op, ev.Reason = trace.OpPeerRemoved, reason
	} else {
		ev.Op, ev.MAC, ev.From, ev.Round = trace.OpPeerAdded, r.MAC.String(), o.Member, o.Round
		if o.Round == 0 {
			ev.Reason = reason
		}
	}
	s.traceLocked(ev)
}

// JoinNetwork attaches this member to nw: its table events are taken and
// gossiped from now on, and a bulk sync with the network's members is
// started (NetworkDB's JoinNetwork).
func (s *Store) JoinNetwork(nw string) error {
	if nw == "" || len(nw) > MaxName {
		return fmt.Errorf("netdb: network name %q: empty or longer than %d bytes", nw, MaxName)
	}
	s.mu.Lock()
	if a := s.nets[s.name][nw]; a != nil && !a.leaving {
		s.mu.Unlock()
		return nil
	}
	s.netClock++
	s.attachLocked(s.name, nw, &attached{lamport: s.netClock})
	s.broadcastNetworkLocked(networkEvent{Member: s.name, Network: nw, Lamport: s.netClock})
	s.traceLocked(trace.Event{Op: trace.OpNetworkJoined, Member: s.name, Network: nw})
	s.out = append(s.out, outItem{sync: nw})
	s.unlockAndFlush()
	return nil
}

// LeaveNetwork detaches this member from nw (NetworkDB's LeaveNetwork):
// the others are told, its own entries there become tombstones, and the
// others' entries there are dropped here, each told as deleted.
func (s *Store) LeaveNetwork(nw string) error {
	s.mu.Lock()
	a := s.nets[s.name][nw]
	if a == nil || a.leaving {
		s.mu.Unlock()
		return fmt.Errorf("netdb: %s is not in network %q", s.name, nw)
	}
	s.netClock++
	a.lamport, a.leaving, a.reapAt = s.netClock, true, s.clk.Now().Add(s.reap+networkReapExtra)
	s.broadcastNetworkLocked(networkEvent{Member: s.name, Network: nw, Lamport: s.netClock, Leave: true})
	var ks []entryKey
	for k := range s.entries {
		if k.network == nw {
			ks = append(ks, k)
		}
	}
	sortKeys(ks)
	reason := "we left network " + nw
	for _, k := range ks {
		e := s.entries[k]
		if e.owner == s.name {
			if !e.deleted {
				s.lamport++
				e.lamport, e.deleted, e.reapAt = s.lamport, true, s.clk.Now().Add(s.reap)
			}
			continue
		}
		delete(s.entries, k)
		if !e.deleted {
			s.changedLocked(OpDelete, k, e, Origin{}, reason)
		}
	}
	s.traceLocked(trace.Event{Op: trace.OpNetworkLeft, Member: s.name, Network: nw})
	s.armReapLocked()
	s.unlockAndFlush()
	return nil
}

func (s *Store) attachLocked(member, nw string, a *attached) {
	m := s.nets[member]
	if m == nil {
		m = map[string]*attached{}
		s.nets[member] = m
	}
	m[nw] = a
}

func (s *Store) broadcastNetworkLocked(n networkEvent) {
	s.out = append(s.out, outItem{bc: &Broadcast{ID: "net/" + n.Member + "/" + n.Network, Body: appendNetwork(nil, n)}})
}

func (s *Store) broadcastTableLocked(t tableEvent) {
	s.out = append(s.out, outItem{bc: &Broadcast{Network: t.Network, ID: t.Table + "/" + t.Key, Body: appendTable(nil, t)}})
}

// maxEvent is the largest table event: it must fit a bulk sync message
// with the longest names, and so a gossip message too.
const maxEvent = MaxPacket - (2 + 1 + MaxName + 4 + 1 + 4 + 1 + MaxName + 2) - partOverhead

// ErrNotInNetwork is returned for a write to a network this member has
// not joined.
var ErrNotInNetwork = errors.New("netdb: not in that network")

// ErrOwned is returned for a write to a key another member owns.
var ErrOwned = errors.New("netdb: the key is owned by another member")

// Put creates or updates the entry (nw, table, key), owned by this member,
// and gossips it.
func (s *Store) Put(nw, table, key string, value []byte) error {
	t := tableEvent{Op: OpCreate, Network: nw, Table: table, Key: key, Owner: s.name, Value: slices.Clone(value)}
	if err := checkEvent(t); err != nil {
		return err
	}
	s.mu.Lock()
	if a := s.nets[s.name][nw]; a == nil || a.leaving {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s is not in %q", ErrNotInNetwork, s.name, nw)
	}
	k := entryKey{nw, table, key}
	e := s.entries[k]
	if e != nil && !e.deleted {
		if e.owner != s.name {
			s.mu.Unlock()
			return fmt.Errorf("%w: %s/%s/%s is %s's", ErrOwned, nw, table, key, e.owner)
		}
		t.Op = OpUpdate
	}
	s.lamport++
	t.Lamport = s.lamport
	s.entries[k] = &entry{value: t.Value, owner: s.name, lamport: t.Lamport}
	s.broadcastTableLocked(t)
	s.unlockAndFlush()
	return nil
}

// Delete deletes this member's entry (nw, table, key), leaving a
// tombstone for the reap interval, and gossips the delete.
func (s *Store) Delete(nw, table, key string) error {
	s.mu.Lock()
	k := entryKey{nw, table, key}
	e := s.entries[k]
	switch {
	case e == nil || e.deleted:
		s.mu.Unlock()
		return fmt.Errorf("netdb: no entry %s/%s/%s to delete", nw, table, key)
	case e.owner != s.name:
		s.mu.Unlock()
		return fmt.Errorf("%w: %s/%s/%s is %s's", ErrOwned, nw, table, key, e.owner)
	}
	s.lamport++
	e.lamport, e.deleted, e.reapAt = s.lamport, true, s.clk.Now().Add(s.reap)
	s.broadcastTableLocked(tableEvent{Op: OpDelete, Network: nw, Table: table, Key: key, Owner: s.name,
		Lamport: e.lamport, Reap: uint32(s.reap / time.Second), Value: e.value})
	s.armReapLocked()
	s.unlockAndFlush()
	return nil
}

func checkEvent(t tableEvent) error {
	switch {
	case t.Network == "" || len(t.Network) > MaxName:
		return fmt.Errorf("netdb: network name %q: empty or longer than %d bytes", t.Network, MaxName)
	case t.Table == "" || len(t.Table) > MaxName:
		return fmt.Errorf("netdb: table name %q: empty or longer than %d bytes", t.Table, MaxName)
	case t.Key == "" || len(t.Key) > MaxKey:
		return fmt.Errorf("netdb: key %q: empty or longer than %d bytes", t.Key, MaxKey)
	case len(t.Value) > MaxValue:
		return fmt.Errorf("netdb: value of %d bytes, at most %d", len(t.Value), MaxValue)
	case tableSize(t) > maxEvent:
		return fmt.Errorf("netdb: entry %s/%s/%s of %d bytes does not fit a packet (at most %d)", t.Network, t.Table, t.Key, tableSize(t), maxEvent)
	}
	for _, s := range []string{t.Network, t.Table, t.Key} {
		for _, c := range []byte(s) {
			if c < 0x20 || c == 0x7f {
				return fmt.Errorf("netdb: name %q has a control byte", s)
			}
		}
	}
	return nil
}

// Entries returns the live entries of a table of a network, by key.
func (s *Store) Entries(nw, table string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	for k, e := range s.entries {
		if k.network == nw && k.table == table && !e.deleted {
			out = append(out, s.entryOf(k, e))
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Tombstones returns the number of deleted entries still kept.
func (s *Store) Tombstones() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.entries {
		if e.deleted {
			n++
		}
	}
	return n
}

// Networks returns the networks this member is in, sorted.
func (s *Store) Networks() []string {
	return s.NetworksOf(s.name)
}

// NetworksOf returns the networks a member is in (not leaving), as known
// here, sorted.
func (s *Store) NetworksOf(member string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for nw, a := range s.nets[member] {
		if !a.leaving {
			out = append(out, nw)
		}
	}
	slices.Sort(out)
	return out
}

// NetworkMembers returns the members in nw (this one included if it is),
// as known here, sorted.
func (s *Store) NetworkMembers(nw string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.networkMembersLocked(nw)
}

func (s *Store) networkMembersLocked(nw string) []string {
	var out []string
	for m, ns := range s.nets {
		if a := ns[nw]; a != nil && !a.leaving {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// CommonNetworks returns the networks both this member and member are in,
// sorted (NetworkDB's findCommonNetworks).
func (s *Store) CommonNetworks(member string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for nw, a := range s.nets[s.name] {
		if b := s.nets[member][nw]; !a.leaving && b != nil && !b.leaving {
			out = append(out, nw)
		}
	}
	slices.Sort(out)
	return out
}

// HandleMessage takes a message of table and network events another
// member sent: a gossip message whose parts are events (memberlist's
// user messages), or a bulk sync. Membership parts are refused here;
// DB takes those itself. When the message is the first part of an
// unsolicited bulk sync of a network this member is in, it returns that
// network: the layer answers with its own (BulkSync).
func (s *Store) HandleMessage(o Origin, msg []byte) (answer string) {
	m, err := decode(msg)
	if err != nil {
		s.Reject(o, reasonOf(err), fmt.Sprintf("%s: %v", reasonOf(err), err))
		return ""
	}
	s.mu.Lock()
	o.Member = m.From
	if !o.Addr.IsValid() {
		o.Addr = s.members[m.From]
	}
	s.mu.Unlock()
	switch m.Type {
	case typeGossip:
		o.Round = int(m.Round)
		s.mu.Lock()
		for _, p := range m.Parts {
			switch p.Type {
			case typeTable:
				s.applyTableLocked(o, p.Table)
			case typeNetwork:
				s.applyNetworkLocked(o, p.Net)
			default:
				s.rejectLocked(o, ReasonUnexpected, fmt.Sprintf("a membership record (type %d) among table events", p.Type))
			}
		}
		s.unlockAndFlush()
	case typeBulkSync:
		o.Round, o.Bulk = 0, true
		s.handleBulk(o, m)
		if m.Flags&flagUnsolicited != 0 && m.Part == 0 && slices.Contains(s.Networks(), m.Network) {
			return m.Network
		}
	default:
		s.Reject(o, ReasonUnexpected, fmt.Sprintf("message type %d where table events were expected", m.Type))
	}
	return ""
}

// BroadcastMessage is the message that carries one broadcast on its own,
// from this member: what a layer whose transport takes whole messages
// (memberlist's user messages) sends for it.
func (s *Store) BroadcastMessage(b Broadcast) []byte {
	return encodeGossip(s.name, 0, [][]byte{b.Body})
}

// handleBulk applies a bulk sync's entries for its network.
func (s *Store) handleBulk(o Origin, m message) {
	s.mu.Lock()
	if a := s.nets[s.name][m.Network]; a == nil || a.leaving {
		s.ignored[IgnoredNotInNetwork] += uint64(len(m.Entries))
		s.unlockAndFlush()
		return
	}
	reason := "received"
	if m.Total > 1 {
		reason = fmt.Sprintf("received, part %d of %d", m.Part+1, m.Total)
	}
	s.traceLocked(trace.Event{Op: trace.OpBulkSync, Member: o.Member, Network: m.Network, Count: len(m.Entries), Reason: reason})
	for _, t := range m.Entries {
		if t.Network != m.Network {
			s.rejectLocked(o, ReasonUnexpected, fmt.Sprintf("an entry of %s in a bulk sync of %s", t.Network, m.Network))
			continue
		}
		s.applyTableLocked(o, t)
	}
	s.unlockAndFlush()
}

// newer reports whether an event at (lamport, owner) supersedes an entry:
// the later Lamport time wins, then the greater owner name.
func newer(lamport uint64, owner string, e *entry) bool {
	return lamport > e.lamport || lamport == e.lamport && owner > e.owner
}

// applyTableLocked applies a table event another member sent, after
// NetworkDB's handleTableEvent, with the validations netyard adds; it
// relays what it took.
func (s *Store) applyTableLocked(o Origin, t tableEvent) {
	if t.Lamport > s.lamport {
		s.lamport = t.Lamport // witness: our next write is later than anything seen
	}
	if t.Owner == s.name {
		s.ignored[IgnoredOwn]++
		return
	}
	if a := s.nets[s.name][t.Network]; a == nil || a.leaving {
		s.ignored[IgnoredNotInNetwork]++
		return
	}
	if a := s.nets[t.Owner][t.Network]; a == nil || a.leaving {
		s.ignored[IgnoredOwnerAbsent]++
		return
	}
	k := entryKey{t.Network, t.Table, t.Key}
	e := s.entries[k]
	switch {
	case e != nil && !newer(t.Lamport, t.Owner, e):
		s.ignored[IgnoredStale]++
		return
	case e == nil && t.Op == OpDelete && !o.Bulk:
		// NetworkDB: a delete of an unknown entry by gossip may be older
		// than its reap time; only a bulk sync's is trusted.
		s.ignored[IgnoredStale]++
		return
	}
	if e != nil && !e.deleted && e.owner != t.Owner {
		if e.owner == s.name || s.members[e.owner].IsValid() {
			s.rejectLocked(o, ReasonOwned, fmt.Sprintf("claims %s, which %s owns", t.Key, e.owner))
			return
		}
	}
	if t.Op != OpDelete {
		if why := s.validateLocked(o, t); why != "" {
			return
		}
		if s.accept != nil {
			cand := Entry{Network: t.Network, Table: t.Table, Key: t.Key, Value: t.Value, Owner: t.Owner,
				OwnerAddr: s.ownerAddrLocked(t.Owner), Lamport: t.Lamport}
			if why := s.accept(cand); why != "" {
				s.rejectLocked(o, ReasonRefused, why)
				return
			}
		}
	}
	was := e
	n := &entry{value: t.Value, owner: t.Owner, lamport: t.Lamport}
	reason := "gossip"
	if o.Bulk {
		reason = "bulk sync"
	}
	if t.Op == OpDelete {
		n.deleted = true
		n.reapAt = s.clk.Now().Add(min(time.Duration(t.Reap)*time.Second, s.reap))
		if t.Reap == 0 {
			n.reapAt = s.clk.Now().Add(s.reap)
		}
		if was != nil && len(n.value) == 0 {
			n.value = was.value
		}
	}
	s.entries[k] = n
	s.applied++
	switch {
	case t.Op == OpDelete && was != nil && !was.deleted:
		s.changedLocked(OpDelete, k, was, o, s.deleteReason(o, t))
	case t.Op == OpDelete:
	case was == nil || was.deleted:
		s.changedLocked(OpCreate, k, n, o, reason)
	default:
		s.changedLocked(OpUpdate, k, n, o, reason)
	}
	if t.Op == OpDelete {
		s.armReapLocked()
		if was == nil && time.Duration(t.Reap)*time.Second <= s.reap/6 {
			return // NetworkDB: an old delete of an entry never seen is not worth relaying
		}
	}
	if o.Bulk && s.gossip.Queued(t.Network) > maxQueuedOnSync {
		return
	}
	if t.Op == OpDelete {
		t.Reap = uint32(n.reapAt.Sub(s.clk.Now()) / time.Second)
	}
	s.broadcastTableLocked(t)
}

func (s *Store) deleteReason(o Origin, t tableEvent) string {
	if o.Bulk {
		return fmt.Sprintf("%s deleted it (bulk sync from %s)", t.Owner, o.Member)
	}
	return fmt.Sprintf("%s deleted it (gossip from %s, round %d)", t.Owner, o.Member, o.Round)
}

// validateLocked checks the values of the tables netyard knows, and
// returns why one is refused ("" when fine), counting and tracing it.
func (s *Store) validateLocked(o Origin, t tableEvent) string {
	var err error
	switch t.Table {
	case PeerTable:
		var r PeerRecord
		err = r.Unmarshal(t.Value)
	case EndpointTable:
		var r EndpointRecord
		err = r.Unmarshal(t.Value)
	}
	if err == nil {
		return ""
	}
	why := fmt.Sprintf("%s's %s entry %s does not decode: %v", t.Owner, t.Table, t.Key, err)
	s.rejectLocked(o, ReasonBadRecord, why)
	return why
}

// applyNetworkLocked applies another member's network attachment change
// (NetworkDB's handleNetworkEvent) and relays it when it was news.
func (s *Store) applyNetworkLocked(o Origin, n networkEvent) {
	if n.Lamport >= s.netClock {
		s.netClock = n.Lamport + 1
	}
	if n.Member == s.name {
		s.ignored[IgnoredOwn]++
		return
	}
	if !s.members[n.Member].IsValid() {
		s.ignored[IgnoredUnknown]++
		return
	}
	a := s.nets[n.Member][n.Network]
	switch {
	case a != nil && a.lamport >= n.Lamport:
		s.ignored[IgnoredStale]++
		return
	case a == nil && n.Leave:
		s.ignored[IgnoredStale]++
		return
	case a == nil:
		s.attachLocked(n.Member, n.Network, &attached{lamport: n.Lamport})
		s.traceLocked(trace.Event{Op: trace.OpNetworkJoined, Member: n.Member, Network: n.Network})
	case n.Leave:
		wasLeaving := a.leaving
		a.lamport, a.leaving, a.reapAt = n.Lamport, true, s.clk.Now().Add(s.reap+networkReapExtra)
		if !wasLeaving {
			s.memberLeftNetworkLocked(n.Member, n.Network)
			s.traceLocked(trace.Event{Op: trace.OpNetworkLeft, Member: n.Member, Network: n.Network})
		}
		s.armReapLocked()
	default:
		wasLeaving := a.leaving
		a.lamport, a.leaving, a.reapAt = n.Lamport, false, time.Time{}
		if wasLeaving {
			s.traceLocked(trace.Event{Op: trace.OpNetworkJoined, Member: n.Member, Network: n.Network})
		}
	}
	s.broadcastNetworkLocked(n)
}

// memberLeftNetworkLocked marks a member's entries of a network it left as
// deleted (NetworkDB's deleteNodeNetworkEntries for a remote node), so
// that a bulk sync carries their deletion on.
func (s *Store) memberLeftNetworkLocked(member, nw string) {
	var ks []entryKey
	for k, e := range s.entries {
		if k.network == nw && e.owner == member && !e.deleted {
			ks = append(ks, k)
		}
	}
	sortKeys(ks)
	for _, k := range ks {
		e := s.entries[k]
		old := *e
		e.deleted, e.reapAt = true, s.clk.Now().Add(s.reap)
		s.changedLocked(OpDelete, k, &old, Origin{Member: member}, member+" left network "+nw)
	}
}

// armReapLocked arms the reap timer for the earliest tombstone or left
// network.
func (s *Store) armReapLocked() {
	var next time.Time
	for _, e := range s.entries {
		if e.deleted && (next.IsZero() || e.reapAt.Before(next)) {
			next = e.reapAt
		}
	}
	for _, ns := range s.nets {
		for _, a := range ns {
			if a.leaving && (next.IsZero() || a.reapAt.Before(next)) {
				next = a.reapAt
			}
		}
	}
	if next.IsZero() || !s.reapAt.IsZero() && !next.Before(s.reapAt) {
		return
	}
	s.reapAt = next
	d := next.Sub(s.clk.Now())
	if s.reapTimer == nil {
		s.reapTimer = s.clk.AfterFunc(d, s.reapDue)
	} else {
		s.reapTimer.Reset(d)
	}
}

// reapDue removes the tombstones and left attachments whose time has
// come (NetworkDB's reapState, at the exact instant instead of every 5 s).
func (s *Store) reapDue() {
	s.mu.Lock()
	now := s.clk.Now()
	s.reapAt = time.Time{}
	for k, e := range s.entries {
		if e.deleted && !e.reapAt.After(now) {
			delete(s.entries, k)
		}
	}
	for m, ns := range s.nets {
		for nw, a := range ns {
			if a.leaving && !a.reapAt.After(now) {
				delete(ns, nw)
			}
		}
		if len(ns) == 0 {
			delete(s.nets, m)
		}
	}
	s.armReapLocked()
	s.mu.Unlock()
}

// Stop stops the reap timer.
func (s *Store) Stop() {
	s.mu.Lock()
	if s.reapTimer != nil {
		s.reapTimer.Stop()
	}
	s.reapAt = time.Time{}
	s.mu.Unlock()
}

// BulkSync encodes network nw's entries (tombstones included, with the
// time they have left) as bulk sync messages within MaxPacket, and traces
// the sync with member ("sent" or "sent in answer"), unless member is ""
// (the tables of a push/pull).
func (s *Store) BulkSync(nw, member string, unsolicited bool) [][]byte {
	s.mu.Lock()
	now := s.clk.Now()
	var ks []entryKey
	for k := range s.entries {
		if k.network == nw {
			ks = append(ks, k)
		}
	}
	sortKeys(ks)
	evs := make([]tableEvent, 0, len(ks))
	for _, k := range ks {
		e := s.entries[k]
		t := tableEvent{Op: OpCreate, Network: nw, Table: k.table, Key: k.key, Owner: e.owner, Lamport: e.lamport, Value: e.value}
		if e.deleted {
			t.Op, t.Reap = OpDelete, uint32(max(e.reapAt.Sub(now), time.Second)/time.Second)
		}
		evs = append(evs, t)
	}
	s.syncID++
	var flags byte
	reason := "sent in answer"
	if unsolicited {
		flags, reason = flagUnsolicited, "sent"
	}
	msgs := encodeBulkSync(s.name, s.syncID, flags, nw, evs)
	if member != "" {
		s.traceLocked(trace.Event{Op: trace.OpBulkSync, Member: member, Network: nw, Count: len(evs), Reason: reason})
	}
	s.unlockAndFlush()
	return msgs
}

// NetworkState returns every member's network attachments as known here
// (NetworkDB's LocalState), as one gossip message of network events;
// bumpOwn first moves this member's own attachments to a new Lamport
// time, as NetworkDB does on a join, so that a member that had them as
// left takes them again.
func (s *Store) NetworkState(bumpOwn bool) []byte {
	var bodies [][]byte
	for _, n := range s.networkEvents(bumpOwn) {
		bodies = append(bodies, appendNetwork(nil, n))
	}
	return encodeGossip(s.name, 0, bodies)
}

// networkEvents returns every attachment as a network event, in (member,
// network) order, bumping this member's own first when asked.
func (s *Store) networkEvents(bumpOwn bool) []networkEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bumpOwn {
		s.netClock++
		for _, a := range s.nets[s.name] {
			a.lamport = s.netClock
		}
	}
	return s.networkEventsLocked()
}

// applyTable and applyNetwork apply one event a layer decoded.
func (s *Store) applyTable(o Origin, t tableEvent) {
	s.mu.Lock()
	s.applyTableLocked(o, t)
	s.unlockAndFlush()
}

func (s *Store) applyNetwork(o Origin, n networkEvent) {
	s.mu.Lock()
	s.applyNetworkLocked(o, n)
	s.unlockAndFlush()
}

// networkEventsLocked returns every attachment as a network event, in
// (member, network) order.
func (s *Store) networkEventsLocked() []networkEvent {
	var out []networkEvent
	for m, ns := range s.nets {
		for nw, a := range ns {
			out = append(out, networkEvent{Member: m, Network: nw, Lamport: a.lamport, Leave: a.leaving})
		}
	}
	slices.SortFunc(out, func(a, b networkEvent) int {
		return cmp.Or(cmp.Compare(a.Member, b.Member), cmp.Compare(a.Network, b.Network))
	})
	return out
}

// StoreStats are the Store's counters.
type StoreStats struct {
	Applied    uint64            // events that changed an entry
	Entries    int               // live entries held
	Tombstones int               // deleted entries held until reaped
	Rejected   map[string]uint64 // refused, by reason
	Ignored    map[string]uint64 // ignored, by reason
}

// Stats returns the Store's counters.
func (s *Store) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := StoreStats{Applied: s.applied, Rejected: maps(s.rejected), Ignored: maps(s.ignored)}
	for _, e := range s.entries {
		if e.deleted {
			st.Tombstones++
		} else {
			st.Entries++
		}
	}
	return st
}

func maps(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
