package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/nsutil"
)

// machine is a network namespace the test makes to stand for a machine:
// loopback up, and an underlay interface u0 once joined to another.
func machine(t *testing.T) vnetns.NsHandle {
	t.Helper()
	ns, err := nsutil.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	err = nsutil.Do(ns, func() error {
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// underlay joins two machines by a veth pair, u0 on each, with the
// addresses given: the machines' own network.
func underlay(t *testing.T, a, b vnetns.NsHandle, addrA, addrB string) {
	t.Helper()
	id := strconv.FormatInt(int64(os.Getpid()), 36)
	va, vb := "nyu"+id+"a", "nyu"+id+"b" // test-unique, while they are in this namespace
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: va}, PeerName: vb}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // gone with the machines; here if a step below failed
		if l, err := netlink.LinkByName(va); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	for _, e := range []struct {
		dev  string
		ns   vnetns.NsHandle
		addr string
	}{{va, a, addrA}, {vb, b, addrB}} {
		l, err := netlink.LinkByName(e.dev)
		if err == nil {
			err = netlink.LinkSetNsFd(l, int(e.ns))
		}
		if err != nil {
			t.Fatalf("move %s: %v", e.dev, err)
		}
		h, err := netlink.NewHandleAt(e.ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		l, err = h.LinkByName(e.dev)
		if err == nil {
			err = h.LinkSetName(l, "u0")
		}
		var p *netlink.Addr
		if err == nil {
			p, err = netlink.ParseAddr(e.addr)
		}
		if err == nil {
			err = h.AddrAdd(l, p)
		}
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err != nil {
			t.Fatalf("underlay %s %s: %v", e.dev, e.addr, err)
		}
	}
}

// upProc is a netyard up running in a machine, with what it printed.
type upProc struct {
	cmd    *exec.Cmd
	prefix string
	mu     sync.Mutex
	lines  []string      // guarded by mu
	more   chan struct{} // signalled on each line
	exited chan struct{} // closed once its output ended
}

// startUpIn runs netyard up with args inside machine ns (the process is
// forked from a thread in it) and waits until it reports the topology up.
func startUpIn(t *testing.T, ns vnetns.NsHandle, args ...string) *upProc {
	t.Helper()
	p := &upProc{more: make(chan struct{}, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"up"}, args...)...)
	p.cmd.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	p.cmd.Stderr = os.Stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := nsutil.Do(ns, p.cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
	}()
	line, ok := p.wait("is up (run ", 30*time.Second)
	if !ok {
		t.Fatalf("netyard up %s never came up:\n%s", strings.Join(args, " "), p.output())
	}
	_, rest, _ := strings.Cut(line, "is up (run ")
	p.prefix, _, _ = strings.Cut(rest, ")")
	return p
}

// wait returns the first line of the output that contains s, waiting up
// to d for it.
func (p *upProc) wait(s string, d time.Duration) (string, bool) {
	deadline := time.After(d)
	for seen := 0; ; {
		p.mu.Lock()
		lines := p.lines[seen:]
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if strings.Contains(l, s) {
				return l, true
			}
		}
		select {
		case <-p.more:
		case <-p.exited:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if n == seen {
				return "", false
			}
		case <-deadline:
			return "", false
		}
	}
}

