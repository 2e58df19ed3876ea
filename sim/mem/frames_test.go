package mem_test

import (
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/mem"
)

// TestFrameEvents: a subscriber that asks for frames hears every frame a
// link carries, with its link, the end it came from and a decoded
// summary; one that does not ask hears none.
func TestFrameEvents(t *testing.T) {
	var bus trace.Bus
	var frames, others []trace.Event
	bus.Subscribe(func(e trace.Event) { frames = append(frames, e) }, trace.Frame)
	bus.Subscribe(func(e trace.Event) { others = append(others, e) })
	g := mesh(3, 1, 1)
	n, err := mem.New(g, mem.Options{Seed: 1, Tracer: &bus})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Wait(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(frames) == 0 {
		t.Fatal("no frame events")
	}
	links := map[string]bool{}
	for _, l := range g.Links {
		links[l.Name()] = true
	}
	for _, e := range frames {
		if e.Kind != trace.Frame || !links[e.Link] || e.Node != "link "+e.Link || !strings.Contains(e.Link, e.Port) ||
			e.Len == 0 || !strings.Contains(e.Summary, "STP BPDU root") {
			t.Fatalf("frame event %+v: want a BPDU on one of the links, from one of its ends", e)
		}
	}
	for _, e := range others {
		if e.Kind == trace.Frame {
			t.Fatalf("a subscriber that did not ask got a frame: %+v", e)
		}
	}
}
