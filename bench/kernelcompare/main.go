// Command kernelcompare measures traffic between two network namespaces
// joined three ways, in one run: a direct veth pair, a Linux kernel bridge,
// and netyard's switch over TAP devices (netyard up bench/pair.yaml), with
// TAP offloads and without. For
// each it runs iperf3 TCP (median of runs), iperf3 UDP with 64-byte
// datagrams (packets per second received, loss) and ping (RTT), and prints
// netyard's figures as ratios of the kernel bridge's.
//
// It needs root, iperf3 and ping; bench/compare.sh installs them and runs it.
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
)

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
	for _, s := range []struct {
		name  string
		setup func() (a, b string, teardown func(), err error)
	}{
		{"veth pair", vethPair},
		{"kernel bridge", kernelBridge},
		{"netyard, offloads", func() (string, string, func(), error) { return netyardSwitch(true) }},
		{"netyard, no offloads", func() (string, string, func(), error) { return netyardSwitch(false) }},
	} {
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

// netyardSwitch brings bench/pair.yaml up with netyard.
func netyardSwitch(offloads bool) (string, string, func(), error) {
	cmd := exec.Command(*netyard, "up", *scenario, "--offloads="+strconv.FormatBool(offloads))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	teardown := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := upRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			// bench/pair.yaml's addresses are 10.99.0.x; measure speaks 10.98.0.x.
			a, b := m[1]+"-h1", m[1]+"-h2"
			err := runAll(ns(a, "ip", "addr", "add", "10.98.0.1/24", "dev", "eth0"), ns(b, "ip", "addr", "add", "10.98.0.2/24", "dev", "eth0"))
			return a, b, teardown, err
		}
	}
	teardown()
	return "", "", nil, fmt.Errorf("netyard up did not come up")
}

// measure runs the three measurements from a to b (10.98.0.2).
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
	out, err := exec.Command("ip", "netns", "exec", a, "ping", "-q", "-c", strconv.Itoa(*pings), "-i", "0.01", "10.98.0.2").CombinedOutput()
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
	cmd := append([]string{"ip", "netns", "exec", from, "iperf3", "-J", "-c", "10.98.0.2"}, args...)
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