func (p *upProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// execIn runs netyard exec in a node of a running up.
func execIn(prefix, node string, argv ...string) (string, error) {
	ex := exec.Command(os.Args[0], append([]string{"exec", "--run", prefix, node, "--"}, argv...)...)
	ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	out, err := ex.CombinedOutput()
	return string(out), err
}

// eventually retries f every 200 ms until it succeeds or d has passed,
// and returns its last error.
func eventually(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTwoMachines: the real-machine overlay, honestly on one machine. Two
// network namespaces stand for two machines, joined by a veth pair with
// the Docker hosts' addresses from the file; in each, a netyard up --host
// process brings up that host's part and joins the other over the veth
// (VXLAN over kernel UDP sockets, memberlist gossip on 7946). A container
// on each host pings the other's by name, through its resolv.conf as
// netyard exec gives it. Then one process is killed outright, and the
// other's control plane finds its peer dead within memberlist's timeouts
// and forgets its container: the narration says so and its name no
// longer resolves.
func TestTwoMachines(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"ip", "ping", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (netyard exec runs it in the containers)", tool)
		}
	}
	const file = "testdata/two-machines.yaml"
	m1, m2 := machine(t), machine(t)
	underlay(t, m1, m2, "192.168.56.11/24", "192.168.56.12/24")
	// A crashed up leaves its namespaces and state: cleanup removes them,
	// after the processes are gone (cleanups run last first).
	t.Cleanup(func() {
		if code, out, errOut := netyard("cleanup"); code != 0 {
			t.Errorf("cleanup: exit %d\n%s%s", code, out, errOut)
		}
	})
	up1 := startUpIn(t, m1, file, "--host", "host1", "--explain")
	up2 := startUpIn(t, m2, file, "--host", "host2", "--join", "192.168.56.11", "--explain")
	for _, want := range []string{"host1's part of two-machines is up", "no cable: this machine's network is the underlay", "vx-ov VTEP of ov, VNI 4096", "VXLAN on 192.168.56.11:4789, gossip on 192.168.56.11:7946", "joins", "host2 192.168.56.12:7946", "not here: host2 (containers db)"} {
		if _, ok := up1.wait(want, time.Second); !ok {
			t.Errorf("host1's up does not say %q:\n%s", want, up1.output())
		}
	}
	if _, ok := up2.wait("joins                      192.168.56.11:7946 (each", time.Second); !ok {
		t.Errorf("host2's up does not say it joins --join's seed:\n%s", up2.output())
	}
	for _, c := range []struct {
		up       *upProc
		from, to string
	}{{up1, "web", "db"}, {up2, "db", "web"}} {
		err := eventually(30*time.Second, func() error {
			out, err := execIn(c.up.prefix, c.from, "ping", "-c", "1", "-W", "1", c.to)
			if err != nil {
				return fmt.Errorf("%v\n%s", err, out)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s could not ping %s by name across the machines: %v\nhost1:\n%s\nhost2:\n%s", c.from, c.to, err, up1.output(), up2.output())
		}
	}
	if out, err := execIn(up1.prefix, "web", "getent", "hosts", "db"); err != nil || !strings.HasPrefix(out, "10.0.0.3") {
		t.Errorf("getent hosts db on host1: %v %q", err, out)
	}
	// The outer packets crossed the machines' own network: host1's u0
	// carried them (the gateway's LAN leg has no cable).
	var rx uint64
	_ = nsutil.Do(m1, func() error {
		l, err := netlink.LinkByName("u0")
		if err == nil {
			rx = l.Attrs().Statistics.RxPackets
		}
		return err
	})
	if rx < 4 {
		t.Errorf("host1's underlay received %d packets, want the VXLAN and gossip packets", rx)
	}

	// host2's machine crashes: no leave, no goodbye.
	if err := up2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = up2.cmd.Wait()
	killed := time.Now()
	if line, ok := up1.wait("forgot db", 60*time.Second); !ok {
		t.Fatalf("host1 did not forget db within 60s of host2's death:\n%s", up1.output())
	} else {
		t.Logf("%.1fs after the kill: %s", time.Since(killed).Seconds(), line)
	}
	if line, ok := up1.wait("host2 is dead", time.Second); !ok {
		t.Errorf("host1's narration does not say host2 is dead:\n%s", up1.output())
	} else {
		t.Logf("%s", line)
	}
	err := eventually(10*time.Second, func() error {
		if out, err := execIn(up1.prefix, "web", "getent", "hosts", "db"); err == nil {
			return fmt.Errorf("db still resolves: %q", out)
		}
		return nil
	})
	if err != nil {
		t.Errorf("on host1 after host2 died: %v", err)
	}
	if testing.Verbose() {
		t.Logf("host1:\n%s\nhost2:\n%s", up1.output(), up2.output())
	}
	// host1 is still whole: Ctrl-C takes everything down.
	interrupt(t, up1.cmd, up1.prefix)
}
