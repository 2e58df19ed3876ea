package clock

import (
	"testing"
	"time"
)

func TestCoarseFollowsTheWallClock(t *testing.T) {
	c := NewCoarse(time.Millisecond)
	defer c.Stop()
	var _ Nanos = c
	var _ Clock = c
	start := c.UnixNano()
	if d := time.Now().UnixNano() - start; d < -int64(time.Millisecond) || d > int64(time.Second) {
		t.Fatalf("coarse time %d ns off the wall clock at start", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.UnixNano() == start {
		if time.Now().After(deadline) {
			t.Fatal("coarse time did not move in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	c.Stop()
	c.Stop()
	if d := time.Now().UnixNano() - c.UnixNano(); d > int64(time.Millisecond) {
		t.Fatalf("after Stop, UnixNano is %d ns behind the wall clock", d)
	}
}

func BenchmarkCoarseUnixNano(b *testing.B) {
	c := NewCoarse(time.Millisecond)
	defer c.Stop()
	for b.Loop() {
		_ = c.UnixNano()
	}
}

func BenchmarkRealUnixNano(b *testing.B) {
	for b.Loop() {
		_ = Real.Now().UnixNano()
	}
}
