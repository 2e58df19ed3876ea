package clock_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
)

// log records "name@elapsed" for each timer fired.
type log struct {
	c   *clock.Manual
	got []string
}

func (l *log) fn(name string) func() {
	return func() { l.got = append(l.got, fmt.Sprintf("%s@%v", name, l.c.Elapsed())) }
}

func (l *log) String() string { return strings.Join(l.got, " ") }

func TestManualAdvance(t *testing.T) {
	tests := []struct {
		name    string
		arm     func(l *log)
		advance []time.Duration
		want    string
		at      time.Duration // the clock after
	}{
		{
			name: "timers fire in time order, then arming order",
			arm: func(l *log) {
				l.c.AfterFunc(3*time.Second, l.fn("c"))
				l.c.AfterFunc(time.Second, l.fn("a1"))
				l.c.AfterFunc(2*time.Second, l.fn("b"))
				l.c.AfterFunc(time.Second, l.fn("a2"))
				l.c.AfterFunc(time.Second, l.fn("a3"))
			},
			advance: []time.Duration{5 * time.Second},
			want:    "a1@1s a2@1s a3@1s b@2s c@3s",
			at:      5 * time.Second,
		},
		{
			name: "only what is due by the end fires; the rest waits",
			arm: func(l *log) {
				l.c.AfterFunc(time.Second, l.fn("a"))
				l.c.AfterFunc(2*time.Second, l.fn("b"))
			},
			advance: []time.Duration{time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
			want:    "a@1s b@2s",
			at:      2 * time.Second,
		},
		{
			name: "a timer armed by a timer fires in the same Advance when due",
			arm: func(l *log) {
				l.c.AfterFunc(time.Second, func() {
					l.fn("a")()
					l.c.AfterFunc(0, l.fn("now"))
					l.c.AfterFunc(time.Second, l.fn("later"))
					l.c.AfterFunc(time.Hour, l.fn("never"))
				})
				l.c.AfterFunc(time.Second, l.fn("b")) // armed before "now": first
			},
			advance: []time.Duration{3 * time.Second},
			want:    "a@1s b@1s now@1s later@2s",
			at:      3 * time.Second,
		},
		{
			name: "d <= 0 is due now, and fires on the next Advance",
			arm: func(l *log) {
				l.c.AfterFunc(0, l.fn("zero"))
				l.c.AfterFunc(-time.Second, l.fn("negative"))
			},
			advance: []time.Duration{0},
			want:    "zero@0s negative@0s",
		},
		{
			name: "a negative Advance is Advance(0)",
			arm: func(l *log) {
				l.c.AfterFunc(0, l.fn("zero"))
				l.c.AfterFunc(time.Nanosecond, l.fn("later"))
			},
			advance: []time.Duration{-time.Second},
			want:    "zero@0s",
		},
		{
			name: "Stop disarms, Reset re-arms last among its instant",
			arm: func(l *log) {
				a := l.c.AfterFunc(time.Second, l.fn("a"))
				l.c.AfterFunc(time.Second, l.fn("b"))
				c := l.c.AfterFunc(time.Second, l.fn("c"))
				if !c.Stop() || c.Stop() {
					panic("Stop of an armed timer must report true once")
				}
				if !a.Reset(time.Second) {
					panic("Reset of an armed timer must report true")
				}
				if c.Reset(2 * time.Second) {
					panic("Reset of a stopped timer must report false")
				}
			},
			advance: []time.Duration{2 * time.Second},
			want:    "b@1s a@1s c@2s",
			at:      2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &log{c: clock.NewManual()}
			tt.arm(l)
			for _, d := range tt.advance {
				if !l.c.Advance(d) {
					t.Fatalf("Advance(%v) = false with no Limit", d)
				}
			}
			if got := l.String(); got != tt.want {
				t.Errorf("fired %q, want %q", got, tt.want)
			}
			if got := l.c.Elapsed(); got != tt.at {
				t.Errorf("Elapsed() = %v, want %v", got, tt.at)
			}
			if got, want := l.c.Fired(), uint64(len(l.got)); got != want {
				t.Errorf("Fired() = %d, want %d", got, want)
			}
		})
	}
}

func TestManualNow(t *testing.T) {
	c := clock.NewManual()
	if got := c.Now(); !got.Equal(clock.Epoch) {
		t.Errorf("NewManual().Now() = %v, want %v", got, clock.Epoch)
	}
	c.Advance(1500 * time.Millisecond)
	if got, want := c.Now(), clock.Epoch.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	if got, want := c.UnixNano(), c.Now().UnixNano(); got != want {
		t.Errorf("UnixNano() = %d, want %d", got, want)
	}
	var cl clock.Clock = c
	if _, ok := cl.(clock.Nanos); !ok {
		t.Error("Manual does not offer the Nanos fast path")
	}
}

