// Command netyard runs and checks netyard scenarios.
//
//	netyard run FILE [--seed N] [--pcap OUT.pcapng] [--explain] [--trace-json OUT] [--json] [--backend mem|netns|both]
//	netyard validate FILE...
//	netyard draw FILE                  the topology in Graphviz's language
//	netyard up FILE [--explain]        (root) build the topology in namespaces until Ctrl-C
//	netyard exec NODE -- CMD [ARG...]  (root) run a command in a node's namespace
//	netyard ls [--json]                list running ups
//	netyard cleanup                    (root) remove what crashed runs left behind
//	netyard dnsd --names FILE          the embedded DNS server on a kernel socket
//	netyard version
//	netyard help [COMMAND]             (every command also takes --help)
//
// run exits 0 when every step passed, 1 when a step failed, 2 when the file
// or the command line is wrong.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	_ "github.com/netyard/netyard/sim/kinds/router"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/topo"
)

func main() {
	// NETYARD_CPUPROFILE=FILE profiles the whole command, for performance
	// work on the live path (netyard up under iperf3).
	if path := os.Getenv("NETYARD_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "-h", "--help", "-help":
		fmt.Fprint(stdout, usage())
		return 0
	case "--version", "-version":
		return cmdVersion(nil, stdout, stderr)
	}
	if c := lookup(args[0]); c != nil {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "netyard: unknown command %q\n\n%s", args[0], usage())
	return 2
}

// cmdDraw prints a scenario's topology in Graphviz's language.
func cmdDraw(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("draw", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: netyard draw FILE (then: dot -Tsvg)")
		return 2
	}
	_, g, ok := loadGraph(pos[0], stderr)
	if !ok {
		return 2
	}
	fmt.Fprint(stdout, g.DOT())
	return 0
}

// loadGraph loads a scenario file and compiles its topology, reporting
// problems on stderr.
func loadGraph(path string, stderr io.Writer) (*scenario.File, *topo.Graph, bool) {
	f, err := scenario.Load(path)
	if err == nil {
		var g *topo.Graph
		if g, err = f.Graph(); err == nil {
			return f, g, true
		}
	}
	fmt.Fprintln(stderr, err)
	return nil, nil, false
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flags("run", stderr)
	seed := fs.Uint64("seed", 0, "seed (overrides the file's)")
	pcap := fs.String("pcap", "", "write a pcapng capture to this file")
	explain := fs.Bool("explain", false, "narrate every decision")
	traceJSON := fs.String("trace-json", "", "write every decision as JSON lines to this file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	backend := fs.String("backend", "mem", "mem, netns or both")
	offloads := fs.Bool("offloads", true, "netns: TAP offloads (TCP super-frames); --offloads=false for one frame per syscall")
	webPage := fs.Bool("web", false, "after the run (mem), serve the page that steps through it on loopback until Ctrl-C")
	listen := fs.String("listen", "127.0.0.1:0", "with --web: the page's `ADDR:PORT` (loopback unless --listen-any)")
	listenAny := fs.Bool("listen-any", false, "with --web: allow a --listen address that is not loopback")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "netyard run: want exactly one scenario file (netyard run --help explains)")
		return 2
	}
	switch *backend {
	case "mem":
	case "netns", "both":
		if os.Geteuid() != 0 {
			fmt.Fprintf(stderr, "netyard run: --backend %s needs root (it creates network namespaces and TAP devices); --backend mem needs none\n", *backend)
			return 2
		}
	default:
		fmt.Fprintf(stderr, "netyard run: --backend %q: want mem, netns or both\n", *backend)
		return 2
	}
	f, err := scenario.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *webPage && *backend != "mem" {
		fmt.Fprintln(stderr, "netyard run: --web steps through a mem run; with --backend netns, use netyard up FILE --web")
		return 2
	}
	o := scenario.Options{Backend: *backend, NoOffloads: !*offloads}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "seed" {
			o.Seed = seed
		}
	})
	if !*asJSON {
		o.Out = stdout
		if *explain {
			o.Explain = stdout
		}
	}
	if *traceJSON != "" {
		tf, err := os.Create(*traceJSON)
		if err != nil {
			fmt.Fprintln(stderr, "netyard:", err)
			return 2
		}
		defer tf.Close()
		o.TraceJSON = tf
	}
	var pf *os.File
	if *pcap != "" {
		if pf, err = os.Create(*pcap); err != nil {
			fmt.Fprintln(stderr, "netyard:", err)
			return 2
		}
		o.Pcap = pf
	}
	var rec *web.Recording
	var rep *scenario.Report
	if *webPage {
		rec, rep, err = web.Record(f, o)
	} else {
		rep, err = scenario.Run(f, o)
	}
	if pf != nil {
		if cerr := pf.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "netyard:", err)
		var se scenario.Errors
		if errors.As(err, &se) {
			return 2
		}
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "netyard:", err)
			return 1
		}
	}
	if rec != nil {
		if code := serveRecording(rec, *listen, *listenAny, stdout, stderr); code != 0 {
			return code
		}
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// serveRecording serves the page over a finished mem run on addr until
// SIGINT or SIGTERM.
func serveRecording(rec *web.Recording, addr string, anyAddr bool, stdout, stderr io.Writer) int {
	l, err := live.ListenTCP(addr, anyAddr)
	if err != nil {
		fmt.Fprintln(stderr, "netyard run: --listen:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), teardownSignals...)
	defer stop()
	h := &http.Server{Handler: web.Recorded(rec), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.Serve(l) }()
	fmt.Fprintf(stdout, "netyard: the page steps through %d events of the run: http://%s/ (Ctrl-C stops)\n", len(rec.Entries), l.Addr())
	<-ctx.Done()
	_ = h.Close()
	return 0
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("validate", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "netyard validate: want one or more scenario files")
		return 2
	}
	for _, path := range pos {
		f, err := scenario.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 2
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%d switches, %d hosts, %d links, %d steps)\n", path, len(f.Switches), len(f.Hosts), len(f.Links), len(f.Steps))
	}
	return code
}
