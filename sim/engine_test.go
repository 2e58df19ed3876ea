package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/netyard/netyard/sim"
)

func TestOrderByTimeThenSequence(t *testing.T) {
	e := sim.New(1)
	var got []string
	add := func(d time.Duration, name string) { e.Schedule(d, func() { got = append(got, name) }) }
	add(2*time.Second, "c")
	add(time.Second, "a")
	add(time.Second, "b") // same instant as a: runs after it
	add(0, "now")
	stopped := e.Schedule(time.Second, func() { got = append(got, "stopped") })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop should report true once, then false")
	}
	moved := e.Schedule(0, func() { got = append(got, "moved") })
	moved.Reset(3 * time.Second)
	if o := e.RunUntil(nil, time.Hour); o != sim.Idle {
		t.Errorf("RunUntil = %v, want idle", o)
	}
	if fmt.Sprint(got) != "[now a b c moved]" {
		t.Errorf("order %v", got)
	}
	if e.Elapsed() != 3*time.Second {
		t.Errorf("clock at %v, want 3s", e.Elapsed())
	}
}

func TestRunUntilOutcomes(t *testing.T) {
	e := sim.New(1)
	n := 0
	var tick func()
	tick = func() { n++; e.Schedule(time.Second, tick) }
	e.Schedule(0, tick)
	if o := e.RunUntil(func() bool { return n == 5 }, time.Hour); o != sim.Done || e.Elapsed() != 4*time.Second {
		t.Errorf("RunUntil = %v at %v, want done at 4s", o, e.Elapsed())
	}
	if o := e.RunUntil(nil, 10*time.Second+time.Millisecond); o != sim.Deadline || e.Elapsed() != 10*time.Second+time.Millisecond || e.Now() != sim.Epoch.Add(e.Elapsed()) {
		t.Errorf("RunUntil = %v at %v (%v), want deadline at 10.001s", o, e.Elapsed(), e.Now())
	}
	e.Budget = e.Events() + 3
	if o := e.RunUntil(nil, time.Hour); o != sim.Budget {
		t.Errorf("RunUntil = %v, want budget", o)
	}
}

func TestRunForFastForwardsIdle(t *testing.T) {
	e := sim.New(1)
	e.RunFor(time.Hour)
	if e.Elapsed() != time.Hour || e.Now() != sim.Epoch.Add(time.Hour) {
		t.Errorf("after an idle hour the clock says %v", e.Elapsed())
	}
}

func TestRandStreamsAreIndependent(t *testing.T) {
	a, b := sim.New(7), sim.New(7)
	_ = b.Rand("unrelated", "x").Uint64() // another object's stream does not disturb
	if x, y := a.Rand("link l1", "loss").Uint64(), b.Rand("link l1", "loss").Uint64(); x != y {
		t.Error("same seed, name and purpose gave different streams")
	}
	if a.Rand("link l1", "loss").Uint64() == a.Rand("link l2", "loss").Uint64() {
		t.Error("different names gave the same stream")
	}
	if sim.New(8).Rand("link l1", "loss").Uint64() == a.Rand("link l1", "loss").Uint64() {
		t.Error("different seeds gave the same stream")
	}
}

// BenchmarkEngine measures events per second: each event schedules the next,
// with 1000 timers pending, as a busy simulation has.
func BenchmarkEngine(b *testing.B) {
	e := sim.New(1)
	var f func()
	f = func() { e.Schedule(time.Duration(e.Events()%997)*time.Microsecond, f) }
	for range 1000 {
		e.Schedule(0, f)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkEngineTimerReset measures re-arming an existing timer and running
// it, the pattern links and protocol timers use: no allocation per event.
func BenchmarkEngineTimerReset(b *testing.B) {
	e := sim.New(1)
	timers := make([]*sim.Timer, 1000)
	for i := range timers {
		var t *sim.Timer
		t = e.Schedule(time.Duration(i)*time.Microsecond, func() { t.Reset(time.Millisecond) })
		timers[i] = t
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// BenchmarkEngineNow measures events scheduled for now, as a zero-latency
// link's deliveries are (most of a scenario's events): 100 timers re-arm
// themselves at once and every tenth event schedules a new one, while
// 1000 timers wait in the future.
func BenchmarkEngineNow(b *testing.B) {
	e := sim.New(1)
	for i := range 1000 {
		e.Schedule(time.Hour+time.Duration(i), func() {})
	}
	f := func() {
		if e.Events()%10 == 0 {
			e.Schedule(0, func() {})
		}
	}
	for range 100 {
		var t *sim.Timer
		t = e.Schedule(0, func() { t.Reset(0); f() })
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

// TestBudgetCountsQueuedEvents: events that each schedule two more grow
// the queue exponentially; the budget counts them waiting as well as run,
// so the queue never outgrows it.
func TestBudgetCountsQueuedEvents(t *testing.T) {
	e := sim.New(1)
	e.Budget = 1000
	var grow func()
	grow = func() { e.Schedule(0, grow); e.Schedule(0, grow) }
	e.Schedule(0, grow)
	if o := e.RunUntil(nil, time.Hour); o != sim.Budget {
		t.Fatalf("RunUntil = %v, want budget", o)
	}
	if n := e.Events() + uint64(e.Pending()); n > 1001 {
		t.Errorf("%d events run and queued, budget 1000", n)
	}
}

func TestHalt(t *testing.T) {
	e := sim.New(1)
	ran := 0
	e.Schedule(0, func() { ran++; e.Halt() })
	e.Schedule(0, func() { ran++ })
	if o := e.RunFor(time.Second); o != sim.Halted || ran != 1 {
		t.Errorf("RunFor = %v after %d events, want halted after 1", o, ran)
	}
}
