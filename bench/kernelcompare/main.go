// Command kernelcompare measures traffic between two network namespaces
// joined three ways, in one run: a direct veth pair, a Linux kernel bridge,
// and netyard's switch over TAP devices (netyard up bench/pair.yaml), with
// TAP offloads and without. For
// each it runs iperf3 TCP (median of runs), iperf3 UDP with 64-byte
// datagrams (packets per second received, loss) and ping (RTT), and prints
// netyard's figures as ratios of the kernel bridge's.
//
// With -nat it compares the Docker host instead: a client on the LAN
// reaching a container's published port (5201, TCP and UDP) through a
// Linux router namespace with iptables DNAT and MASQUERADE, then through
// netyard's gateway (netyard up bench/nat.yaml). The ping goes to the
// host's address.
//
// With -overlay it compares overlays across two "machines": two network
// namespaces joined by a veth pair as the underlay (192.168.56.11 and .12),
// a container namespace on each (10.0.0.2 and 10.0.0.3, MTU 1450), joined
// first by the kernel's vxlan device (VNI 4096, UDP 4789) on a Linux
// bridge on each machine, as Docker's overlay driver sets it up, then by
// netyard up bench/overlay.yaml --host host1 and --host host2, one in
// each machine (VXLAN over kernel UDP sockets, gossip over memberlist).
//
// It needs root, iperf3 and ping; bench/compare.sh and bench/overlay.sh
// install them and run it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	tcpTime  = flag.Int("tcp-seconds", 5, "length of each TCP run")
	tcpRuns  = flag.Int("tcp-runs", 3, "TCP runs (the median is reported)")
	udpTime  = flag.Int("udp-seconds", 5, "length of the UDP run")
	pings    = flag.Int("pings", 200, "pings for the RTT")
	netyard  = flag.String("netyard", "bin/netyard", "the netyard binary")
	scenario = flag.String("pair", "bench/pair.yaml", "the two-host scenario netyard brings up")
	natMode  = flag.Bool("nat", false, "compare a published port through iptables with one through netyard's gateway")
	natFile  = flag.String("nat-scenario", "bench/nat.yaml", "the Docker scenario netyard brings up with -nat")
	ovMode   = flag.Bool("overlay", false, "compare netyard's overlay between two machines (namespaces on a veth underlay) with the kernel's VXLAN")
	ovFile   = flag.String("overlay-scenario", "bench/overlay.yaml", "the two-host overlay scenario netyard brings up with -overlay, a host in each machine")
)

// target is the address measure speaks to: the far host, or with -nat the
// Docker host's published port.
var target = "10.98.0.2"

