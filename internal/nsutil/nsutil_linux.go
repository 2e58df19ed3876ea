package nsutil

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

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

// New creates a network namespace, named if name is not empty (bind-mounted
// under /var/run/netns, as ip netns add does), and returns a handle to it.
// The caller's thread is not moved.
func New(name string) (netns.NsHandle, error) {
	var h netns.NsHandle
	err := run(func() error {
		var err error
		if name == "" {
			h, err = netns.New()
		} else {
			h, err = netns.NewNamed(name)
		}
		if err != nil {
			return fmt.Errorf("nsutil: create namespace %q: %w", name, err)
		}
		return nil
	})
	return h, err
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
