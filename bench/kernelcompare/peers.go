package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tapHosts makes two host namespaces and moves TAP device d1 into the
// first and d2 into the second, each renamed eth0, with the addresses
// measure speaks. The devices stay attached to whoever opened them (the
// peer's process), so its frames keep flowing after the move.
func tapHosts(tag, d1, d2 string) (string, string, func(), error) {
	a, b := pfx+"-"+tag+"a", pfx+"-"+tag+"b"
	teardown := func() { _ = run("ip", "netns", "del", a); _ = run("ip", "netns", "del", b) }
	err := runAll([]string{"ip", "netns", "add", a}, []string{"ip", "netns", "add", b})
	for _, h := range []struct{ ns, dev, addr string }{{a, d1, "10.98.0.1/24"}, {b, d2, "10.98.0.2/24"}} {
		if err != nil {
			break
		}
		err = runAll(
			[]string{"ip", "link", "set", "dev", h.dev, "netns", h.ns},
			ns(h.ns, "ip", "link", "set", "dev", h.dev, "name", "eth0"),
			ns(h.ns, "ip", "addr", "add", h.addr, "dev", "eth0"),
			ns(h.ns, "ip", "link", "set", "eth0", "up"),
			ns(h.ns, "ip", "link", "set", "lo", "up"),
		)
	}
	if err != nil {
		teardown()
	}
	return a, b, teardown, err
}

// waitLinks waits until every device in devs exists in this namespace.
func waitLinks(within time.Duration, devs ...string) error {
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		missing := ""
		for _, d := range devs {
			if run("ip", "link", "show", "dev", d) != nil {
				missing = d
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Since(start) > within {
			return fmt.Errorf("device %s did not appear within %v", missing, within)
		}
	}
}

// stopPidfile ends the daemon whose pid is in file (SIGTERM, then SIGKILL
// after 3s) and waits for it to go.
func stopPidfile(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for start := time.Now(); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 3*time.Second {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Since(start) > 6*time.Second {
			return
		}
	}
}

// ovsNetdev is Open vSwitch with its userspace datapath: a private
// ovsdb-server and ovs-vswitchd (database, sockets, pidfiles and logs in
// a directory of -workdir, never the system's), one bridge with
// datapath_type=netdev and two ports of type tap, which OVS creates.
func ovsNetdev() (string, string, func(), error) {
	dir := filepath.Join(*workDir, "ovs")
	br, d1, d2 := pfx+"-obr", pfx+"-o1", pfx+"-o2"
	env := append(os.Environ(), "OVS_RUNDIR="+dir, "OVS_LOGDIR="+dir, "OVS_DBDIR="+dir, "OVS_SYSCONFDIR="+dir, "OVS_PKGDATADIR=/usr/share/openvswitch")
	runEnv := func(args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	stop := func() {
		stopPidfile(filepath.Join(dir, "ovs-vswitchd.pid"))
		stopPidfile(filepath.Join(dir, "ovsdb-server.pid"))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", nil, err
	}
	db := "unix:" + filepath.Join(dir, "db.sock")
	vsctl := []string{"ovs-vsctl", "--timeout=20", "--db=" + db}
	err := runEnv("ovsdb-tool", "create", filepath.Join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema")
	if err == nil {
		err = runEnv("ovsdb-server", filepath.Join(dir, "conf.db"), "--remote=p"+db,
			"--pidfile="+filepath.Join(dir, "ovsdb-server.pid"), "--log-file="+filepath.Join(dir, "ovsdb-server.log"),
			"--unixctl="+filepath.Join(dir, "ovsdb-server.ctl"), "--detach", "--no-chdir")
	}
	if err == nil {
		err = runEnv(append(vsctl, "--no-wait", "init")...)
	}
	if err == nil {
		err = runEnv("ovs-vswitchd", db,
			"--pidfile="+filepath.Join(dir, "ovs-vswitchd.pid"), "--log-file="+filepath.Join(dir, "ovs-vswitchd.log"),
			"--unixctl="+filepath.Join(dir, "ovs-vswitchd.ctl"), "--detach", "--no-chdir")
	}
	if err == nil {
		err = runEnv(append(vsctl, "add-br", br, "--", "set", "bridge", br, "datapath_type=netdev")...)
	}
	for _, d := range []string{d1, d2} {
		if err == nil {
			err = runEnv(append(vsctl, "add-port", br, d, "--", "set", "Interface", d, "type=tap")...)
		}
	}
	if err == nil {
		err = waitLinks(10*time.Second, d1, d2)
	}
	if err != nil {
		stop()
		return "", "", nil, fmt.Errorf("%w (logs in %s)", err, dir)
	}
	a, b, hosts, err := tapHosts("o", d1, d2)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	return a, b, func() { stop(); hosts() }, nil
}

// vdeSwitch is vde_switch with its built-in TAP support (-t, twice): the
// switch opens both TAP devices itself, its control and management
// sockets and pidfile in a directory of -workdir.
func vdeSwitch() (string, string, func(), error) {
	dir := filepath.Join(*workDir, "vde")
	d1, d2 := pfx+"-d1", pfx+"-d2"
	pidfile := filepath.Join(dir, "vde_switch.pid")
	stop := func() { stopPidfile(pidfile) }
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", nil, err
	}
	err := run("vde_switch", "-s", filepath.Join(dir, "ctl"), "-M", filepath.Join(dir, "mgmt"),
		"-t", d1, "-t", d2, "-d", "-p", pidfile)
	if err == nil {
		err = waitLinks(10*time.Second, d1, d2)
	}
	if err != nil {
		stop()
		return "", "", nil, err
	}
	a, b, hosts, err := tapHosts("d", d1, d2)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	return a, b, func() { stop(); hosts() }, nil
}

// tapCopy is bench/tapcopy: two TAP devices and a copy loop between
// them, with IFF_VNET_HDR offloads when vnet.
func tapCopy(vnet bool) (string, string, func(), error) {
	tag := "c"
	if vnet {
		tag = "v"
	}
	d1, d2 := pfx+"-"+tag+"1", pfx+"-"+tag+"2"
	cmd := exec.Command(*tapcopyBin, "-vnet-hdr="+strconv.FormatBool(vnet), d1, d2)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && sc.Text() == "ready"
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			stop()
			return "", "", nil, fmt.Errorf("%s did not open its TAPs", *tapcopyBin)
		}
	case <-time.After(10 * time.Second):
		stop()
		return "", "", nil, fmt.Errorf("%s not ready within 10s", *tapcopyBin)
	}
	a, b, hosts, err := tapHosts(tag, d1, d2)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	return a, b, func() { stop(); hosts() }, nil
}
