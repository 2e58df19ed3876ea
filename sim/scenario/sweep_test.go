package scenario_test

import (
	"fmt"
	"strings"
	"testing"
)

// sweepFile is one L2 segment of n hosts on ten switches in a chain (n/10
// each), and a sweep: every host pings the host at the same place on the
// next switch (h_i to h_(i+n/10), wrapping), one probe each, in turn. Every
// host sends a request and answers one, and every ping starts with an ARP
// request that floods the whole segment, so the run costs about n*n host
// deliveries: what an L2 segment of that size costs, not the simulator.
//
// A reach matrix over n hosts is n*(n-1) pings in turn (10^8 for 10 000
// hosts, and a file larger than MaxFileSize): nobody runs that sweep on a
// segment this big, while "does every host reach a peer" is what a
// generated lab checks after a change.
func sweepFile(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: sweep\nbudget: %d\n", 400*n*n/nsw+10_000_000)
	segment(&b, n, func(i int) int { return i * nsw / n })
	b.WriteString("steps:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - ping: {from: h%d, to: h%d}\n", i, (i+n/nsw)%n)
	}
	return []byte(b.String())
}

func benchSweep(b *testing.B, n int) { benchRun(b, "sweep.yaml", sweepFile(n)) }

// BenchmarkSweep10000Hosts runs sweepFile(10 000): 10 000 pings, each
// with its ARP flood over the segment. Run with -benchtime 1x.
func BenchmarkSweep10000Hosts(b *testing.B) { benchSweep(b, 10_000) }

// BenchmarkSweep1000Hosts is the same sweep over 1 000 hosts.
func BenchmarkSweep1000Hosts(b *testing.B) { benchSweep(b, 1_000) }
