package live

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/netyard/netyard/sim/trace"
)

// The hub numbers the world's events and hands them on. It is one
// synchronous subscriber of the world's Bus (two: one for every kind but
// Frame, one for frames, each there only while someone wants it), so
// that every entry has one place in the stream (n) whoever reads it: the
// history, each event stream, each capture. Its work on the world's
// goroutine is a counter, a copy into the history ring, and an offer to
// each subscriber's bounded queue, which never waits: the entries'
// sentences and JSON are made on the subscriber's own goroutine.
type hub struct {
	bus *trace.Bus

	mu      sync.Mutex    // guards what follows; taken on the world's goroutine: never held long
	n       uint64        // events numbered; guarded by mu
	ring    *ring         // nil: no history; guarded by mu
	subs    []*subscriber // guarded by mu
	cancel  func()        // the subscription to every kind but Frame; nil: none; guarded by mu
	cancelF func()        // the subscription to frames; nil: none; guarded by mu
	closed  bool          // guarded by mu
}

// item is one event with its place in the stream.
type item struct {
	n uint64
	e trace.Event
}

func newHub(bus *trace.Bus, history bool) *hub {
	h := &hub{bus: bus}
	if history {
		h.ring = &ring{buf: make([]item, HistorySize)}
	}
	h.mu.Lock()
	h.resubscribeLocked()
	h.mu.Unlock()
	return h
}

// take is the hub's subscriber: it runs on the goroutine that traced e,
// under the bus's delivery lock.
func (h *hub) take(e trace.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.n++
	it := item{n: h.n, e: e}
	if h.ring != nil {
		h.ring.add(it)
	}
	for _, s := range h.subs {
		if s.match(e) {
			s.offer(it)
		}
	}
}

// resubscribeLocked subscribes to what someone wants: every kind but
// Frame while history is kept or anyone subscribes; frames while history
// is kept or a subscriber asks for them (trace.Wants(bus, Frame) is true
// only then, so frames cost nothing when nobody wants them).
func (h *hub) resubscribeLocked() {
	all, frames := !h.closed && (h.ring != nil || len(h.subs) > 0), !h.closed && h.ring != nil
	for _, s := range h.subs {
		frames = frames || s.frames
	}
	switch {
	case all && h.cancel == nil:
		h.cancel = h.bus.Subscribe(h.take)
	case !all && h.cancel != nil:
		h.cancel()
		h.cancel = nil
	}
	switch {
	case frames && h.cancelF == nil:
		h.cancelF = h.bus.Subscribe(h.take, trace.Frame)
	case !frames && h.cancelF != nil:
		h.cancelF()
		h.cancelF = nil
	}
}

// subscribe adds s; its queue fills from the next event on. (Lock
// order: a Trace holds the bus's delivery lock, then mu in take; the bus's
// subscriber list has a lock of its own, taken here under mu, which no
// Trace holds: no cycle.)
func (h *hub) subscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs = append(h.subs, s)
	h.resubscribeLocked()
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs = slices.DeleteFunc(h.subs, func(x *subscriber) bool { return x == s })
	h.resubscribeLocked()
}

// count returns how many events were numbered.
func (h *hub) count() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// close unsubscribes from the bus for good.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.resubscribeLocked()
}

// ring is the history: the last len(buf) items.
type ring struct {
	buf     []item
	next    int    // where the next item goes
	n       int    // items held
	dropped uint64 // items pushed out
}

func (r *ring) add(it item) {
	if r.n == len(r.buf) {
		r.dropped++
	} else {
		r.n++
	}
	r.buf[r.next] = it
	r.next = (r.next + 1) % len(r.buf)
}

// from returns the items held numbered from on, in order.
func (r *ring) from(from uint64) []item {
	var out []item
	start := (r.next - r.n + len(r.buf)) % len(r.buf)
	for i := range r.n {
		if it := r.buf[(start+i)%len(r.buf)]; it.n >= from {
			out = append(out, it)
		}
	}
	return out
}

// find returns the item numbered n, if still held.
func (r *ring) find(n uint64) (item, bool) {
	if r.n == 0 {
		return item{}, false
	}
	first := r.buf[(r.next-r.n+len(r.buf))%len(r.buf)].n
	if n < first || n >= first+uint64(r.n) {
		return item{}, false
	}
	return r.buf[(int(n-first)+r.next-r.n+len(r.buf))%len(r.buf)], true
}

// subscriber is one reader of the stream (an event stream, a capture):
// a filter and a bounded queue that drops, and counts, what finds it
// full.
type subscriber struct {
	frames bool // wants frames (the hub subscribes to them for it)
	match  func(trace.Event) bool
	wake   chan struct{} // holds one wake-up

	mu      sync.Mutex
	buf     []item // a ring of QueueSize; guarded by mu
	head, n int    // guarded by mu
	dropped uint64 // guarded by mu
}

func newSubscriber(frames bool, match func(trace.Event) bool) *subscriber {
	return &subscriber{frames: frames, match: match, wake: make(chan struct{}, 1), buf: make([]item, QueueSize)}
}

// offer queues it, or drops and counts it when the queue is full; it
// never waits.
func (s *subscriber) offer(it item) {
	s.mu.Lock()
	if s.n == len(s.buf) {
		s.dropped++
		s.mu.Unlock()
		return
	}
	s.buf[(s.head+s.n)%len(s.buf)] = it
	s.n++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending
	}
}

// drain returns what is queued and the drops so far.
func (s *subscriber) drain(into []item) ([]item, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ; s.n > 0; s.n-- {
		into = append(into, s.buf[s.head])
		s.buf[s.head] = item{} // let go of its bytes
		s.head = (s.head + 1) % len(s.buf)
	}
	return into, s.dropped
}

