package vswitch

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The forwarding database is an open-addressing hash table (linear probing)
// whose slots are atomics, so that the forwarding path reads it without any
// lock: looking up a destination, refreshing a known source's timestamp and
// noticing a move are atomic loads, an occasional store and a CAS. Adding or
// removing an address takes fdb.mu, a mutex only writers use; growing the
// table builds a new one and publishes it through an atomic pointer.
//
// A slot's key packs VLAN and MAC into 64 bits (vlan<<48 | mac). Key 0 is an
// empty slot (no VLAN 0 entry is ever learned); tomb marks a removed one.
// A writer publishes a slot by storing its key last, and a reader
// re-checks the key after reading port and time, so it never mixes two
// entries' fields.

const (
	tomb       = ^uint64(0)
	minSlots   = 64
	maxLoadNum = 3 // grow or rebuild when used slots exceed 3/4
	maxLoadDen = 4
	hashMul    = 0x9E3779B97F4A7C15 // Fibonacci hashing
)

func fdbKeyOf(vlan uint16, m MAC) uint64 {
	return uint64(vlan)<<48 | uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 |
		uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

func splitKey(k uint64) (uint16, MAC) {
	return uint16(k >> 48), MAC{byte(k >> 40), byte(k >> 32), byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
}

type slot struct {
	key  atomic.Uint64
	port atomic.Int32
	seen atomic.Int64 // clock time of the last frame from this address, UnixNano
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

// find returns the slot holding key, or nil. Lock-free.
func (t *table) find(key uint64) *slot {
	mask := uint64(len(t.slots) - 1)
	for i := (key * hashMul) >> t.shift; ; i = (i + 1) & mask {
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
	tab     atomic.Pointer[table] // replaced under mu
	max     int                   // immutable after New
	ageing  atomic.Int64          // nanoseconds
	timer   clockTimer            // guarded by mu; ageing timer
	armed   bool                  // guarded by mu; the timer is pending
	armedAt int64                 // guarded by mu; its deadline
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

func (f *fdb) init(max int, ageing time.Duration) {
	f.max = max
	f.ageing.Store(int64(ageing))
	f.tab.Store(newTable(minSlots))
}

// expired reports whether an entry last seen at seen has aged out at now.
func (f *fdb) expired(seen, now int64) bool {
	return now-seen >= f.ageing.Load()
}

// read returns the port and time of key, consistently, or ok false.
func (f *fdb) read(key uint64) (port int, seen int64, s *slot, ok bool) {
	for {
		s = f.tab.Load().find(key)
		if s == nil {
			return -1, 0, nil, false
		}
		port, seen = int(s.port.Load()), s.seen.Load()
		if s.key.Load() == key {
			return port, seen, s, true
		}
		// The slot was reused while we read it: look again.
	}
}

// lookup returns the port of key, or -1 if unknown or aged out.
func (f *fdb) lookup(key uint64, now int64) int {
	port, seen, _, ok := f.read(key)
	if !ok || f.expired(seen, now) {
		return -1
	}
	return port
}

// learnResult says what learn did.
type learnResult uint8

const (
	learnRefreshed learnResult = iota
	learnNew
	learnMoved
	learnFull
)

// learn records that the address of key was seen on port at now. For a new
// entry it makes sure the ageing timer will fire by its deadline (arm is
// called with mu held).
func (f *fdb) learn(key uint64, port int, now int64, arm func(deadline, now int64)) (res learnResult, from int) {
	if old, seen, s, ok := f.read(key); ok && !f.expired(seen, now) {
		if seen != now {
			s.seen.Store(now)
		}
		if old == port {
			return learnRefreshed, port
		}
		if s.port.CompareAndSwap(int32(old), int32(port)) {
			return learnMoved, old
		}
		return learnRefreshed, port
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tab.Load()
	if s := t.find(key); s != nil { // learned meanwhile, or aged but not yet collected
		s.seen.Store(now)
		s.port.Store(int32(port))
		arm(now+f.ageing.Load(), now)
		return learnNew, -1
	}
	if t.live >= f.max {
		return learnFull, -1
	}
	if (t.used+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		t = f.rebuildLocked(t)
	}
	mask := uint64(len(t.slots) - 1)
	for i := (key * hashMul) >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		k := s.key.Load()
		if k != 0 && k != tomb {
			continue
		}
		if k == 0 {
			t.used++
		}
		t.live++
		s.port.Store(int32(port))
		s.seen.Store(now)
		s.key.Store(key) // publish last
		break
	}
	arm(now+f.ageing.Load(), now)
	return learnNew, -1
}

// rebuildLocked replaces t by a table without tombstones, twice as large if
// the live entries need it, and returns it. A refresh that a concurrent
// reader writes into the old table during the copy is lost; the next frame
// from that address refreshes it again.
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
		for j := (k * hashMul) >> nt.shift; ; j = (j + 1) & mask {
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
	return nt
}

// removed is an entry taken out of the table.
type removed struct {
	key  uint64
	port int
}

// removeLocked drops the entries for which gone reports true, and returns
// them sorted by (vlan, mac).
func (f *fdb) removeLocked(gone func(port int, seen int64) bool) []removed {
	t := f.tab.Load()
	var out []removed
	for i := range t.slots {
		s := &t.slots[i]
		k := s.key.Load()
		if k == 0 || k == tomb {
			continue
		}
		if p := int(s.port.Load()); gone(p, s.seen.Load()) {
			s.key.Store(tomb)
			t.live--
			out = append(out, removed{k, p})
		}
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