type result struct {
	name           string
	tcpGbps        float64
	udpPPS, udpPct float64
	rttUs          float64
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "kernelcompare needs root: it creates network namespaces")
		os.Exit(2)
	}
	var results []result
	type setup struct {
		name  string
		setup func() (a, b string, teardown func(), err error)
	}
	setups := []setup{
		{"veth pair", vethPair},
		{"kernel bridge", kernelBridge},
		{"netyard, offloads", func() (string, string, func(), error) { return netyardSwitch(true) }},
		{"netyard, no offloads", func() (string, string, func(), error) { return netyardSwitch(false) }},
	}
	if *natMode {
		target = "192.168.56.11"
		setups = []setup{{"kernel NAT", kernelNAT}, {"netyard gateway", netyardNAT}}
	}
	if *ovMode {
		target = "10.0.0.3"
		setups = []setup{{"kernel VXLAN", kernelVXLAN}, {"netyard overlay", netyardOverlay}}
	}
	for _, s := range setups {
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		a, b, teardown, err := s.setup()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: setup: %v\n", s.name, err)
			os.Exit(1)
		}
		r, err := measure(s.name, a, b)
		teardown()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", s.name, err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	if *natMode {
		reportNAT(results)
		return
	}
	if *ovMode {
		reportOverlay(results)
		return
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

var pfx = "nyb" + strconv.FormatInt(int64(os.Getpid()), 36)

// vethPair joins two namespaces with one veth pair.
func vethPair() (string, string, func(), error) {
	a, b := pfx+"-va", pfx+"-vb"
	teardown := func() { _ = run("ip", "netns", "del", a); _ = run("ip", "netns", "del", b) }
	err := runAll(
		[]string{"ip", "netns", "add", a}, []string{"ip", "netns", "add", b},
		[]string{"ip", "link", "add", "veth0", "netns", a, "type", "veth", "peer", "name", "veth0", "netns", b},
		ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "veth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "veth0"),
		ns(a, "ip", "link", "set", "veth0", "up"), ns(b, "ip", "link", "set", "veth0", "up"),
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
	cmd := exec.Command(argv[0], argv[1:]...)
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

// netyardSwitch brings bench/pair.yaml up with netyard.
func netyardSwitch(offloads bool) (string, string, func(), error) {
	prefix, teardown, err := up(*scenario, "--offloads="+strconv.FormatBool(offloads))
	if err != nil {
		return "", "", nil, err
	}
	// bench/pair.yaml's addresses are 10.99.0.x; measure speaks 10.98.0.x.
	a, b := prefix+"-h1", prefix+"-h2"
	err = runAll(ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "eth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "eth0"))
	return a, b, teardown, err
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

// netyardNAT brings bench/nat.yaml up: the same addresses, netyard's
// switch and gateway.
func netyardNAT() (string, string, func(), error) {
	prefix, teardown, err := up(*natFile)
	if err != nil {
		return "", "", nil, err
	}
	return prefix + "-cli", prefix + "-srv", teardown, nil
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

func reportOverlay(rs []result) {
	fmt.Printf("%-18s %12s %14s %10s %10s\n", "overlay", "TCP Gbit/s", "UDP64 pkt/s", "UDP loss", "RTT us")
	for _, r := range rs {
		fmt.Printf("%-18s %12.2f %14.0f %9.1f%% %10.1f\n", r.name, r.tcpGbps, r.udpPPS, r.udpPct, r.rttUs)
	}
	k, ny := rs[0], rs[1]
	fmt.Printf("\nnetyard overlay / kernel VXLAN: TCP %.2fx, UDP64 %.2fx (loss %.1f%% against %.1f%%), RTT %.2fx\n", ny.tcpGbps/k.tcpGbps, ny.udpPPS/k.udpPPS, ny.udpPct, k.udpPct, ny.rttUs/k.rttUs)
}

func reportNAT(rs []result) {
	fmt.Printf("%-18s %12s %14s %10s %18s\n", "published port", "TCP Gbit/s", "UDP64 pkt/s", "UDP loss", "RTT to host us")
	for _, r := range rs {
		fmt.Printf("%-18s %12.2f %14.0f %9.1f%% %18.1f\n", r.name, r.tcpGbps, r.udpPPS, r.udpPct, r.rttUs)
	}
	k, ny := rs[0], rs[1]
	fmt.Printf("\nnetyard gateway / kernel NAT: TCP %.2fx, UDP64 %.2fx, RTT %.2fx\n", ny.tcpGbps/k.tcpGbps, ny.udpPPS/k.udpPPS, ny.rttUs/k.rttUs)
}

// measure runs the three measurements from a to b (target).
func measure(name, a, b string) (result, error) {
	r := result{name: name}
	srv := exec.Command("ip", "netns", "exec", b, "iperf3", "-s")
	if err := srv.Start(); err != nil {
		return r, err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	time.Sleep(500 * time.Millisecond) // iperf3 offers no readiness signal
	var tcp []float64
	for range *tcpRuns {
		var j iperfJSON
		if err := iperf(a, &j, "-t", strconv.Itoa(*tcpTime)); err != nil {
			return r, err
		}
		tcp = append(tcp, j.End.SumReceived.BitsPerSecond/1e9)
	}
	slices.Sort(tcp)
	r.tcpGbps = tcp[len(tcp)/2]
	var j iperfJSON
	if err := iperf(a, &j, "-u", "-l", "64", "-b", "0", "-t", strconv.Itoa(*udpTime)); err != nil {
		return r, err
	}
	lost, total := j.End.Sum.LostPackets, j.End.Sum.Packets
	r.udpPPS = float64(total-lost) / j.End.Sum.Seconds
	r.udpPct = j.End.Sum.LostPercent
	out, err := exec.Command("ip", "netns", "exec", a, "ping", "-q", "-c", strconv.Itoa(*pings), "-i", "0.01", target).CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("ping: %v: %s", err, out)
	}
	m := regexp.MustCompile(`= [\d.]+/([\d.]+)/`).FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("ping: no rtt in %s", out)
	}
	avg, _ := strconv.ParseFloat(string(m[1]), 64)
	r.rttUs = avg * 1000
	return r, nil
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

func report(rs []result) {
	bridge := rs[1]
	fmt.Printf("%-22s %12s %14s %10s %10s\n", "setup", "TCP Gbit/s", "UDP64 pkt/s", "UDP loss", "RTT us")
	for _, r := range rs {
		fmt.Printf("%-22s %12.2f %14.0f %9.1f%% %10.1f\n", r.name, r.tcpGbps, r.udpPPS, r.udpPct, r.rttUs)
	}
	fmt.Println()
	for _, ny := range rs[2:] {
		fmt.Printf("%s / kernel bridge: TCP %.2fx, UDP64 %.2fx, RTT %.2fx\n", ny.name, ny.tcpGbps/bridge.tcpGbps, ny.udpPPS/bridge.udpPPS, ny.rttUs/bridge.rttUs)
	}
}
