package vswitch_test

import (
	"testing"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	vswitch "github.com/netyard/netyard/switch"
)

// frame64 returns a 64-byte untagged frame from src to dst.
func frame64(dst, src vswitch.MAC) []byte {
	f := make([]byte, 64)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	f[12], f[13] = 0x88, 0xb5 // local experimental EtherType
	return f
}

func mac(n byte) vswitch.MAC { return vswitch.MAC{0x02, 0, 0, 0, 0, n} }

// newBenchSwitch returns a switch on a virtual clock with n ports that
// discard what they send.
func newBenchSwitch(b testing.TB, n int) *vswitch.Switch {
	e := clock.NewManual()
	sw := vswitch.New(vswitch.Options{Clock: e})
	for range n {
		if _, err := sw.AddPort(vswitch.PortConfig{}, link.Discard); err != nil {
			b.Fatal(err)
		}
	}
	return sw
}

// BenchmarkForwardUnicast forwards known unicast 64-byte frames: the hot
// path. Target: 0 allocs/op and at least 20 M frames/s on one core.
func BenchmarkForwardUnicast(b *testing.B) {
	sw := newBenchSwitch(b, 2)
	sw.Input(1, frame64(mac(1), mac(2))) // learn mac(2) on port 1
	f := frame64(mac(2), mac(1))
	sw.Input(0, f)
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	b.ResetTimer()
	for b.Loop() {
		sw.Input(0, f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkForwardUnicastParallel forwards from every port at once, as the
// netns backend does with one goroutine per TAP.
func BenchmarkForwardUnicastParallel(b *testing.B) {
	const n = 8
	sw := newBenchSwitch(b, n)
	for i := range n {
		sw.Input(i, frame64(vswitch.Broadcast, mac(byte(i+1))))
	}
	b.ReportAllocs()
	b.SetBytes(64)
	var next int32
	b.RunParallel(func(pb *testing.PB) {
		i := int(nextPort(&next)) % n
		f := frame64(mac(byte((i+1)%n+1)), mac(byte(i+1)))
		for pb.Next() {
			sw.Input(i, f)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkFlood8 floods broadcast 64-byte frames to 7 other ports.
func BenchmarkFlood8(b *testing.B) {
	sw := newBenchSwitch(b, 8)
	f := frame64(vswitch.Broadcast, mac(1))
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		sw.Input(0, f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkForwardRetag forwards from an access port to a trunk, which adds
// an 802.1Q tag (a copy into a pooled buffer).
func BenchmarkForwardRetag(b *testing.B) {
	e := clock.NewManual()
	sw := vswitch.New(vswitch.Options{Clock: e})
	a, _ := sw.AddPort(vswitch.PortConfig{PVID: 10}, link.Discard)
	t, _ := sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Allowed: []uint16{10}}, link.Discard)
	tagged := make([]byte, 0, 68)
	tagged = vswitch.AppendTagged(tagged, frame64(mac(1), mac(2)), vswitch.Tag{}, 10)
	sw.Input(t, tagged)
	f := frame64(mac(2), mac(1))
	b.ReportAllocs()
	for b.Loop() {
		sw.Input(a, f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

// BenchmarkForwardUnicastWallClock is ForwardUnicast on the wall clock, as
// in the netns backend: the difference is the cost of time.Now.
func BenchmarkForwardUnicastWallClock(b *testing.B) {
	sw := vswitch.New(vswitch.Options{})
	for range 2 {
		_, _ = sw.AddPort(vswitch.PortConfig{}, link.Discard)
	}
	sw.Input(1, frame64(mac(1), mac(2)))
	f := frame64(mac(2), mac(1))
	b.ReportAllocs()
	for b.Loop() {
		sw.Input(0, f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}
