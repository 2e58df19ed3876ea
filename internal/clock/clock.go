// Package clock is the only way netyard's nodes learn the time.
//
// Node code (the switch, the host stack, the NAT, the DNS server) never calls
// time.Now, time.Sleep or time.AfterFunc. It is given a Clock: in the mem
// backend that is the simulator's virtual clock (package sim), in the netns
// backend it is Real, the wall clock; in the core packages' own tests it is
// Manual, which moves only when the test advances it, so they need not
// import the simulator. The shape follows gVisor's tcpip.Clock: Now plus
// AfterFunc returning a Timer that can be stopped and reset.
package clock

import "time"

// Clock tells the time and runs functions later.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f once, d from now, and returns a Timer that can
	// cancel or re-arm the call. f runs on the clock's own goroutine: the
	// engine's in a simulation, a new goroutine for Real.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call made by Clock.AfterFunc.
type Timer interface {
	// Stop cancels the call and reports whether it was still pending.
	Stop() bool
	// Reset re-arms the call to happen d from now and reports whether it
	// was still pending before.
	Reset(d time.Duration) bool
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Nanos is an optional fast path a Clock may offer: the current time as
// Unix nanoseconds, without building a time.Time. Hot paths use it when
// present.
type Nanos interface {
	UnixNano() int64
}

// Or returns c, or Real when c is nil, so option structs can leave it unset.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}
