package sim

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// DefaultQueue is a link direction's queue bound when LinkConfig.Queue is 0:
// Linux's default txqueuelen, and netem's default limit.
const DefaultQueue = 1000

// LinkConfig describes a link's impairments. The zero value is a perfect
// link: no latency, no loss, unlimited rate.
type LinkConfig struct {
	Latency time.Duration // one-way delay
	Jitter  time.Duration // uniform extra delay in [0, Jitter); never reorders
	Loss    float64       // probability in [0, 1] that a frame is lost
	Rate    uint64        // bits per second; 0 means unlimited
	// Queue bounds the frames a direction holds beside the one being
	// transmitted: waiting for a rate-limited transmitter, or in flight on
	// any link that is not direct (netem's limit, which bounds memory in a
	// storm too); default DefaultQueue.
	Queue int
}

// Validate reports a configuration that cannot be simulated.
func (c LinkConfig) Validate() error {
	switch {
	case c.Latency < 0 || c.Jitter < 0:
		return fmt.Errorf("latency and jitter must not be negative")
	case c.Loss < 0 || c.Loss > 1:
		return fmt.Errorf("loss %v is not a probability in [0, 1]", c.Loss)
	case c.Queue < 0:
		return fmt.Errorf("queue %d must not be negative", c.Queue)
	}
	return nil
}

// Perfect reports whether the configuration impairs nothing.
func (c LinkConfig) Perfect() bool {
	return c.Latency == 0 && c.Jitter == 0 && c.Loss == 0 && c.Rate == 0
}

// LinkStats counts one direction of a link.
type LinkStats struct {
	Sent      uint64 // frames put on the link
	Delivered uint64 // frames handed to the far end
	Lost      uint64 // lost to the Loss impairment
	QueueDrop uint64 // dropped because the queue was full
	DownDrop  uint64 // dropped because the link was down
}

// LinkOptions are the parts of a link that are not its impairments.
type LinkOptions struct {
	// Clock times the link: the engine in a simulation, the wall clock for
	// real devices. Default clock.Real.
	Clock clock.Clock
	// Seed, with the link's and the ends' names, derives the loss and
	// jitter streams (see Stream).
	Seed uint64
	// Direct delivers frames of a perfect link synchronously, inside Send,
	// without a copy or a timer. Real-time backends want it; a simulation
	// must not use it, or zero-latency frames would recurse instead of
	// queueing as events.
	Direct bool
	// Tracer, if set, hears about losses and drops.
	Tracer trace.Tracer
	// OnLoop, if set, turns on loop detection: it is called once, from
	// Send, when one frame has crossed the link in one direction
	// LoopCopies times within LoopWindow of the link's clock, which on a
	// cable between two switches only a loop does (Ethernet has no TTL).
	// Link-local frames (BPDUs) are not counted.
	OnLoop func(l *Link, from *End, frame []byte)
}

// Loop detection: LoopCopies crossings of one frame within LoopWindow. A
// host resends a frame unchanged a few times at most (ARP asks three
// times, a second apart); a loop does it as fast as the links go.
const (
	LoopCopies = 16
	LoopWindow = time.Second
)

// Link is a cable between two ends, simulated in time on its clock.
//
// # Concurrency
//
// A link is safe for concurrent use. Its up state, each end's node
// functions (replaced whole by Attach) and the counters are atomics, so a
// direct link hands a frame over without a lock; a delayed direction's
// queue and timer are guarded by its end's mu, never held while a receive
// or carrier function runs. Frames of one direction are delivered one at a
// time and in order.
//
// A link whose clock is an Engine takes no mu: the engine is not safe for
// concurrent use, and every Send that is not direct reads its clock and
// may arm its timer, so whoever sends on such a link is already confined
// to the engine's goroutine, or serialised with it, as the deliveries are.
// Its counters, up state and node functions stay atomics, read from
// anywhere (Stats, a live world's inspector).
type Link struct {
	clk  clock.Clock
	eng  *Engine // clk, when it is an engine: then mu is not taken (see above)
	name string
	cfg  atomic.Pointer[LinkConfig] // replaced whole by SetConfig
	// direct: frames are handed over at once (Direct, and perfect);
	// canDirect: LinkOptions.Direct.
	direct, canDirect atomic.Bool
	tracer            trace.Tracer
	onLoop            func(l *Link, from *End, frame []byte)
	looped            atomic.Bool // onLoop was called
	ends              [2]*End

	up atomic.Bool

	// Capture, if set before the first frame, sees every frame as it
	// enters the link (so frames that are then lost appear too), with the
	// sending end (Clock tells the time, read only when wanted: a live
	// world's tracer mostly has nobody listening). It may be called
	// concurrently for the two directions.
	Capture func(l *Link, from *End, frame []byte)
}

