package vswitch

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The forwarding database is an open-addressing hash table (linear probing)
// whose slots are atomics, so that the forwarding path reads it, and
// refreshes the addresses it knows, without any lock. Everything else takes
// fdb.mu: adding an address, moving one to another port, removing one
// (ageing, flushes), growing or compacting the table (a new table,
// published through an atomic pointer).
//
// A slot's key packs VLAN and MAC into 64 bits (vlan<<48 | mac). Key 0 is an
// empty slot (no VLAN 0 entry is ever learned); tomb marks a removed one.
// The rules that make the lock-free paths safe:
//
//   - A slot holds one key for the life of its table: empty, then key,
//     then tomb (and, for an instant under mu, key again: see below). A
//     tomb is never reused; only a rebuild reclaims it, into a new table.
//     So whatever slot pointer a reader holds, the port and time it reads
//     there, or the time it writes there, belong to the key it looked up,
//     never to another one.
//   - A slot's port changes only under mu (insert and move), so a lookup
//     returns a port its key was learned on.
//   - The lock-free refresh raises seen with a CAS (it never goes back) and
//     then checks that its write landed in a live entry of the live table:
//     key still there, still on its port, the table still the published
//     one. If not, it redoes the learning under mu. The writers mirror
//     that: a remover stores tomb and then reads seen again, and puts the
//     key back if a refresh made the entry live meanwhile; a rebuild
//     publishes the new table and then carries over, slot by slot, the
//     times refreshed in the old one. With sequentially consistent atomics,
//     of two such store-then-load pairs at least one side sees the other's
//     store, so no refresh is lost and none revives an entry after its
//     removal was reported; and no refresh waits for a rebuild, except
//     one that straddles the instant the new table is published.
//   - Under mu, a port is stored before the time that makes it live, and
//     lookups read the time before the port: a reader that sees a fresh
//     time sees the port that goes with it.

const (
	tomb       = ^uint64(0)
	minSlots   = 64
	maxLoadNum = 3 // rebuild when used slots (live + tombs) would exceed 3/4
	maxLoadDen = 4
	hashMul    = 0x9E3779B97F4A7C15 // Fibonacci hashing
)

func fdbKeyOf(vlan uint16, m MAC) uint64 {
	return uint64(vlan)<<48 | m.Uint64()
}

func splitKey(k uint64) (uint16, MAC) {
	return uint16(k >> 48), macOf(k)
}

type slot struct {
	key  atomic.Uint64
	port atomic.Int32 // written under fdb.mu only
	seen atomic.Int64 // clock time of the last frame from this address, UnixNano; only rises while the slot holds its key
}

type table struct {
	slots []slot
	shift uint8 // 64 - log2(len(slots))
	used  int   // live + tombstones; guarded by fdb.mu
	live  int   // guarded by fdb.mu
}

func newTable(n int) *table {
	bits := uint8(0)
	for 1<<bits < n {
		bits++
	}
	return &table{slots: make([]slot, 1<<bits), shift: 64 - bits}
}

func (t *table) home(key uint64) uint64 { return (key * hashMul) >> t.shift }

// find returns the slot holding key, or nil. Lock-free. It always ends: a
// table is never more than 3/4 used, so every probe reaches an empty slot.
func (t *table) find(key uint64) *slot {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key.Load() {
		case key:
			return s
		case 0:
			return nil
		}
	}
}

// fdb is the forwarding database.
type fdb struct {
	mu      sync.Mutex
	tab     atomic.Pointer[table]     // replaced under mu
	max     int                       // immutable after init
	ageing  atomic.Int64              // nanoseconds
	arm     func(deadline, now int64) // called with mu held for every new entry; immutable after init
	timer   clockTimer                // guarded by mu; ageing timer
	armed   bool                      // guarded by mu; the timer is pending
	armedAt int64                     // guarded by mu; its deadline
}

// clockTimer is the part of clock.Timer the FDB uses.
type clockTimer interface{ Reset(time.Duration) bool }

// FDBEntry is a learned address, as reported by Switch.FDB.
type FDBEntry struct {
	VLAN uint16
	MAC  MAC
	Port string
	Age  time.Duration // time since the address was last seen
}

