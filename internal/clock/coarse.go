package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Coarse is the wall clock with a cheap UnixNano: an atomic value a timer
// refreshes every resolution, as the Linux bridge ages its table by
// jiffies. Now and AfterFunc are Real's; hot paths that take clock.Nanos
// (the switch's FDB, per frame) read the coarse value, which lags the wall
// clock by at most the resolution (more on a loaded machine). It is for
// the netns world; the mem world's clock is the simulator's.
type Coarse struct {
	ns      atomic.Int64
	stopped atomic.Bool
	res     time.Duration
	mu      sync.Mutex
	t       *time.Timer // re-armed by each tick; no goroutine of its own
}

// NewCoarse starts a coarse clock refreshed every res (at least 100 µs).
// Stop it when done.
func NewCoarse(res time.Duration) *Coarse {
	c := &Coarse{res: max(res, 100*time.Microsecond)}
	c.ns.Store(time.Now().UnixNano())
	c.mu.Lock()
	c.t = time.AfterFunc(c.res, c.tick)
	c.mu.Unlock()
	return c
}

// tick refreshes the value and re-arms the timer.
func (c *Coarse) tick() {
	c.ns.Store(time.Now().UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped.Load() {
		c.t.Reset(c.res)
	}
}

// Stop ends the refreshing; UnixNano then returns the wall clock's time
// read at each call. Stop may be called more than once.
func (c *Coarse) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped.Store(true)
	c.t.Stop()
}

// Now returns the wall clock's time (not the coarse value).
func (c *Coarse) Now() time.Time { return time.Now() }

// AfterFunc is Real's.
func (c *Coarse) AfterFunc(d time.Duration, f func()) Timer { return Real.AfterFunc(d, f) }

// UnixNano returns the coarse time (clock.Nanos), about one resolution
// behind the wall clock at most; after Stop, the wall clock's.
func (c *Coarse) UnixNano() int64 {
	if c.stopped.Load() {
		return time.Now().UnixNano()
	}
	return c.ns.Load()
}
