// Command kernelcompare measures traffic between two network namespaces
// joined in several ways, one after the other in one run, and prints one
// table. The ways, in order:
//
//   - a direct veth pair, and a Linux kernel bridge in a third namespace
//     (the kernel's references);
//   - the userspace peers a user would pick instead of netyard, each
//     joining two TAP devices, one moved into each namespace: Open vSwitch
//     with its userspace datapath (datapath_type=netdev, ports of type
//     tap; a private ovsdb-server and ovs-vswitchd with their database,
//     sockets, pidfiles and logs under -workdir), vde_switch with its
//     built-in TAP support (vde_switch -t TAP1 -t TAP2), and bench/tapcopy,
//     the bare Go copy loop, with and without IFF_VNET_HDR offloads;
//   - netyard's switch (netyard up bench/pair.yaml), once per variant in
//     netyardVariants (offloads on, --offloads=false, ...) and per -variant.
//
// Each is first checked to forward (a ping, retried for 10s); one that
// fails to come up or to forward is a row "failed: reason" and the run
// goes on. Then, from the first namespace to the second: iperf3 TCP with
// the default segment size and with -M 1400, and TCP with the namespace
// ends' offloads off (ethtool -K eth0 tso off gso off gro off, both ends),
// each the median of -tcp-runs runs; iperf3 UDP with 64-byte datagrams at
// full rate (packets per second received, loss); ping every 10ms (RTT
// average and 99th percentile). The table shows every figure, then every
// figure as a ratio to the kernel bridge's and to the best userspace
// peer's in that column (the best of Open vSwitch, vde_switch and the Go
// copy loops; for RTT and loss, the lowest).
//
// With -nat it compares the Docker host instead: a client on the LAN
// reaching a container's published port (5201, TCP and UDP) through a
// Linux router namespace with iptables DNAT and MASQUERADE, then through
// netyard's gateway (netyard up bench/nat.yaml, each variant). The ping
// goes to the host's address. Ratios are to iptables.
//
// With -overlay it compares overlays across two "machines": two network
// namespaces joined by a veth pair as the underlay (192.168.56.11 and .12),
// a container namespace on each (10.0.0.2 and 10.0.0.3, MTU 1450), joined
// first by the kernel's vxlan device (VNI 4096, UDP 4789) on a Linux
// bridge on each machine, as Docker's overlay driver sets it up, then by
// netyard up bench/overlay.yaml --host host1 and --host host2, one in
// each machine (VXLAN over kernel UDP sockets, gossip over memberlist).
//
// It needs root, iperf3, ping and ethtool, and for the peers
// openvswitch-switch and vde2; bench/compare.sh and bench/overlay.sh
// install them, build netyard and tapcopy, and run it. Everything it makes
// is named after -prefix; an interrupt tears down the way being measured.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	tcpTime     = flag.Int("tcp-seconds", 5, "length of each TCP run")
	tcpRuns     = flag.Int("tcp-runs", 3, "TCP runs (the median is reported)")
	udpTime     = flag.Int("udp-seconds", 5, "length of the UDP run")
	pings       = flag.Int("pings", 200, "pings for the RTT")
	netyard     = flag.String("netyard", "bin/netyard", "the netyard binary")
	tapcopyBin  = flag.String("tapcopy", "bin/tapcopy", "the bench/tapcopy binary")
	workDir     = flag.String("workdir", "", "a private directory for the peers' daemons (default: a new one under $TMPDIR, removed at exit)")
	prefix      = flag.String("prefix", "", "the prefix of every namespace and device made (default: nyb and the pid)")
	only        = flag.String("only", "", "measure only the ways whose name contains one of these comma-separated words (the kernel bridge is always measured)")
	scenario    = flag.String("pair", "bench/pair.yaml", "the two-host scenario netyard brings up")
	natMode     = flag.Bool("nat", false, "compare a published port through iptables with one through netyard's gateway")
	natFile     = flag.String("nat-scenario", "bench/nat.yaml", "the Docker scenario netyard brings up with -nat")
	ovMode      = flag.Bool("overlay", false, "compare netyard's overlay between two machines (namespaces on a veth underlay) with the kernel's VXLAN")
	ovFile      = flag.String("overlay-scenario", "bench/overlay.yaml", "the two-host overlay scenario netyard brings up with -overlay, a host in each machine")
	extraVaries variantFlag
)

