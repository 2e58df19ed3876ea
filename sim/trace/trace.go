// Package trace is the public face of netyard's trace events, for
// programs and tests outside the module: every node reports its decisions
// (a MAC learned, a frame flooded or dropped and why, an STP change, a NAT
// mapping) as Events to a Tracer, and the backends take one in their
// Options. The types are those of the module's own trace package, by
// alias, so an Event here is the Event the nodes send.
package trace

import itrace "github.com/netyard/netyard/internal/trace"

// Event is one decision of one node.
type Event = itrace.Event

// Tracer receives events; one used by the netns backend must be safe for
// concurrent use.
type Tracer = itrace.Tracer

// Func adapts a function to Tracer.
type Func = itrace.Func

// Kind says what an Event reports.
type Kind = itrace.Kind

// The kinds of event.
const (
	Learned   = itrace.Learned
	Moved     = itrace.Moved
	Aged      = itrace.Aged
	Flushed   = itrace.Flushed
	Forwarded = itrace.Forwarded
	Flooded   = itrace.Flooded
	Dropped   = itrace.Dropped
	Mirrored  = itrace.Mirrored
	State     = itrace.State
	Host      = itrace.Host
	Lost      = itrace.Lost
	STP       = itrace.STP
	Routed    = itrace.Routed
)

// Narrate renders e as one English sentence, the --explain line.
func Narrate(e Event) string { return itrace.Narrate(e) }
