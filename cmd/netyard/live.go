package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/netns"
	"github.com/netyard/netyard/sim/topo"
)

// cmdUp builds a scenario's topology in named namespaces, serves its API
// and keeps it up until down (POST /api/v1/down) or a signal. Its steps
// are not run. With -d it runs detached (detachUp).
func cmdUp(args []string, stdout, stderr io.Writer) int {
	child := detachedChild()
	if child != nil {
		stderr = child.stderr(stderr)
		defer child.done()
	}
	fs := flags("up", stderr)
	detach := fs.Bool("d", false, "detached: print the run's name once it is up and return; its output goes to /run/netyard/RUN.log")
	fs.BoolVar(detach, "detach", false, "the same as -d")
	explain := fs.Bool("explain", false, "narrate every decision of the switches as frames pass")
	offloads := fs.Bool("offloads", true, "TAP offloads (TCP super-frames); --offloads=false for one frame per syscall")
	ports := fs.String("ports", "direct", "how TAP ports work: `direct` (a reader goroutine per port, which also writes what it forwards), queued (a queue and a writer goroutine per port), ppoll (readers sleep in ppoll(2), not in Go's poller) or uring (readers take bursts from an io_uring multishot read; Linux 6.7+)")
	var af apiFlags
	fs.StringVar(&af.listen, "listen", "", "serve the API on plain HTTP at `ADDR` (127.0.0.1:PORT; port 0: a free one) instead of the unix socket /run/netyard/RUN.sock")
	fs.BoolVar(&af.listenAny, "listen-any", false, "allow --listen on an address that is not loopback: anyone who reaches it can change the world and tear it down")
	fs.BoolVar(&af.web, "web", false, "serve the page at / on HTTP (the --listen address, or 127.0.0.1 on a free port) and print its URL")
	only := fs.String("host", "", "bring up only Docker host `NAME`'s part, for a machine of its own, joined to the other hosts over this machine's network (VXLAN on UDP 4789 and gossip on TCP/UDP 7946 of NAME's address in FILE, which must be this machine's); its LAN leg has no cable")
	join := fs.String("join", "", "with --host: the control plane's seeds, comma-separated `ADDR[:PORT],...` (port 7946 unless given); default: the other Docker hosts' addresses in FILE")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "netyard up: want exactly one scenario file (netyard up --help explains)")
		return 2
	}
	seeds, err := parseJoin(*join)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "netyard up: --join:", err)
		return 2
	case *join != "" && *only == "":
		fmt.Fprintln(stderr, "netyard up: --join needs --host: it names the seeds a Docker host brought up on a machine of its own joins")
		return 2
	case af.listenAny && af.listen == "":
		fmt.Fprintln(stderr, "netyard up: --listen-any needs --listen: it allows --listen's address not to be loopback")
		return 2
	}
	if err := checkListen(af); err != nil {
		fmt.Fprintln(stderr, "netyard up: --listen:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "netyard up needs root: it creates network namespaces and TAP devices (netyard run FILE runs the scenario in memory, without root)")
		return 2
	}
	f, g, ok := loadGraph(pos[0], stderr)
	if !ok {
		return 2
	}
	if *detach {
		return detachUp(args, stdout, stderr)
	}
	tips := hints(g, *only)
	queue, ppoll, uring := 0, false, false
	switch *ports {
	case "direct":
	case "queued":
		queue = netns.DefaultPortQueue
	case "ppoll":
		ppoll = true
	case "uring":
		uring = true
	default:
		fmt.Fprintf(stderr, "netyard up: --ports=%s: want direct, queued, ppoll or uring\n", *ports)
		return 2
	}
	if !ppoll && !uring {
		forwardingProcs()
	}
	o := netns.Options{Seed: f.Seed, Named: true, NoOffloads: !*offloads, PortQueue: queue, PPollReads: ppoll, URingReads: uring, Logf: func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }}
	whole := g
	if *only != "" {
		if g, err = g.DockerHostPart(*only); err != nil {
			fmt.Fprintln(stderr, "netyard up: --host:", err)
			return 2
		}
		o.Machine = &netns.Machine{Join: seeds}
	}
	// The world's tracer is always a bus: --explain, the API's streams
	// and the page each subscribe to it.
	bus := &trace.Bus{}
	o.Tracer = bus
	start := time.Now()
	if *explain {
		bus.Subscribe(func(e trace.Event) {
			fmt.Fprintf(stdout, "%10.6fs  %s\n", e.Time.Sub(start).Seconds(), trace.Narrate(e))
		})
	}
	// Whatever ends this process short of SIGKILL tears the topology down:
	// Ctrl-C, kill, its terminal closing (SIGHUP), Ctrl-\ (SIGQUIT).
	ctx, stop := signal.NotifyContext(context.Background(), teardownSignals...)
	defer stop()
	n, err := netns.New(g, o)
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 1
	}
	if _, err := n.SaveState(pos[0]); err != nil {
		n.Close()
		fmt.Fprintln(stderr, "netyard: record state:", err)
		return 1
	}
	name := f.Name
	if *only != "" {
		name = fmt.Sprintf("%s's part of %s", *only, f.Name)
	}
	api, err := serveAPI(n, g, name, pos[0], bus, start, af, o.Logf)
	if err == nil {
		if err = n.SetAPI(api.api); err != nil {
			api.stop()
		}
	}
	if err != nil {
		n.Close()
		fmt.Fprintln(stderr, "netyard: serve the API:", err)
		return 1
	}
	ends := "Ctrl-C or netyard down tears it down"
	if child != nil {
		ends = "netyard down " + netns.Prefix + " tears it down"
	}
	fmt.Fprintf(stdout, "netyard: %s is up (run %s); %s\n", name, netns.Prefix, ends)
	for _, h := range g.Hosts {
		where := "namespace " + n.Namespace(h.Name)
		if h.Router != nil {
			where = "gateway (in this process)"
		} else if !h.Sandbox() {
			where = h.KindName() + " (in this process)"
		}
		if len(h.Ifaces) == 0 {
			fmt.Fprintf(stdout, "  %-10s %-26s lo only\n", h.Name, where)
		}
		for _, i := range h.Ifaces {
			addr, note := i.Addr.String(), ""
			if !i.Addr.IsValid() {
				addr = "port" // a node's port: frames only
			}
			if h.Router != nil {
				if o := h.Router.Overlay(i.Name); o != nil {
					addr = fmt.Sprintf("VTEP of %s, VNI %d", o.Network, o.VNI) // a port with no address
				}
				if *only != "" && i.Name == h.Router.LAN {
					note = "  no cable: this machine's network is the underlay"
				}
			}
			fmt.Fprintf(stdout, "  %-10s %-26s %s %s %s%s\n", h.Name, where, i.Name, addr, i.MAC, note)
		}
	}
	if *only != "" {
		for _, l := range machineLines(whole, g, *only, seeds) {
			fmt.Fprintln(stdout, l)
		}
	}
	fmt.Fprintf(stdout, "api: %s (netyard inspect, capture, events, link set, down)\n", api.api)
	if api.page != "" {
		fmt.Fprintf(stdout, "page: %s\n", api.page)
	}
	for _, hint := range tips {
		fmt.Fprintf(stdout, "try: %s\n", hint)
	}
	if child != nil { // up -d prints the run's name, and the page's address with --web
		said := netns.Prefix
		if api.page != "" {
			said += "\npage: " + api.page
		}
		child.up(said)
	}
	code = 0
	select {
	case <-ctx.Done():
	case <-api.down:
	case err := <-api.errs:
		fmt.Fprintln(stderr, "netyard:", err)
		code = 1
	}
	fmt.Fprintln(stdout, "netyard: tearing down")
	api.stop()                        // removes the socket
	if err := n.Close(); err != nil { // removes the state file once all is gone
		fmt.Fprintln(stderr, "netyard:", err)
		code = 1
	}
	if child != nil {
		os.Remove(netns.RunFile(netns.Prefix, ".log"))
	}
	return code
}

