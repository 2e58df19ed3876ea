package cluster_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/netdb"
	"github.com/netyard/netyard/netdb/cluster"
)

// fast are short memberlist timings for loopback (after
// DefaultLocalConfig, shorter still): a dead member is found within
// about a second.
func fast(c *memberlist.Config) {
	c.BindPort, c.AdvertisePort = 0, 0
	c.ProbeInterval = 100 * time.Millisecond
	c.ProbeTimeout = 50 * time.Millisecond
	c.SuspicionMult = 2
	c.GossipInterval = 20 * time.Millisecond
	c.PushPullInterval = time.Second
	c.TCPTimeout = time.Second
	c.GossipToTheDeadTime = time.Second
}

// eventually polls cond every 20 ms until it holds or 30 s pass: on a
// busy machine only the outcome is certain, not the instant.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// log collects the narration of every member, for a failure's report.
type log struct {
	mu    sync.Mutex
	lines []string
}

func (l *log) Trace(e trace.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, trace.Narrate(e))
}

func TestClusterConvergesAndForgetsTheDead(t *testing.T) {
	leak.Check(t)
	var tl log
	var changes sync.Map // name -> count of deletes
	var dbs []*cluster.DB
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("host%d", i)
		db, err := cluster.New(cluster.Config{
			Name: name, Addr: netip.MustParseAddrPort("127.0.0.1:0"), Tracer: &tl, Memberlist: fast,
			OnChange: func(c netdb.Change) {
				if c.Op == netdb.OpDelete {
					n, _ := changes.LoadOrStore(name, new(int))
					*n.(*int)++ // OnChange calls come one at a time
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Stop() })
		dbs = append(dbs, db)
	}
	for i, db := range dbs {
		if i > 0 {
			if err := db.Join([]netip.AddrPort{dbs[0].Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.JoinNetwork("ov"); err != nil {
			t.Fatal(err)
		}
		r := netdb.PeerRecord{Container: fmt.Sprintf("c%d", i+1), IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(2 + i)}),
			MAC: header.MAC{2, 0x42, 10, 0, 0, byte(2 + i)}, VTEP: netip.MustParseAddr("127.0.0.1")}
		v, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Put("ov", netdb.PeerTable, r.Container, v); err != nil {
			t.Fatal(err)
		}
	}
	has := func(dbs []*cluster.DB, n int) func() bool {
		return func() bool {
			for _, db := range dbs {
				if len(db.Entries("ov", netdb.PeerTable)) != n {
					return false
				}
			}
			return true
		}
	}
	eventually(t, "three members converge", has(dbs, 3))
	if ms := dbs[0].Members(); len(ms) != 3 {
		t.Errorf("host1's members = %v, want 3", ms)
	}
	// host3 stops without leaving: the others find it dead and forget c3.
	if err := dbs[2].Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "host3's entry forgotten", has(dbs[:2], 2))
	for _, db := range dbs[:2] {
		for _, e := range db.Entries("ov", netdb.PeerTable) {
			if e.Owner == "host3" {
				t.Errorf("%v still holds %+v", db.Members(), e)
			}
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	found := false
	for _, l := range tl.lines {
		if l == "host1 forgot c3 10.0.0.4 on ov at VTEP 127.0.0.1: host3 is dead" {
			found = true
		}
	}
	if !found {
		t.Errorf("host1 did not narrate forgetting c3:\n%v", tl.lines)
	}
}
