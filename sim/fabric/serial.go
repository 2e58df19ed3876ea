package fabric

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// Nodes that are not safe for concurrent input (a gateway, a router: a
// host stack inside) are the same Go code in every world. In mem the
// engine calls them from its one goroutine. In netns frames arrive from
// many TAP readers and timers fire on their own goroutines, so with
// Options.Serial such a node runs one job at a time, a Loop: a frame that
// finds the node idle, with nothing queued, runs at once on the goroutine
// that brought it (a TAP reader's, as a switch's frames do), and the rest
// wait on a goroutine of the Loop's own, fed through a queue bounded in
// frames and in bytes, as a NIC's ring feeds a kernel.

// The bounds of a Loop's queue: frames, and bytes of the buffers they pin.
// Buffers come in size classes (link.GetBuf: a frame of an ordinary MTU
// takes 2 KiB, a jumbo frame 16 KiB, only a TCP super-frame 64 KiB), so
// that a full queue holds what its frames need: at most 4096 frames and 16 MiB, however big
// the frames are. More are dropped and counted by reason.
const (
	GatewayQueue      = 4096
	GatewayQueueBytes = 16 << 20
)

// Loop serialises one node: frames for its ports, carrier changes, timers
// and reads of its state run one at a time, on its own goroutine when the
// world asks for it (Build.Serial), else at once on the caller's.
type Loop struct {
	name   string // the node's, for traces
	kind   string // what it is, for messages: "gateway"
	input  func(port int, frame []byte, o link.Offload)
	s      *serial      // nil: called directly
	tracer trace.Tracer // for drops at the queue, before the node sees them
	clk    clock.Clock
	// DroppedFull counts frames dropped because GatewayQueue frames
	// waited; DroppedBytes because their buffers held GatewayQueueBytes;
	// DroppedOversize because the frame was bigger than any buffer.
	DroppedFull, DroppedBytes, DroppedOversize atomic.Uint64
}

// Loop returns the loop of node name of kind kind, which takes every
// frame for its port number port through input.
func (b *Build) Loop(name, kind string, input func(port int, frame []byte, o link.Offload)) *Loop {
	l := &Loop{name: name, kind: kind, input: input, tracer: b.Tracer, clk: b.Clock}
	if b.Serial {
		l.s = newSerial(l)
		b.OnClose(l.s.stop)
		if b.f.serialised == nil {
			b.f.serialised = map[string]bool{}
		}
		b.f.serialised[name] = true
	}
	return l
}

// Clock returns the clock the node must use: its timers fire on the loop.
func (l *Loop) Clock() clock.Clock {
	if l.s == nil {
		return l.clk
	}
	return serialClock{l.clk, l.s}
}

// Port returns an endpoint for the node's port number port: frames go
// through the loop to input, carrier changes to carrier on the loop.
// The node sends through the port's Out.
func (l *Loop) Port(port int, carrier func(up bool)) *link.Port {
	return &link.Port{
		Input:        func(fr []byte) { l.Feed(port, fr, link.Offload{}) },
		InputOffload: func(fr []byte, o link.Offload) { l.Feed(port, fr, o) },
		SetCarrier:   func(up bool) { l.Do(func() { carrier(up) }) },
	}
}

// Dropped returns how many frames were dropped at the queue, whatever the
// reason.
func (l *Loop) Dropped() uint64 {
	return l.DroppedFull.Load() + l.DroppedBytes.Load() + l.DroppedOversize.Load()
}

// Do runs f with the node to itself: on its goroutine when serialised.
func (l *Loop) Do(f func()) {
	if l.s == nil {
		f()
		return
	}
	done := make(chan struct{})
	var claim atomic.Int32 // 1: the loop runs f; 2: Do gave up on it
	run := func() {
		if claim.CompareAndSwap(0, 1) {
			f()
		}
		close(done)
	}
	if !l.s.post(run, true) {
		return
	}
	select {
	case <-done:
	case <-l.s.done: // a job queued as the loop stops may never run
		if !claim.CompareAndSwap(0, 2) {
			<-done // it runs: wait for it
		}
	}
}

// Feed takes a frame for port: at once, or queued for the loop.
func (l *Loop) Feed(port int, fr []byte, o link.Offload) {
	if l.s == nil {
		l.input(port, fr, o)
		return
	}
	if len(fr) <= link.MaxSuperFrame && l.s.runIdle(port, fr, o) { // bigger: dropped as oversize below, either way
		return
	}
	switch l.s.postFrame(port, fr, o) {
	case queued:
		return
	case full:
		l.DroppedFull.Add(1)
		l.dropped("queue full: %d frames wait for the %s", GatewayQueue, l.kind)
	case noRoom:
		l.DroppedBytes.Add(1)
		l.dropped("queue full: frames waiting for the %s hold %d MiB", l.kind, GatewayQueueBytes>>20)
	case oversize:
		l.DroppedOversize.Add(1)
		l.dropped("a frame of %d bytes is bigger than any the %s takes (%d)", len(fr), l.kind, link.MaxSuperFrame)
	}
}