func init() {
	flag.Var(&extraVaries, "variant", "another netyard variant, `NAME=ARGS` (ARGS: netyard up's flags, space-separated, and VAR=VALUE for its environment); repeatable")
}

// variant is one way of running netyard up: a row's name and the flags
// added to netyard up FILE.
type variant struct {
	name string
	args []string
}

// netyardVariants are the netyard rows: every port kind of netyard up
// --ports (the default, direct, first), offloads on and off. Add one a
// line here, or with -variant on the command line.
var netyardVariants = []variant{
	{"netyard, offloads", nil},
	{"netyard, no offloads", []string{"--offloads=false"}},
	{"netyard, ppoll", []string{"--ports=ppoll"}},
	{"netyard, ppoll, no offloads", []string{"--ports=ppoll", "--offloads=false"}},
	{"netyard, queued", []string{"--ports=queued"}},
	{"netyard, queued, no offloads", []string{"--ports=queued", "--offloads=false"}},
	{"netyard, uring", []string{"--ports=uring"}},
	{"netyard, uring, no offloads", []string{"--ports=uring", "--offloads=false"}},
}

type variantFlag []variant

func (v *variantFlag) String() string { return fmt.Sprint(len(*v), " variants") }

func (v *variantFlag) Set(s string) error {
	name, args, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=ARGS (an argument VAR=VALUE sets netyard's environment), got %q", s)
	}
	*v = append(*v, variant{name, strings.Fields(args)})
	return nil
}

// target is the address measure speaks to: the far host, or with -nat the
// Docker host's published port.
var target = "10.98.0.2"

// pfx prefixes every namespace and device this run makes.
var pfx string

// kind is a row's part in the ratios.
type kind int

const (
	kindRef    kind = iota // the kernel: veth pair, NAT, VXLAN
	kindBridge             // the kernel bridge, the first reference
	kindPeer               // a userspace peer, the second
	kindOurs               // netyard
)

type setup struct {
	name  string
	kind  kind
	setup func() (a, b string, teardown func(), err error)
}

