package vswitch

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// testFDB returns an FDB with ageing counted in the test's own ticks, and
// n ports to learn on.
func testFDB(max int, ageing int64, n int) (*fdb, []*port) {
	f := &fdb{}
	f.init(max, 0, func(int64, int64) {})
	f.ageing.Store(ageing)
	ports := make([]*port, n)
	for i := range ports {
		ports[i] = &port{idx: i, name: fmt.Sprintf("p%d", i)}
	}
	return f, ports
}

// randomKeys returns n distinct unicast keys in VLAN 1, random so that
// they collide in the table as real addresses do.
func randomKeys(n int, seed uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, seed))
	seen := map[uint64]bool{}
	var keys []uint64
	for len(keys) < n {
		k := 1<<48 | r.Uint64()&addrMask&^(1<<40)
		if k&addrMask != 0 && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// sameHome returns a key other than k whose home slot in t is k's.
func sameHome(t *table, k uint64) uint64 {
	for c := uint64(1); ; c++ {
		if o := 1<<48 | c; o != k && t.home(o) == t.home(k) {
			return o
		}
	}
}

// TestFDBInterleavings runs, at each point of the lock-free learning path
// (after it has found the key's slot; after it has read the entry, before
// it writes), each thing a writer can do meanwhile, and checks that the
// frame's address ends up where it was seen and no other key is touched.
// The first cases are the bug of issue 9 item 13: a refresh, or a move,
// landing in a slot another key had just taken over.
func TestFDBInterleavings(t *testing.T) {
	const age = 100
	type result struct {
		res  learnResult
		port int // where k1 is found afterwards, -1 if nowhere
	}
	tests := []struct {
		name    string
		on      int // port of the frame from k1 (k1 was learned on port 0 at 0)
		now     int64
		between func(f *fdb, ports []*port, k1 uint64) (check func(t *testing.T))
		want    result
	}{
		{"slot taken by another key, refresh", 0, 10, takeOver, result{learnNew, 0}},
		{"slot taken by another key, move", 1, 10, takeOver, result{learnNew, 1}},
		{"entry aged out", 0, 99, func(f *fdb, _ []*port, _ uint64) func(*testing.T) {
			locked(f, func() { f.expireLocked(100) })
			return nil
		}, result{learnNew, 0}},
		{"table rebuilt", 0, 10, func(f *fdb, _ []*port, k1 uint64) func(*testing.T) {
			locked(f, func() { f.rebuildLocked(f.tab.Load()) })
			return func(t *testing.T) {
				if s := f.tab.Load().find(k1); s == nil || s.seen.Load() != 10 {
					t.Error("the refresh was lost in the rebuild")
				}
			}
		}, result{learnRefreshed, 0}},
		{"port flushed and down", 0, 10, func(f *fdb, ports []*port, _ uint64) func(*testing.T) {
			ports[0].setState(stDown, true)
			locked(f, func() { f.flushPortLocked(0) })
			return nil
		}, result{learnRefused, -1}},
		{"moved to another port", 0, 10, func(f *fdb, ports []*port, k1 uint64) func(*testing.T) {
			f.learn(k1, ports[2], 5)
			return nil
		}, result{learnMoved, 0}},
	}
	// learnAt is learnIn with writers run at one of its points.
	learnAt := func(point string, f *fdb, key uint64, p *port, now int64, between func()) learnResult {
		tab := f.tab.Load()
		s := tab.find(key)
		if point == "after find" {
			between()
			res, _ := f.learnIn(tab, s, key, p, now)
			return res
		}
		if s != nil { // learnIn, with between in the middle
			seen, ok := f.alive(s, p.idx, now)
			between()
			if ok && f.commit(tab, s, key, p.idx, seen, now) {
				return learnRefreshed
			}
		}
		res, _ := f.learnSlow(key, p, now)
		return res
	}
	for _, point := range []string{"after find", "after read"} {
		for _, tc := range tests {
			t.Run(point+"/"+tc.name, func(t *testing.T) {
				f, ports := testFDB(16, age, 3)
				k1 := randomKeys(1, 1)[0]
				f.learn(k1, ports[0], 0)
				var check func(*testing.T)
				res := learnAt(point, f, k1, ports[tc.on], tc.now, func() { check = tc.between(f, ports, k1) })
				got := result{res, f.lookup(k1, tc.now)}
				if got != tc.want {
					t.Errorf("learn(k1 on p%d) = %v, k1 then on port %d; want %v, port %d", tc.on, got.res, got.port, tc.want.res, tc.want.port)
				}
				if check != nil {
					check(t)
				}
			})
		}
	}
}

// takeOver removes k1 (its port is flushed) and learns on the same port a
// key k2 that hashes to k1's slot, as a refresher of k1 is about to write.
func takeOver(f *fdb, ports []*port, k1 uint64) func(*testing.T) {
	k2 := sameHome(f.tab.Load(), k1)
	locked(f, func() { f.flushPortLocked(0) })
	f.learn(k2, ports[0], 3)
	return func(t *testing.T) {
		s := f.tab.Load().find(k2)
		if s == nil {
			t.Fatal("k2 was lost")
		}
		if p, seen := s.port.Load(), s.seen.Load(); p != 0 || seen != 3 {
			t.Errorf("k2 is on port %d last seen at %d; want port 0 at 3, as learned", p, seen)
		}
	}
}

func locked(f *fdb, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (r learnResult) String() string {
	return [...]string{"refreshed", "new", "moved", "full", "refused"}[r]
}

// TestFDBRemoveRestoresRefreshed has a refresh land after the ageing sweep
// read an entry's time but before it stored the tomb: the entry stays, and
// the next deadline is the refreshed one.
func TestFDBRemoveRestoresRefreshed(t *testing.T) {
	f, ports := testFDB(16, 100, 1)
	k := randomKeys(1, 2)[0]
	f.learn(k, ports[0], 0)
	tab := f.tab.Load()
	s := tab.find(k)
	var gone []removed
	var next int64
	locked(f, func() {
		first := true
		gone = f.removeLocked(func(_ int, seen int64) bool {
			if first { // the sweep has read seen 0; a frame at 99 refreshes
				first = false
				if res, _ := f.learnIn(tab, s, k, ports[0], 99); res != learnRefreshed {
					t.Errorf("refresh = %v, want refreshed", res)
				}
				return 100-seen >= 100
			}
			next = seen + 100
			return 100-seen >= 100
		})
	})
	if len(gone) != 0 || f.lookup(k, 100) != 0 || next != 199 {
		t.Errorf("removed %v, lookup at 100 = %d, next deadline %d; want nothing removed, port 0, 199", gone, f.lookup(k, 100), next)
	}
	if n := tab.live; n != 1 {
		t.Errorf("live = %d, want 1", n)
	}
}

// TestFDBRaceKeysKeepTheirPorts hammers the lock-free fast path while
// writers insert, move, expire, flush and rebuild, so that slots are emptied
// and reclaimed all the time. Each key is learned only on the ports legit
// allows (movers flap between two ports, the others stay on one): finding
// a key on any other port, by a lookup or as where a move came from, means
// it was given another key's port. Run with -race.
func TestFDBRaceKeysKeepTheirPorts(t *testing.T) {
	const (
		nports  = 4
		movers  = 8  // keys 0..7 flap between ports j%4 and (j+1)%4
		churn   = 40 // keys 8..47 stay on port j%4, and come and go
		nkeys   = movers + churn
		workers = 6
		flushes = 3000
		max     = 40 // below nkeys: the bound is hit too
	)
	// More threads than cores: the OS preempts them at arbitrary
	// instructions, between a refresher's read and its write too.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4 * runtime.NumCPU()))
	f, ports := testFDB(max, 50, nports)
	keys := randomKeys(nkeys, 9)
	index := map[uint64]int{}
	for j, k := range keys {
		index[k] = j
	}
	legit := func(j, p int) bool { return p == j%nports || j < movers && p == (j+1)%nports }
	where := func(j int) string {
		if j < movers {
			return fmt.Sprintf("ports %d and %d", j%nports, (j+1)%nports)
		}
		return fmt.Sprintf("port %d", j%nports)
	}
	var now atomic.Int64 // ticks, advanced by the workers
	var bad atomic.Pointer[string]
	fail := func(format string, a ...any) { s := fmt.Sprintf(format, a...); bad.CompareAndSwap(nil, &s) }
	var stop atomic.Bool
	var counts [numLearnResults]atomic.Int64

	var wg sync.WaitGroup
	wg.Add(2 + workers)
	go func() { // the ageing timer
		defer wg.Done()
		for !stop.Load() {
			locked(f, func() { f.expireLocked(now.Load()) })
			runtime.Gosched()
		}
	}()
	go func() { // ports going down and up, and the table compacted
		defer wg.Done()
		defer stop.Store(true)
		r := rand.New(rand.NewPCG(2, 2))
		for i := range flushes {
			locked(f, func() {
				f.flushPortLocked(r.IntN(nports))
				if i%16 == 0 {
					f.rebuildLocked(f.tab.Load())
				}
			})
			for range 20 {
				runtime.Gosched()
			}
		}
	}()
	for w := range workers {
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; !stop.Load(); i++ {
				if i%64 == 0 {
					now.Add(1)
				}
				j := movers + r.IntN(churn)
				p := j % nports
				if w%2 == 0 { // a mover, to and fro
					j = r.IntN(movers)
					p = (j + i%2) % nports
				}
				res, from := f.learn(keys[j], ports[p], now.Load())
				counts[res].Add(1)
				if res == learnMoved && !legit(j, from) {
					fail("key %d moved to port %d from port %d, but it was only ever learned on %s", j, p, from, where(j))
				}
				l := r.IntN(nkeys)
				if got := f.lookup(keys[l], now.Load()); got >= 0 && !legit(l, got) {
					fail("key %d found on port %d, but it was only ever learned on %s", l, got, where(l))
				}
			}
		}()
	}
	wg.Wait()
	if s := bad.Load(); s != nil {
		t.Fatal(*s)
	}
	live := 0
	f.each(func(k uint64, p int, _ int64) {
		live++
		if j := index[k]; !legit(j, p) {
			t.Errorf("FDB holds key %d on port %d, but it was only ever learned on %s", j, p, where(j))
		}
	})
	if live > max {
		t.Errorf("FDB holds %d entries, over its bound %d", live, max)
	}
	for r := range counts {
		if counts[r].Load() == 0 && learnResult(r) != learnRefused {
			t.Errorf("no learn returned %v: the test does not exercise it", learnResult(r))
		}
	}
	t.Logf("learn results: refreshed %d, new %d, moved %d, full %d", counts[learnRefreshed].Load(), counts[learnNew].Load(), counts[learnMoved].Load(), counts[learnFull].Load())
}
