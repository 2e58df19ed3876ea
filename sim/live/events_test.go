package live_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/trace"
)

// subscribe opens the event stream at query; the subscription is in
// place when it returns (the headers came).
func (w *world) subscribe(query string) (<-chan sseEvent, func()) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", w.web.URL+"/api/v1/events"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		w.t.Fatalf("events%s: %d %s", query, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	stop := func() {
		cancel()
		resp.Body.Close()
	}
	w.t.Cleanup(stop)
	return readSSE(resp.Body), stop
}

// entries reads trace entries from ch until it has want or 30s pass.
func entries(t *testing.T, ch <-chan sseEvent, want int) []live.Entry {
	t.Helper()
	var out []live.Entry
	deadline := time.After(30 * time.Second)
	for len(out) < want {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended after %d entries of %d", len(out), want)
			}
			if ev.name != "trace" {
				t.Fatalf("event %q: %s", ev.name, ev.data)
			}
			var e live.Entry
			if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
				t.Fatalf("%v: %s", err, ev.data)
			}
			out = append(out, e)
		case <-deadline:
			t.Fatalf("30s and only %d entries of %d", len(out), want)
		}
	}
	return out
}

// TestEventsFilter: an event stream filtered by node and kind has only
// those, numbered in the world's order, with the narration's sentence.
func TestEventsFilter(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	var mu sync.Mutex
	var all []trace.Event // every event, as --explain hears it
	w.bus.Subscribe(func(e trace.Event) {
		mu.Lock()
		defer mu.Unlock()
		all = append(all, e)
	})
	learned, _ := w.subscribe("?node=br-mybridge&kind=learned")
	hosts, _ := w.subscribe("?node=containerA,containerB&kind=host,stp")
	every, _ := w.subscribe("")
	w.ping("containerA", "172.18.0.10", 2)

	mu.Lock()
	var nLearned, nHosts int
	for _, e := range all {
		if e.Node == "br-mybridge" && e.Kind == trace.Learned {
			nLearned++
		}
		if (e.Node == "containerA" || e.Node == "containerB") && (e.Kind == trace.Host || e.Kind == trace.STP) {
			nHosts++
		}
	}
	total := len(all)
	mu.Unlock()
	if nLearned == 0 || nHosts == 0 {
		t.Fatalf("the ping made %d learned events on br-mybridge and %d host events", nLearned, nHosts)
	}
	for _, e := range entries(t, learned, nLearned) {
		if e.Node != "br-mybridge" || e.Kind != trace.Learned || e.MAC == "" && e.Src == "" {
			t.Fatalf("filtered on br-mybridge learned: %+v", e)
		}
	}
	for _, e := range entries(t, hosts, nHosts) {
		if e.Node != "containerA" && e.Node != "containerB" || e.Kind != trace.Host {
			t.Fatalf("filtered on containerA,containerB host,stp: %+v", e)
		}
	}
	got := entries(t, every, total)
	for i, e := range got {
		if e.N != uint64(i+1) {
			t.Fatalf("entry %d has n %d", i, e.N)
		}
		if want := w.names.Replace(trace.Narrate(all[i])); e.Text != want {
			t.Fatalf("entry %d says %q, the narration %q", e.N, e.Text, want)
		}
		if e.Kind != all[i].Kind || e.Node != all[i].Node || e.T != all[i].Time.Sub(sim.Epoch).Seconds() {
			t.Fatalf("entry %d is %s %s at %v, the world's is %s %s at %v", e.N, e.Node, e.Kind, e.T, all[i].Node, all[i].Kind, all[i].Time)
		}
	}
}

// stalled is a ResponseWriter whose client stopped reading: once stalled,
// every Write waits until release.
type stalled struct {
	header  http.Header
	mu      sync.Mutex
	buf     bytes.Buffer  // guarded by mu
	wrote   chan struct{} // holds one notice of a write
	stall   chan struct{} // closed: writes wait
	release chan struct{} // closed: writes go on
	started chan struct{} // closed at the first flush: the stream is up
	once    sync.Once
}

func newStalled() *stalled {
	return &stalled{header: http.Header{}, wrote: make(chan struct{}, 1), stall: make(chan struct{}), release: make(chan struct{}), started: make(chan struct{})}
}

