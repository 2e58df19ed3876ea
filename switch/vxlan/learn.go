package vxlan

import (
	"net/netip"
	"sync"
)

// learnTable is the flood-and-learn table: remote MAC -> the VTEP it was
// last heard behind, bounded, each entry aged out ageing after the last
// frame from it. Entries sit on a list by last refresh, oldest first, so
// the next deadline is the first entry's and expiry takes from the front:
// every operation is O(1).
type learnTable struct {
	mu      sync.Mutex
	m       map[uint64]*lentry // guarded by mu; by MAC (MAC.Uint64)
	oldest  *lentry            // guarded by mu
	newest  *lentry            // guarded by mu
	armed   bool               // guarded by mu: a timer is pending for the oldest entry's deadline
	closed  bool               // guarded by mu: the VTEP was removed
	max     int
	ageing  int64 // nanoseconds
	arm     func(d int64)
	disarm  func()
	entries int // guarded by mu
}

type lentry struct {
	mac        uint64
	vtep       netip.Addr
	seen       int64 // Unix nanoseconds of the last frame
	prev, next *lentry
}

// learnResult says what learn did.
type learnResult uint8

const (
	learnRefreshed learnResult = iota // known behind that VTEP: its time refreshed
	learnAdded                        // new
	learnMoved                        // known behind another VTEP: moved
	learnFull                         // new, and the table is full: not learned
)

func (t *learnTable) init(max int, ageing int64, arm func(d int64), disarm func()) {
	t.m = map[uint64]*lentry{}
	t.max, t.ageing, t.arm, t.disarm = max, ageing, arm, disarm
}

// lookup returns the VTEP mac was learned behind, unless it has aged.
func (t *learnTable) lookup(mac uint64, now int64) (netip.Addr, bool) {
	t.mu.Lock()
	e := t.m[mac]
	if e == nil || now >= e.seen+t.ageing {
		t.mu.Unlock()
		return netip.Addr{}, false
	}
	a := e.vtep
	t.mu.Unlock()
	return a, true
}

// learn records that mac was heard behind vtep at now. It returns what it
// did and, for a move, the VTEP before.
func (t *learnTable) learn(mac uint64, vtep netip.Addr, now int64) (learnResult, netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return learnRefreshed, netip.Addr{}
	}
	if e := t.m[mac]; e != nil {
		was := e.vtep
		live := now < e.seen+t.ageing
		e.vtep, e.seen = vtep, now
		t.toBack(e)
		switch {
		case !live:
			return learnAdded, netip.Addr{} // it had aged; the timer had not run yet
		case was != vtep:
			return learnMoved, was
		}
		return learnRefreshed, netip.Addr{}
	}
	if t.entries >= t.max {
		// Linux's vxlan refuses to learn at its limit (maxaddress): make
		// room only from entries past their time.
		for t.oldest != nil && now >= t.oldest.seen+t.ageing && t.entries >= t.max {
			t.unlink(t.oldest)
		}
		if t.entries >= t.max {
			return learnFull, netip.Addr{}
		}
	}
	e := &lentry{mac: mac, vtep: vtep, seen: now}
	t.m[mac] = e
	t.entries++
	t.pushBack(e)
	if !t.armed {
		t.armed = true
		t.arm(e.seen + t.ageing - now)
	}
	return learnAdded, netip.Addr{}
}

// expire removes the entries whose time has come by now and returns
// them, oldest first; it re-arms the timer for the next deadline.
func (t *learnTable) expire(now int64) []lentry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed = false
	if t.closed {
		return nil
	}
	var gone []lentry
	for t.oldest != nil && now >= t.oldest.seen+t.ageing {
		e := t.oldest
		t.unlink(e)
		gone = append(gone, *e)
	}
	if t.oldest != nil {
		t.armed = true
		t.arm(t.oldest.seen + t.ageing - now)
	}
	return gone
}

// forget removes mac (a static entry has taken it over).
func (t *learnTable) forget(mac uint64) {
	t.mu.Lock()
	if e := t.m[mac]; e != nil {
		t.unlink(e)
	}
	t.mu.Unlock()
}

// close stops the timer and the learning.
func (t *learnTable) close() {
	t.mu.Lock()
	t.closed = true
	if t.armed {
		t.disarm()
		t.armed = false
	}
	t.mu.Unlock()
}

// live returns the entries that have not aged by now, in list order.
func (t *learnTable) live(now int64) []lentry {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []lentry
	for e := t.oldest; e != nil; e = e.next {
		if now < e.seen+t.ageing {
			out = append(out, *e)
		}
	}
	return out
}

// len returns the number of entries.
func (t *learnTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.entries
}

func (t *learnTable) pushBack(e *lentry) {
	e.prev, e.next = t.newest, nil
	if t.newest != nil {
		t.newest.next = e
	} else {
		t.oldest = e
	}
	t.newest = e
}

func (t *learnTable) detach(e *lentry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		t.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		t.newest = e.prev
	}
	e.prev, e.next = nil, nil
}

func (t *learnTable) toBack(e *lentry) {
	if t.newest == e {
		return
	}
	t.detach(e)
	t.pushBack(e)
}

func (t *learnTable) unlink(e *lentry) {
	t.detach(e)
	delete(t.m, e.mac)
	t.entries--
}
