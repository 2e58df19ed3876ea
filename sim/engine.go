package sim

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/netyard/netyard/internal/clock"
)

// Epoch is the virtual time at which every run starts: 2000-01-01 00:00:00 UTC.
// Captures and traces show times from here.
var Epoch = clock.Epoch

// ErrBudget is returned when a run executes more events than its budget
// allows, as a broadcast storm would.
var ErrBudget = errors.New("sim: event budget exhausted")

// ErrLoop is returned when a run was stopped because a frame was looping
// (see LinkOptions.OnLoop): a broadcast storm.
var ErrLoop = errors.New("sim: a frame is looping")

// Stopped reports whether err says the run was stopped: its budget spent,
// or a loop found. The rest of the run does not happen.
func Stopped(err error) bool { return errors.Is(err, ErrBudget) || errors.Is(err, ErrLoop) }

// Engine is a discrete-event simulator with a virtual clock. It is not safe
// for concurrent use: one goroutine drives a run.
type Engine struct {
	now time.Duration // since Epoch
	// nowT is Epoch.Add(nowAt), made by Now when the clock has moved:
	// nodes ask for the time several times a frame, at the same instant.
	nowT  time.Time
	nowAt time.Duration
	seq   uint64
	queue []entry // 4-ary min-heap by (at, seq), of events due after they were scheduled
	// fifo holds the events scheduled for now (d <= 0), most of a run's:
	// a zero-latency hop is one. They run in the order they came, after
	// those in the heap due now (see Step), and cost no sifting.
	fifo   fifo
	seed   uint64
	events uint64 // events run so far
	halted bool   // Halt was called
	// Budget bounds the events a run may execute plus those waiting in
	// the queue, so that neither time nor memory grows without bound; 0
	// means no bound.
	Budget uint64

	slab []Timer // timers not handed out yet, allocated timerSlab at a time

}

var _ clock.Clock = (*Engine)(nil)

// New returns an engine at Epoch whose random streams derive from seed.
func New(seed uint64) *Engine { return &Engine{seed: seed, nowT: Epoch} }

// Seed returns the engine's seed.
func (e *Engine) Seed() uint64 { return e.seed }

// Now returns the virtual time.
func (e *Engine) Now() time.Time {
	if e.nowAt != e.now {
		e.nowT, e.nowAt = Epoch.Add(e.now), e.now
	}
	return e.nowT
}

// UnixNano returns the virtual time as Unix nanoseconds (clock.Nanos).
func (e *Engine) UnixNano() int64 { return epochNanos + int64(e.now) }

var epochNanos = Epoch.UnixNano()

// Elapsed returns the virtual time since Epoch.
func (e *Engine) Elapsed() time.Duration { return e.now }

// Events returns the number of events run so far.
func (e *Engine) Events() uint64 { return e.events }

// Pending returns the number of events waiting in the queue.
func (e *Engine) Pending() int { return len(e.queue) + e.fifo.live }

// Timer is an event in the engine's queue. It implements clock.Timer.
type Timer struct {
	e *Engine
	f func()
	// idx says where the timer waits: at that index in the heap (>= 0),
	// nowhere (idle), or in the FIFO, as fifoIdx of the seq it was armed
	// with. A FIFO entry the timer has since left (Stop, Reset) is not
	// removed; it no longer matches idx and is skipped when it comes up.
	idx int
}

const idle = -1

// fifoIdx is a Timer's idx while it waits in the FIFO, armed with seq: below
// idle, and different for every arming.
func fifoIdx(seq uint64) int { return -2 - int(seq) }

// entry is a heap slot. The ordering key lives in the slot itself, so
// sifting compares without following pointers.
type entry struct {
	at  time.Duration
	seq uint64
	t   *Timer
}

