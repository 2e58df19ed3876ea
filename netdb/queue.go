package netdb

import (
	"cmp"
	"math"
	"slices"
)

// queue is a transmit-limited broadcast queue after memberlist's
// TransmitLimitedQueue: each broadcast is handed out in up to
// retransmitLimit gossip rounds, the least transmitted (then the newest)
// first, and a newer broadcast with the same ID replaces a queued one.
type queue struct {
	items []*queued
	seq   uint64
}

type queued struct {
	id        string
	body      []byte
	transmits int
	seq       uint64
}

// add queues body under id, replacing a queued broadcast with that id.
func (q *queue) add(id string, body []byte) {
	q.items = slices.DeleteFunc(q.items, func(it *queued) bool { return it.id == id })
	q.seq++
	q.items = append(q.items, &queued{id: id, body: body, seq: q.seq})
}

func (q *queue) len() int { return len(q.items) }

// get returns the bodies for one gossip message of at most limit bytes of
// parts, counting a transmission of each, and drops those transmitted
// limit times.
func (q *queue) get(limit, retransmits int) [][]byte {
	slices.SortFunc(q.items, func(a, b *queued) int {
		return cmp.Or(cmp.Compare(a.transmits, b.transmits), cmp.Compare(b.seq, a.seq))
	})
	var out [][]byte
	used := 0
	for _, it := range q.items {
		n := partOverhead + len(it.body)
		if used+n > limit {
			continue
		}
		used += n
		out = append(out, it.body)
		it.transmits++
	}
	q.items = slices.DeleteFunc(q.items, func(it *queued) bool { return it.transmits >= retransmits })
	return out
}

// retransmitLimit is memberlist's: mult × ceil(log10(n+1)) for n members.
func retransmitLimit(mult, n int) int {
	return mult * int(math.Ceil(math.Log10(float64(n+1))))
}
