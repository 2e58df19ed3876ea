package scenario

import (
	"cmp"
	"fmt"
	"strings"
	"sync"

	"github.com/netyard/netyard/sim/trace"
)

func init() { registerStep[FramesStep]("frames", 75) }

// FramesStep counts the frames a link has carried since the run began
// whose one-line decoding (the --explain and --trace-json summary: "02:42:..
// > ff:ff:.. vlan 10 ARP who-has ..") contains Match, and checks the count:
//
//	frames: {on: lan:host1, match: "vlan 10", count: ">=2"}
//
// It counts in both worlds from what the links carry, so it sees what a
// capture of the link sees.
type FramesStep struct {
	On    string `yaml:"on"`    // an end of the link: node:port
	Match string `yaml:"match"` // a piece of each frame's decoding; "": every frame
	Count Count  `yaml:"count"` // how many; default ">=1"
}

func (s *FramesStep) check(c *checker, p string) { c.linkAt(p+".on", s.On) }

func (s *FramesStep) describe() string {
	what := "frames"
	if s.Match != "" {
		what = fmt.Sprintf("frames with %q", s.Match)
	}
	return fmt.Sprintf("%s on %s: %s", what, s.On, s.want())
}

func (s *FramesStep) want() string { return cmp.Or(s.Count.String(), ">=1") }

func (s *FramesStep) run(r *runner) (bool, string) {
	want := s.Count
	if want.String() == "" {
		want, _ = ParseCount(">=1")
	}
	n := r.frames.count(s)
	return want.Match(n), fmt.Sprintf("%d", n)
}

// frameCounts counts, for each frames step of a file, the frames of its
// link that match it, as they cross (from every goroutine of the netns
// world: under mu).
type frameCounts struct {
	mu    sync.Mutex
	steps []*FramesStep
	n     []uint64
}

// countFrames returns the frame subscriber the file's frames steps need,
// or nil when it has none.
func (r *runner) countFrames() func(trace.Event) {
	fc := &frameCounts{}
	for _, st := range r.f.Steps {
		if s, ok := st.Action.(*FramesStep); ok {
			fc.steps = append(fc.steps, s)
		}
	}
	if len(fc.steps) == 0 {
		return nil
	}
	fc.n = make([]uint64, len(fc.steps))
	r.frames = fc
	return fc.record
}

func (fc *frameCounts) record(e trace.Event) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for i, s := range fc.steps {
		if (strings.HasPrefix(e.Link, s.On+" -- ") || strings.HasSuffix(e.Link, " -- "+s.On)) && strings.Contains(e.Summary, s.Match) {
			fc.n[i]++
		}
	}
}

func (fc *frameCounts) count(s *FramesStep) uint64 {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for i, x := range fc.steps {
		if x == s {
			return fc.n[i]
		}
	}
	return 0
}