func (a *entry) before(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

var _ clock.Timer = (*Timer)(nil)

// AfterFunc schedules f to run d from now (at once, in order, if d <= 0).
func (e *Engine) AfterFunc(d time.Duration, f func()) clock.Timer {
	return e.Schedule(d, f)
}

// Schedule is AfterFunc returning the concrete *Timer.
func (e *Engine) Schedule(d time.Duration, f func()) *Timer {
	if len(e.slab) == 0 {
		e.slab = make([]Timer, timerSlab)
	}
	t := &e.slab[0]
	e.slab = e.slab[1:]
	t.e, t.f, t.idx = e, f, idle
	t.Reset(d)
	return t
}

// timerSlab is how many timers Schedule allocates at once. A timer is never
// reused (its caller may keep it, to Stop or Reset it later), so this is
// no free list: one allocation serves timerSlab new timers, and a slab
// stays alive while any of its timers does (at most timerSlab-1 idle
// timers, 24 bytes each, kept by one that lives on).
const timerSlab = 64

// Stop cancels the timer and reports whether it was pending.
func (t *Timer) Stop() bool {
	switch {
	case t.idx >= 0:
		t.e.remove(t.idx)
	case t.idx < idle:
		t.idx = idle // its FIFO entry is now stale
		t.e.fifo.live--
	default:
		return false
	}
	return true
}

// Reset re-arms the timer for d from now and reports whether it was pending.
// A re-armed timer takes a new place in the order of same-instant events.
func (t *Timer) Reset(d time.Duration) bool {
	e := t.e
	was := true
	switch { // Stop, inline: a link re-arms its timer for every frame
	case t.idx >= 0:
		e.remove(t.idx)
	case t.idx < idle:
		e.fifo.live--
	default:
		was = false
	}
	e.seq++
	if d <= 0 {
		t.idx = fifoIdx(e.seq)
		f := &e.fifo // push, inline
		if f.tail-f.head == uint(len(f.ring)) {
			f.room()
		}
		f.ring[f.tail&uint(len(f.ring)-1)] = fifoEntry{e.seq, t}
		f.tail++
		f.live++
		return was
	}
	e.queue = append(e.queue, entry{at: e.now + d, seq: e.seq, t: t})
	e.up(len(e.queue) - 1)
	return was
}

// Next returns the time of the next event, and false if the queue is empty.
func (e *Engine) Next() (time.Duration, bool) {
	if e.fifo.live > 0 {
		return e.now, true
	}
	if len(e.queue) == 0 {
		return 0, false
	}
	return e.queue[0].at, true
}

// Step runs the next event, moving the clock to its time. It reports false
// when the queue is empty.
//
// The next event in (at, seq) order is the FIFO's first or the heap's top.
// Every FIFO entry is due now, and the heap holds nothing due before now,
// so the heap's top goes first only when it is due now with a smaller seq
// (as it always is: it was scheduled before the clock came to now, and
// the FIFO is empty whenever the clock moves; the seqs make it exact).
func (e *Engine) Step() bool {
	if f := &e.fifo; f.live > 0 {
		mask := uint(len(f.ring) - 1)
		x := &f.ring[f.head&mask]
		for x.stale() { // ends: one of them is live
			*x = fifoEntry{}
			f.head++
			x = &f.ring[f.head&mask]
		}
		if len(e.queue) == 0 || e.queue[0].at != e.now || e.queue[0].seq > x.seq {
			t := x.t
			*x = fifoEntry{}
			f.head++
			f.live--
			t.idx = idle
			e.events++
			t.f()
			return true
		}
	}
	if len(e.queue) == 0 {
		return false
	}
	head := e.queue[0]
	e.remove(0)
	e.now = head.at
	e.events++
	head.t.f()
	return true
}

// Outcome says why RunUntil returned.
type Outcome int

// Outcomes of RunUntil.
const (
	Done     Outcome = iota // the condition became true
	Deadline                // the deadline passed first
	Idle                    // nothing was left to happen
	Budget                  // the event budget ran out
	Halted                  // Halt was called
)

// String returns the outcome's name.
func (o Outcome) String() string {
	return [...]string{"done", "deadline", "idle", "budget", "halted"}[o]
}

// Halt stops the run: from the next event on, RunUntil and RunFor return
// Halted and run nothing more.
func (e *Engine) Halt() { e.halted = true }

// RunUntil runs events until cond reports true (checked before every event),
// the virtual time would pass deadline (the clock then stops at deadline),
// the queue is empty, the budget is spent (events run and queued), or the
// run is halted. A nil cond never becomes true.
func (e *Engine) RunUntil(cond func() bool, deadline time.Duration) Outcome {
	for {
		if cond != nil && cond() {
			return Done
		}
		next, ok := e.Next()
		if !ok {
			return Idle
		}
		if next > deadline {
			e.now = max(e.now, deadline)
			return Deadline
		}
		if e.halted {
			return Halted
		}
		if e.Budget != 0 && e.events+uint64(e.Pending()) >= e.Budget {
			return Budget
		}
		e.Step()
	}
}

// RunFor runs every event due in the next d of virtual time and leaves the
// clock d later. It stops early only when the budget is spent or the run
// is halted.
func (e *Engine) RunFor(d time.Duration) Outcome {
	end := e.now + d
	o := e.RunUntil(nil, end)
	if o == Idle {
		e.now = end
		return Deadline
	}
	return o
}

// Rand returns a random stream for one purpose of one named object, derived
// from the engine's seed alone (see Stream).
func (e *Engine) Rand(name, purpose string) *rand.Rand { return Stream(e.seed, name, purpose) }

// Stream returns the random stream of (seed, name, purpose): the same triple
// always gives the same stream, whatever else the topology holds, so adding
// a node does not change another link's losses. It is a PCG seeded with an
// FNV-1a hash of the triple.
func Stream(seed uint64, name, purpose string) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	s1 := h.Sum64()
	h.Write([]byte{1})
	return rand.New(rand.NewPCG(s1, h.Sum64()))
}

