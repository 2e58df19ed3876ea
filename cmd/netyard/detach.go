package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netyard/netyard/sim/netns"
)

// netyard up -d: the parent re-executes itself without -d in a session
// of its own (no terminal: no SIGHUP when the shell goes, no Ctrl-C of
// the shell's), stdin /dev/null, stdout and stderr to the run's log next
// to its state (/run/netyard/RUN.log), and passes it the write end of a
// pipe as descriptor 3, named by envReady. The child says on it "up RUN"
// once the topology is up and its API listens, or "error" and what it
// printed on stderr if it gave up; then closes it. The parent prints the
// run's name, or the child's error (and removes the log: a run that never
// came up leaves nothing), and exits.

// envReady names the child's end of the pipe; its value is the
// descriptor, 3.
const envReady = "NETYARD_UP_READY"

// upWait bounds how long up -d waits for its child to come up: a big
// topology on a busy machine takes long; one that hangs is stopped.
var upWait = 5 * time.Minute

// detachUp runs up (args without -d) detached, and returns up -d's exit
// code.
func detachUp(args []string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		return fail(stderr, fmt.Errorf("up -d: cannot find netyard's own executable to run detached: %w", err))
	}
	if err := os.MkdirAll(netns.StateDir, 0o755); err != nil {
		return fail(stderr, fmt.Errorf("up -d: %w", err))
	}
	// The log's name is the child's run, known once it runs: it starts
	// under a name of the parent's, renamed then.
	tmp := filepath.Join(netns.StateDir, ".up-"+strconv.Itoa(os.Getpid())+".log")
	logf, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fail(stderr, fmt.Errorf("up -d: the run's log: %w", err))
	}
	r, w, err := os.Pipe()
	if err != nil {
		logf.Close()
		os.Remove(tmp)
		return fail(stderr, fmt.Errorf("up -d: %w", err))
	}
	cmd := exec.Command(exe, append([]string{"up"}, withoutDetach(args)...)...)
	cmd.Stdin = nil // /dev/null
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{w} // descriptor 3
	cmd.Env = append(os.Environ(), envReady+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Ctrl-C while the child comes up stops it, rather than leaving it
	// up with nobody told its name.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, teardownSignals...)
	defer signal.Stop(sigs)
	err = cmd.Start()
	w.Close()
	logf.Close()
	if err != nil {
		r.Close()
		os.Remove(tmp)
		return fail(stderr, fmt.Errorf("up -d: %w", err))
	}
	log := netns.RunFile("ny"+strconv.FormatInt(int64(cmd.Process.Pid), 36), ".log")
	if os.Rename(tmp, log) != nil {
		log = tmp
	}
	said := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		said <- b
	}()
	var msg []byte
	why := ""
	select {
	case msg = <-said:
	case <-time.After(upWait):
		why = fmt.Sprintf("it did not come up within %v", upWait)
	case s := <-sigs:
		why = fmt.Sprintf("interrupted (%v) while it came up", s)
	}
	if run, ok := strings.CutPrefix(string(msg), "up "); ok && why == "" {
		_ = cmd.Process.Release()
		fmt.Fprintln(stdout, strings.TrimSpace(run))
		return 0
	}
	// It failed, or is stopped: it tears down what it made on SIGTERM,
	// or is killed if it does not end in time.
	if why != "" {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-exited:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		werr = <-exited
	}
	text, _ := strings.CutPrefix(string(msg), "error\n")
	if strings.TrimSpace(text) == "" { // it said nothing: its log may
		b, _ := os.ReadFile(log)
		text = string(tail(b, 4<<10))
	}
	os.Remove(log)
	if why == "" {
		why = "it exited before it was up"
		if werr != nil {
			why += " (" + werr.Error() + ")"
		}
	}
	fmt.Fprint(stderr, text)
	if text != "" && !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(stderr)
	}
	fmt.Fprintf(stderr, "netyard up -d: %s; nothing is left of it\n", why)
	return 1
}

// withoutDetach returns up's arguments without -d (or --detach) in any
// of the flag package's spellings.
func withoutDetach(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "d" || name == "detach") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// upChild is the detached child's side of the pipe.
type upChild struct {
	mu   sync.Mutex
	f    *os.File     // nil once it has said
	errs bytes.Buffer // what it printed on stderr, its last 16 KiB
}

// detachedChild returns the pipe to the parent when this process is a
// detached up's child, else nil.
func detachedChild() *upChild {
	if os.Getenv(envReady) != "3" {
		return nil
	}
	os.Unsetenv(envReady)
	syscall.CloseOnExec(3) // commands up runs must not hold the pipe open
	return &upChild{f: os.NewFile(3, "netyard up -d's pipe")}
}

// stderr returns w, teed into what the child says if it fails.
func (c *upChild) stderr(w io.Writer) io.Writer { return io.MultiWriter(w, c) }

func (c *upChild) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs.Write(b)
	if c.errs.Len() > 16<<10 {
		keep := tail(c.errs.Bytes(), 16<<10)
		c.errs.Reset()
		c.errs.Write(keep)
	}
	return len(b), nil
}

// up tells the parent the run is up, and its name (and what else the
// parent prints, on lines of their own).
func (c *upChild) up(run string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		fmt.Fprintf(c.f, "up %s\n", run)
		c.f.Close()
		c.f = nil
	}
}

// done tells the parent, if it has not said it is up, why not.
func (c *upChild) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		fmt.Fprintf(c.f, "error\n%s", c.errs.Bytes())
		c.f.Close()
		c.f = nil
	}
}

// tail returns the last n bytes of b, from a line's start if it can.
func tail(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[len(b)-n:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i+1 < len(b) {
		b = b[i+1:]
	}
	return b
}