// Dropped is the event stream's report of entries it lost ("event:
// dropped"): the total for this subscriber so far.
type Dropped struct {
	Dropped uint64 `json:"dropped"`
}

// History is what GET /api/v1/history answers.
type History struct {
	First   uint64  `json:"first"`   // the first entry held (next, if none)
	Next    uint64  `json:"next"`    // the n the next event will have
	Dropped uint64  `json:"dropped"` // entries no longer held
	Entries []Entry `json:"entries"` // from the asked for on
	Note    string  `json:"note,omitempty"`
}

// list parses a comma-separated list, nil for none.
func list(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// kinds are the trace kinds a filter may name.
var kinds = []trace.Kind{trace.Learned, trace.Moved, trace.Aged, trace.Flushed, trace.Forwarded, trace.Flooded, trace.Dropped,
	trace.Mirrored, trace.State, trace.Host, trace.Lost, trace.STP, trace.Routed, trace.Frame, trace.Overlay}

// filter reads the event stream's node, kind and frames parameters.
func filter(r *http.Request) (frames bool, match func(trace.Event) bool, err error) {
	q := r.URL.Query()
	nodes := list(strings.Join(q["node"], ","))
	var ks []trace.Kind
	for _, k := range list(strings.Join(q["kind"], ",")) {
		if !slices.Contains(kinds, trace.Kind(k)) {
			var names []string
			for _, k := range kinds {
				names = append(names, string(k))
			}
			return false, nil, badRequest("kind %q: want one of %s", k, strings.Join(names, ", "))
		}
		ks = append(ks, trace.Kind(k))
	}
	switch f := q.Get("frames"); f {
	case "", "0", "false":
	case "1", "true":
		frames = true
	default:
		return false, nil, badRequest("frames=%q: want 1 or 0", f)
	}
	if slices.Contains(ks, trace.Frame) {
		frames = true
	}
	if frames && len(ks) > 0 && !slices.Contains(ks, trace.Frame) {
		ks = append(ks, trace.Frame)
	}
	return frames, func(e trace.Event) bool {
		switch {
		case e.Kind == trace.Frame && !frames:
			return false
		case len(ks) > 0 && !slices.Contains(ks, e.Kind):
			return false
		case len(nodes) > 0 && !slices.Contains(nodes, e.Node):
			return false
		}
		return true
	}, nil
}

func (s *Server) entry(it item) Entry { return NewEntry(it.n, it.e, s.o.Origin, 0, s.o.Names) }

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	from := uint64(0)
	if v := r.URL.Query().Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, badRequest("from=%q: want an entry's number, 1 or more", v))
			return
		}
		from = n
	}
	h := s.hub
	h.mu.Lock()
	v := History{Next: h.n + 1, Entries: []Entry{}}
	var items []item
	if h.ring != nil {
		items = h.ring.from(from)
		v.Dropped = h.ring.dropped
		v.First = h.n + 1 - uint64(h.ring.n)
	} else {
		v.First = v.Next
		v.Note = "this world keeps no history (netyard up --web keeps the last 10000 events): GET /api/v1/events streams them as they come"
	}
	h.mu.Unlock()
	for _, it := range items {
		v.Entries = append(v.Entries, s.entry(it))
	}
	writeJSON(w, http.StatusOK, v)
}

// sse writes server-sent events to w, flushing each batch.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (e sse) event(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.w, "event: %s\ndata: %s\n\n", name, data)
	return err
}

func (e sse) comment(c string) error {
	_, err := fmt.Fprintf(e.w, ": %s\n\n", c)
	return err
}

func (e sse) flush() error { return e.rc.Flush() }

// What await saw.
const (
	ready = iota // the subscriber has entries
	idle         // keep fired first: time for a keepalive
	gone         // the client went or the server closed
)

// await waits until sub has entries, keep fires (nil: never), the
// client goes or the server closes: the loop of every stream.
func (s *Server) await(r *http.Request, sub *subscriber, keep <-chan struct{}) int {
	select {
	case <-r.Context().Done():
		return gone
	case <-s.done:
		return gone
	case <-keep:
		return idle
	case <-sub.wake:
		return ready
	}
}

// events streams the world's entries as server-sent events, until the
// client goes or the server closes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	frames, match, err := filter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	sub := newSubscriber(frames, match)
	s.hub.subscribe(sub)
	defer s.hub.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := sse{w: w, rc: http.NewResponseController(w)}
	keep := make(chan struct{}, 1)
	t := s.o.Clock.AfterFunc(s.o.Keepalive, func() {
		select {
		case keep <- struct{}{}:
		default:
		}
	})
	defer t.Stop() // made before the stream opens: whoever reads its first line can count on it
	if out.comment("netyard events") != nil || out.flush() != nil {
		return
	}
	var told uint64
	var batch []item
	for {
		switch s.await(r, sub, keep) {
		case gone:
			return
		case idle:
			t.Reset(s.o.Keepalive) // first: the next is due Keepalive after this one, however slow the write
			if out.comment("keepalive") != nil || out.flush() != nil {
				return
			}
			continue
		}
		var dropped uint64
		batch, dropped = sub.drain(batch[:0])
		if dropped > told {
			told = dropped
			if out.event("dropped", Dropped{told}) != nil {
				return
			}
		}
		for _, it := range batch {
			if out.event("trace", s.entry(it)) != nil {
				return
			}
		}
		if out.flush() != nil {
			return
		}
	}
}
