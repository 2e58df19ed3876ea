package scenario_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/scenario"
)

// bigFile is a plain scenario with n hosts, all on one switch s0 (which
// nine more extend, in a chain), and a step naming every host (a ping to
// the next, its link or its switch port), and a counters and fdb check
// per switch: what a generated lab looks like. 10 000 hosts fit in
// MaxFileSize.
func bigFile(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\n")
	segment(&b, n, func(int) int { return 0 }) // h_i is on port p(i+1) of s0
	b.WriteString("steps:\n")
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "  - ping: {from: h%d, to: h%d}\n", i, (i+1)%n)
		case 1:
			fmt.Fprintf(&b, "  - link: {at: h%d:eth0, state: up}\n", i)
		default:
			fmt.Fprintf(&b, "  - port: {at: s0:p%d, state: up}\n", i+1)
		}
	}
	for s := range nsw {
		fmt.Fprintf(&b, "  - expect: {counters: {at: s%d:p1, rx_frames: \">=0\"}, fdb: {switch: s%d, has: [{mac: h%d}]}}\n", s, s, s)
	}
	return []byte(b.String())
}

func parseBig(tb testing.TB, data []byte) {
	if _, err := scenario.Parse("big.yaml", data); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkValidate10000Hosts loads and validates a file of 10 000 hosts,
// their links and 10 000 steps naming them. Before the lookups were
// indexed it took 14.7 s; ns/host says whether the cost stays linear
// (compare BenchmarkValidateHosts's sizes).
func BenchmarkValidate10000Hosts(b *testing.B) {
	data := bigFile(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		parseBig(b, data)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/host")
}

// BenchmarkValidateHosts is the same at several sizes: with a linear
// cost, ns/host is about the same at each.
func BenchmarkValidateHosts(b *testing.B) {
	for _, n := range []int{1000, 3000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := bigFile(n)
			b.ReportAllocs()
			for b.Loop() {
				parseBig(b, data)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/host")
		})
	}
}

// cpuTime is the process's user and system time so far: unlike the wall
// clock it does not grow while other processes have the CPU.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("no getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestValidateIsNearLinear parses files of 1 250 and 10 000 hosts (the
// most MaxFileSize holds with their links and steps) and compares the CPU
// time they take: 8 times the hosts must cost less than 24 times the time
// (linear is 8, quadratic 64; the lookups this guards were quadratic,
// 14.7 s for 10 000 hosts). Each size takes its best of
// three runs, so a collection or a busy machine does not decide.
func TestValidateIsNearLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 10 000 hosts")
	}
	best := func(data []byte) time.Duration {
		var b time.Duration
		for i := range 3 {
			start := cpuTime(t)
			parseBig(t, data)
			if d := cpuTime(t) - start; i == 0 || d < b {
				b = d
			}
		}
		return b
	}
	small, large := bigFile(1250), bigFile(10000)
	parseBig(t, small) // warm up
	ts, tl := best(small), best(large)
	if ts < time.Millisecond {
		ts = time.Millisecond // below the clock's grain
	}
	if ratio := float64(tl) / float64(ts); ratio > 24 {
		t.Errorf("10 000 hosts took %v of CPU, 1 250 took %v: %.1f times as long for 8 times the hosts, want under 24", tl, ts, ratio)
	}
}

// nsw is the number of switches in a segment.
const nsw = 10

// segment writes the switches, hosts and links of one L2 segment: ten
// switches s0-s9 in a chain and n hosts h0.. at 10.0.0.1/8 upwards, h_i
// on switch on(i).
func segment(b *strings.Builder, n int, on func(i int) int) {
	b.WriteString("switches:\n")
	for s := range nsw {
		fmt.Fprintf(b, "  - {name: s%d}\n", s)
	}
	b.WriteString("hosts:\n")
	for i := range n {
		fmt.Fprintf(b, "  - {name: h%d, address: 10.%d.%d.%d/8}\n", i, (i+1)>>16&0xff, (i+1)>>8&0xff, (i+1)&0xff)
	}
	b.WriteString("links:\n")
	for i := range n {
		fmt.Fprintf(b, "  - h%d -- s%d\n", i, on(i))
	}
	for s := 1; s < nsw; s++ {
		fmt.Fprintf(b, "  - s%d -- s%d\n", s-1, s)
	}
}
