package sim

import (
	"testing"
	"time"

	"github.com/netyard/netyard/internal/link"
)

// TestSpareIsOrdinary: an end keeps the buffer of a frame it delivered
// for the next one only if it is an ordinary frame's, so that 20 000 idle
// ends do not pin a jumbo frame's buffer each.
func TestSpareIsOrdinary(t *testing.T) {
	e := New(1)
	l, err := e.NewLink("a -- b", "a", "b", LinkConfig{Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l.End(1).Attach(link.Funcs{Frame: func([]byte) {}})
	end := l.End(0)
	for _, size := range []int{60, 9000, 1500, 65000} {
		_ = end.Send(make([]byte, size))
	}
	e.RunUntil(nil, time.Hour)
	if end.spare == nil || cap(*end.spare) > spareMax {
		t.Fatalf("spare %v, want one buffer of at most %d bytes", end.spare, spareMax)
	}
	_ = end.Send(make([]byte, 9000))
	if end.spare != nil {
		t.Fatal("the spare was not used")
	}
	e.RunUntil(nil, time.Hour)
	if end.spare != nil {
		t.Errorf("a jumbo frame's buffer (%d bytes) kept idle", cap(*end.spare))
	}
}