type result struct {
	name string
	kind kind
	err  error
	// figures, in column order: TCP Gbit/s (default, -M 1400, ends'
	// offloads off), UDP 64-byte k pkt/s received, UDP loss %, RTT
	// average and p99 in us.
	fig [7]float64
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "kernelcompare needs root: it creates network namespaces")
		os.Exit(2)
	}
	pfx = *prefix
	if pfx == "" {
		pfx = "nyb" + strconv.FormatInt(int64(os.Getpid()), 36)
	}
	if len(pfx) > 9 {
		fmt.Fprintln(os.Stderr, "kernelcompare: -prefix longer than 9 characters (device names are at most 15)")
		os.Exit(2)
	}
	if *workDir == "" {
		d, err := os.MkdirTemp("", "kernelcompare")
		if err != nil {
			fmt.Fprintln(os.Stderr, "kernelcompare:", err)
			os.Exit(1)
		}
		*workDir = d
		defer os.RemoveAll(d)
	}
	variants := append(slices.Clone(netyardVariants), extraVaries...)
	ours := func(file string) []setup {
		var s []setup
		for _, v := range variants {
			s = append(s, setup{v.name, kindOurs, func() (string, string, func(), error) { return netyardUp(file, v.args) }})
		}
		return s
	}
	setups := append([]setup{
		{"veth pair", kindRef, vethPair},
		{"kernel bridge", kindBridge, kernelBridge},
		{"OVS netdev", kindPeer, ovsNetdev},
		{"vde_switch", kindPeer, vdeSwitch},
		{"Go TAP copy", kindPeer, func() (string, string, func(), error) { return tapCopy(false) }},
		{"Go TAP copy, vnet", kindPeer, func() (string, string, func(), error) { return tapCopy(true) }},
	}, ours(*scenario)...)
	if *natMode {
		target = "192.168.56.11"
		setups = append([]setup{{"iptables NAT", kindBridge, kernelNAT}}, ours(*natFile)...)
	}
	if *ovMode {
		target = "10.0.0.3"
		setups = []setup{{"kernel VXLAN", kindBridge, kernelVXLAN}, {"netyard overlay", kindOurs, netyardOverlay}}
	}
	if *only != "" {
		setups = slices.DeleteFunc(setups, func(s setup) bool {
			if s.kind == kindBridge {
				return false
			}
			for _, w := range strings.Split(*only, ",") {
				if w != "" && strings.Contains(s.name, w) {
					return false
				}
			}
			return true
		})
	}

	// An interrupt tears down the way being measured, then exits.
	var mu sync.Mutex
	var current func()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		mu.Lock()
		if current != nil {
			current()
		}
		os.RemoveAll(*workDir)
		fmt.Fprintln(os.Stderr, "kernelcompare:", s)
		os.Exit(1)
	}()

	var results []result
	for _, s := range setups {
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		r := result{name: s.name, kind: s.kind}
		mu.Lock()
		a, b, teardown, err := s.setup()
		if err == nil {
			current = sync.OnceFunc(func() { killIn(a); killIn(b); teardown() })
		}
		mu.Unlock()
		if err != nil {
			r.err = fmt.Errorf("setup: %w", err)
		} else {
			r.fig, r.err = measure(a, b)
			mu.Lock()
			current()
			current = nil
			mu.Unlock()
		}
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "%s: failed: %v\n", s.name, r.err)
		}
		results = append(results, r)
	}
	report(results)
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(c...); err != nil {
			return err
		}
	}
	return nil
}

func ns(name string, args ...string) []string {
	return append([]string{"ip", "netns", "exec", name}, args...)
}

// vethPair joins two namespaces with one veth pair.
func vethPair() (string, string, func(), error) {
	a, b := pfx+"-va", pfx+"-vb"
	teardown := func() { _ = run("ip", "netns", "del", a); _ = run("ip", "netns", "del", b) }
	err := runAll(
		[]string{"ip", "netns", "add", a}, []string{"ip", "netns", "add", b},
		[]string{"ip", "link", "add", "eth0", "netns", a, "type", "veth", "peer", "name", "eth0", "netns", b},
		ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "eth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "eth0"),
		ns(a, "ip", "link", "set", "eth0", "up"), ns(b, "ip", "link", "set", "eth0", "up"),
		ns(a, "ip", "link", "set", "lo", "up"), ns(b, "ip", "link", "set", "lo", "up"),
	)
	if err != nil {
		teardown()
	}
	return a, b, teardown, err
}

// kernelBridge joins two namespaces through a Linux bridge in a third.
func kernelBridge() (string, string, func(), error) {
	br, a, b := pfx+"-br", pfx+"-ba", pfx+"-bb"
	teardown := func() {
		for _, n := range []string{a, b, br} {
			_ = run("ip", "netns", "del", n)
		}
	}
	err := runAll(
		[]string{"ip", "netns", "add", br}, []string{"ip", "netns", "add", a}, []string{"ip", "netns", "add", b},
		ns(br, "ip", "link", "add", "br0", "type", "bridge"), ns(br, "ip", "link", "set", "br0", "up"),
		ns(br, "ip", "link", "add", "pa", "type", "veth", "peer", "name", "eth0", "netns", a),
		ns(br, "ip", "link", "add", "pb", "type", "veth", "peer", "name", "eth0", "netns", b),
		ns(br, "ip", "link", "set", "pa", "master", "br0", "up"), ns(br, "ip", "link", "set", "pb", "master", "br0", "up"),
		ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "eth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "eth0"),
		ns(a, "ip", "link", "set", "eth0", "up"), ns(b, "ip", "link", "set", "eth0", "up"),
		ns(a, "ip", "link", "set", "lo", "up"), ns(b, "ip", "link", "set", "lo", "up"),
	)
	if err != nil {
		teardown()
	}
	return a, b, teardown, err
}

