package backend

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/stack"
)

// Stack probes from one of netyard's own userspace stacks: a simulated
// host's in mem, and a Docker host's own (its gateway node's) in every
// world, for steps from the host (from: host1) and from its containers
// on the host network. The probe logic is here once; a world gives the
// stack, its clock, a way to run with the stack to itself and a way to
// let time pass.
type Stack struct {
	Host  *stack.Host
	Clock clock.Clock // the stack's: its timers fire with the stack to itself
	// Do runs f with the stack to itself: at once in mem, on the node's
	// loop on the wall clock.
	Do func(f func())
	// Run lets up to d pass, or less once done (asked with the stack to
	// itself) reports true; an error is what stopped the world (a
	// budget, a loop).
	Run func(done func() bool, d time.Duration) error
	// Settle runs what is left to happen at this instant, so that the
	// frames a probe's last exchange sets off are the probe's (mem); nil:
	// nothing to do.
	Settle func() error
}

// ErrNoReply is a probe's error when no reply came within the timeout.
var ErrNoReply = errors.New("no reply within the timeout")

// Reason is an error of the stack as a report shows it: without the
// package's prefix.
func Reason(err error) string { return strings.TrimPrefix(err.Error(), "stack: ") }

func (s Stack) settle() error {
	if s.Settle == nil {
		return nil
	}
	return s.Settle()
}

// Ping sends count echo requests with identifier id to to, interval
// apart, each waiting up to timeout for its reply.
func (s Stack) Ping(id uint16, to netip.Addr, count int, interval, timeout time.Duration) (PingStats, error) {
	st := PingStats{Sent: count}
	if count > math.MaxUint16 {
		return st, fmt.Errorf("backend: %d pings in one step (at most %d: one sequence number each)", count, math.MaxUint16)
	}
	type probe struct {
		done     bool
		res      stack.PingResult
		deadline time.Time // when it stops waiting for its reply
	}
	// Probe i has sequence number i+1. One timer sends the probes in turn
	// and one times out the oldest still waiting, re-armed: a probe costs
	// no allocation (the storm benchmark sends 10 000).
	probes := make([]probe, count)
	left := count
	finish := func(i int, r stack.PingResult) {
		if i < 0 || i >= count || probes[i].done {
			return
		}
		probes[i] = probe{done: true, res: r}
		left--
	}
	answered := func(r stack.PingResult) { finish(int(r.Seq)-1, r) }
	var sender, expiry clock.Timer
	next, oldest, expiring := 0, 0, false
	var expire func()
	// arm sets the expiry timer for the oldest probe still waiting.
	arm := func(now time.Time) {
		for oldest < next && probes[oldest].done {
			oldest++
		}
		if oldest == next {
			expiring = false
			return
		}
		d := probes[oldest].deadline.Sub(now)
		if expiry == nil {
			expiry = s.Clock.AfterFunc(d, expire)
		} else {
			expiry.Reset(d)
		}
		expiring = true
	}
	expire = func() {
		now := s.Clock.Now()
		for ; oldest < next && !probes[oldest].deadline.After(now); oldest++ {
			if !probes[oldest].done {
				seq := uint16(oldest + 1)
				s.Host.CancelEcho(id, seq)
				finish(oldest, stack.PingResult{Seq: seq, Err: ErrNoReply})
			}
		}
		arm(now)
	}
	send := func() {
		i := next
		next++
		if next < count {
			sender.Reset(interval) // before the expiry: at a tie the next probe goes first
		}
		now := s.Clock.Now()
		probes[i].deadline = now.Add(timeout)
		seq := uint16(i + 1)
		if err := s.Host.Echo(to, id, seq, 56, answered); err != nil {
			finish(i, stack.PingResult{Seq: seq, Err: err})
		}
		if !expiring {
			arm(now)
		}
	}
	s.Do(func() { sender = s.Clock.AfterFunc(0, send) })
	if err := s.Run(func() bool { return left == 0 }, time.Duration(count)*interval+timeout); err != nil {
		return st, err
	}
	if err := s.settle(); err != nil {
		return st, err
	}
	s.Do(func() {
		st.RTTs = make([]time.Duration, 0, len(probes))
		for _, p := range probes {
			switch {
			case p.res.Reply:
				st.Received++
				st.RTTs = append(st.RTTs, p.res.RTT)
			case p.res.Err != nil:
				st.Errors = append(st.Errors, Reason(p.res.Err))
			case !p.done:
				st.Errors = append(st.Errors, Reason(ErrNoReply))
			}
		}
	})
	return st, nil
}