func (s *stalled) Header() http.Header { return s.header }
func (s *stalled) WriteHeader(int)     {}
func (s *stalled) Write(b []byte) (int, error) {
	select {
	case <-s.stall:
		<-s.release
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		select {
		case s.wrote <- struct{}{}:
		default:
		}
	}()
	return s.buf.Write(b)
}
func (s *stalled) Flush() { s.once.Do(func() { close(s.started) }) }

// tally counts a stream's entries and the drops it was told of, and
// whether the drops were told before an entry.
func tally(evs []sseEvent) (got, frames, dropped uint64, toldBefore bool) {
	for _, ev := range evs {
		switch ev.name {
		case "trace":
			got++
			if strings.Contains(ev.data, `"kind":"frame"`) {
				frames++
			}
			toldBefore = toldBefore || dropped > 0
		case "dropped":
			var d live.Dropped
			_ = json.Unmarshal([]byte(ev.data), &d)
			dropped = d.Dropped
		}
	}
	return got, frames, dropped, toldBefore
}

// stalledStream serves path to a client that stalls once the stream is
// up. The function it returns releases the client, reads until the
// entries it got and the drops it was told of add up to want (or 30s
// pass), ends the stream and returns what was written.
func (w *world) stalledStream(path string) func(want uint64) []sseEvent {
	w.t.Helper()
	rw := newStalled()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.srv.ServeHTTP(rw, req)
	}()
	select {
	case <-rw.started:
	case <-time.After(30 * time.Second):
		w.t.Fatal("the stream did not start")
	}
	close(rw.stall)
	return func(want uint64) []sseEvent {
		close(rw.release)
		defer func() {
			cancel()
			<-done
		}()
		deadline := time.After(30 * time.Second)
		for {
			rw.mu.Lock()
			evs := parseSSE(rw.buf.Bytes())
			rw.mu.Unlock()
			if got, _, dropped, _ := tally(evs); got+dropped >= want {
				return evs
			}
			select {
			case <-rw.wrote:
			case <-deadline:
				return evs
			}
		}
	}
}

// TestStalledSubscriber: a subscriber that never reads does not hold up
// the world; its queue is bounded; what it lost is counted and told to it
// before the next entry it gets, and what it got and lost add up to what
// the world said.
func TestStalledSubscriber(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	finish := w.stalledStream("/api/v1/events")
	for range 60 { // far more events than a queue holds
		if got := w.ping("containerA", "172.18.0.10", 20); got != 20 {
			t.Fatalf("the world, with a stalled subscriber: %d replies of 20", got)
		}
	}
	var v live.World
	w.getJSON("/api/v1/world", &v)
	if v.Events <= 2*live.QueueSize {
		t.Fatalf("only %d events: not enough to fill the queue", v.Events)
	}
	got, _, dropped, told := tally(finish(v.Events))
	switch {
	case dropped == 0:
		t.Fatalf("no drops reported: got %d entries of %d", got, v.Events)
	case !told:
		t.Fatalf("the drops were not told before an entry")
	case got+dropped != v.Events:
		t.Fatalf("got %d and dropped %d, the world had %d", got, dropped, v.Events)
	case got > 2*live.QueueSize:
		t.Fatalf("got %d entries: more than the queue and one batch hold", got)
	}
	t.Logf("%d events: %d delivered, %d dropped and told", v.Events, got, dropped)
}

// TestStorm: a broadcast storm's frames, streamed to a subscriber that
// cannot keep up, stay bounded: the world stops the storm as it would
// with nobody watching, and the stream holds at most a queue's worth.
func TestStorm(t *testing.T) {
	w := serve(t, "loop-without-stp.yaml", nil)
	finish := w.stalledStream("/api/v1/events?frames=1")
	var err error
	w.do(func(n *mem.Network) {
		_, err = n.Ping("h2", mustAddr("10.0.0.3"), 1, time.Second, time.Second)
	})
	if !errors.Is(err, sim.ErrLoop) && !errors.Is(err, sim.ErrBudget) {
		t.Fatalf("the storm was not stopped: %v", err)
	}
	var v live.World
	w.getJSON("/api/v1/world", &v)
	got, frames, dropped, _ := tally(finish(v.Events))
	if frames == 0 || got+dropped != v.Events || got > 2*live.QueueSize {
		t.Fatalf("storm of %d events: got %d (%d frames), dropped %d", v.Events, got, frames, dropped)
	}
	t.Logf("storm: %d events, %d delivered (%d frames), %d dropped", v.Events, got, frames, dropped)
}

