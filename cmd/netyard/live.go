package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/netns"
	"github.com/netyard/netyard/sim/topo"
)

// cmdUp builds a scenario's topology in named namespaces and keeps it up
// until SIGINT or SIGTERM. Its steps are not run.
func cmdUp(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	explain := fs.Bool("explain", false, "narrate every decision of the switches as frames pass")
	offloads := fs.Bool("offloads", true, "TAP offloads (TCP super-frames); --offloads=false for one frame per syscall")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "netyard up: want exactly one scenario file")
		return 2
	}
	f, g, ok := loadGraph(pos[0], stderr)
	if !ok {
		return 2
	}
	o := netns.Options{Seed: f.Seed, Named: true, NoOffloads: !*offloads, Logf: func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }}
	if *explain {
		var mu sync.Mutex
		start := time.Now()
		o.Tracer = trace.Func(func(e trace.Event) {
			mu.Lock()
			defer mu.Unlock()
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
	fmt.Fprintf(stdout, "netyard: %s is up (run %s); Ctrl-C tears it down\n", f.Name, netns.Prefix)
	for _, h := range g.Hosts {
		where := "namespace " + n.Namespace(h.Name)
		if h.Router != nil {
			where = "gateway (in this process)"
		}
		if len(h.Ifaces) == 0 {
			fmt.Fprintf(stdout, "  %-10s %-26s lo only\n", h.Name, where)
		}
		for _, i := range h.Ifaces {
			fmt.Fprintf(stdout, "  %-10s %-26s %s %s %s\n", h.Name, where, i.Name, i.Addr, i.MAC)
		}
	}
	for _, hint := range hints(g) {
		fmt.Fprintf(stdout, "try: %s\n", hint)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "netyard: tearing down")
	if err := n.Close(); err != nil { // removes the state file once all is gone
		fmt.Fprintln(stderr, "netyard:", err)
		return 1
	}
	return 0
}

// teardownSignals are the signals on which up tears its topology down.
var teardownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// hints suggests commands to try in a topology that is up.
func hints(g *topo.Graph) []string {
	var sandboxes []topo.Host
	for _, h := range g.Hosts {
		if h.Router == nil && len(h.Ifaces) > 0 {
			sandboxes = append(sandboxes, h)
		}
	}
	if len(sandboxes) < 2 {
		return nil
	}
	first, last := sandboxes[0], sandboxes[len(sandboxes)-1]
	d := g.Docker
	if d == nil {
		return []string{fmt.Sprintf("netyard exec %s -- ping -c 3 %s", first.Name, last.Ifaces[0].Addr.Addr())}
	}
	var out []string
	for _, c := range d.Containers {
		if c.Attach == "" && c.Name != first.Name && first.Nameserver.IsValid() {
			out = append(out, fmt.Sprintf("netyard exec %s -- ping -c 3 %s", first.Name, c.Name),
				fmt.Sprintf("netyard exec %s -- dig +short @%s %s", first.Name, first.Nameserver, c.Name))
			break
		}
	}
	for _, c := range d.Containers {
		if c.Attach == "" {
			continue
		}
		for _, r := range g.Hosts {
			if r.Router != nil && len(r.Router.Publish) > 0 {
				p := r.Router.Publish[0]
				if p.Proto == "tcp" {
					out = append(out, fmt.Sprintf("netyard exec %s -- curl -s http://%s/", c.Name, p.Ext))
				}
			}
		}
		break
	}
	return out
}

// cmdExec runs a command in a node's namespace.
func cmdExec(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := fs.String("run", "", "the run (prefix shown by netyard ls) when several are up")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if len(rest) < 3 || rest[1] != "--" {
		fmt.Fprintln(stderr, "usage: netyard exec [--run PREFIX] NODE -- CMD [ARG...]")
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
	code, err := netns.Exec(ns, rest[2:])
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 127
	}
	return code
}

// cmdLs lists running ups.
func cmdLs(stdout, stderr io.Writer) int {
	runs, bad, err := netns.Runs()
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		return 1
	}
	for _, b := range bad {
		fmt.Fprintln(stderr, "netyard: state file", b)
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
func cmdCleanup(stdout, stderr io.Writer) int {
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
