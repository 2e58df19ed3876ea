package live

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SocketDir is where a run's socket goes by default: /run/netyard/RUN.sock.
const SocketDir = "/run/netyard"

// ListenUnix listens on a unix socket at path, mode 0600: only its owner
// (the user who ran up) can connect, since connect(2) needs write
// permission on the socket file. The socket is bound inside a fresh
// directory of mode 0700 next to path, made 0600 there, then renamed to
// path, so there is no moment when it is reachable with wider
// permissions (a umask would be the whole process's, for every
// goroutine). A socket already at path is removed only if nothing
// answers on it (a run that died); one that answers is refused, and so is
// anything at path that is not a socket. Closing the listener removes the
// socket.
func ListenUnix(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("live: socket directory: %w", err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".netyard-sock-")
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o700); err != nil { // MkdirTemp makes it 0700; say so
		return nil, fmt.Errorf("live: %w", err)
	}
	bound := filepath.Join(tmp, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("live: listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // it is renamed: path is removed instead
	if err := os.Chmod(bound, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("live: %w", err)
	}
	if err := os.Rename(bound, path); err != nil {
		l.Close()
		return nil, fmt.Errorf("live: %w", err)
	}
	return &unixListener{UnixListener: l, path: path}, nil
}

// removeStale removes a socket at path that nothing answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("live: %w", err)
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("live: %s exists and is not a socket: not removing it", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("live: %s answers: another netyard serves on it", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("live: removing the stale socket %s: %w", path, err)
	}
	return nil
}

// unixListener removes its socket on Close.
type unixListener struct {
	*net.UnixListener
	path string
	once sync.Once
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() { _ = os.Remove(l.path) })
	return err
}

// ErrNotLoopback refuses to serve the API on an address other machines
// reach without being asked to.
var ErrNotLoopback = errors.New("not a loopback address")

// ListenTCP listens on addr (host:port, port 0 for any) for plain HTTP.
// The host must be a loopback address (127.0.0.1, ::1, localhost) unless
// anyAddr: the API changes the world and has no authentication.
func ListenTCP(addr string, anyAddr bool) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("live: listen address %q: want host:port, like 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if !anyAddr {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.IsLoopback() {
			what := host
			if host == "" {
				what = "every address"
			}
			return nil, fmt.Errorf("live: listen address %q: %s is %w: anyone who reaches it could change the world (--listen-any allows it)", addr, what, ErrNotLoopback)
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	return l, nil
}

// Dial returns a client for the API at api, as a run's state file records
// it ("unix:/run/netyard/RUN.sock" or "http://127.0.0.1:PORT"), and the
// base URL to put paths after ("http://netyard" for a socket). The client
// has no timeout: streams last; give requests a context.
func Dial(api string) (*http.Client, string, error) {
	if path, ok := strings.CutPrefix(api, "unix:"); ok {
		if path == "" {
			return nil, "", fmt.Errorf("live: API address %q has no socket path", api)
		}
		var d net.Dialer
		t := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", path)
			},
			DisableCompression: true,
		}
		return &http.Client{Transport: t}, "http://netyard", nil
	}
	if strings.HasPrefix(api, "http://") {
		return &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}, strings.TrimRight(api, "/"), nil
	}
	return nil, "", fmt.Errorf("live: API address %q: want unix:/path or http://127.0.0.1:PORT", api)
}