// checkListen checks --listen's address before anything is built: an
// IP (or localhost) and a port, loopback unless --listen-any.
func checkListen(af apiFlags) error {
	if af.listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(af.listen)
	if err != nil {
		return fmt.Errorf("%q: want IP:PORT, like 127.0.0.1:8080", af.listen)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", af.listen, port)
	}
	if host == "localhost" {
		return nil
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return fmt.Errorf("%q: %q is not an IP address (127.0.0.1, ::1)", af.listen, host)
	case !a.IsLoopback() && !af.listenAny:
		return fmt.Errorf("%q is not a loopback address: anyone who reaches it could change the world and tear it down (--listen-any allows it)", af.listen)
	}
	return nil
}

// parseJoin reads --join: ADDR or ADDR:PORT, comma-separated, IPv4 or
// IPv6 (an IPv6 address with a port in brackets), the port 7946 unless
// given.
func parseJoin(s string) ([]netip.AddrPort, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.AddrPort
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.AddrPortFrom(a.Unmap(), fabric.GossipPort))
			continue
		}
		ap, err := netip.ParseAddrPort(f)
		if err != nil || ap.Port() == 0 {
			return nil, fmt.Errorf("%q is not an address or address:port (192.168.56.12, 192.168.56.12:7946, [fd00::2]:7946)", f)
		}
		out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	return out, nil
}

