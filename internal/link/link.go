// Package link holds the one interface every netyard node sends frames
// through, and its in-memory twins for tests.
//
// # Ownership
//
// A frame is a []byte Ethernet II frame without FCS. Send must not keep the
// slice after it returns: a link that delivers later (latency, queues) copies
// it first. This is the io.Writer rule, and it lets the switch hand the same
// read-only slice to every port of a flood.
//
// # Concurrency
//
// Send may be called from several goroutines at once (the netns backend feeds
// the switch from one goroutine per TAP device); implementations say how they
// serialise.
package link

import (
	"errors"
	"sync"
)

// Sender carries frames away from a node: a switch port, a host interface.
type Sender interface {
	// Send transmits frame. It must not keep frame after it returns.
	Send(frame []byte) error
}

// Func adapts a function to Sender.
type Func func(frame []byte) error

// Send calls f(frame).
func (f Func) Send(frame []byte) error { return f(frame) }

// ErrDown is returned by Send on a link whose carrier is down.
var ErrDown = errors.New("link: carrier down")

// Discard drops every frame and reports success.
var Discard Sender = Func(func([]byte) error { return nil })

// Channel is an inject/drain endpoint for tests, after gVisor's link/channel:
// every frame sent to it is copied and kept until Drain.
type Channel struct {
	mu     sync.Mutex
	frames [][]byte // guarded by mu
}

var _ Sender = (*Channel)(nil)

// Send keeps a copy of frame.
func (c *Channel) Send(frame []byte) error {
	c.mu.Lock()
	c.frames = append(c.frames, append([]byte(nil), frame...))
	c.mu.Unlock()
	return nil
}

// Drain returns the frames sent so far, oldest first, and forgets them.
func (c *Channel) Drain() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames = nil
	return f
}

// Len reports how many frames are waiting to be drained.
func (c *Channel) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}