// End is one side of a link. It implements link.Sender for the node on its
// side; the node receives through the function given to Attach.
type End struct {
	l    *Link
	peer *End // the other end: one load, not three, on every delivery
	side int
	name string

	node  atomic.Pointer[node] // how the node here receives; replaced whole
	stats linkCounters

	mu         sync.Mutex  // guards the delivery state below; taken through lock
	onEngine   bool        // the link's clock is an engine: mu is not taken (see Link)
	rng        *rand.Rand  // guarded by mu
	fifo       []flight    // guarded by mu; in flight, by delivery time, from head
	head       int         // guarded by mu
	txFree     int64       // guarded by mu; when the transmitter is next free
	timer      clock.Timer // guarded by mu; nil on an engine, which uses etimer
	etimer     *Timer      // the timer, on an engine: called without an interface
	armed      bool        // guarded by mu; timer pending
	delivering bool        // guarded by mu; a frame is being handed over
	seen       *loopTable  // guarded by mu; recent frames, for loop detection (nil without OnLoop)
	// spare is the buffer of the last frame delivered, for the next frame
	// sent: a direction mostly holds one frame at a time, so it needs
	// framePool only for the frames beyond one. It is kept only while it
	// is no bigger than spareMax, so an end idles with one ordinary frame's
	// buffer at most, never a jumbo one.
	spare *[]byte // guarded by mu; nil: none
}

// spareMax bounds the buffer an end keeps idle (spare): framePool's size,
// which an Ethernet frame of the ordinary MTU fits.
const spareMax = 2048

// loopTable remembers recent frames a direction carried by hash, each
// with how often it crossed since it was first seen, in a direct-mapped
// table: a frame's slot is chosen by its hash, so a look-up is one slot,
// and a frame that keeps coming back (a loop's) keeps its slot.
type loopTable struct {
	hash  [256]uint64
	count [256]uint16
	first [256]int64
}

// loopCRC hashes frames for loop detection: a fixed function (CRC-32C,
// done in hardware where the CPU has it), never a per-process seed, so
// which frames share a slot, and so the event at which a loop is found,
// is the same in every run.
var loopCRC = crc32.MakeTable(crc32.Castagnoli)

// loopPrefix is how much of a frame identifies it for loop detection,
// with its length: the Ethernet, IPv4 and TCP or UDP headers, whose L4
// checksum covers the payload (links that are not direct carry frames
// with their checksums done), so frames that differ differ here.
const loopPrefix = 64

// seenLocked counts frame's crossing at now and reports whether it has now
// crossed LoopCopies times within LoopWindow.
func (t *loopTable) seenLocked(frame []byte, now int64) bool {
	sum := uint64(crc32.Checksum(frame[:min(len(frame), loopPrefix)], loopCRC)) | uint64(len(frame))<<32 // the slot from the CRC
	i := sum % uint64(len(t.hash))
	if t.hash[i] != sum || t.count[i] == 0 || now-t.first[i] > int64(LoopWindow) {
		t.hash[i], t.count[i], t.first[i] = sum, 1, now
		return false
	}
	t.count[i]++
	return t.count[i] >= LoopCopies
}

// node is the receiver attached to an end.
type node struct {
	r link.Receiver // nil: frames arriving here are dropped
}

// linkCounters are one direction's counters, atomics so that a direct
// link counts without a lock.
type linkCounters struct {
	sent, delivered, lost, queueDrop, downDrop atomic.Uint64
}

var (
	_ link.OffloadSender = (*End)(nil)
	_ link.Endpoint      = (*End)(nil)
)

type flight struct {
	buf     *[]byte
	txStart int64
	deliver int64
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, spareMax); return &b }}

// NewLink returns an up link in the engine's simulation.
func (e *Engine) NewLink(name, a, b string, cfg LinkConfig) (*Link, error) {
	return NewLink(name, a, b, cfg, LinkOptions{Clock: e, Seed: e.seed})
}

// NewLink returns an up link named name whose ends are named a and b (for
// traces and captures, e.g. "h1:eth0" and "s1:p1").
func NewLink(name, a, b string, cfg LinkConfig, o LinkOptions) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	l := &Link{clk: clock.Or(o.Clock), name: name, tracer: o.Tracer, onLoop: o.OnLoop}
	l.eng, _ = l.clk.(*Engine)
	l.cfg.Store(&cfg)
	l.canDirect.Store(o.Direct)
	l.direct.Store(o.Direct && cfg.Perfect())
	l.up.Store(true)
	for i, n := range []string{a, b} {
		l.ends[i] = &End{l: l, side: i, name: n, rng: Stream(o.Seed, "link "+name, "from "+n), onEngine: l.eng != nil}
		if o.OnLoop != nil {
			l.ends[i].seen = new(loopTable)
		}
		l.ends[i].node.Store(&node{})
	}
	l.ends[0].peer, l.ends[1].peer = l.ends[1], l.ends[0]
	return l, nil
}

