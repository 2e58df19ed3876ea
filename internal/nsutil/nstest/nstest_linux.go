package nstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// env marks a process inside the sandbox: "1" until its mounts are made,
// "2" after (so that processes the tests start, which inherit it, neither
// run again nor mount again).
const env = "NETYARD_TEST_SANDBOX"

// Main runs the tests of m in the sandbox (as root) and exits.
func Main(m *testing.M) {
	switch os.Getenv(env) {
	case "":
		if os.Geteuid() == 0 {
			os.Exit(again())
		}
	case "1":
		if err := enter(); err != nil {
			fmt.Fprintln(os.Stderr, "nstest: entering the sandbox:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// Inside reports whether the process runs in the sandbox.
func Inside() bool { return os.Getenv(env) != "" }

// again runs this test binary with the same arguments in a new mount and
// network namespace, and returns its exit status.
func again() int {
	// The sandbox mounts a tmpfs over /etc/netns, which needs the
	// directory; make it if the host has none (ip netns would), and remove
	// it afterwards if it is still empty.
	made := false
	if _, err := os.Stat("/etc/netns"); errors.Is(err, os.ErrNotExist) {
		made = os.Mkdir("/etc/netns", 0o755) == nil
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env+"=1")
	// Go marks / private (MS_REC|MS_PRIVATE) in a child with a new mount
	// namespace, so nothing mounted inside propagates out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if made {
		os.Remove("/etc/netns")
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "nstest: running the tests in a sandbox:", err)
		return 1
	}
	return 0
}

// enter makes the sandbox's mounts and brings its loopback up.
func enter() error {
	for _, dir := range []string{"/run", "/etc/netns"} {
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
		}
	}
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	return os.Setenv(env, "2")
}