// dropped traces a frame dropped at the queue.
func (l *Loop) dropped(format string, args ...any) {
	if l.tracer != nil {
		l.tracer.Trace(trace.Event{Time: l.clk.Now(), Node: l.name, Kind: trace.Dropped, Reason: fmt.Sprintf(format, args...)})
	}
}

// serial runs jobs one at a time: frames for a node, and functions
// (timers, reads of its state). Queued jobs run on its goroutine; a frame
// that finds nothing queued and nobody running runs on its caller's.
type serial struct {
	l  *Loop // whose frames it runs
	ch chan job
	// mu is held by whoever runs a job; pending counts the jobs queued
	// or running on the loop's goroutine, so that a frame runs on its
	// caller's only when it would be next anyway: a port's frames keep
	// their order.
	mu      sync.Mutex
	pending atomic.Int64
	done    chan struct{}
	once    sync.Once
	bytes   atomic.Int64 // of the buffers of the frames queued
}

// job is a frame for port idx of the loop's node (in a pooled buffer),
// or a function.
type job struct {
	f     func()
	idx   int
	frame *link.Buf
	o     link.Offload
}

func newSerial(l *Loop) *serial {
	s := &serial{l: l, ch: make(chan job, GatewayQueue), done: make(chan struct{})}
	go s.loop()
	return s
}

// loop runs the jobs until stop.
func (s *serial) loop() {
	for {
		select {
		case j := <-s.ch:
			s.mu.Lock()
			if j.f != nil {
				j.f()
			} else {
				s.l.input(j.idx, j.frame.Bytes(), j.o)
			}
			s.pending.Add(-1)
			s.mu.Unlock()
			if j.frame != nil {
				size := j.frame.Size()
				j.frame.Put()
				s.bytes.Add(-int64(size)) // after the buffer is back: a waiter sees it there
			}
		case <-s.done:
			return
		}
	}
}

// runIdle runs a frame for port idx at once, on the caller's goroutine,
// if nothing is queued or running and the loop has not stopped, and
// reports whether it did. It copies nothing: the frame is the caller's.
func (s *serial) runIdle(idx int, fr []byte, o link.Offload) bool {
	if s.pending.Load() != 0 || !s.mu.TryLock() {
		return false
	}
	idle := s.pending.Load() == 0 // nothing queued since the first look
	select {
	case <-s.done:
		idle = false
	default:
	}
	if idle {
		s.l.input(idx, fr, o)
	}
	s.mu.Unlock()
	return idle
}

// post queues f; wait says whether to wait for room rather than drop.
func (s *serial) post(f func(), wait bool) bool {
	s.pending.Add(1)
	if wait {
		select {
		case s.ch <- job{f: f}:
			return true
		case <-s.done:
			s.pending.Add(-1)
			return false
		}
	}
	select {
	case s.ch <- job{f: f}:
		return true
	default:
		s.pending.Add(-1)
		return false
	}
}

// What postFrame did with a frame.
const (
	queued   = iota
	full     // GatewayQueue jobs wait
	noRoom   // GatewayQueueBytes are held
	oversize // bigger than the biggest buffer
)

// postFrame queues a copy of a frame for the loop's port idx, or drops it when
// the queue is full, by frames or by bytes.
func (s *serial) postFrame(idx int, fr []byte, o link.Offload) int {
	if len(fr) > link.MaxSuperFrame {
		return oversize
	}
	size := int64(link.BufSize(len(fr)))
	if s.bytes.Add(size) > GatewayQueueBytes {
		s.bytes.Add(-size)
		return noRoom
	}
	b := link.GetBuf(len(fr))
	copy(b.Bytes(), fr)
	s.pending.Add(1)
	select {
	case s.ch <- job{idx: idx, frame: b, o: o}:
		return queued
	default:
		s.pending.Add(-1)
		s.bytes.Add(-size)
		b.Put()
		return full
	}
}

func (s *serial) stop() { s.once.Do(func() { close(s.done) }) }

// serialClock runs timer callbacks on the loop.
type serialClock struct {
	clock.Clock
	s *serial
}

func (c serialClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.Clock.AfterFunc(d, func() { c.s.post(f, true) })
}
