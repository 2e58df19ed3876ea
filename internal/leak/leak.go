// Package leak fails tests that leave goroutines running (STYLE.md,
// practice 12: every goroutine has an owner and a shutdown path), after
// wireguard-go's goroutineLeakCheck and the net package's TestMain report.
//
// Check guards one test: it notes the goroutines running when it is called
// and, when the test and its cleanups are done, fails the test if any
// goroutine started since is still running. Run guards a whole test binary
// from TestMain. Both give goroutines a grace period to finish exiting
// (closing a socket or a device wakes its reader, which still has to run):
// they look again after yielding, then after waits that double from a
// millisecond, for at most Grace in all. A test that leaks nothing pays
// nothing: the first look finds nothing.
//
// A goroutine counts against the test that started it: its creator, or its
// creator's creator and so on, is the test's goroutine (or one started
// since, whose creator has gone). Goroutines the runtime and the testing
// package run, and those other tests had running when Check was called, do
// not count.
package leak

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Grace is the longest a check waits for goroutines to exit.
var Grace = 5 * time.Second

// goroutine is one goroutine of a runtime.Stack dump.
type goroutine struct {
	id, parent uint64 // parent 0: unknown (the main goroutine, a system one)
	stack      string
}

// all returns every goroutine's stack, from runtime.Stack.
func all() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []goroutine
	for s := range strings.SplitSeq(string(buf), "\n\n") {
		if g, ok := parse(s); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parse reads one goroutine's record: "goroutine 7 [state]:", frames, and
// "created by f in goroutine 1".
func parse(s string) (goroutine, bool) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "goroutine ")
	if !ok {
		return goroutine{}, false
	}
	num, _, _ := strings.Cut(rest, " ")
	id, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return goroutine{}, false
	}
	g := goroutine{id: id, stack: s}
	if i := strings.LastIndex(s, "\ncreated by "); i >= 0 {
		line, _, _ := strings.Cut(s[i+1:], "\n")
		if _, p, ok := strings.Cut(line, " in goroutine "); ok {
			g.parent, _ = strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		}
	}
	return g, true
}

// self returns the calling goroutine's id.
func self() uint64 {
	buf := make([]byte, 64)
	g, _ := parse(string(buf[:runtime.Stack(buf, false)]))
	return g.id
}

// ignored are goroutines of the runtime and the testing package: the
// test runner and its waiting parents, fuzzing workers, signal delivery,
// profiling.
var ignored = []string{
	"testing.(*M).",
	"testing.tRunner(",
	"testing.(*T).Run(",
	"testing.(*F).",
	"testing.runTests(",
	"testing.runFuzzTests(",
	"testing.runFuzzing(",
	"testing.(*common).",
	"os/signal.signal_recv(",
	"os/signal.loop(",
	"runtime.ensureSigM(",
	"runtime/pprof.",
	"runtime/trace.",
	"runtime.ReadTrace(",
}

func (g goroutine) ignored() bool {
	// Only the running frames: a goroutine created by the testing
	// package (a test's own) is not the testing package's.
	frames, _, _ := strings.Cut(g.stack, "\ncreated by ")
	return slices.ContainsFunc(ignored, func(f string) bool { return strings.Contains(frames, f) })
}

// leaked returns the goroutines that count against owner (0: every one
// but the caller), leaving out those in before.
func leaked(owner uint64, before map[uint64]bool) []goroutine {
	me := self()
	gs := all()
	byID := map[uint64]goroutine{}
	for _, g := range gs {
		byID[g.id] = g
	}
	// ours reports whether g descends from owner: its chain of creators
	// reaches owner, or breaks at a goroutine that has gone.
	ours := func(g goroutine) bool {
		for range len(gs) + 1 {
			if owner == 0 || g.parent == owner {
				return true
			}
			p, ok := byID[g.parent]
			if !ok {
				return g.parent != 0 && !before[g.parent]
			}
			if before[p.id] {
				return false
			}
			g = p
		}
		return false
	}
	var out []goroutine
	for _, g := range gs {
		if g.id == me || g.id == owner || before[g.id] || g.ignored() || !ours(g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// wait looks for leaked goroutines until there are none or Grace is
// spent, and returns the last ones found.
func wait(owner uint64, before map[uint64]bool) []goroutine {
	gs := leaked(owner, before)
	for range 10 {
		if len(gs) == 0 {
			return nil
		}
		runtime.Gosched()
		gs = leaked(owner, before)
	}
	deadline := time.Now().Add(Grace)
	for d := time.Millisecond; len(gs) > 0 && time.Now().Before(deadline); d = min(2*d, 100*time.Millisecond) {
		time.Sleep(d)
		gs = leaked(owner, before)
	}
	return gs
}

func report(gs []goroutine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d goroutine(s) still running after %v:", len(gs), Grace)
	for _, g := range gs {
		b.WriteString("\n\n")
		b.WriteString(g.stack)
	}
	return b.String()
}

var checked sync.Map // testing.TB -> struct{}: Check already armed for it

// Check fails t if goroutines the test starts are still running once it
// and its cleanups are done. Call it first in the test or its setup helper:
// cleanups run last registered first, so the check then runs after the
// cleanups that close what the test opened. Calling it again for the same
// test does nothing.
func Check(t testing.TB) {
	t.Helper()
	if _, again := checked.LoadOrStore(t, struct{}{}); again {
		return
	}
	owner := self()
	before := map[uint64]bool{}
	for _, g := range all() {
		before[g.id] = true
	}
	delete(before, owner)
	t.Cleanup(func() {
		defer checked.Delete(t)
		if gs := wait(owner, before); len(gs) > 0 {
			t.Errorf("leak: %s", report(gs))
		}
	})
}

// Run runs the tests of m and returns their exit code, or 1 if they passed
// but left goroutines running, whose stacks it prints. Use it from TestMain:
// os.Exit(leak.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if gs := wait(0, nil); len(gs) > 0 {
		fmt.Fprintf(os.Stderr, "leak: goroutines outlived the tests: %s\n", report(gs))
		return 1
	}
	return 0
}
