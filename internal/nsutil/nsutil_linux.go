package nsutil

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetnsDir is where named namespaces are bind-mounted, as ip netns add
// does (and where ip netns exec and netns.GetFromName look).
const NetnsDir = "/run/netns"

// Do runs f with the calling thread in the network namespace ns and returns
// its error. Sockets f opens stay in ns after Do returns.
func Do(ns netns.NsHandle, f func() error) error {
	return run(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("nsutil: enter namespace: %w", err)
		}
		return f()
	})
}

// New creates an anonymous network namespace, which lives as long as a
// handle to it (or a process in it) does, and returns a handle to it. The
// caller's thread is not moved.
func New() (netns.NsHandle, error) {
	var h netns.NsHandle
	err := run(func() error {
		var err error
		if h, err = netns.New(); err != nil {
			return fmt.Errorf("nsutil: create namespace: %w", err)
		}
		return nil
	})
	return h, err
}

// NewNamed creates a network namespace bind-mounted as NetnsDir/name, as
// ip netns add does, and returns a handle to it and its identity (the
// namespace's inode, which Identity of the name returns while this
// namespace is mounted there). It never takes over a name that exists:
// the mount point is created exclusively. On error nothing is left.
func NewNamed(name string) (netns.NsHandle, uint64, error) {
	path, err := Inside(NetnsDir, name)
	if err != nil {
		return netns.None(), 0, err
	}
	if err := shareDirOnce(); err != nil {
		return netns.None(), 0, err
	}
	var h netns.NsHandle
	err = run(func() error {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("nsutil: namespace %s exists already: netyard does not take over a name it did not make", name)
			}
			return fmt.Errorf("nsutil: create namespace %s: %w", name, err)
		}
		f.Close()
		fail := func(op string, err error) error {
			os.Remove(path)
			return fmt.Errorf("nsutil: create namespace %s: %s: %w", name, op, err)
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fail("unshare", err)
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "bind", unix.MS_BIND, ""); err != nil {
			return fail("bind mount", err)
		}
		if h, err = netns.Get(); err != nil {
			_ = unix.Unmount(path, unix.MNT_DETACH)
			return fail("open", err)
		}
		return nil
	})
	if err != nil {
		return netns.None(), 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		h.Close()
		_ = DeleteNamed(name)
		return netns.None(), 0, fmt.Errorf("nsutil: namespace %s: %w", name, err)
	}
	return h, st.Ino, nil
}

var shared struct {
	sync.Mutex
	done bool
}

// shareDirOnce is sharedDir, done once per process (once it succeeded):
// each namespace need not rebind a directory full of mounts.
func shareDirOnce() error {
	shared.Lock()
	defer shared.Unlock()
	if shared.done {
		return nil
	}
	err := sharedDir()
	shared.done = err == nil
	return err
}

// sharedDir makes NetnsDir a mount point of its own with shared
// propagation, as ip netns add does, so that namespaces mounted there show
// in every mount namespace, and so that a later ip netns add does not bind
// the directory over the mounts already in it.
func sharedDir() error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("nsutil: %w", err)
	}
	for bound := false; ; bound = true {
		err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("nsutil: make %s shared: %w", NetnsDir, err)
		}
		// Not a mount point yet: bind it over itself first.
		if err := unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("nsutil: bind %s: %w", NetnsDir, err)
		}
	}
}

// Identity returns the identity (inode) of the namespace mounted as
// NetnsDir/name, and an error wrapping os.ErrNotExist when there is none.
// A file there that is not a mounted namespace has no identity.
func Identity(name string) (uint64, error) {
	path, err := Inside(NetnsDir, name)
	if err != nil {
		return 0, err
	}
	var st, dir unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := unix.Stat(NetnsDir, &dir); err != nil {
		return 0, &os.PathError{Op: "stat", Path: NetnsDir, Err: err}
	}
	if st.Dev == dir.Dev { // a plain file: nothing is mounted on it
		return 0, fmt.Errorf("nsutil: %s is not a mounted namespace", path)
	}
	return st.Ino, nil
}

// DeleteNamed unmounts and removes NetnsDir/name, as ip netns del does.
// The namespace itself lives on while something still holds it.
func DeleteNamed(name string) error {
	path, err := Inside(NetnsDir, name)
	if err != nil {
		return err
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return &os.PathError{Op: "unmount", Path: path, Err: err}
	}
	return os.Remove(path)
}

// run runs f on a goroutine locked to a thread whose namespace it restores
// afterwards.
func run(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("nsutil: current namespace: %w", err)
			return
		}
		defer orig.Close()
		ferr := f()
		if err := netns.Set(orig); err != nil {
			// Stay locked: the thread dies with this goroutine.
			errc <- fmt.Errorf("nsutil: return to the original namespace: %w (and %v)", err, ferr)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