// UDP sends payload to to from an ephemeral port and waits up to timeout
// for arrived (the receiver's, asked with the stack to itself) or an
// ICMP error.
func (s Stack) UDP(to netip.AddrPort, payload []byte, arrived func() bool, timeout time.Duration) (UDPResult, error) {
	var res UDPResult
	done := false
	var c *stack.UDPConn
	var err error
	s.Do(func() {
		if c, err = s.Host.ListenUDP(0); err != nil {
			return
		}
		c.OnError = func(err error) { res.Err, done = Reason(err), true }
		if serr := c.SendTo(to, payload); serr != nil {
			res, done = UDPResult{Err: Reason(serr)}, true
		}
	})
	if err != nil {
		return res, err
	}
	defer s.Do(c.Close)
	if done {
		return res, nil
	}
	if err := s.Run(func() bool { return done || arrived() }, timeout); err != nil {
		return res, err
	}
	if err := s.settle(); err != nil {
		return res, err
	}
	s.Do(func() {
		switch {
		case arrived():
			res = UDPResult{Delivered: true}
		case !done:
			res.Err = "timeout"
		}
	})
	return res, nil
}

// Dial tries a TCP handshake with to. With open, it waits on (within
// timeout) until accepted reports the client as the listener saw it.
func (s Stack) Dial(to netip.AddrPort, timeout time.Duration, accepted func() (netip.AddrPort, bool)) (res ConnectResult, err error) {
	result := ""
	var cancel func()
	s.Do(func() { cancel, err = s.Host.ConnectTCP(to, func(r string) { result = r }) })
	if errors.Is(err, stack.ErrNoRoute) {
		return ConnectResult{Result: TimedOut}, nil // as a kernel's connect fails: no answer
	}
	if err != nil {
		return ConnectResult{}, err
	}
	start := s.Clock.Now()
	if err := s.Run(func() bool { return result != "" }, timeout); err != nil {
		return ConnectResult{}, err
	}
	defer func() {
		if serr := s.settle(); serr != nil && err == nil {
			res, err = ConnectResult{}, serr
		}
	}()
	var got string
	s.Do(func() { got = result })
	switch got {
	case stack.TCPOpen:
		var peer netip.AddrPort
		seen := func() bool {
			p, ok := accepted()
			peer = p
			return ok
		}
		if err := s.Run(seen, timeout-s.Clock.Now().Sub(start)); err != nil {
			return ConnectResult{}, err
		}
		return ConnectResult{Result: Open, Peer: peer}, nil
	case stack.TCPRefused:
		return ConnectResult{Result: Refused}, nil
	case "":
		s.Do(cancel)
	}
	return ConnectResult{Result: TimedOut}, nil
}

// Resolve asks the nameserver ns for name's records of type qtype.
func (s Stack) Resolve(ns netip.Addr, name string, qtype uint16, timeout time.Duration) (Resolved, error) {
	if !ns.IsValid() {
		return Resolved{Err: "no nameserver"}, nil
	}
	var res Resolved
	done := false
	var cancel func()
	var err error
	s.Do(func() {
		cancel, err = s.Host.Query(ns, name, qtype, func(m *dns.Msg, err error) {
			done = true
			if err != nil {
				res.Err = Reason(err)
				if strings.HasPrefix(res.Err, "port unreachable") {
					res.Err = "port unreachable" // as a kernel's socket says it (ECONNREFUSED): netns's words
				}
				return
			}
			res = Answer(m)
		})
	})
	if err != nil {
		return Resolved{Err: Reason(err)}, nil
	}
	if err := s.Run(func() bool { return done }, timeout); err != nil {
		return res, err
	}
	if err := s.settle(); err != nil {
		return res, err
	}
	s.Do(func() {
		if !done {
			cancel()
			res.Err = "timeout"
		}
	})
	return res, nil
}
