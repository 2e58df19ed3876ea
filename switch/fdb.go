package vswitch

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// fdbKey identifies an address within a VLAN (IVL: independent VLAN learning).
type fdbKey struct {
	vlan uint16
	mac  MAC
}

// fdbEntry is one learned address. port and seen are atomics so a refresh
// needs only the read lock.
type fdbEntry struct {
	port atomic.Int32
	seen atomic.Int64 // clock time of the last frame from this address, UnixNano
}

// fdb is the forwarding database.
type fdb struct {
	mu      sync.RWMutex
	entries map[fdbKey]*fdbEntry // guarded by mu
	max     int                  // immutable after New
	ageing  atomic.Int64         // nanoseconds
	timer   clockTimer           // guarded by mu; ageing timer, nil when idle
	armedAt int64                // guarded by mu; deadline of timer
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

// expired reports whether an entry last seen at seen has aged out at now.
func (f *fdb) expired(seen, now int64) bool {
	return now-seen >= f.ageing.Load()
}

// lookup returns the port of (vlan, mac), or -1.
func (f *fdb) lookup(vlan uint16, mac MAC, now int64) int {
	f.mu.RLock()
	e := f.entries[fdbKey{vlan, mac}]
	f.mu.RUnlock()
	if e == nil || f.expired(e.seen.Load(), now) {
		return -1
	}
	return int(e.port.Load())
}

// learnResult says what learn did.
type learnResult uint8

const (
	learnRefreshed learnResult = iota
	learnNew
	learnMoved
	learnFull
)

// learn records that mac was seen on port in vlan at now. The caller arms the
// ageing timer when learnNew says an entry was added.
func (f *fdb) learn(vlan uint16, mac MAC, port int, now int64) (res learnResult, from int) {
	k := fdbKey{vlan, mac}
	f.mu.RLock()
	e := f.entries[k]
	f.mu.RUnlock()
	if e != nil {
		e.seen.Store(now)
		old := e.port.Load()
		if int(old) == port {
			return learnRefreshed, port
		}
		if e.port.CompareAndSwap(old, int32(port)) {
			return learnMoved, int(old)
		}
		return learnRefreshed, port
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e = f.entries[k]; e != nil { // learned meanwhile by another port
		e.seen.Store(now)
		e.port.Store(int32(port))
		return learnRefreshed, port
	}
	if len(f.entries) >= f.max {
		return learnFull, -1
	}
	e = &fdbEntry{}
	e.port.Store(int32(port))
	e.seen.Store(now)
	f.entries[k] = e
	return learnNew, -1
}

// removed is an entry taken out of the table.
type removed struct {
	key  fdbKey
	port int
}

// expireLocked removes entries aged out at now and returns them sorted by
// (vlan, mac), and the earliest deadline left (0 if none).
func (f *fdb) expireLocked(now int64) (gone []removed, next int64) {
	age := f.ageing.Load()
	for k, e := range f.entries {
		seen := e.seen.Load()
		if now-seen >= age {
			gone = append(gone, removed{k, int(e.port.Load())})
			delete(f.entries, k)
			continue
		}
		if d := seen + age; next == 0 || d < next {
			next = d
		}
	}
	sortRemoved(gone)
	return gone, next
}

// flushPortLocked removes every entry on port.
func (f *fdb) flushPortLocked(port int) (gone []removed) {
	for k, e := range f.entries {
		if int(e.port.Load()) == port {
			gone = append(gone, removed{k, port})
			delete(f.entries, k)
		}
	}
	sortRemoved(gone)
	return gone
}

func sortRemoved(r []removed) {
	slices.SortFunc(r, func(a, b removed) int {
		if c := cmp.Compare(a.key.vlan, b.key.vlan); c != 0 {
			return c
		}
		return slices.Compare(a.key.mac[:], b.key.mac[:])
	})
}
