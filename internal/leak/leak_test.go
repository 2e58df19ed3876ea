package leak

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv(leakyEnv) != "" {
		Grace = 10 * time.Millisecond
	}
	os.Exit(Run(m))
}

const leakyEnv = "NETYARD_LEAK_TEST_LEAKY"

// TestLeaky leaks a goroutine when run by TestRun.
func TestLeaky(t *testing.T) {
	if os.Getenv(leakyEnv) == "" {
		t.Skip("run by TestRun")
	}
	go func() { select {} }()
}

// TestRun runs TestLeaky in a test binary of its own: Run must print the
// goroutine and fail the binary.
func TestRun(t *testing.T) {
	if os.Getenv(leakyEnv) != "" {
		t.Skip("inside TestRun")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaky$")
	cmd.Env = append(os.Environ(), leakyEnv+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("a leaky binary exited with %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "goroutines outlived the tests") || !strings.Contains(string(out), "leak.TestLeaky") {
		t.Errorf("a leaky binary's output does not show the goroutine:\n%s", out)
	}
}

// fakeT collects what Check reports, and runs its cleanups on finish.
type fakeT struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(string, ...any) {
	f.errs = append(f.errs, "error")
}

func (f *fakeT) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// shortGrace makes a leak cost a test 50 ms, not Grace.
func shortGrace(t *testing.T) {
	old := Grace
	Grace = 50 * time.Millisecond
	t.Cleanup(func() { Grace = old })
}

func TestCheck(t *testing.T) {
	shortGrace(t)
	tests := []struct {
		name string
		// run is the test's body; it returns what releases the goroutines
		// it left, called after the check.
		run  func(f *fakeT) (release func())
		leak bool
	}{
		{
			name: "a goroutine stopped by a cleanup is no leak",
			run: func(f *fakeT) func() {
				stop := make(chan struct{})
				go func() { <-stop }()
				f.Cleanup(func() { close(stop) })
				return func() {}
			},
		},
		{
			name: "a goroutine still running is a leak",
			run: func(f *fakeT) func() {
				stop := make(chan struct{})
				go func() { <-stop }()
				return func() { close(stop) }
			},
			leak: true,
		},
		{
			name: "one started by a goroutine of the test that has gone is a leak",
			run: func(f *fakeT) func() {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { go func() { <-stop }(); wg.Done() }()
				wg.Wait()
				return func() { close(stop) }
			},
			leak: true,
		},
		{
			name: "one that exits within the grace period is no leak",
			run: func(f *fakeT) func() {
				stop := make(chan struct{})
				go func() { <-stop }()
				f.Cleanup(func() { time.AfterFunc(5*time.Millisecond, func() { close(stop) }) })
				return func() {}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeT{TB: t}
			Check(f)
			release := tt.run(f)
			f.finish()
			release()
			if got := len(f.errs) > 0; got != tt.leak {
				t.Errorf("Check reported a leak: %v, want %v", got, tt.leak)
			}
		})
	}
}

// TestCheckOthersGoroutines: what was running before Check, and what
// those goroutines start, belongs to someone else.
func TestCheckOthersGoroutines(t *testing.T) {
	shortGrace(t)
	stop := make(chan struct{})
	spawn := make(chan struct{})
	spawned := make(chan struct{})
	go func() { // a server started before the check
		<-spawn
		go func() { <-stop }() // its worker, started during the check
		close(spawned)
		<-stop
	}()
	defer close(stop)
	f := &fakeT{TB: t}
	Check(f)
	close(spawn)
	<-spawned
	f.finish()
	if len(f.errs) > 0 {
		t.Error("Check blamed the test for another goroutine's worker")
	}
}

func TestCheckTwice(t *testing.T) {
	f := &fakeT{TB: t}
	Check(f)
	Check(f)
	if len(f.cleanups) != 1 {
		t.Errorf("two Checks registered %d cleanups, want 1", len(f.cleanups))
	}
	f.finish()
}

func TestParse(t *testing.T) {
	dump := `goroutine 8 [sleep]:
time.Sleep(0x34630b8a000)
	/usr/local/go/src/runtime/time.go:363 +0x165
main.main.func1.1()
	/tmp/st.go:10 +0x1d
created by main.main.func1 in goroutine 7
	/tmp/st.go:10 +0x1a`
	g, ok := parse(dump)
	if !ok || g.id != 8 || g.parent != 7 || g.stack != dump {
		t.Errorf("parse = %d, %d, %v; want 8, 7, true", g.id, g.parent, ok)
	}
	if g, ok := parse("goroutine 1 [running]:\nmain.main()\n\t/tmp/st.go:13 +0x53"); !ok || g.id != 1 || g.parent != 0 {
		t.Errorf("parse(main) = %d, %d, %v; want 1, 0, true", g.id, g.parent, ok)
	}
	if _, ok := parse("not a goroutine"); ok {
		t.Error("parse accepted a record that is no goroutine")
	}
	runner := goroutine{stack: "goroutine 5 [chan receive]:\ntesting.(*T).Run(0xc0)\n\t/x.go:1\ncreated by testing.(*M).Run in goroutine 1"}
	own := goroutine{stack: "goroutine 9 [chan receive]:\nmain.f()\n\t/x.go:1\ncreated by testing.tRunner in goroutine 5"}
	if !runner.ignored() || own.ignored() {
		t.Errorf("ignored: test runner %v, test's own goroutine %v; want true, false", runner.ignored(), own.ignored())
	}
	if !strings.Contains(report([]goroutine{own}), "main.f()") {
		t.Error("report leaves out the stack")
	}
}
