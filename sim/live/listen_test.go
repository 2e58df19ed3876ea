package live_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/netyard/netyard/sim/live"
)

// TestListenUnix: the socket is 0600, a client reaches the API through
// live.Dial, a live socket is not taken over, a stale one is.
func TestListenUnix(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	path := filepath.Join(t.TempDir(), "run.sock")
	l, err := live.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %s: %v %v", path, fi.Mode(), err)
	}
	srv := &http.Server{Handler: w.srv}
	go func() { _ = srv.Serve(l) }()
	c, base, err := live.Dial("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(base + "/api/v1/world")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("world over the socket: %d %s", resp.StatusCode, body)
	}
	if _, err := live.ListenUnix(path); err == nil {
		t.Fatal("a second listener took over a socket that answers")
	}
	srv.Close()
	// A stale socket: bound, never served, its listener gone without unlinking.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	l2, err := live.ListenUnix(stale)
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	l2.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("closing the listener left its socket: %v", err)
	}
}

func TestListenTCP(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if l, err := live.ListenTCP(addr, false); !errors.Is(err, live.ErrNotLoopback) {
			if l != nil {
				l.Close()
			}
			t.Errorf("ListenTCP(%q) = %v, want a refusal", addr, err)
		}
	}
	l, err := live.ListenTCP("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
