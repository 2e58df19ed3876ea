package trace

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Bus is a Tracer that fans every event out to its subscribers, so that
// several sinks (narration, JSON lines, a live page) hear one run without
// whoever builds the run assembling them. The zero Bus has no subscribers
// and is ready to use; it is safe for concurrent use.
//
// Synchronous subscribers (Subscribe) are called on the goroutine that
// traced the event, one event at a time, in the order they subscribed:
// every one of them sees the same events in the same order, which is what
// a deterministic (mem) run needs. They are called under the bus's
// delivery lock, so they must be quick and must not trace to the same bus.
//
// A queued subscriber (SubscribeQueue) is called on a goroutine of its
// own, through a bounded queue: when the queue is full, Trace drops the
// event for it and counts the loss, and never waits. That is for a live
// subscriber that may be slow (a web page); the data path never blocks on
// it.
type Bus struct {
	subs    atomic.Pointer[[]*sub] // copied on write, under mu
	mu      sync.Mutex             // serialises changes to subs
	deliver sync.Mutex             // serialises delivery to synchronous subscribers
}

var _ Tracer = (*Bus)(nil)

// sub is one subscription: a function called synchronously, or a queue.
type sub struct {
	fn    func(Event)
	q     *Queue
	kinds []Kind // nil: every kind but Frame
}

func (s *sub) wants(k Kind) bool {
	if s.kinds == nil {
		return k != Frame
	}
	return slices.Contains(s.kinds, k)
}

// Subscribe calls fn with every event of the given kinds (none: every kind
// but Frame, which must be named), synchronously, until cancel is called.
func (b *Bus) Subscribe(fn func(Event), kinds ...Kind) (cancel func()) {
	s := &sub{fn: fn, kinds: kinds}
	b.add(s)
	return func() { b.remove(s) }
}

// SubscribeQueue calls fn with every event of the given kinds (none: every
// kind but Frame) on a goroutine of its own, through a queue of size events
// (at least 1). Events that find the queue full are dropped and counted
// (Queue.Dropped). Close the Queue to stop.
func (b *Bus) SubscribeQueue(size int, fn func(Event), kinds ...Kind) *Queue {
	q := &Queue{bus: b, fn: fn, buf: make([]Event, max(size, 1)), wake: make(chan struct{}, 1), done: make(chan struct{})}
	q.sub = &sub{q: q, kinds: kinds}
	go q.loop()
	b.add(q.sub)
	return q
}

func (b *Bus) add(s *sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var subs []*sub
	if p := b.subs.Load(); p != nil {
		subs = slices.Clone(*p)
	}
	subs = append(subs, s)
	b.subs.Store(&subs)
}

func (b *Bus) remove(s *sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.subs.Load()
	if p == nil {
		return
	}
	subs := slices.DeleteFunc(slices.Clone(*p), func(x *sub) bool { return x == s })
	if len(subs) == 0 {
		b.subs.Store(nil)
		return
	}
	b.subs.Store(&subs)
}

// Len returns the number of subscribers.
func (b *Bus) Len() int {
	if p := b.subs.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// Wants reports whether a subscriber takes events of kind k.
func (b *Bus) Wants(k Kind) bool {
	p := b.subs.Load()
	if p == nil {
		return false
	}
	for _, s := range *p {
		if s.wants(k) {
			return true
		}
	}
	return false
}

// Trace delivers e to every subscriber that takes its kind. With no
// subscribers it costs one atomic load.
func (b *Bus) Trace(e Event) {
	p := b.subs.Load()
	if p == nil {
		return
	}
	b.deliver.Lock()
	defer b.deliver.Unlock()
	for _, s := range *p {
		switch {
		case !s.wants(e.Kind):
		case s.q != nil:
			s.q.offer(e)
		default:
			s.fn(e)
		}
	}
}

// Queue is a queued subscription of a Bus.
type Queue struct {
	bus  *Bus
	sub  *sub
	fn   func(Event)
	wake chan struct{} // holds one wake-up for loop
	done chan struct{} // closed when loop returns
	once sync.Once

	mu     sync.Mutex
	buf    []Event // a ring; guarded by mu
	head   int     // guarded by mu
	n      int     // guarded by mu
	closed bool    // guarded by mu

	dropped, delivered atomic.Uint64
}

// offer queues e, or drops and counts it when the queue is full. It never
// waits.
func (q *Queue) offer(e Event) {
	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return
	case q.n == len(q.buf):
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// loop delivers queued events until the queue is closed and empty.
func (q *Queue) loop() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for q.n == 0 {
			if q.closed {
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			<-q.wake
			q.mu.Lock()
		}
		e := q.buf[q.head]
		q.buf[q.head] = Event{} // let go of its strings and slices
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		q.mu.Unlock()
		q.fn(e)
		q.delivered.Add(1)
	}
}

// Dropped returns the number of events lost because the queue was full.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// Delivered returns the number of events the subscriber has been given.
func (q *Queue) Delivered() uint64 { return q.delivered.Load() }

// Close unsubscribes, lets the subscriber have what is queued, and returns
// once its goroutine has ended. Calling it again does nothing.
func (q *Queue) Close() {
	q.once.Do(func() {
		q.bus.remove(q.sub)
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		select {
		case q.wake <- struct{}{}:
		default:
		}
		<-q.done
	})
}