// The queue is a 4-ary heap: half the depth of a binary one, and a node's
// children share a cache line or two. Sifts move a hole instead of swapping.

func (e *Engine) up(i int) {
	q := e.queue
	x := q[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&q[p]) {
			break
		}
		q[i] = q[p]
		q[i].t.idx = i
		i = p
	}
	q[i] = x
	x.t.idx = i
}

func (e *Engine) down(i int) {
	q := e.queue
	n := len(q)
	x := q[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if q[k].before(&q[m]) {
				m = k
			}
		}
		if !q[m].before(&x) {
			break
		}
		q[i] = q[m]
		q[i].t.idx = i
		i = m
	}
	q[i] = x
	x.t.idx = i
}

func (e *Engine) remove(i int) {
	q := e.queue
	last := len(q) - 1
	t := q[i].t
	if i != last {
		q[i] = q[last]
		q[i].t.idx = i
	}
	q[last] = entry{}
	e.queue = q[:last]
	t.idx = idle
	if i != last {
		e.down(i)
		e.up(i)
	}
}

// fifo is a ring of the events due now, in the order they were scheduled.
// Entries whose timer was stopped or re-armed since stay until they come
// up (stale), or until the ring fills: then they are dropped if they are
// half of it, so it holds at most about four times the most events ever
// waiting in it. The ring is kept and reused when it empties. Reset
// pushes and Step pops, inline: they run once an event.
type fifo struct {
	ring       []fifoEntry // len is 0 or a power of two
	head, tail uint        // entries are ring[head&mask] to ring[(tail-1)&mask], mask len(ring)-1
	live       int         // entries not stale
}

type fifoEntry struct {
	seq uint64 // the seq the timer was armed with
	t   *Timer
}

func (x *fifoEntry) stale() bool { return x.t.idx != fifoIdx(x.seq) }

const fifoMin = 64

// room makes room in a full ring: drops the stale entries if they are at
// least half of it, or else doubles it.
func (f *fifo) room() {
	n := int(f.tail - f.head)
	if n > 0 && f.live <= n/2 {
		mask := uint(len(f.ring) - 1)
		w := f.head
		for r := f.head; r != f.tail; r++ {
			x := f.ring[r&mask]
			if !x.stale() {
				f.ring[w&mask] = x
				w++
			}
		}
		for r := w; r != f.tail; r++ {
			f.ring[r&mask] = fifoEntry{}
		}
		f.tail = w
		return
	}
	ring := make([]fifoEntry, max(fifoMin, 2*len(f.ring)))
	mask := uint(len(f.ring) - 1)
	for i := range n {
		ring[i] = f.ring[(f.head+uint(i))&mask]
	}
	f.ring, f.head, f.tail = ring, 0, uint(n)
}