var upRE = regexp.MustCompile(`is up \(run (\w+)\)`)

// up runs netyard up with args until it reports the topology up, and
// returns the run's prefix and how to tear it down.
func up(args ...string) (string, func(), error) { return upIn("", args...) }

// upIn is up in the network namespace machine ("": this one), entered
// with nsenter: only the network namespace, so that the namespaces
// netyard names under /run/netns are seen here too (ip netns exec would
// make them in a mount namespace of its own).
func upIn(machine string, args ...string) (string, func(), error) {
	argv := append([]string{*netyard, "up"}, args...)
	if machine != "" {
		argv = append([]string{"nsenter", "--net=/run/netns/" + machine}, argv...)
	}
	// Arguments of the form NAME=VALUE (GOMAXPROCS=1) are netyard's
	// environment, not its flags.
	var env []string
	argv = slices.DeleteFunc(argv, func(a string) bool {
		if k, _, ok := strings.Cut(a, "="); ok && k != "" && !strings.HasPrefix(a, "-") {
			env = append(env, a)
			return true
		}
		return false
	})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	teardown := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := upRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1], teardown, nil
		}
	}
	teardown()
	return "", nil, fmt.Errorf("netyard up did not come up")
}

// kernelNAT is a Docker host done by the kernel: a router namespace with a
// bridge for the container side, iptables DNAT for the published port and
// MASQUERADE for what leaves, as Docker sets it up.
func kernelNAT() (string, string, func(), error) {
	r, cli, srv := pfx+"-kr", pfx+"-kc", pfx+"-ks"
	teardown := func() {
		for _, n := range []string{cli, srv, r} {
			_ = run("ip", "netns", "del", n)
		}
	}
	cmds := [][]string{
		{"ip", "netns", "add", r}, {"ip", "netns", "add", cli}, {"ip", "netns", "add", srv},
		ns(r, "sysctl", "-qw", "net.ipv4.ip_forward=1"),
		ns(r, "ip", "link", "add", "br0", "type", "bridge"), ns(r, "ip", "addr", "add", "172.18.0.1/16", "dev", "br0"), ns(r, "ip", "link", "set", "br0", "up"),
		ns(r, "ip", "link", "add", "vs", "type", "veth", "peer", "name", "eth0", "netns", srv),
		ns(r, "ip", "link", "set", "vs", "master", "br0", "up"),
		ns(r, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", cli),
		ns(r, "ip", "addr", "add", "192.168.56.11/24", "dev", "eth0"), ns(r, "ip", "link", "set", "eth0", "up"),
		ns(srv, "ip", "addr", "add", "172.18.0.2/16", "dev", "eth0"), ns(srv, "ip", "link", "set", "eth0", "up"),
		ns(srv, "ip", "route", "add", "default", "via", "172.18.0.1"),
		ns(cli, "ip", "addr", "add", "192.168.56.12/24", "dev", "eth0"), ns(cli, "ip", "link", "set", "eth0", "up"),
		ns(r, "ip", "link", "set", "lo", "up"), ns(cli, "ip", "link", "set", "lo", "up"), ns(srv, "ip", "link", "set", "lo", "up"),
		ns(r, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "172.18.0.0/16", "!", "-o", "br0", "-j", "MASQUERADE"),
	}
	for _, proto := range []string{"tcp", "udp"} {
		cmds = append(cmds, ns(r, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", "192.168.56.11", "-p", proto, "--dport", "5201", "-j", "DNAT", "--to-destination", "172.18.0.2:5201"))
	}
	err := runAll(cmds...)
	if err != nil {
		teardown()
	}
	return cli, srv, teardown, err
}

// underlay makes two machines, a and b, joined by a veth pair (u0 on
// each) with the hosts' addresses of bench/overlay.yaml.
func underlay(a, b string) error {
	return runAll(
		[]string{"ip", "netns", "add", a}, []string{"ip", "netns", "add", b},
		[]string{"ip", "link", "add", "u0", "netns", a, "type", "veth", "peer", "name", "u0", "netns", b},
		ns(a, "ip", "addr", "add", "192.168.56.11/24", "dev", "u0"), ns(b, "ip", "addr", "add", "192.168.56.12/24", "dev", "u0"),
		ns(a, "ip", "link", "set", "u0", "up"), ns(b, "ip", "link", "set", "u0", "up"),
		ns(a, "ip", "link", "set", "lo", "up"), ns(b, "ip", "link", "set", "lo", "up"),
	)
}

// kernelVXLAN is Docker's overlay done by the kernel on two machines: on
// each a bridge with a vxlan device (VNI 4096, UDP 4789, the other
// machine as its remote, learning) and a veth to the container.
func kernelVXLAN() (string, string, func(), error) {
	ma, mb, ca, cb := pfx+"-kma", pfx+"-kmb", pfx+"-kca", pfx+"-kcb"
	teardown := func() {
		for _, n := range []string{ca, cb, ma, mb} {
			_ = run("ip", "netns", "del", n)
		}
	}
	err := underlay(ma, mb)
	for _, m := range []struct{ machine, ctr, local, remote, addr string }{
		{ma, ca, "192.168.56.11", "192.168.56.12", "10.0.0.2/24"},
		{mb, cb, "192.168.56.12", "192.168.56.11", "10.0.0.3/24"},
	} {
		if err != nil {
			break
		}
		err = runAll(
			[]string{"ip", "netns", "add", m.ctr},
			ns(m.machine, "ip", "link", "add", "vxlan0", "type", "vxlan", "id", "4096", "dstport", "4789", "local", m.local, "remote", m.remote, "dev", "u0"),
			ns(m.machine, "ip", "link", "add", "br0", "type", "bridge"),
			ns(m.machine, "ip", "link", "set", "vxlan0", "master", "br0", "up"),
			ns(m.machine, "ip", "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", m.ctr),
			ns(m.machine, "ip", "link", "set", "veth0", "mtu", "1450", "master", "br0", "up"),
			ns(m.machine, "ip", "link", "set", "br0", "up"),
			ns(m.ctr, "ip", "addr", "add", m.addr, "dev", "eth0"),
			ns(m.ctr, "ip", "link", "set", "eth0", "mtu", "1450", "up"),
			ns(m.ctr, "ip", "link", "set", "lo", "up"),
		)
	}
	if err != nil {
		teardown()
	}
	return ca, cb, teardown, err
}

// netyardOverlay brings bench/overlay.yaml up one Docker host per
// machine, and waits until the containers reach each other (the hosts'
// control planes have gossiped).
func netyardOverlay() (string, string, func(), error) {
	ma, mb := pfx+"-nma", pfx+"-nmb"
	var downs []func()
	teardown := func() {
		for _, d := range slices.Backward(downs) {
			d()
		}
		_ = run("ip", "netns", "del", ma)
		_ = run("ip", "netns", "del", mb)
	}
	if err := underlay(ma, mb); err != nil {
		teardown()
		return "", "", nil, err
	}
	var prefixes []string
	for i, m := range []string{ma, mb} {
		prefix, down, err := upIn(m, *ovFile, "--host", fmt.Sprintf("host%d", i+1))
		if err != nil {
			teardown()
			return "", "", nil, err
		}
		downs = append(downs, down)
		prefixes = append(prefixes, prefix)
	}
	a, b := prefixes[0]+"-a", prefixes[1]+"-b"
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		if run(ns(a, "ping", "-c", "1", "-W", "1", target)...) == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			teardown()
			return "", "", nil, fmt.Errorf("the containers did not reach each other within 30s of netyard up")
		}
	}
	return a, b, teardown, nil
}

// killIn ends the processes left in namespace n (iperf3 when
// interrupted).
func killIn(n string) {
	out, _ := exec.Command("ip", "netns", "pids", n).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// netyardUp brings the two-host scenario file up with netyard, with
// args.
func netyardUp(file string, args []string) (string, string, func(), error) {
	prefix, teardown, err := up(append([]string{file}, args...)...)
	if err != nil {
		return "", "", nil, err
	}
	if file == *natFile {
		return prefix + "-cli", prefix + "-srv", teardown, nil
	}
	// bench/pair.yaml's addresses are 10.99.0.x; measure speaks 10.98.0.x.
	a, b := prefix+"-h1", prefix+"-h2"
	err = runAll(ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "eth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "eth0"))
	if err != nil {
		teardown()
	}
	return a, b, teardown, err
}

// forwards waits until a pings target, for at most 10s.
func forwards(a string) error {
	var err error
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(200 * time.Millisecond) {
		if err = run(ns(a, "ping", "-c", "1", "-W", "1", target)...); err == nil {
			return nil
		}
	}
	return fmt.Errorf("does not forward: no ping answered within 10s: %v", err)
}

var (
	pingTimeRE = regexp.MustCompile(`time=([\d.]+) ms`)
	pingAvgRE  = regexp.MustCompile(`= [\d.]+/([\d.]+)/`)
)

// measure runs the measurements from a to b (target), in the order of
// result.fig, except that TCP with the ends' offloads off comes last: it
// leaves them off.
func measure(a, b string) (fig [7]float64, err error) {
	if err := forwards(a); err != nil {
		return fig, err
	}
	srv := exec.Command("ip", "netns", "exec", b, "iperf3", "-s")
	if err := srv.Start(); err != nil {
		return fig, err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	time.Sleep(500 * time.Millisecond) // iperf3 offers no readiness signal
	tcp := func(args ...string) (float64, error) {
		var runs []float64
		for range *tcpRuns {
			var j iperfJSON
			if err := iperf(a, &j, append([]string{"-t", strconv.Itoa(*tcpTime)}, args...)...); err != nil {
				return 0, err
			}
			runs = append(runs, j.End.SumReceived.BitsPerSecond/1e9)
		}
		slices.Sort(runs)
		return runs[len(runs)/2], nil
	}
	if fig[0], err = tcp(); err != nil {
		return fig, err
	}
	if fig[1], err = tcp("-M", "1400"); err != nil {
		return fig, err
	}
	var j iperfJSON
	if err := iperf(a, &j, "-u", "-l", "64", "-b", "0", "-t", strconv.Itoa(*udpTime)); err != nil {
		return fig, err
	}
	if j.End.Sum.Seconds == 0 {
		// iperf3 exits 0 when the server's report never came back (its
		// control connection starved under the flood): no figure, not NaN.
		return fig, errors.New("iperf3 UDP: no report from the server")
	}
	lost, total := j.End.Sum.LostPackets, j.End.Sum.Packets
	fig[3] = float64(total-lost) / j.End.Sum.Seconds / 1e3
	fig[4] = j.End.Sum.LostPercent
	out, err := exec.Command("ip", "netns", "exec", a, "ping", "-c", strconv.Itoa(*pings), "-i", "0.01", target).CombinedOutput()
	if err != nil {
		return fig, fmt.Errorf("ping: %v: %s", err, out)
	}
	m := pingAvgRE.FindSubmatch(out)
	if m == nil {
		return fig, fmt.Errorf("ping: no rtt in %s", out)
	}
	avg, _ := strconv.ParseFloat(string(m[1]), 64)
	fig[5] = avg * 1000
	var rtts []float64
	for _, m := range pingTimeRE.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		rtts = append(rtts, v*1000)
	}
	slices.Sort(rtts)
	if len(rtts) > 0 {
		fig[6] = rtts[min(len(rtts)-1, int(math.Ceil(0.99*float64(len(rtts))))-1)]
	}
	// Best effort: a device without one of these features keeps the rest.
	for _, n := range []string{a, b} {
		_ = run(ns(n, "ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro", "off")...)
	}
	if fig[2], err = tcp(); err != nil {
		return fig, err
	}
	return fig, nil
}

type iperfJSON struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		Sum struct {
			Seconds     float64 `json:"seconds"`
			Packets     int64   `json:"packets"`
			LostPackets int64   `json:"lost_packets"`
			LostPercent float64 `json:"lost_percent"`
		} `json:"sum"`
	} `json:"end"`
}

func iperf(from string, j *iperfJSON, args ...string) error {
	cmd := append([]string{"ip", "netns", "exec", from, "iperf3", "-J", "-c", target}, args...)
	out, err := exec.Command(cmd[0], cmd[1:]...).Output()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(cmd, " "), err, out)
	}
	return json.Unmarshal(out, j)
}

