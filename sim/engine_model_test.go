package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// model is the engine as specified: every armed timer has an (at, seq), and
// the next to run is the least. It is slow and obviously right.
type model struct {
	now   time.Duration
	seq   uint64
	armed map[int]modelArm // by timer id
}

type modelArm struct {
	at  time.Duration
	seq uint64
}

func (m *model) reset(id int, d time.Duration) bool {
	_, was := m.armed[id]
	m.seq++
	m.armed[id] = modelArm{m.now + max(d, 0), m.seq}
	return was
}

func (m *model) stop(id int) bool {
	_, was := m.armed[id]
	delete(m.armed, id)
	return was
}

// next returns the timer to run next, and false if none is armed.
func (m *model) next() (int, modelArm, bool) {
	best, found := -1, false
	var arm modelArm
	for id, a := range m.armed {
		if !found || a.at < arm.at || a.at == arm.at && a.seq < arm.seq {
			best, arm, found = id, a, true
		}
	}
	return best, arm, found
}

// engineVsModel drives an engine and the model with the same random
// schedules, stops and resets (mostly at delay 0, as links do, some in the
// future, some from inside callbacks on the running timer itself) and fails
// at the first step where they disagree on what runs, what Stop and Reset
// report, Pending or Next.
type engineVsModel struct {
	t      *testing.T
	rnd    *rand.Rand
	e      *Engine
	m      model
	timers []*Timer
	ran    []int // ids in the order the engine ran them
	peak   int   // most FIFO entries live at once
}

func (x *engineVsModel) delay() time.Duration {
	switch r := x.rnd.IntN(100); {
	case r < 65:
		return 0
	case r < 75:
		return -time.Duration(x.rnd.IntN(3) + 1)
	default:
		return time.Duration(x.rnd.IntN(5) + 1)
	}
}

func (x *engineVsModel) schedule() {
	id, d := len(x.timers), x.delay()
	x.timers = append(x.timers, x.e.Schedule(d, func() { x.fire(id) }))
	x.m.reset(id, d)
}

// act does a few random things to the queue, as a callback or the code
// around a run does. self is the running timer's id, or -1.
func (x *engineVsModel) act(self int) {
	for range x.rnd.IntN(4) {
		id := self
		if id < 0 || x.rnd.IntN(3) == 0 {
			id = x.rnd.IntN(len(x.timers))
		}
		switch r := x.rnd.IntN(100); {
		case r < 35:
			x.schedule()
		case r < 75:
			d := x.delay()
			if got, want := x.timers[id].Reset(d), x.m.reset(id, d); got != want {
				x.t.Fatalf("%s: Reset(%v) of timer %d = %v, want %v", x.after(), d, id, got, want)
			}
		case r < 80:
			// Re-arming one timer again and again leaves stale FIFO
			// entries behind, which the ring must not keep.
			for range x.rnd.IntN(200) {
				x.timers[id].Reset(0)
				x.m.reset(id, 0)
			}
		default:
			if got, want := x.timers[id].Stop(), x.m.stop(id); got != want {
				x.t.Fatalf("%s: Stop of timer %d = %v, want %v", x.after(), id, got, want)
			}
		}
		x.peak = max(x.peak, x.e.fifo.live)
	}
}

// after says where the run is, for a failure: the last timers it ran.
func (x *engineVsModel) after() string {
	return fmt.Sprintf("after %d events (the last %v)", len(x.ran), x.ran[max(0, len(x.ran)-10):])
}

func (x *engineVsModel) fire(id int) {
	x.ran = append(x.ran, id)
	x.act(id)
}

func (x *engineVsModel) check() {
	if got, want := x.e.Pending(), len(x.m.armed); got != want {
		x.t.Fatalf("%s: Pending = %d, want %d", x.after(), got, want)
	}
	if got, want := x.e.Events(), uint64(len(x.ran)); got != want {
		x.t.Fatalf("%s: Events = %d, want %d", x.after(), got, want)
	}
	_, arm, ok := x.m.next()
	if at, got := x.e.Next(); got != ok || ok && at != arm.at {
		x.t.Fatalf("%s: Next = %v, %v, want %v, %v", x.after(), at, got, arm.at, ok)
	}
	if x.e.Elapsed() != x.m.now || !x.e.Now().Equal(Epoch.Add(x.m.now)) || x.e.UnixNano() != Epoch.Add(x.m.now).UnixNano() {
		x.t.Fatalf("%s: clock at %v (%v), want %v", x.after(), x.e.Elapsed(), x.e.Now(), x.m.now)
	}
	if n := len(x.e.fifo.ring); n > max(fifoMin, 4*x.peak) {
		x.t.Fatalf("%s: FIFO ring of %d for at most %d waiting", x.after(), n, x.peak)
	}
}

func TestEngineMatchesModel(t *testing.T) {
	for seed := range uint64(100) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			x := &engineVsModel{t: t, rnd: rand.New(rand.NewPCG(seed, 14)), e: New(seed), m: model{armed: map[int]modelArm{}}}
			for range 1 + x.rnd.IntN(20) {
				x.schedule()
			}
			for step := 0; step < 3000; step++ {
				x.check()
				if x.rnd.IntN(10) == 0 {
					x.act(-1)
					x.check()
				}
				id, arm, ok := x.m.next()
				if !ok {
					if x.e.Step() {
						t.Fatalf("%s: Step ran a timer with none armed", x.after())
					}
					x.schedule()
					continue
				}
				delete(x.m.armed, id)
				x.m.now = arm.at
				n := len(x.ran)
				if !x.e.Step() || len(x.ran) == n || x.ran[n] != id {
					t.Fatalf("%s: Step ran %v, want timer %d", x.after(), x.ran[n:], id)
				}
			}
			x.check()
		})
	}
}

// TestFIFOStaysSmall: a timer re-armed at once over and over (a link's
// delivery timer, say) leaves a stale entry in the FIFO each time; the ring
// does not grow with them.
func TestFIFOStaysSmall(t *testing.T) {
	e := New(1)
	ran := 0
	tm := e.Schedule(0, func() { ran++ })
	other := e.Schedule(0, func() {})
	for range 100_000 {
		tm.Reset(0)
	}
	if n := len(e.fifo.ring); n > fifoMin {
		t.Errorf("FIFO ring of %d for 2 timers", n)
	}
	if e.Pending() != 2 {
		t.Errorf("Pending = %d, want 2", e.Pending())
	}
	for e.Step() {
	}
	if ran != 1 || e.Events() != 2 || other.Stop() {
		t.Errorf("ran %d, %d events, want 1 and 2", ran, e.Events())
	}
}

// TestSameInstantHeapFirst: events that came due now from the heap run
// before those scheduled now, in seq order, whichever callback schedules.
func TestSameInstantHeapFirst(t *testing.T) {
	e := New(1)
	var got []string
	add := func(d time.Duration, name string, then func()) {
		e.Schedule(d, func() {
			got = append(got, name)
			if then != nil {
				then()
			}
		})
	}
	add(time.Second, "a", func() { add(0, "a0", func() { add(0, "a00", nil) }) })
	add(time.Second, "b", func() { add(0, "b0", nil) })
	add(time.Second, "c", nil)
	for e.Step() {
	}
	if want := []string{"a", "b", "c", "a0", "b0", "a00"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