// Name returns the link's name.
func (l *Link) Name() string { return l.name }

// Config returns the link's configuration.
func (l *Link) Config() LinkConfig { return *l.cfg.Load() }

// SetConfig changes the link's impairments while it runs (tc qdisc change):
// frames sent from now on meet the new ones; frames in flight keep the
// times they were given. A direct link that becomes impaired queues from
// now on.
func (l *Link) SetConfig(cfg LinkConfig) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("link %s: %w", l.name, err)
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	l.cfg.Store(&cfg)
	l.direct.Store(l.canDirect.Load() && cfg.Perfect())
	return nil
}

// End returns end 0 or 1.
func (l *Link) End(i int) *End { return l.ends[i] }

// Up reports whether the link carries frames.
func (l *Link) Up() bool { return l.up.Load() }

// SetUp brings the link up or down and tells both ends' carrier functions.
// Frames in flight when it goes down are dropped on arrival.
func (l *Link) SetUp(up bool) {
	if l.up.Swap(up) == up {
		return
	}
	for _, end := range l.ends {
		if r := end.node.Load().r; r != nil {
			r.Carrier(up)
		}
	}
}

// Name returns the end's name.
func (end *End) Name() string { return end.name }

// SendOffload puts a frame with offload metadata on the link. A direct link
// hands it over as it is when the far node takes offloads; anything else
// (a link that impairs, a node that does not) gets the segments and
// checksums computed in software, as a NIC without offloads would need.
func (end *End) SendOffload(frame []byte, o link.Offload) error {
	if !o.Pending() {
		return end.Send(frame)
	}
	l := end.l
	if l.direct.Load() && l.Up() {
		if r := end.Peer().node.Load().r; r != nil {
			if l.Capture != nil {
				l.Capture(l, end, frame)
			}
			end.stats.sent.Add(1)
			end.stats.delivered.Add(1)
			_ = r.ReceiveOffload(frame, o)
			return nil
		}
	}
	_, _, err := link.ResolveTo(end, frame, o)
	return err
}

// Link returns the link the end belongs to.
func (end *End) Link() *Link { return end.l }

// Peer returns the other end.
func (end *End) Peer() *End { return end.peer }

// Stats returns the counters of frames sent from this end.
func (end *End) Stats() LinkStats {
	c := &end.stats
	return LinkStats{Sent: c.sent.Load(), Delivered: c.delivered.Load(), Lost: c.lost.Load(), QueueDrop: c.queueDrop.Load(), DownDrop: c.downDrop.Load()}
}

// Attach sets the receiver of the node on this end: it gets the frames
// arriving here and hears the link go up or down. nil detaches: frames
// arriving are then dropped.
func (end *End) Attach(r link.Receiver) {
	end.node.Store(&node{r: r})
}

// Receive puts frame on the link (Send): an End is the Endpoint of the
// node on its side.
func (end *End) Receive(frame []byte) error { return end.Send(frame) }

// ReceiveOffload puts a frame with offload metadata on the link
// (SendOffload).
func (end *End) ReceiveOffload(frame []byte, o link.Offload) error { return end.SendOffload(frame, o) }

// Carrier is what the node says of its own carrier; a link's carrier is
// its own (SetUp), so this does nothing.
func (end *End) Carrier(bool) {}

// Clock returns the link's clock.
func (l *Link) Clock() clock.Clock { return l.clk }

func (l *Link) now() int64 {
	if l.eng != nil {
		return l.eng.UnixNano()
	}
	return l.clockNanos()
}

func (l *Link) clockNanos() int64 {
	if n, ok := l.clk.(clock.Nanos); ok {
		return n.UnixNano()
	}
	return l.clk.Now().UnixNano()
}