func TestManualAdvanceUntil(t *testing.T) {
	tests := []struct {
		name  string
		until int // stop when this many timers have fired; 0: never
		d     time.Duration
		want  bool
		at    time.Duration
		fired string
	}{
		{"the condition holds: the clock stays at the timer that made it", 2, time.Hour, true, 2 * time.Second, "a@1s b@2s"},
		{"the next timer is too far: the clock is left d later", 3, 2500 * time.Millisecond, false, 2500 * time.Millisecond, "a@1s b@2s"},
		{"nothing is left: the clock stays at the last timer", 9, time.Hour, false, 3 * time.Second, "a@1s b@2s c@3s"},
		{"a nil condition runs to the end", 0, time.Hour, false, 3 * time.Second, "a@1s b@2s c@3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &log{c: clock.NewManual()}
			for i, n := range []string{"a", "b", "c"} {
				l.c.AfterFunc(time.Duration(i+1)*time.Second, l.fn(n))
			}
			var cond func() bool
			if tt.until > 0 {
				cond = func() bool { return len(l.got) >= tt.until }
			}
			if got := l.c.AdvanceUntil(cond, tt.d); got != tt.want {
				t.Errorf("AdvanceUntil = %v, want %v", got, tt.want)
			}
			if got := l.c.Elapsed(); got != tt.at {
				t.Errorf("Elapsed() = %v, want %v", got, tt.at)
			}
			if got := l.String(); got != tt.fired {
				t.Errorf("fired %q, want %q", got, tt.fired)
			}
		})
	}
}

func TestManualLimit(t *testing.T) {
	c := clock.NewManual()
	c.Limit = 100
	var loop func()
	loop = func() { c.AfterFunc(time.Millisecond, loop); c.AfterFunc(time.Millisecond, func() {}) }
	c.AfterFunc(0, loop)
	if c.Advance(time.Hour) {
		t.Fatal("Advance(1h) of a runaway = true, want false (Limit)")
	}
	if got := c.Fired() + uint64(c.Pending()); got < c.Limit || got > c.Limit+2 {
		t.Errorf("fired + pending = %d, want the Limit %d (or the 2 timers the last one armed more)", got, c.Limit)
	}
	if c.Elapsed() >= time.Hour {
		t.Errorf("Elapsed() = %v: the clock moved past the runaway", c.Elapsed())
	}
	if c.AdvanceUntil(nil, time.Hour) {
		t.Error("AdvanceUntil past the Limit = true, want false")
	}
}

func TestManualSet(t *testing.T) {
	l := &log{c: clock.NewManual()}
	l.c.AfterFunc(time.Second, l.fn("a"))
	l.c.AfterFunc(3*time.Second, l.fn("b"))
	if !l.c.Set(clock.Epoch.Add(2 * time.Second)) {
		t.Fatal("Set forward = false with no Limit")
	}
	if got, want := l.String(), "a@1s"; got != want {
		t.Errorf("Set(+2s) fired %q, want %q", got, want)
	}
	// Back by 10s: b keeps its time, 11s away now.
	l.c.Set(clock.Epoch.Add(-8 * time.Second))
	if got, want := l.c.Elapsed(), -8*time.Second; got != want {
		t.Errorf("after Set(-8s) Elapsed() = %v, want %v", got, want)
	}
	l.c.Advance(10 * time.Second)
	if got, want := l.String(), "a@1s"; got != want {
		t.Errorf("10s after stepping back fired %q, want %q", got, want)
	}
	l.c.Advance(time.Second)
	if got, want := l.String(), "a@1s b@3s"; got != want {
		t.Errorf("11s after stepping back fired %q, want %q", got, want)
	}
}

// TestManualConcurrent arms and stops timers from several goroutines while
// one advances the clock (run with -race).
func TestManualConcurrent(t *testing.T) {
	c := clock.NewManual()
	var mu sync.Mutex
	var fired []time.Duration
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				tm := c.AfterFunc(time.Duration(i%10)*time.Millisecond, func() {
					mu.Lock()
					fired = append(fired, c.Elapsed())
					mu.Unlock()
				})
				if i%3 == g%3 {
					tm.Stop()
				}
				_ = c.Now()
			}
		})
	}
	for range 50 {
		c.Advance(time.Millisecond)
	}
	wg.Wait()
	c.Advance(time.Second)
	if !slices.IsSorted(fired) {
		t.Errorf("timers fired out of time order: %v", fired)
	}
	if c.Pending() != 0 {
		t.Errorf("Pending() = %d after the last Advance, want 0", c.Pending())
	}
}