func (f *fdb) init(max int, ageing time.Duration, arm func(deadline, now int64)) {
	f.max = max
	f.ageing.Store(int64(ageing))
	f.arm = arm
	f.tab.Store(newTable(minSlots))
}

// expired reports whether an entry last seen at seen has aged out at now.
func (f *fdb) expired(seen, now int64) bool {
	return now-seen >= f.ageing.Load()
}

// lookup returns the port of key, or -1 if unknown or aged out. Lock-free.
// A lookup racing a removal may return the removed entry's port (it was
// true a moment ago), or miss an entry that a remover takes out and puts
// back (the frame is flooded).
func (f *fdb) lookup(key uint64, now int64) int {
	s := f.tab.Load().find(key)
	if s == nil {
		return -1
	}
	seen := s.seen.Load() // before the port: see learnSlow
	if f.expired(seen, now) {
		return -1
	}
	return int(s.port.Load())
}

// learnResult says what learn did.
type learnResult uint8

const (
	learnRefreshed learnResult = iota
	learnNew
	learnMoved
	learnFull
	learnRefused // the port stopped learning (down, blocked) while the frame was in flight
	numLearnResults
)

// noLearn are the port state bits under which a port learns nothing.
const noLearn = stDown | stNoCarrier | stMonitor | stNoLearn

// learn records that the address of key was seen on port p at now.
func (f *fdb) learn(key uint64, p *port, now int64) (res learnResult, from int) {
	t := f.tab.Load()
	return f.learnIn(t, t.find(key), key, p, now)
}

// learnIn is learn once key has been looked up in t (s is its slot, or nil).
// It is apart from learn, and made of alive and commit, so that tests can
// run writers at each point of the lock-free path.
func (f *fdb) learnIn(t *table, s *slot, key uint64, p *port, now int64) (res learnResult, from int) {
	if s != nil {
		if seen, ok := f.alive(s, p.idx, now); ok && f.commit(t, s, key, p.idx, seen, now) {
			return learnRefreshed, p.idx
		}
	}
	return f.learnSlow(key, p, now)
}

// alive reports whether the entry in s is alive at now and on port, with
// the time it was last seen: then the lock-free path may refresh it.
// Otherwise (aged, or a move) the slow path decides.
func (f *fdb) alive(s *slot, port int, now int64) (seen int64, ok bool) {
	seen = s.seen.Load()
	return seen, int(s.port.Load()) == port && !f.expired(seen, now)
}

// commit raises the time of the entry in s, found holding key on port in
// table t and last seen at seen, to now. It reports false if the write may
// not have landed in a live entry of the live table, or the entry moved
// meanwhile (the key was removed, a new table published, the address
// learned on another port): the slow path must redo it.
func (f *fdb) commit(t *table, s *slot, key uint64, port int, seen, now int64) bool {
	for seen < now {
		if s.seen.CompareAndSwap(seen, now) {
			return s.key.Load() == key && int(s.port.Load()) == port && f.tab.Load() == t
		}
		seen = s.seen.Load() // raised meanwhile by another frame
	}
	return true
}

// learnSlow is learn under mu: a new address, a move, an aged entry
// revived, or a refresh the fast path could not be sure of.
func (f *fdb) learnSlow(key uint64, p *port, now int64) (res learnResult, from int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The frame passed the port's state checks before it came here; a
	// flush that followed a state change must not be undone by it.
	if p.state.Load()&noLearn != 0 {
		return learnRefused, -1
	}
	port := int32(p.idx)
	t := f.tab.Load()
	if s := t.find(key); s != nil {
		seen, old := s.seen.Load(), s.port.Load()
		if old != port && seen > now && !f.expired(seen, now) {
			// A later frame (another goroutine's, in netns) has seen the
			// address on its port already: this older one does not move
			// it back.
			return learnRefreshed, int(old)
		}
		if old != port {
			s.port.Store(port) // before the time that makes it live: see lookup
		}
		raise(s, seen, now)
		switch {
		case f.expired(seen, now): // aged, not yet collected: learned anew
			f.arm(now+f.ageing.Load(), now)
			return learnNew, -1
		case old != port:
			return learnMoved, int(old)
		}
		return learnRefreshed, p.idx
	}
	if t.live >= f.max {
		return learnFull, -1
	}
	if (t.used+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		t = f.rebuildLocked(t)
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key.Load() != 0 { // live or tomb: tombs are not reused
			continue
		}
		t.used++
		t.live++
		s.port.Store(port)
		s.seen.Store(now)
		s.key.Store(key) // publish last
		break
	}
	f.arm(now+f.ageing.Load(), now)
	return learnNew, -1
}