// machineLines says what a Docker host's part on a machine of its own
// joins, and what of the whole plan is not here.
func machineLines(whole, part *topo.Graph, host string, seeds []netip.AddrPort) []string {
	gw := part.Host(host)
	r := gw.Router
	self := gw.Iface(r.LAN).Addr.Addr()
	var out []string
	if len(r.Overlays) == 0 {
		out = append(out, fmt.Sprintf("  %s is on no overlay network: it joins no other host, and its containers reach nothing beyond its own networks", host))
	} else {
		var ovs []string
		for _, o := range r.Overlays {
			ovs = append(ovs, fmt.Sprintf("%s (VNI %d)", o.Network, o.VNI))
		}
		out = append(out, fmt.Sprintf("  %-10s %-26s %s over this machine's network: VXLAN on %s, gossip on %s",
			host, "underlay", strings.Join(ovs, ", "), netip.AddrPortFrom(self, header.VXLANPort), netip.AddrPortFrom(self, fabric.GossipPort)))
		var join []string
		for _, s := range seeds {
			join = append(join, s.String())
		}
		if len(seeds) == 0 {
			for _, m := range r.Swarm {
				join = append(join, fmt.Sprintf("%s %s", m.Host, netip.AddrPortFrom(m.Addr, fabric.GossipPort)))
			}
		}
		switch {
		case len(join) == 0:
			out = append(out, fmt.Sprintf("  %s is the only host of its overlays: there is nobody to join", host))
		default:
			out = append(out, fmt.Sprintf("  %-10s %-26s %s (each brought up on its own machine with netyard up --host)", host, "joins", strings.Join(join, ", ")))
		}
	}
	var away []string
	for _, h := range whole.Docker.Hosts {
		if h.Name == host {
			continue
		}
		var ctrs []string
		for _, c := range whole.Docker.Containers {
			if c.Host == h.Name {
				ctrs = append(ctrs, c.Name)
			}
		}
		if len(ctrs) > 0 {
			away = append(away, fmt.Sprintf("%s (containers %s)", h.Name, strings.Join(ctrs, ", ")))
		} else {
			away = append(away, h.Name)
		}
	}
	var clients []string
	for _, c := range whole.Docker.Containers {
		if c.Attach != "" {
			clients = append(clients, c.Name)
		}
	}
	if len(away) > 0 {
		out = append(out, "  not here: "+strings.Join(away, ", ")+", each Docker host on its own machine")
	}
	lan := "  not here: the LAN switch"
	if len(clients) > 0 {
		lan += " and the clients on it (" + strings.Join(clients, ", ") + ")"
	}
	return append(out, lan+"; published ports and docker_gwbridge's way out reach nothing beyond this host")
}

