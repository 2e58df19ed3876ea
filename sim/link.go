package sim

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// DefaultQueue is a link direction's queue bound when LinkConfig.Queue is 0:
// Linux's default txqueuelen.
const DefaultQueue = 1000

// LinkConfig describes a link's impairments. The zero value is a perfect
// link: no latency, no loss, unlimited rate.
type LinkConfig struct {
	Latency time.Duration // one-way delay
	Jitter  time.Duration // uniform extra delay in [0, Jitter); never reorders
	Loss    float64       // probability in [0, 1] that a frame is lost
	Rate    uint64        // bits per second; 0 means unlimited
	Queue   int           // frames that may wait for the transmitter; default DefaultQueue
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

// LinkStats counts one direction of a link.
type LinkStats struct {
	Sent      uint64 // frames put on the link
	Delivered uint64 // frames handed to the far end
	Lost      uint64 // lost to the Loss impairment
	QueueDrop uint64 // dropped because the queue was full
	DownDrop  uint64 // dropped because the link was down
}

// Link is a simulated cable between two ends.
type Link struct {
	e    *Engine
	name string
	cfg  LinkConfig
	up   bool
	ends [2]*End
	// Capture, if set, sees every frame as it enters the link (so frames
	// that are then lost appear too), with the sending end and the time.
	Capture func(l *Link, from *End, at time.Time, frame []byte)
	// Tracer, if set, hears about losses and drops.
	Tracer trace.Tracer
}

// End is one side of a link. It implements link.Sender for the node on its
// side; the node receives through the function given to Attach.
type End struct {
	l       *Link
	side    int
	name    string
	recv    func(frame []byte)
	carrier func(up bool)
	rng     *rand.Rand
	fifo    []flight // in flight towards the other end, by delivery time, from head
	head    int
	txFree  time.Duration
	timer   *Timer
	stats   LinkStats
}

var _ link.Sender = (*End)(nil)

type flight struct {
	buf     *[]byte
	txStart time.Duration
	deliver time.Duration
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// NewLink returns an up link named name whose ends are named a and b (for
// traces and captures, e.g. "h1:eth0" and "s1:p1").
func (e *Engine) NewLink(name, a, b string, cfg LinkConfig) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	l := &Link{e: e, name: name, cfg: cfg, up: true}
	for i, n := range []string{a, b} {
		l.ends[i] = &End{l: l, side: i, name: n, rng: e.Rand("link "+name, "from "+n)}
	}
	return l, nil
}

// Name returns the link's name.
func (l *Link) Name() string { return l.name }

// Config returns the link's configuration.
func (l *Link) Config() LinkConfig { return l.cfg }

// End returns end 0 or 1.
func (l *Link) End(i int) *End { return l.ends[i] }

// Up reports whether the link carries frames.
func (l *Link) Up() bool { return l.up }

// SetUp brings the link up or down and tells both ends' carrier functions.
// Frames in flight when it goes down are dropped on arrival.
func (l *Link) SetUp(up bool) {
	if l.up == up {
		return
	}
	l.up = up
	for _, end := range l.ends {
		if end.carrier != nil {
			end.carrier(up)
		}
	}
}

// Name returns the end's name.
func (end *End) Name() string { return end.name }

// Link returns the link the end belongs to.
func (end *End) Link() *Link { return end.l }

// Peer returns the other end.
func (end *End) Peer() *End { return end.l.ends[1-end.side] }

// Stats returns the counters of frames sent from this end.
func (end *End) Stats() LinkStats { return end.stats }

// Attach sets what the node on this end does with arriving frames, and,
// if carrier is not nil, how it learns of the link going up or down.
func (end *End) Attach(recv func(frame []byte), carrier func(up bool)) {
	end.recv = recv
	end.carrier = carrier
}

// Send puts a copy of frame on the link towards the other end.
func (end *End) Send(frame []byte) error {
	l := end.l
	if !l.up {
		end.stats.DownDrop++
		l.lost(end, "link down")
		return link.ErrDown
	}
	now := l.e.now
	end.stats.Sent++
	if l.Capture != nil {
		l.Capture(l, end, l.e.Now(), frame)
	}
	start := max(now, end.txFree)
	if l.cfg.Rate > 0 && start > now {
		waiting := 0
		for i := len(end.fifo) - 1; i >= end.head && end.fifo[i].txStart > now; i-- {
			waiting++
		}
		if waiting >= l.cfg.Queue {
			end.stats.QueueDrop++
			l.lost(end, "queue full")
			return nil
		}
	}
	txEnd := start
	if l.cfg.Rate > 0 {
		txEnd += time.Duration(uint64(len(frame)) * 8 * uint64(time.Second) / l.cfg.Rate)
	}
	end.txFree = txEnd
	if l.cfg.Loss > 0 && end.rng.Float64() < l.cfg.Loss {
		end.stats.Lost++
		l.lost(end, "loss")
		return nil
	}
	deliver := txEnd + l.cfg.Latency
	if l.cfg.Jitter > 0 {
		deliver += time.Duration(end.rng.Int64N(int64(l.cfg.Jitter)))
	}
	if n := len(end.fifo); n > end.head {
		deliver = max(deliver, end.fifo[n-1].deliver)
	}
	buf := framePool.Get().(*[]byte)
	*buf = append((*buf)[:0], frame...)
	end.fifo = append(end.fifo, flight{buf: buf, txStart: start, deliver: deliver})
	if len(end.fifo)-end.head == 1 {
		end.arm()
	}
	return nil
}

// arm schedules delivery of the frame at the head of the FIFO.
func (end *End) arm() {
	d := end.fifo[end.head].deliver - end.l.e.now
	if end.timer == nil {
		end.timer = end.l.e.Schedule(d, end.deliverHead)
	} else {
		end.timer.Reset(d)
	}
}

// deliverHead hands the oldest frame in flight to the other end.
func (end *End) deliverHead() {
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
	if len(end.fifo) > end.head {
		end.arm()
	}
	peer := end.Peer()
	switch {
	case !end.l.up:
		end.stats.DownDrop++
		end.l.lost(end, "link down")
	case peer.recv != nil:
		end.stats.Delivered++
		peer.recv(*f.buf)
	}
	framePool.Put(f.buf)
}

func (l *Link) lost(from *End, why string) {
	if l.Tracer == nil {
		return
	}
	l.Tracer.Trace(trace.Event{Time: l.e.Now(), Node: "link " + l.name, Kind: trace.Lost, Port: from.Peer().name, Reason: why})
}