// Send puts frame on the link towards the other end. Unless the link is
// direct, it is copied first.
func (end *End) Send(frame []byte) error {
	l := end.l
	if !l.Up() {
		end.stats.downDrop.Add(1)
		l.lost(end, "link down")
		return link.ErrDown
	}
	if l.Capture != nil {
		l.Capture(l, end, frame)
	}
	end.stats.sent.Add(1)
	if l.direct.Load() { // no lock: the node functions and counters are atomics
		end.stats.delivered.Add(1)
		if r := end.Peer().node.Load().r; r != nil {
			_ = r.Receive(frame) // a wire does not learn what the receiver made of it
		}
		return nil
	}
	now := l.now()
	end.lock()
	if l.onLoop != nil && !isLinkLocal(frame) && end.seen.seenLocked(frame, now) && !l.looped.Swap(true) {
		end.unlock()
		l.onLoop(l, end, frame)
		end.lock()
	}
	cfg := l.cfg.Load()
	start := max(now, end.txFree)
	if held := len(end.fifo) - end.head; held > cfg.Queue {
		// Full: the frame on the wire and Queue more, waiting for a
		// rate-limited transmitter or in flight (netem's limit).
		end.stats.queueDrop.Add(1)
		end.unlock()
		l.lost(end, "queue full")
		return nil
	}
	txEnd := start
	if cfg.Rate > 0 {
		txEnd += int64(uint64(len(frame)) * 8 * uint64(time.Second) / cfg.Rate)
	}
	end.txFree = txEnd
	if cfg.Loss > 0 && end.rng.Float64() < cfg.Loss {
		end.stats.lost.Add(1)
		end.unlock()
		l.lost(end, "loss")
		return nil
	}
	deliver := txEnd + int64(cfg.Latency)
	if cfg.Jitter > 0 {
		deliver += end.rng.Int64N(int64(cfg.Jitter))
	}
	if n := len(end.fifo); n > end.head {
		deliver = max(deliver, end.fifo[n-1].deliver)
	}
	buf := end.spare
	if buf != nil {
		end.spare = nil
	} else {
		buf = framePool.Get().(*[]byte)
	}
	*buf = append((*buf)[:0], frame...)
	end.fifo = append(end.fifo, flight{buf: buf, txStart: start, deliver: deliver})
	if !end.armed && !end.delivering {
		end.armLocked(now)
	}
	end.unlock()
	return nil
}

// lock takes mu, unless the link runs on an engine, whose goroutine is the
// only one to touch the delivery state (see Link).
func (end *End) lock() {
	if !end.onEngine {
		end.mu.Lock()
	}
}

func (end *End) unlock() {
	if !end.onEngine {
		end.unlockMu()
	}
}

// unlockMu is apart from unlock so that unlock, on every hop of a
// simulation, is inlined.
//
//go:noinline
func (end *End) unlockMu() { end.mu.Unlock() }

// armLocked schedules delivery of the frame at the head of the FIFO.
func (end *End) armLocked(now int64) {
	d := time.Duration(end.fifo[end.head].deliver - now)
	if end.onEngine {
		if end.etimer == nil {
			end.etimer = end.l.eng.Schedule(d, end.deliverHead)
		} else {
			end.etimer.Reset(d)
		}
		end.armed = true
		return
	}
	if end.timer == nil {
		end.timer = end.l.clk.AfterFunc(d, end.deliverHead)
	} else {
		end.timer.Reset(d)
	}
	end.armed = true
}

// deliverHead hands the oldest frame in flight to the other end, then arms
// the timer for the next one: one delivery at a time, in order.
func (end *End) deliverHead() {
	end.lock()
	end.armed = false
	if len(end.fifo) == end.head { // raced a Stop
		end.unlock()
		return
	}
	f := end.fifo[end.head]
	end.fifo[end.head] = flight{}
	end.head++
	switch {
	case end.head == len(end.fifo): // empty: start over at the front
		end.fifo, end.head = end.fifo[:0], 0
	case end.head >= 64 && end.head*2 >= len(end.fifo): // mostly consumed: compact
		n := copy(end.fifo, end.fifo[end.head:])
		clear(end.fifo[n:])
		end.fifo, end.head = end.fifo[:n], 0
	}
	end.delivering = true
	end.unlock()

	if end.l.Up() {
		end.stats.delivered.Add(1)
		if r := end.Peer().node.Load().r; r != nil {
			_ = r.Receive(*f.buf)
		}
	} else {
		end.stats.downDrop.Add(1)
		end.l.lost(end, "link down")
	}

	end.lock()
	end.delivering = false
	if len(end.fifo) > end.head {
		end.armLocked(end.l.now())
	}
	if end.spare == nil && cap(*f.buf) <= spareMax {
		end.spare, f.buf = f.buf, nil
	}
	end.unlock()
	if f.buf != nil {
		framePool.Put(f.buf)
	}
}

// isLinkLocal reports whether frame is for 01:80:C2:00:00:0X (BPDUs and
// the like), which no bridge forwards.
func isLinkLocal(frame []byte) bool {
	return len(frame) >= 6 && frame[0] == 0x01 && frame[1] == 0x80 && frame[2] == 0xc2 &&
		frame[3] == 0 && frame[4] == 0 && frame[5]&0xf0 == 0
}

func (l *Link) lost(from *End, why string) {
	if l.tracer == nil {
		return
	}
	l.tracer.Trace(trace.Event{Time: l.clk.Now(), Node: "link " + l.name, Kind: trace.Lost, Link: l.name, Port: from.Peer().name, Reason: why})
}
