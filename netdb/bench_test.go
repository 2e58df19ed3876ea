package netdb

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
)

// BenchmarkConverge100 is the benchmark: 100 Docker hosts with 10
// containers each on one overlay network run until every host has all
// 1000 peers. "at-once": every host joins the cluster (host1 the seed),
// the network and puts its entries at the same instant; "cluster-first":
// the hosts form the cluster for 10 s first, as a swarm exists before its
// overlays. It reports the virtual time from the entries' puts to
// convergence, and the datagrams sent and trace events per host.
func BenchmarkConverge100(b *testing.B) {
	for _, c := range []struct {
		name  string
		first time.Duration
	}{{"at-once", 0}, {"cluster-first", 10 * time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			const hosts, per = 100, 10
			var virtual time.Duration
			var sent, events int
			for i := range b.N {
				l := newLab(b, hosts, uint64(i)+1)
				l.quiet = true
				n := 0
				for _, db := range l.dbs {
					db.store.tracer = countTracer{&n}
				}
				if c.first > 0 {
					for _, db := range l.dbs {
						db.Join([]netip.AddrPort{hostAddr(1)})
					}
					l.clk.Advance(c.first)
				}
				l.joinAll("ov", per)
				// Counting what each store holds is cheap enough to ask
				// before every timer; the benchmark has no tombstones.
				all := func() bool {
					for _, db := range l.dbs {
						if len(db.store.entries) != hosts*per {
							return false
						}
					}
					return true
				}
				virtual += l.until("converged", all, 10*time.Minute)
				sent += l.sent
				events += n
			}
			b.ReportMetric(virtual.Seconds()/float64(b.N), "virtual-s")
			b.ReportMetric(float64(sent)/float64(b.N*hosts), "datagrams/host")
			b.ReportMetric(float64(events)/float64(b.N*hosts), "events/host")
		})
	}
}

type countTracer struct{ n *int }

func (c countTracer) Trace(trace.Event) { *c.n++ }
