package sim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/sim"
)

// pair returns a link whose end 1 records arrival times.
func pair(t *testing.T, cfg sim.LinkConfig, seed uint64) (*sim.Engine, *sim.Link, *[]time.Duration) {
	t.Helper()
	e := sim.New(seed)
	l, err := e.NewLink("a -- b", "a", "b", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var arrivals []time.Duration
	l.End(1).Attach(link.Funcs{Frame: func(f []byte) { arrivals = append(arrivals, e.Elapsed()) }})
	return e, l, &arrivals
}

func TestLatencyAndRate(t *testing.T) {
	// 1000 bytes at 8 Mbit/s take 1 ms on the wire; plus 5 ms of latency.
	e, l, got := pair(t, sim.LinkConfig{Latency: 5 * time.Millisecond, Rate: 8_000_000}, 1)
	for range 3 {
		_ = l.End(0).Send(make([]byte, 1000))
	}
	e.RunUntil(nil, time.Hour)
	want := []time.Duration{6 * time.Millisecond, 7 * time.Millisecond, 8 * time.Millisecond}
	if len(*got) != 3 || (*got)[0] != want[0] || (*got)[1] != want[1] || (*got)[2] != want[2] {
		t.Errorf("arrivals %v, want %v", *got, want)
	}
}

func TestQueueBound(t *testing.T) {
	e, l, got := pair(t, sim.LinkConfig{Rate: 8_000, Queue: 2}, 1)
	for range 5 { // one on the wire, two queued, two dropped
		_ = l.End(0).Send(make([]byte, 100))
	}
	e.RunUntil(nil, time.Hour)
	if st := l.End(0).Stats(); len(*got) != 3 || st.QueueDrop != 2 {
		t.Errorf("delivered %d, queue drops %d; want 3 and 2", len(*got), st.QueueDrop)
	}
}

func TestJitterNeverReorders(t *testing.T) {
	e, l, got := pair(t, sim.LinkConfig{Latency: time.Millisecond, Jitter: 10 * time.Millisecond}, 3)
	for i := range 100 {
		e.Schedule(time.Duration(i)*100*time.Microsecond, func() { _ = l.End(0).Send([]byte{byte(i)}) })
	}
	e.RunUntil(nil, time.Hour)
	for i := 1; i < len(*got); i++ {
		if (*got)[i] < (*got)[i-1] {
			t.Fatalf("frame %d arrived before frame %d", i, i-1)
		}
	}
}

func TestLossIsSeeded(t *testing.T) {
	count := func(seed uint64) uint64 {
		e, l, _ := pair(t, sim.LinkConfig{Loss: 0.3}, seed)
		for range 1000 {
			_ = l.End(0).Send([]byte{1})
		}
		e.RunUntil(nil, time.Hour)
		return l.End(0).Stats().Lost
	}
	a, b, c := count(1), count(1), count(2)
	if a != b {
		t.Errorf("same seed lost %d then %d", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 both lost %d (streams not seeded?)", a)
	}
	if a < 250 || a > 350 {
		t.Errorf("lost %d of 1000 at 30%%", a)
	}
}

func TestLinkDown(t *testing.T) {
	e, l, got := pair(t, sim.LinkConfig{Latency: time.Millisecond}, 1)
	var carrier []bool
	l.End(0).Attach(link.Funcs{Up: func(up bool) { carrier = append(carrier, up) }})
	_ = l.End(0).Send([]byte{1}) // in flight when the link goes down
	l.SetUp(false)
	if err := l.End(0).Send([]byte{2}); err == nil {
		t.Error("Send on a down link succeeded")
	}
	e.RunUntil(nil, time.Hour)
	if len(*got) != 0 || l.End(0).Stats().DownDrop != 2 {
		t.Errorf("delivered %d, down drops %d; want 0 and 2", len(*got), l.End(0).Stats().DownDrop)
	}
	if len(carrier) != 1 || carrier[0] {
		t.Errorf("carrier notifications %v, want [false]", carrier)
	}
}

func TestBadLinkConfig(t *testing.T) {
	e := sim.New(1)
	for _, c := range []sim.LinkConfig{{Loss: 1.5}, {Latency: -1}, {Queue: -1}} {
		if _, err := e.NewLink("x", "a", "b", c); err == nil {
			t.Errorf("NewLink(%+v) accepted", c)
		}
	}
}

// TestRealClockLinkInOrder drives a link on the wall clock from several
// goroutines: every frame arrives once, in the order sent per sender (run
// with -race).
func TestRealClockLinkInOrder(t *testing.T) {
	l, err := sim.NewLink("a -- b", "a", "b", sim.LinkConfig{Latency: 200 * time.Microsecond}, sim.LinkOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	got := make(chan []byte, 2*n)
	l.End(1).Attach(link.Funcs{Frame: func(f []byte) { got <- append([]byte(nil), f...) }})
	done := make(chan struct{})
	for g := range 2 {
		go func() {
			for i := range n {
				_ = l.End(0).Send([]byte{byte(g), byte(i)})
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	last := [2]int{-1, -1}
	for range 2 * n {
		select {
		case f := <-got:
			if int(f[1]) <= last[f[0]] {
				t.Fatalf("sender %d: frame %d after %d", f[0], f[1], last[f[0]])
			}
			last[f[0]] = int(f[1])
		case <-time.After(10 * time.Second):
			t.Fatal("frames did not arrive")
		}
	}
	if st := l.End(0).Stats(); st.Delivered != 2*n {
		t.Errorf("stats %+v", st)
	}
}

// TestDirectLink delivers synchronously on a perfect link.
func TestDirectLink(t *testing.T) {
	l, _ := sim.NewLink("a -- b", "a", "b", sim.LinkConfig{}, sim.LinkOptions{Direct: true})
	var got []byte
	l.End(1).Attach(link.Funcs{Frame: func(f []byte) { got = f }})
	f := []byte{1, 2, 3}
	_ = l.End(0).Send(f)
	if &got[0] != &f[0] {
		t.Error("a direct link copied the frame or did not deliver it at once")
	}
}

// TestInFlightBound: a perfect link in a simulation still holds at most
// Queue frames beside the one it hands over (netem's limit), however many
// are sent at one instant, so a storm cannot take the machine's memory.
func TestInFlightBound(t *testing.T) {
	e, l, got := pair(t, sim.LinkConfig{}, 1)
	for range 5000 {
		_ = l.End(0).Send(make([]byte, 60))
	}
	e.RunUntil(nil, time.Hour)
	if st := l.End(0).Stats(); len(*got) != sim.DefaultQueue+1 || st.QueueDrop != 5000-sim.DefaultQueue-1 {
		t.Errorf("delivered %d, queue drops %d; want %d and %d", len(*got), st.QueueDrop, sim.DefaultQueue+1, 5000-sim.DefaultQueue-1)
	}
}

// TestLoopDetection: a frame crossing LoopCopies times within LoopWindow
// is reported once; one repeated more slowly, or link-local, is not.
func TestLoopDetection(t *testing.T) {
	e := sim.New(1)
	var loops int
	l, err := sim.NewLink("s1:p1 -- s2:p1", "s1:p1", "s2:p1", sim.LinkConfig{}, sim.LinkOptions{Clock: e, OnLoop: func(*sim.Link, *sim.End, []byte) { loops++ }})
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6}, make([]byte, 46)...)
	bpdu := append([]byte{0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 38}, make([]byte, 46)...)
	for i := range sim.LoopCopies - 1 { // slower than the window: never a loop
		e.Schedule(time.Duration(i)*sim.LoopWindow/4, func() { _ = l.End(0).Send(frame) })
	}
	for range 3 * sim.LoopCopies {
		_ = l.End(1).Send(bpdu)
	}
	e.RunUntil(nil, time.Hour)
	if loops != 0 {
		t.Fatalf("%d loops reported for a frame resent slowly and for BPDUs", loops)
	}
	for range 3 * sim.LoopCopies {
		_ = l.End(1).Send(frame)
	}
	if loops != 1 {
		t.Errorf("%d loops reported, want 1", loops)
	}
}

// echo attaches to end 1 of l a receiver that checks each frame's bytes
// (frame i is 1+257i bytes of value i, some longer than an ordinary frame's
// buffer) and, from inside the delivery, sends frame i+1 on the same
// direction until n frames have crossed; it reports each frame's number.
func echo(l *sim.Link, n int, got func(i int, ok bool)) {
	size := func(i int) int { return 1 + i*257 } // up to 12 KiB: some in framePool's buffers, some bigger
	l.End(1).Attach(link.Funcs{Frame: func(f []byte) {
		i := int(f[0])
		ok := len(f) == size(i)
		for _, b := range f {
			ok = ok && b == byte(i)
		}
		got(i, ok)
		if i+1 < n {
			_ = l.End(0).Send(bytes.Repeat([]byte{byte(i + 1)}, size(i+1)))
		}
	}})
	_ = l.End(0).Send([]byte{0})
}

// TestReentrantSend: a receiver may send on the direction that is handing
// it a frame (a switch cabled to itself does), and every frame arrives
// whole, whichever buffer it was copied into.
func TestReentrantSend(t *testing.T) {
	const n = 50
	e, l, _ := pair(t, sim.LinkConfig{}, 1)
	var seq []int
	echo(l, n, func(i int, ok bool) {
		if !ok {
			t.Errorf("frame %d arrived damaged", i)
		}
		seq = append(seq, i)
	})
	e.RunUntil(nil, time.Hour)
	if len(seq) != n || seq[n-1] != n-1 {
		t.Errorf("frames %v, want 0 to %d", seq, n-1)
	}
}

// TestRealClockReentrantSend is TestReentrantSend on the wall clock, with
// a latency so that frames go through timers (run with -race).
func TestRealClockReentrantSend(t *testing.T) {
	const n = 50
	l, err := sim.NewLink("a -- b", "a", "b", sim.LinkConfig{Latency: 100 * time.Microsecond}, sim.LinkOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, n)
	echo(l, n, func(i int, ok bool) {
		if !ok {
			i = -1 - i
		}
		got <- i
	})
	for want := range n {
		select {
		case i := <-got:
			if i != want {
				t.Fatalf("frame %d (negative: damaged), want %d", i, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("frame %d did not arrive", want)
		}
	}
}

// TestLinkSendNoAllocs: a frame crossing a queued link in a simulation
// allocates nothing once the link has carried one.
func TestLinkSendNoAllocs(t *testing.T) {
	e, l, _ := pair(t, sim.LinkConfig{}, 1)
	frame := make([]byte, 1500)
	hop := func() {
		_ = l.End(0).Send(frame)
		e.Step()
	}
	hop()
	if a := testing.AllocsPerRun(100, hop); a != 0 {
		t.Errorf("%v allocations a hop, want 0", a)
	}
}

func benchSend(b *testing.B, onLoop bool, size int) {
	e := sim.New(1)
	o := sim.LinkOptions{Clock: e}
	if onLoop {
		o.OnLoop = func(*sim.Link, *sim.End, []byte) {}
	}
	l, _ := sim.NewLink("a -- b", "a", "b", sim.LinkConfig{}, o)
	frame := make([]byte, size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		frame[20] = byte(i)
		frame[21] = byte(i >> 8)
		i++
		_ = l.End(0).Send(frame)
		e.Step()
	}
}

// BenchmarkLinkSend*: a frame put on a queued link and delivered, with and
// without loop detection (links between switches have it).
func BenchmarkLinkSend1500(b *testing.B)          { benchSend(b, false, 1500) }
func BenchmarkLinkSendLoopCheck1500(b *testing.B) { benchSend(b, true, 1500) }
func BenchmarkLinkSendLoopCheck64(b *testing.B)   { benchSend(b, true, 64) }
