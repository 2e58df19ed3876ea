package trace_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/trace"
)

func ev(i int) trace.Event { return trace.Event{Node: fmt.Sprint(i), Kind: trace.Learned} }

// TestBusSynchronous: synchronous subscribers see every event of their
// kinds at once, in the order traced and subscribed; cancel stops one;
// Frame events go only to who names the kind.
func TestBusSynchronous(t *testing.T) {
	var b trace.Bus
	b.Trace(ev(0)) // no subscribers: nothing to do
	var log []string
	cancelA := b.Subscribe(func(e trace.Event) { log = append(log, "a"+e.Node) })
	b.Subscribe(func(e trace.Event) { log = append(log, "b"+e.Node) })
	b.Subscribe(func(e trace.Event) { log = append(log, "f"+e.Node) }, trace.Frame)
	if b.Len() != 3 {
		t.Errorf("Len() = %d, want 3", b.Len())
	}
	b.Trace(ev(1))
	b.Trace(trace.Event{Node: "2", Kind: trace.Frame})
	cancelA()
	b.Trace(ev(3))
	if want := []string{"a1", "b1", "f2", "b3"}; !slices.Equal(log, want) {
		t.Errorf("delivered %v, want %v", log, want)
	}
	for _, c := range []struct {
		k    trace.Kind
		want bool
	}{{trace.Learned, true}, {trace.Frame, true}} {
		if got := b.Wants(c.k); got != c.want {
			t.Errorf("Wants(%s) = %v, want %v", c.k, got, c.want)
		}
	}
}

func TestWants(t *testing.T) {
	var b trace.Bus
	cancel := b.Subscribe(func(trace.Event) {})
	for _, c := range []struct {
		name string
		t    trace.Tracer
		k    trace.Kind
		want bool
	}{
		{"nil", nil, trace.Learned, false},
		{"func, a decision", trace.Func(func(trace.Event) {}), trace.Host, true},
		{"func, frames", trace.Func(func(trace.Event) {}), trace.Frame, false},
		{"bus, a decision", &b, trace.STP, true},
		{"bus, frames nobody asked for", &b, trace.Frame, false},
		{"empty bus", &trace.Bus{}, trace.STP, false},
	} {
		if got := trace.Wants(c.t, c.k); got != c.want {
			t.Errorf("%s: Wants(%s) = %v, want %v", c.name, c.k, got, c.want)
		}
	}
	cancel()
	if b.Wants(trace.STP) || b.Len() != 0 {
		t.Errorf("after cancel: Wants %v, Len %d; want false, 0", b.Wants(trace.STP), b.Len())
	}
}

// TestBusConcurrent: from several goroutines (the netns backend), every
// event reaches every synchronous subscriber, one at a time, and all
// subscribers see the same order.
func TestBusConcurrent(t *testing.T) {
	var b trace.Bus
	var x, y []string
	b.Subscribe(func(e trace.Event) { x = append(x, e.Node) })
	b.Subscribe(func(e trace.Event) { y = append(y, e.Node) })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				b.Trace(ev(g*1000 + i))
			}
		})
	}
	wg.Wait()
	if len(x) != 400 || !slices.Equal(x, y) {
		t.Errorf("subscribers got %d and %d events, same order %v; want 400 each in one order", len(x), len(y), slices.Equal(x, y))
	}
}

// TestQueueDropsWhenFull: a queued subscriber that does not keep up loses
// what does not fit in its queue, counted, and Trace never waits for it;
// what fits arrives in order, and Close delivers it and ends the goroutine.
func TestQueueDropsWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b trace.Bus
		var got []string
		release := make(chan struct{})
		q := b.SubscribeQueue(4, func(e trace.Event) {
			if e.Node == "0" {
				<-release // the subscriber is stuck on the first event
			}
			got = append(got, e.Node)
		})
		var direct []string
		b.Subscribe(func(e trace.Event) { direct = append(direct, e.Node) })
		b.Trace(ev(0))
		synctest.Wait() // the subscriber has taken event 0 and waits
		for i := 1; i <= 10; i++ {
			b.Trace(ev(i)) // 1-4 fit, 5-10 do not
		}
		if q.Dropped() != 6 {
			t.Errorf("Dropped() = %d, want 6 (a queue of 4 while the subscriber is stuck)", q.Dropped())
		}
		if len(direct) != 11 {
			t.Errorf("the synchronous subscriber got %d events, want all 11", len(direct))
		}
		close(release)
		q.Close()
		if want := []string{"0", "1", "2", "3", "4"}; !slices.Equal(got, want) {
			t.Errorf("queued subscriber got %v, want %v", got, want)
		}
		if q.Delivered() != 5 {
			t.Errorf("Delivered() = %d, want 5", q.Delivered())
		}
		b.Trace(ev(11)) // after Close: not delivered, not counted
		q.Close()       // again: nothing
		if q.Dropped() != 6 || q.Delivered() != 5 || b.Len() != 1 {
			t.Errorf("after Close: dropped %d, delivered %d, subscribers %d; want 6, 5, 1", q.Dropped(), q.Delivered(), b.Len())
		}
	})
}

// TestQueueKeepsUp: a subscriber that keeps up loses nothing.
func TestQueueKeepsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b trace.Bus
		n := 0
		q := b.SubscribeQueue(1, func(trace.Event) { n++ }, trace.Learned)
		for i := range 100 {
			b.Trace(ev(i))
			b.Trace(trace.Event{Kind: trace.Host}) // not its kind: not queued
			synctest.Wait()
		}
		q.Close()
		if n != 100 || q.Dropped() != 0 {
			t.Errorf("delivered %d, dropped %d; want 100, 0", n, q.Dropped())
		}
	})
}

// TestBusAllocatesNothing: delivering an event costs no allocation, to
// synchronous subscribers or into a queue.
func TestBusAllocatesNothing(t *testing.T) {
	leak.Check(t) // the queue's goroutine ends with Close
	var b trace.Bus
	e := trace.Event{Node: "s1", Kind: trace.Learned, Port: "p1", Src: "02:00:00:00:00:01"}
	if n := testing.AllocsPerRun(100, func() { b.Trace(e) }); n != 0 {
		t.Errorf("Trace with no subscribers: %v allocations, want 0", n)
	}
	seen := 0
	b.Subscribe(func(trace.Event) { seen++ })
	q := b.SubscribeQueue(1, func(trace.Event) {})
	defer q.Close()
	if n := testing.AllocsPerRun(100, func() { b.Trace(e) }); n != 0 {
		t.Errorf("Trace to a subscriber and a queue: %v allocations, want 0", n)
	}
}