// teardownSignals are the signals on which up tears its topology down.
var teardownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// hints suggests commands to try in a topology that is up. Each is first
// tried in memory, where the verdicts are the namespaces' (the both test
// checks that for every scenario), so that every suggestion works: a
// ping between hosts that reach each other, a name that resolves, a
// published port that answers.
//
// With only, a Docker host's name (netyard up --host), the suggestions
// are for that host's containers: tried in the whole plan, where the
// other hosts are up as they will be on their own machines.
func hints(g *topo.Graph, only string) []string {
	n, err := mem.New(g, mem.Options{Seed: 1})
	if err != nil {
		return nil
	}
	const wait = 2 * time.Second
	for _, h := range g.Hosts {
		if h.Router != nil && len(h.Router.Overlays) > 0 {
			_ = n.Wait(10 * time.Second) // the hosts' control planes converge, as before a user's first command
			break
		}
	}
	pings := func(from string, to netip.Addr) bool {
		st, err := n.Ping(from, to, 1, time.Second, wait)
		return err == nil && st.Received == 1
	}
	var sandboxes []topo.Host
	for _, h := range g.Hosts {
		if h.Router == nil && len(h.Ifaces) > 0 {
			sandboxes = append(sandboxes, h)
		}
	}
	var out []string
	if d := g.Docker; d != nil {
	names:
		for _, a := range d.Containers {
			ha := g.Host(a.Name)
			if a.Attach != "" || ha == nil || !ha.Nameserver.IsValid() || only != "" && a.Host != only {
				continue
			}
			for _, b := range d.Containers {
				if b.Attach != "" || b.Name == a.Name {
					continue
				}
				r, err := n.Resolve(a.Name, b.Name, dns.TypeA, wait)
				if err != nil || r.Err != "" || len(r.Addrs) == 0 || !pings(a.Name, r.Addrs[0]) {
					continue
				}
				out = append(out, fmt.Sprintf("netyard exec %s -- ping -c 3 %s", a.Name, b.Name),
					fmt.Sprintf("netyard exec %s -- dig +short @%s %s", a.Name, ha.Nameserver, b.Name))
				break names
			}
		}
	published:
		for _, c := range d.Containers {
			if c.Attach == "" || only != "" { // with --host, no client is here
				continue
			}
			for _, r := range g.Hosts {
				if r.Router == nil {
					continue
				}
				for _, p := range r.Router.Publish {
					if res, err := n.Dial(c.Name, p.Ext, wait); p.Proto == "tcp" && err == nil && res.Result == backend.Open {
						out = append(out, fmt.Sprintf("netyard exec %s -- curl -s http://%s/", c.Name, p.Ext))
						break published
					}
				}
			}
		}
		return out
	}
	for _, a := range sandboxes {
		for _, b := range sandboxes {
			if a.Name == b.Name {
				continue
			}
			if to := b.Ifaces[0].Addr.Addr(); pings(a.Name, to) {
				return []string{fmt.Sprintf("netyard exec %s -- ping -c 3 %s", a.Name, to)}
			}
		}
	}
	return nil
}

