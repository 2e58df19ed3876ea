package trace

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// Record is an Event as a JSON line carries it: its time in seconds since
// the run's origin ("t"), the step of the run that caused it ("step", 0
// while the topology is built), the event's fields, and its duration in
// seconds ("dur"). Detail holds the event's sentence (Text) for the kinds
// whose events carried one before they had fields (Host, STP, State,
// Routed), so that readers of "detail" keep working, and for Overlay,
// which is written the same way; programs read the fields.
type Record struct {
	T    float64 `json:"t"`
	Step int64   `json:"step"`
	Event
	Dur float64 `json:"dur,omitzero"`
}

// NewRecord returns e as a Record, t measured from origin.
func NewRecord(e Event, origin time.Time, step int64) Record {
	r := Record{T: e.Time.Sub(origin).Seconds(), Step: step, Event: e, Dur: e.Dur.Seconds()}
	switch e.Kind {
	case Host, STP, State, Routed, Overlay:
		r.Detail = Text(e)
	}
	return r
}

// ToEvent returns the event r carries, its time from origin. Detail is kept
// as the line had it.
func (r Record) ToEvent(origin time.Time) Event {
	e := r.Event
	e.Time = origin.Add(seconds(r.T))
	e.Dur = seconds(r.Dur)
	return e
}

// seconds converts seconds to a Duration, rounding to the nanosecond.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// JSONLines returns a subscriber that writes each event to w as one JSON
// line (a Record), without HTML escaping; step, if not nil, says the step
// running. Write errors are ignored: a trace never stops a run. It is not
// safe for concurrent use; a Bus serialises its synchronous subscribers.
func JSONLines(w io.Writer, origin time.Time, step func() int64) func(Event) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(e Event) {
		var s int64
		if step != nil {
			s = step()
		}
		_ = enc.Encode(NewRecord(e, origin, s))
	}
}