// raise sets s.seen to now unless it is already later.
func raise(s *slot, seen, now int64) {
	for seen < now && !s.seen.CompareAndSwap(seen, now) {
		seen = s.seen.Load()
	}
}

// rebuildLocked replaces t by a table without tombstones, twice as large if
// the live entries need it, and returns it. Refreshes go on in t while it
// is copied; once the new table is published, the times they raised are
// carried over, and a refresh that lands in t after that sees the new
// table and is redone under mu.
func (f *fdb) rebuildLocked(t *table) *table {
	n := len(t.slots)
	if (t.live+1)*2 > n {
		n *= 2
	}
	nt := newTable(n)
	mask := uint64(len(nt.slots) - 1)
	for i := range t.slots {
		s := &t.slots[i]
		k := s.key.Load()
		if k == 0 || k == tomb {
			continue
		}
		for j := nt.home(k); ; j = (j + 1) & mask {
			d := &nt.slots[j]
			if d.key.Load() != 0 {
				continue
			}
			d.port.Store(s.port.Load())
			d.seen.Store(s.seen.Load())
			d.key.Store(k)
			break
		}
		nt.used++
		nt.live++
	}
	f.tab.Store(nt)
	for i := range t.slots { // the refreshes made during the copy
		s := &t.slots[i]
		if k := s.key.Load(); k != 0 && k != tomb {
			if d := nt.find(k); d != nil {
				raise(d, d.seen.Load(), s.seen.Load())
			}
		}
	}
	return nt
}

// removed is an entry taken out of the table.
type removed struct {
	key  uint64
	port int
}

// removeLocked drops the entries for which gone reports true, and returns
// them sorted by (vlan, mac). An entry refreshed as it is removed, so that
// gone no longer holds for it, is put back.
func (f *fdb) removeLocked(gone func(port int, seen int64) bool) []removed {
	t := f.tab.Load()
	var out []removed
	for i := range t.slots {
		s := &t.slots[i]
		k := s.key.Load()
		if k == 0 || k == tomb {
			continue
		}
		p, seen := int(s.port.Load()), s.seen.Load()
		if !gone(p, seen) {
			continue
		}
		s.key.Store(tomb)
		if again := s.seen.Load(); again != seen && !gone(p, again) {
			s.key.Store(k) // a refresh got in before the tomb: it stays
			continue
		}
		t.live--
		out = append(out, removed{k, p})
	}
	slices.SortFunc(out, func(a, b removed) int { return cmp.Compare(a.key, b.key) })
	return out
}

// expireLocked removes entries aged out at now and returns them, and the
// earliest deadline left (ok false if none).
func (f *fdb) expireLocked(now int64) (gone []removed, next int64, ok bool) {
	age := f.ageing.Load()
	gone = f.removeLocked(func(_ int, seen int64) bool {
		if now-seen >= age {
			return true
		}
		if d := seen + age; !ok || d < next {
			next, ok = d, true
		}
		return false
	})
	return gone, next, ok
}

// flushPortLocked removes every entry on port.
func (f *fdb) flushPortLocked(port int) []removed {
	return f.removeLocked(func(p int, _ int64) bool { return p == port })
}

// each calls fn for every live slot, under mu.
func (f *fdb) each(fn func(key uint64, port int, seen int64)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tab.Load()
	for i := range t.slots {
		s := &t.slots[i]
		if k := s.key.Load(); k != 0 && k != tomb {
			fn(k, int(s.port.Load()), s.seen.Load())
		}
	}
}
