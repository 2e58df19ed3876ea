package web_test

// The page over a live world: a mem world served by live.New, its clock
// advanced by the test, the page following it over the event stream.

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/trace"
)

// TestBrowserLive opens the page on a running stp-triangle world, lets 5
// virtual seconds pass, and checks that what the world did then arrives on
// the page over the event stream (/api/v1/events): each switch port's
// listening -> learning in the event list, with its narration, and in the
// #stp table.
func TestBrowserLive(t *testing.T) {
	needChromium(t)
	f, err := scenario.Load(filepath.Join("..", "..", "..", "scenarios", "stp-triangle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // the world's lock: the Server's reads, and the test's Wait
	bus := &trace.Bus{}
	net, err := mem.New(g, mem.Options{Seed: f.Seed, Tracer: bus, Budget: f.Budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = net.Close() })
	srv, err := live.New(live.Options{Backend: net, Graph: g, Name: f.Name, File: f.Path(), Run: "nybrowser",
		Bus: bus, Origin: sim.Epoch, Names: scenario.NarrationNames(g, net.World()), Lock: &mu,
		History: true, Web: web.Page()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close() // the event streams end: the server's Close does not wait on them
		hs.Close()
	})

	b := newBrowser(t) // closed first: before the servers
	tb := b.open(t, hs.URL+"/")
	if mode := evalIn[string](tb, `String(window.netyard.mode || "")`); mode != "live" {
		t.Errorf("window.netyard.mode = %q on a live world, want live", mode)
	}
	before := evalIn[uint64](tb, `window.netyard.total`)
	// At 0s no port has learned yet: s1 p1 can show learning only once the
	// stream brings it.
	row := stpRowOf(tb, "s1", "p1")
	if !row.Found || row.State == "learning" {
		t.Errorf("#stp s1 p1 at the start: %+v, want a row, not learning yet", row)
	}

	mu.Lock()
	err = net.Wait(5 * time.Second) // forward delay 4s: every loop port learns
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	var h brHistory
	brGetJSON(t, hs.URL+fmt.Sprintf("/api/v1/history?from=%d", before+1), &h)
	var learning []brEntry
	for _, e := range h.Entries {
		if e.Kind == "stp" && e.State == "learning" && e.WasState == "listening" {
			learning = append(learning, e)
		}
	}
	if len(learning) == 0 {
		t.Fatalf("5s in, the world's history from %d has no port going listening -> learning", before+1)
	}
	// Wait for the page to have them all (the wall clock: generous).
	last := h.Entries[len(h.Entries)-1].N
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelector('#events li[data-n="%d"]') !== null`, last),
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(brReadyTimeout),
	)); err != nil {
		t.Fatalf("entry %d never arrived on the page in %v: %v; its console: %q", last, brReadyTimeout, err, tb.messages())
	}
	if got := evalIn[uint64](tb, `window.netyard.total`); got < last {
		t.Errorf("window.netyard.total = %d after entry %d arrived", got, last)
	}
	for _, e := range learning {
		texts, found, _ := eventText(tb, e.N)
		if !found || !shows(texts, e.Text) {
			t.Errorf("#events li[data-n=%d]: found %v, texts %q; want the narration %q", e.N, found, texts, e.Text)
		}
	}
	// The page follows the stream's end: the tables show the world now.
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](
		`(() => { const tr = document.querySelector('#stp tr[data-switch="s1"][data-port="p1"] td.state'); return tr !== null && tr.textContent.trim() === "learning"; })()`,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(brReadyTimeout),
	)); err != nil {
		t.Errorf("#stp s1 p1 never showed learning: %+v", stpRowOf(tb, "s1", "p1"))
	}
	tb.screenshot("web-live.png", false)
}