// cmdExec runs a command in a node's namespace.
func cmdExec(args []string, stdout, stderr io.Writer) int {
	fs := flags("exec", stderr)
	run := fs.String("run", "", "the run (prefix shown by netyard ls) when several are up")
	rest, done, code := parse(fs, args, stdout, stderr, true)
	if done {
		return code
	}
	switch {
	case len(rest) == 0:
		fmt.Fprintln(stderr, "netyard exec: which node? usage: netyard exec [--run PREFIX] NODE -- CMD [ARG...]")
		return 2
	case len(rest) == 1:
		fmt.Fprintf(stderr, "netyard exec: and which command? netyard exec %s -- CMD [ARG...], e.g. netyard exec %s -- ip addr\n", rest[0], rest[0])
		return 2
	case rest[1] != "--":
		fmt.Fprintf(stderr, "netyard exec: put -- between the node and the command: netyard exec %s -- %s\n", rest[0], strings.Join(rest[1:], " "))
		return 2
	case len(rest) == 2:
		fmt.Fprintf(stderr, "netyard exec: no command after --: netyard exec %s -- CMD [ARG...]\n", rest[0])
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "netyard exec needs root: it enters a network namespace")
		return 2
	}
	ns, err := netns.FindHost(*run, rest[0])
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 2
	}
	status, err := netns.Exec(ns, rest[2:])
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 127
	}
	return status
}

// cmdLs lists running ups.
func cmdLs(args []string, stdout, stderr io.Writer) int {
	fs := flags("ls", stderr)
	asJSON := fs.Bool("json", false, "print the runs as JSON")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "netyard ls takes no arguments (netyard ls --help explains)")
		return 2
	}
	runs, bad, err := netns.Runs()
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 1
	}
	for _, b := range bad {
		fmt.Fprintln(stderr, "netyard: state file", b)
	}
	if *asJSON {
		type run struct {
			netns.RunInfo
			Alive bool `json:"alive"`
		}
		out := []run{}
		for _, r := range runs {
			out = append(out, run{r, r.Alive})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "netyard:", err)
			return 1
		}
		return 0
	}
	if len(runs) == 0 {
		fmt.Fprintln(stdout, "no netyard up is running")
		return 0
	}
	for _, r := range runs {
		state := "running"
		if !r.Alive {
			state = "dead (netyard cleanup removes its leftovers)"
		}
		fmt.Fprintf(stdout, "%s  pid %d  %s  %s\n", r.Prefix, r.PID, r.File, state)
		hosts := make([]string, 0, len(r.Hosts))
		for h := range r.Hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			fmt.Fprintf(stdout, "  %-10s %-16s %s\n", h, r.Hosts[h], r.Addrs[h])
		}
	}
	return 0
}

// cmdCleanup removes what crashed runs left behind.
func cmdCleanup(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("cleanup", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "netyard cleanup takes no arguments (netyard cleanup --help explains)")
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "netyard cleanup needs root: it deletes network namespaces and devices")
		return 2
	}
	sw, err := netns.Cleanup()
	for _, r := range sw.Removed {
		fmt.Fprintln(stdout, "removed", r)
	}
	for _, l := range sw.Left {
		fmt.Fprintln(stdout, "left", l)
	}
	if len(sw.Removed)+len(sw.Left) == 0 {
		fmt.Fprintln(stdout, "nothing to clean up")
	}
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 1
	}
	return 0
}

// forwardingProcs gives netyard up's Go runtime half the machine's CPUs
// (at least one) unless GOMAXPROCS is in its environment. The endpoints it
// forwards for run on the same machine, and the kernel runs their stacks
// in netyard's threads as it writes into their TAPs; on two cores a second
// runtime processor mostly spins and moves the readers between threads.
// With one, in stop 21's runs (docs/performance.md): RTT through the
// switch lower, and TCP through the gateway higher, in all three; TCP
// through the switch mixed (higher in stop 20's four); 64-byte UDP
// through the gateway lower in three before its idle frames ran on the
// reader, higher in two of three after. Only for readers that wait in
// Go's poller: a ppoll or io_uring reader sleeps in a system call holding
// its processor, so with one processor the other ports' frames waited for
// Go's monitor to take it back (RTT 481 µs, p99 3.4 ms, with io_uring).
func forwardingProcs() {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return
	}
	runtime.GOMAXPROCS(max(1, runtime.NumCPU()/2))
}
