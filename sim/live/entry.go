package live

import (
	"strings"
	"time"

	"github.com/netyard/netyard/sim/trace"
)

// Entry is one event as the API carries it: the --trace-json record (its
// time, step and every field) with its place in the world's stream and
// its --explain sentence.
type Entry struct {
	N    uint64 `json:"n"` // 1, 2, 3...: its place in the stream ("seq" is an ICMP echo's)
	Text string `json:"text"`
	trace.Record
}

// NewEntry returns e as the n-th entry of a stream whose time starts at
// origin; names, if not nil, renames bridge IDs and MACs in its sentence
// as the narration does (scenario.NarrationNames).
func NewEntry(n uint64, e trace.Event, origin time.Time, step int64, names *strings.Replacer) Entry {
	text := trace.Narrate(e)
	if names != nil {
		text = names.Replace(text)
	}
	return Entry{N: n, Text: text, Record: trace.NewRecord(e, origin, step)}
}
