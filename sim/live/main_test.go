package live_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/sim/live"
)

// TestMain checks that no test leaves a goroutine behind: the server's
// streams and subscribers end with their requests and Close. Run with
// NETYARD_DIAL_AS=PATH, the binary is another user's client instead:
// it connects to the socket at PATH and says what happened (exit 0: the
// kernel refused it, permission denied; 3: it got in; 4: another error).
func TestMain(m *testing.M) {
	if path := os.Getenv("NETYARD_DIAL_AS"); path != "" {
		c, err := net.Dial("unix", path)
		switch {
		case err == nil:
			c.Close()
			os.Exit(3)
		case errors.Is(err, fs.ErrPermission):
			os.Exit(0)
		default:
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
	}
	os.Exit(leak.Run(m))
}

// TestSocketRefusesAnotherUser: the API's unix socket is its owner's
// alone; another user's connect is refused by the kernel, and the owner
// still gets in.
func TestSocketRefusesAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test connects as another user (uid 65534)")
	}
	dir, err := os.MkdirTemp("", "netyard-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the other user may reach the socket file
		t.Fatal(err)
	}
	path := filepath.Join(dir, "api.sock")
	l, err := live.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })

	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, mode %v; want 0600", path, err, st.Mode().Perm())
	}
	// The other user runs a copy of this binary: the original's build
	// directory is its owner's alone.
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	client := filepath.Join(dir, "client")
	if err := os.WriteFile(client, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	other := exec.Command(client, "-test.run", "^$")
	other.Env = append(os.Environ(), "NETYARD_DIAL_AS="+path)
	other.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := other.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil: // refused, as it must be
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		t.Errorf("uid 65534 connected to the API's socket")
	default:
		t.Errorf("uid 65534's connect: %v %s; want permission denied", err, out)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the owner's connect: %v", err)
	}
	c.Close()
}