// TestHistory: with history kept, the entries are those the stream
// numbered, frames among them, and a frame reads back decoded and as
// pcapng; without, an empty list and a note.
func TestHistory(t *testing.T) {
	w := serve(t, "docker-publish.yaml", func(o *live.Options) { o.History = true })
	w.ping("containerA", "172.18.0.10", 1)
	var h live.History
	w.getJSON("/api/v1/history", &h)
	if len(h.Entries) == 0 || h.First != 1 || h.Next != uint64(len(h.Entries))+1 || h.Dropped != 0 {
		t.Fatalf("history: first %d next %d dropped %d, %d entries", h.First, h.Next, h.Dropped, len(h.Entries))
	}
	var frame uint64
	for i, e := range h.Entries {
		if e.N != uint64(i+1) || e.Text == "" {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if e.Kind == trace.Frame && frame == 0 && strings.Contains(e.Summary, "ICMP") {
			frame = e.N
		}
	}
	if frame == 0 {
		t.Fatal("no ICMP frame in the history")
	}
	var later live.History
	w.getJSON("/api/v1/history?from=5", &later)
	if len(later.Entries) != len(h.Entries)-4 || later.Entries[0].N != 5 {
		t.Fatalf("from=5: %d entries from %d", len(later.Entries), later.Entries[0].N)
	}
	var f live.FrameInfo
	w.getJSON("/api/v1/frames/"+itoa(frame), &f)
	if f.N != frame || f.Link == "" || f.From == "" || f.Len == 0 || !strings.Contains(f.Decode, "ICMPv4") {
		t.Fatalf("frame %d: %+v", frame, f)
	}
	pkts := readPcapng(t, w.web.URL+"/api/v1/frames/"+itoa(frame)+".pcapng", 1)
	if len(pkts) != 1 || len(pkts[0].data) != f.Len {
		t.Fatalf("frame %d as pcapng: %d packets", frame, len(pkts))
	}
	status, body := w.get("/api/v1/frames/1")
	if h.Entries[0].Kind != trace.Frame {
		wantError(t, "an event that is not a frame", status, body, 404, "not-found")
	}
	status, body = w.get("/api/v1/frames/999999")
	wantError(t, "a frame to come", status, body, 404, "not-found")

	plain := serve(t, "docker-publish.yaml", nil)
	plain.ping("containerA", "172.18.0.10", 1)
	var none live.History
	plain.getJSON("/api/v1/history", &none)
	if len(none.Entries) != 0 || none.Note == "" || none.Entries == nil {
		t.Fatalf("history without history: %+v", none)
	}
	if trace.Wants(plain.bus, trace.Frame) || plain.bus.Len() != 0 {
		t.Fatal("a world with nobody watching has subscribers on its bus")
	}
}

// TestKeepaliveOnTheServersClock: an idle stream gets a keepalive
// comment each time the server's clock passes Keepalive, and none
// before.
func TestKeepaliveOnTheServersClock(t *testing.T) {
	clk := clock.NewManual()
	w := serve(t, "l2-learning.yaml", func(o *live.Options) { o.Clock, o.Keepalive = clk, 15*time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.web.URL+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("the stream said nothing in 30s")
			return ""
		}
	}
	if l := next(); l != ": netyard events" {
		t.Fatalf("the stream opened with %q", l)
	}
	clk.Advance(14 * time.Second)
	for range 2 {
		clk.Advance(time.Second) // 15 s idle: a keepalive
		if l := next(); l != ": keepalive" {
			t.Fatalf("after %v idle the stream said %q, want a keepalive", clk.Elapsed(), l)
		}
		clk.Advance(14 * time.Second)
	}
	select {
	case l := <-lines:
		t.Errorf("the stream said %q with its clock 14s past a keepalive", l)
	default:
	}
}
