package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Epoch is where a Manual clock starts: 2000-01-01 00:00:00 UTC, the
// simulator's epoch too, so that traces of core tests read like a run's.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var epochNanos = Epoch.UnixNano()

// Manual is a clock that moves only when told to, for core tests (after
// gVisor's faketime.ManualClock): Advance moves it forward and runs the
// timers that fall due on the way, in the order of their times, and timers
// due at the same instant in the order they were armed. A timer armed while
// another runs is in the same order, so Advance runs it too if it falls due
// before the end.
//
// Its methods may be called from several goroutines; the timers' functions
// run on the goroutine that advances the clock, outside its lock, so they
// may arm timers of their own. One goroutine at a time advances it.
type Manual struct {
	now atomic.Int64 // time since Epoch; written under mu

	mu    sync.Mutex
	seq   uint64         // guarded by mu: the last arming's sequence number
	queue []*manualTimer // guarded by mu: a binary min-heap by (at, seq)
	fired uint64         // guarded by mu

	// Limit bounds the timers fired so far plus those pending, so that a
	// test of a runaway (timers that re-arm each other forever) fails
	// instead of hanging: Advance stops when it is reached. 0 means no
	// bound.
	Limit uint64
}

var (
	_ Clock = (*Manual)(nil)
	_ Nanos = (*Manual)(nil)
)

// NewManual returns a manual clock reading Epoch.
func NewManual() *Manual { return &Manual{} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time { return Epoch.Add(time.Duration(m.now.Load())) }

// UnixNano returns the clock's time as Unix nanoseconds (Nanos).
func (m *Manual) UnixNano() int64 { return epochNanos + m.now.Load() }

// Elapsed returns the time since Epoch.
func (m *Manual) Elapsed() time.Duration { return time.Duration(m.now.Load()) }

// Pending returns the number of timers armed and not yet fired or stopped.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

// Fired returns the number of timers fired so far.
func (m *Manual) Fired() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fired
}

// AfterFunc arms a timer that calls f d from now (when the clock next
// advances, if d <= 0).
func (m *Manual) AfterFunc(d time.Duration, f func()) Timer {
	t := &manualTimer{m: m, f: f, idx: -1}
	t.Reset(d)
	return t
}

// Advance moves the clock d forward, firing on the way every timer due by
// then, each with the clock at its time, and leaves the clock d later. It
// reports false if it stopped early because Limit was reached; the clock
// then stays at the last timer fired. Advance(0) fires the timers due now.
func (m *Manual) Advance(d time.Duration) bool {
	end := m.Elapsed() + max(d, 0)
	if !m.fireUntil(nil, end) {
		return false
	}
	m.mu.Lock()
	m.now.Store(int64(max(end, m.Elapsed())))
	m.mu.Unlock()
	return true
}

// AdvanceUntil fires timers in order until cond reports true (it is asked
// before each timer, and a nil cond never reports true), and reports
// whether it did. It gives up when the next timer is more than d away (the
// clock is then left d later), when no timer is left (the clock stays at
// the last one fired: nothing more can happen), or when Limit is reached.
func (m *Manual) AdvanceUntil(cond func() bool, d time.Duration) bool {
	end := m.Elapsed() + max(d, 0)
	if m.fireUntil(cond, end) && cond != nil && cond() {
		return true
	}
	m.mu.Lock()
	if len(m.queue) > 0 && m.queue[0].at > end && (m.Limit == 0 || m.fired+uint64(len(m.queue)) < m.Limit) {
		m.now.Store(int64(max(end, m.Elapsed())))
	}
	m.mu.Unlock()
	return false
}

// Set moves the clock to t. A t ahead fires the timers due by then, as
// Advance does, and reports false if Limit stopped it. A t behind moves the
// clock back, as a wall clock stepped back would: timers keep the times
// they were due at, so they fire later than their durations said.
func (m *Manual) Set(t time.Time) bool {
	d := t.Sub(m.Now())
	if d >= 0 {
		return m.Advance(d)
	}
	m.mu.Lock()
	m.now.Add(int64(d))
	m.mu.Unlock()
	return true
}

// fireUntil fires, in order, the timers due at or before end until cond
// holds, and reports false if Limit stopped it.
func (m *Manual) fireUntil(cond func() bool, end time.Duration) bool {
	for {
		if cond != nil && cond() {
			return true
		}
		m.mu.Lock()
		if len(m.queue) == 0 || m.queue[0].at > end {
			m.mu.Unlock()
			return true
		}
		if m.Limit != 0 && m.fired+uint64(len(m.queue)) >= m.Limit {
			m.mu.Unlock()
			return false
		}
		t := m.queue[0]
		m.removeLocked(0)
		m.fired++
		if t.at > m.Elapsed() {
			m.now.Store(int64(t.at))
		}
		m.mu.Unlock()
		t.f()
	}
}

// manualTimer is a timer of a Manual clock.
type manualTimer struct {
	m   *Manual
	f   func()
	at  time.Duration // guarded by m.mu: due time since Epoch
	seq uint64        // guarded by m.mu
	idx int           // guarded by m.mu: index in m.queue, -1 when not armed
}

// Stop disarms the timer and reports whether it was armed.
func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	return t.stopLocked()
}

func (t *manualTimer) stopLocked() bool {
	if t.idx < 0 {
		return false
	}
	t.m.removeLocked(t.idx)
	return true
}

// Reset re-arms the timer d from now and reports whether it was armed. It
// takes a new place among the timers due at the same instant: the last.
func (t *manualTimer) Reset(d time.Duration) bool {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	was := t.stopLocked()
	m.seq++
	t.at, t.seq = m.Elapsed()+max(d, 0), m.seq
	t.idx = len(m.queue)
	m.queue = append(m.queue, t)
	m.upLocked(t.idx)
	return was
}

func (a *manualTimer) before(b *manualTimer) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// The queue is a plain binary heap of timers that know their index.

func (m *Manual) swapLocked(i, j int) {
	q := m.queue
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}

func (m *Manual) upLocked(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.queue[i].before(m.queue[p]) {
			return
		}
		m.swapLocked(i, p)
		i = p
	}
}

func (m *Manual) downLocked(i int) {
	n := len(m.queue)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && m.queue[c+1].before(m.queue[c]) {
			c++
		}
		if !m.queue[c].before(m.queue[i]) {
			return
		}
		m.swapLocked(i, c)
		i = c
	}
}

func (m *Manual) removeLocked(i int) {
	last := len(m.queue) - 1
	t := m.queue[i]
	m.swapLocked(i, last)
	m.queue[last] = nil
	m.queue = m.queue[:last]
	t.idx = -1
	if i < last {
		m.downLocked(i)
		m.upLocked(i)
	}
}
