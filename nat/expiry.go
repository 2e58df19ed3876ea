package nat

import "time"

// Expiry without scans: every flow sits in a binary min-heap keyed by due,
// a time no later than its real expiry, ties broken by creation order. A
// packet that extends a flow's life only moves expires, so the established
// path touches no heap; when the heap's top falls due, the flow either has
// expired (removed) or was extended (filed again at its real expiry). A
// packet that shortens a flow's life (a reset, a FIN) files it earlier at
// once, so a flow never outlives its expiry in the heap.
//
// Collection is bounded per call: a few steps for every new flow, more
// when the table is full, so no packet pays for the whole table.

const (
	gcSteps   = 4  // heap steps for every new flow
	roomSteps = 64 // more when the table is full, until one flow is gone
)

// before orders the heap: by due, then by creation.
func before(a, b *flow) bool {
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return a.seq < b.seq
}

func (t *Table) heapSwap(i, j int) {
	h := t.heap
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}

func (t *Table) heapUp(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !before(t.heap[i], t.heap[parent]) {
			return
		}
		t.heapSwap(i, parent)
		i = parent
	}
}

func (t *Table) heapDown(i int) {
	n := len(t.heap)
	for {
		least := i
		if l := 2*i + 1; l < n && before(t.heap[l], t.heap[least]) {
			least = l
		}
		if r := 2*i + 2; r < n && before(t.heap[r], t.heap[least]) {
			least = r
		}
		if least == i {
			return
		}
		t.heapSwap(i, least)
		i = least
	}
}

func (t *Table) heapPush(f *flow) {
	f.hidx = len(t.heap)
	t.heap = append(t.heap, f)
	t.heapUp(f.hidx)
}

func (t *Table) heapRemove(f *flow) {
	i, last := f.hidx, len(t.heap)-1
	if i != last {
		t.heapSwap(i, last)
	}
	t.heap[last] = nil
	t.heap = t.heap[:last]
	if i != last {
		t.heapDown(i)
		t.heapUp(i)
	}
	f.hidx = -1
}

// refileLocked files f earlier in the heap if its expiry came forward.
func (t *Table) refileLocked(f *flow) {
	if f.expires.Before(f.due) {
		f.due = f.expires
		t.heapUp(f.hidx)
	}
}

// collectLocked takes up to steps flows off the top of the heap that have
// fallen due: expired ones are removed, extended ones filed again. With
// untilOne it stops at the first removal. It reports whether it removed
// any.
func (t *Table) collectLocked(now time.Time, steps int, untilOne bool) bool {
	removed := false
	for range steps {
		if len(t.heap) == 0 {
			break
		}
		f := t.heap[0]
		if now.Before(f.due) {
			break
		}
		if now.Before(f.expires) {
			f.due = f.expires
			t.heapDown(0)
			continue
		}
		t.removeLocked(f)
		t.stats.Expired++
		removed = true
		if untilOne {
			break
		}
	}
	return removed
}