// columns of the table, in result.fig's order; lower tells those where
// less is better (loss, RTT).
var columns = []struct {
	head   string
	format string
	lower  bool
}{
	{"TCP Gb/s", "%.2f", false},
	{"TCP-M1400", "%.2f", false},
	{"TCP noOffl", "%.2f", false},
	{"UDP64 kpps", "%.1f", false},
	{"UDP loss%", "%.1f", true},
	{"RTT us", "%.1f", true},
	{"RTT p99 us", "%.1f", true},
}

// report prints the figures, then their ratios to the kernel bridge (the
// kindBridge row) and to the best userspace peer of each column.
func report(rs []result) {
	width := 22
	for _, r := range rs {
		width = max(width, len(r.name)+1)
	}
	var ref *result
	for i := range rs {
		if rs[i].kind == kindBridge && rs[i].err == nil {
			ref = &rs[i]
		}
	}
	var best [7]float64
	var bestName [7]string
	for _, r := range rs {
		if r.kind != kindPeer || r.err != nil {
			continue
		}
		for c, col := range columns {
			v := r.fig[c]
			if bestName[c] == "" || (col.lower && v < best[c]) || (!col.lower && v > best[c]) {
				best[c], bestName[c] = v, r.name
			}
		}
	}
	table := func(title string, cell func(r result, c int) string) {
		fmt.Printf("\n%-*s", width, title)
		for _, col := range columns {
			fmt.Printf(" %11s", col.head)
		}
		fmt.Println()
		for _, r := range rs {
			fmt.Printf("%-*s", width, r.name)
			if r.err != nil {
				fmt.Printf(" failed: %s\n", oneLine(r.err.Error()))
				continue
			}
			for c := range columns {
				fmt.Printf(" %11s", cell(r, c))
			}
			fmt.Println()
		}
	}
	ratio := func(v, to float64) string {
		if to == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", v/to)
	}
	table("figures", func(r result, c int) string { return fmt.Sprintf(columns[c].format, r.fig[c]) })
	if ref == nil {
		fmt.Println("\n(no ratios: the reference failed)")
		return
	}
	table("ratio to "+ref.name, func(r result, c int) string { return ratio(r.fig[c], ref.fig[c]) })
	if bestName[0] == "" {
		return
	}
	table("ratio to best peer", func(r result, c int) string { return ratio(r.fig[c], best[c]) })
	fmt.Printf("\n%-*s", width, "best peer")
	for c := range columns {
		fmt.Printf(" %11s", shortName(bestName[c]))
	}
	fmt.Println("\n\nRTT and loss: lower is better (a ratio under 1 is better than the reference); the rest: higher is better.")
}

// shortName fits a peer's name in a column.
func shortName(s string) string {
	s = strings.ReplaceAll(s, "Go TAP copy", "tapcopy")
	s = strings.ReplaceAll(s, ", vnet", "+vnet")
	if len(s) > 11 {
		s = s[:11]
	}
	return s
}

// oneLine keeps a failure's first line, at most 200 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
