package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// DefaultBudget bounds the simulated events of a run whose file sets none:
// far more than any sane scenario needs, few enough that a storm stops in
// seconds.
const DefaultBudget = 20_000_000

// Step defaults.
const (
	DefaultInterval = time.Second     // between pings
	DefaultTimeout  = 2 * time.Second // for a ping's reply or a datagram's arrival
)

// Options control a run.
type Options struct {
	Seed    *uint64   // overrides the file's seed
	Backend string    // "mem" (default), "netns" (needs root) or "both"
	Out     io.Writer // each step and its verdict as it runs; nil: silent
	Explain io.Writer // every decision of every node, narrated; nil: none
	Pcap    io.Writer // pcapng of every link; nil: none
	// TraceJSON receives every node's decisions as JSON lines, each with
	// "t", the seconds since the start; nil: none.
	TraceJSON io.Writer
	// NoOffloads turns the netns backend's TAP offloads off (one frame per
	// syscall), for comparison.
	NoOffloads bool
	// Trace receives every event of every kind, frames too (with their
	// Bytes), synchronously and in order, with the step running (0 while
	// the topology is built): a recording of the run (the web page's);
	// nil: none.
	Trace func(e trace.Event, step int64)
	// World, if not nil, is called once the world is built, before the
	// first step, with the plan and the world (NarrationNames of them
	// name the narration's MACs and bridge IDs from then on).
	World func(g *topo.Graph, w *fabric.Fabric)
}

// allKinds are the kinds Options.Trace hears: all of them, frames too.
var allKinds = []trace.Kind{trace.Learned, trace.Moved, trace.Aged, trace.Flushed, trace.Forwarded, trace.Flooded,
	trace.Dropped, trace.Mirrored, trace.State, trace.Host, trace.Lost, trace.STP, trace.Routed, trace.Frame, trace.Overlay}

// Report is the outcome of a run.
type Report struct {
	Scenario string       `json:"scenario"`
	File     string       `json:"file"`
	Backend  string       `json:"backend"`
	Seed     uint64       `json:"seed"`
	Steps    []StepResult `json:"steps"`
	Passed   int          `json:"passed"`
	Failed   int          `json:"failed"`
	Elapsed  float64      `json:"elapsed"`          // seconds the run took (virtual in mem)
	Events   uint64       `json:"events,omitempty"` // simulated events (mem)
	// With backend "both": the netns run, and every step whose verdict
	// differs between the worlds.
	Netns       *Report  `json:"netns,omitempty"`
	Differences []string `json:"differences,omitempty"`
	// Warnings are what Docker would warn of and go on, at file:line
	// (published ports of a container on the host network, discarded).
	Warnings []string `json:"warnings,omitempty"`
}

// OK reports whether every step passed, in every world run, with the same
// verdicts.
func (r *Report) OK() bool {
	return r.Failed == 0 && (r.Netns == nil || r.Netns.OK()) && len(r.Differences) == 0
}

// StepResult is the verdict of one step.
type StepResult struct {
	Step   int     `json:"step"` // from 1
	Line   int     `json:"line"`
	Kind   string  `json:"kind"`
	Desc   string  `json:"desc"`
	At     float64 `json:"at"` // seconds since the start when it began (virtual in mem)
	Pass   bool    `json:"pass"`
	Detail string  `json:"detail"` // what was seen, for a person
	Seen   *Seen   `json:"seen,omitempty"`
}

// Seen is what a step saw, for programs: the fields of its kind are set.
// Times are in seconds.
type Seen struct {
	// ping (and reach)
	Sent     *int           `json:"sent,omitempty"`
	Received *int           `json:"received,omitempty"`
	RTT      *RTT           `json:"rtt,omitempty"`
	Errors   map[string]int `json:"errors,omitempty"` // why probes got no reply, counted
	// udp
	Delivered *bool `json:"delivered,omitempty"`
	// udp, resolve: why nothing came ("timeout", "port unreachable", ...)
	Error string `json:"error,omitempty"`
	// connect
	Result string `json:"result,omitempty"` // open, refused, timeout
	Peer   string `json:"peer,omitempty"`   // the client as the listener saw it
	// resolve
	Rcode   string   `json:"rcode,omitempty"`
	Answers []string `json:"answers,omitempty"`
	// wait
	Now *float64 `json:"now,omitempty"`
	// expect
	FDB      map[string][]FDBSeen   `json:"fdb,omitempty"`      // by switch
	Counters map[string]CounterSeen `json:"counters,omitempty"` // by switch:port
	STP      map[string]STPSeen     `json:"stp,omitempty"`      // by switch
	Reached  *int                   `json:"reached,omitempty"`  // reach: pairs that reach each other
	Pairs    *int                   `json:"pairs,omitempty"`
	NAT      map[string][]FlowSeen  `json:"nat,omitempty"` // by Docker host
	Problems []string               `json:"problems,omitempty"`
	// the run stopped here: "budget" or "loop", and the backend's words
	Stopped string `json:"stopped,omitempty"`
	Why     string `json:"why,omitempty"`
}

// RTT is a ping's round trips, in seconds.
type RTT struct {
	Min float64 `json:"min"`
	Avg float64 `json:"avg"`
	Max float64 `json:"max"`
}

// FDBSeen is one forwarding database entry.
type FDBSeen struct {
	MAC  string `json:"mac"`
	Host string `json:"host,omitempty"` // whose MAC it is, if a host's
	Port string `json:"port"`
	VLAN uint16 `json:"vlan"`
}

// CounterSeen is a port's counters.
type CounterSeen struct {
	RxFrames uint64            `json:"rx_frames"`
	TxFrames uint64            `json:"tx_frames"`
	RxBytes  uint64            `json:"rx_bytes"`
	TxBytes  uint64            `json:"tx_bytes"`
	Drops    map[string]uint64 `json:"drops,omitempty"`
}

// STPSeen is a switch's spanning tree.
type STPSeen struct {
	Root     string        `json:"root"`
	RootPort string        `json:"root_port,omitempty"`
	Ports    []STPPortSeen `json:"ports"`
}

// STPPortSeen is one port's role and state.
type STPPortSeen struct {
	Port  string `json:"port"`
	Role  string `json:"role"`
	State string `json:"state"`
}

// FlowSeen is one tracked connection.
type FlowSeen struct {
	Kind  string `json:"kind"`
	Proto string `json:"proto"`
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Reply string `json:"reply"` // the reply's source -> destination
	State string `json:"state,omitempty"`
}

// Run runs the scenario and returns its report. The error is for a run that
// could not start or finish (a backend failure, a write error); failed
// steps are in the report. Backend "both" runs mem, then netns, and compares
// their verdicts step by step.
func Run(f *File, o Options) (*Report, error) {
	if o.Backend != "both" {
		return runOne(f, o)
	}
	o.Backend = "mem"
	rep, err := runOne(f, o)
	if err != nil {
		return nil, err
	}
	o.Backend = "netns"
	o.Pcap = nil // one capture per file: the deterministic one
	other, err := runOne(f, o)
	if err != nil {
		return nil, err
	}
	rep.Backend, rep.Netns = "both", other
	for i := range rep.Steps {
		a, b := rep.Steps[i], other.Steps[i]
		if a.Pass != b.Pass {
			rep.Differences = append(rep.Differences, fmt.Sprintf("step %d (line %d) %s: mem %s (%s), netns %s (%s)",
				a.Step, a.Line, a.Desc, verdict(a.Pass), a.Detail, verdict(b.Pass), b.Detail))
		}
	}
	if out := o.Out; out != nil {
		if len(rep.Differences) == 0 {
			fmt.Fprintf(out, "mem and netns agree on all %d steps\n", len(rep.Steps))
		} else {
			fmt.Fprintf(out, "mem and netns disagree on %d of %d steps:\n", len(rep.Differences), len(rep.Steps))
			for _, d := range rep.Differences {
				fmt.Fprintf(out, "  %s\n", d)
			}
		}
	}
	return rep, nil
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// runOne runs the scenario in one backend.
func runOne(f *File, o Options) (*Report, error) {
	g, err := f.Graph()
	if err != nil {
		return nil, err
	}
	seed := f.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	rep := &Report{Scenario: cmp.Or(f.Name, f.path), File: f.path, Backend: cmp.Or(o.Backend, "mem"), Seed: seed}
	r := &runner{f: f, g: g, out: o.Out, explain: o.Explain != nil}
	if r.out == nil {
		r.out = io.Discard
	}
	origin := sim.Epoch
	if rep.Backend != "mem" { // the netns backend runs on the wall clock
		origin = clock.Real.Now()
	}
	var pcap *capture.Writer
	if o.Pcap != nil {
		if pcap, err = capture.New(o.Pcap, fabric.LinkNames(g)); err != nil {
			return nil, err
		}
	}
	b, err := backend.Build(rep.Backend, g, backend.Options{Seed: seed, Tracer: o.tracer(origin, &r.step, &r.names, r.countFrames()), Capture: pcap, Budget: cmp.Or(f.Budget, DefaultBudget), NoOffloads: o.NoOffloads})
	if err != nil {
		return nil, err
	}
	if c, ok := b.(interface{ Events() uint64 }); ok { // a simulation counts its events
		defer func() { rep.Events = c.Events() }()
	}
	defer b.Close()
	r.b, r.w = b, b.World()
	r.nameNodes()
	if o.World != nil {
		o.World(g, r.w)
	}
	r.header(rep)
	r.warnings(rep)
	r.steps(rep)
	rep.Elapsed = b.Elapsed().Seconds()
	fmt.Fprintf(r.out, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	if pcap != nil {
		if err := pcap.Flush(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// tracer assembles the sinks o asks for (JSON lines, narration) into one
// tracer, or nil for none. step is the step running (0 while the topology
// is built); names, once set, rename bridge IDs and MACs in narration.
func (o Options) tracer(origin time.Time, step *atomic.Int64, names *atomic.Pointer[strings.Replacer], frames func(trace.Event)) trace.Tracer {
	bus := &trace.Bus{} // serialises the netns backend's goroutines for its sinks
	if frames != nil {  // the file's frames steps count what links carry
		bus.Subscribe(frames, trace.Frame)
	}
	if w := o.TraceJSON; w != nil {
		bus.Subscribe(trace.JSONLines(w, origin, step.Load))
	}
	if fn := o.Trace; fn != nil {
		bus.Subscribe(func(e trace.Event) { fn(e, step.Load()) }, allKinds...)
	}
	if o.Explain != nil {
		w := o.Explain
		bus.Subscribe(func(e trace.Event) {
			line := trace.Narrate(e)
			if n := names.Load(); n != nil {
				line = n.Replace(line)
			}
			fmt.Fprintf(w, "    %s  %s\n", stamp(e.Time.Sub(origin)), line)
		})
	}
	if bus.Len() == 0 {
		return nil
	}
	return bus
}

// nameNodes sets the names narration uses (NarrationNames).
func (r *runner) nameNodes() {
	r.macs = r.g.HostsByMAC()
	if n := NarrationNames(r.g, r.w); n != nil {
		r.names.Store(n)
	}
}

// NarrationNames returns the replacements --explain makes in every line:
// bridge IDs become their switches' names, and hosts' MACs carry their
// host's name beside them (where one host alone has the MAC); nil when
// there is nothing to rename. A live world's event stream uses the same,
// so its sentences are the narration's.
func NarrationNames(g *topo.Graph, w *fabric.Fabric) *strings.Replacer {
	var pairs []string
	for _, sw := range g.Switches {
		if st, err := w.STP(sw.Name); err == nil && st.Enabled {
			pairs = append(pairs, st.Bridge.String(), sw.Name)
		}
	}
	macs := g.HostsByMAC()
	for _, h := range g.Hosts {
		for _, i := range h.Ifaces {
			if macs[i.MAC] == h.Name {
				pairs = append(pairs, i.MAC.String(), i.MAC.String()+" ("+h.Name+")")
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

// header prints what runs, where, and the file's description.
func (r *runner) header(rep *Report) {
	fmt.Fprintf(r.out, "netyard: %s (%s), seed %d, backend %s\n", rep.Scenario, r.f.path, rep.Seed, rep.Backend)
	if d := r.f.Description; d != "" {
		for _, l := range wrap(strings.TrimSpace(d), 76) {
			fmt.Fprintf(r.out, "  %s\n", l)
		}
	}
}

// steps runs the file's steps in order into rep, each printed with its
// verdict; once the backend stopped the run (a storm), the rest are
// reported as not run.
func (r *runner) steps(rep *Report) {
	stopped := ""
	for i, s := range r.f.Steps {
		at := r.b.Elapsed()
		res := StepResult{Step: i + 1, Line: r.f.Line(fmt.Sprintf("steps[%d]", i)), At: at.Seconds()}
		r.step.Store(int64(i + 1))
		res.Kind, res.Desc = describe(s)
		if r.explain {
			fmt.Fprintf(r.out, "  step %d (line %d): %s\n", res.Step, res.Line, res.Desc)
		}
		if stopped != "" {
			res.Detail = "not run: " + stopped
		} else {
			res.Pass, res.Detail, res.Seen, stopped = r.do(s)
		}
		if res.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
		if r.explain {
			fmt.Fprintf(r.out, "  %s  %s\n", verdict(res.Pass), res.Detail)
		} else {
			fmt.Fprintf(r.out, "  [%s] %-4s step %d (line %d) %s: %s\n", stamp(at), verdict(res.Pass), res.Step, res.Line, res.Desc, res.Detail)
		}
		rep.Steps = append(rep.Steps, res)
	}
}

// do runs one step: its verdict, what it saw, and why the run stops
// after it, if it does (the backend stopped it: a budget spent, a loop).
func (r *runner) do(s Step) (pass bool, detail string, seen *Seen, stop string) {
	if s.Action == nil {
		return false, "a step with nothing to do", nil, ""
	}
	r.seen = &Seen{}
	pass, detail = s.Action.run(r)
	if !reflect.ValueOf(*r.seen).IsZero() {
		seen = r.seen
	}
	if r.spent == nil {
		return pass, detail, seen, ""
	}
	stop, kind := "the run stopped when its event budget ran out", "budget"
	if errors.Is(r.spent, sim.ErrLoop) {
		stop, kind = "the run stopped when a frame looped", "loop"
	}
	seen = r.seen
	seen.Stopped, seen.Why = kind, r.spent.Error()
	return pass, detail + "; " + r.stormDiagnostic(), seen, stop
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// stamp formats an elapsed time as seconds with microseconds.
func stamp(d time.Duration) string { return fmt.Sprintf("%.6fs", d.Seconds()) }

// runner runs steps against a backend.
type runner struct {
	f       *File
	g       *topo.Graph // the plan: the world's links are r.w's, not its
	b       backend.Backend
	w       *fabric.Fabric                   // b's world
	out     io.Writer                        // each step and its verdict
	explain bool                             // out gets the narration's step headers
	spent   error                            // why the backend stopped the run (budget, loop): the run ends
	seen    *Seen                            // what the step running saw, as data
	macs    map[vswitch.MAC]string           // the host of each interface MAC
	step    atomic.Int64                     // the step running, from 1, for trace lines
	names   atomic.Pointer[strings.Replacer] // narration's names for bridge IDs and MACs
	frames  *frameCounts                     // what the frames steps count; nil: the file has none
}

// hostOf returns the host whose interface has mac, or "".
func (r *runner) hostOf(mac vswitch.MAC) string { return r.macs[mac] }

// stormDiagnostic names the busiest switch port: where a storm shows.
func (r *runner) stormDiagnostic() string {
	var busiest string
	var most uint64
	var total uint64
	for _, s := range r.g.Switches {
		sw := r.w.Switch(s.Name)
		if sw == nil {
			continue
		}
		for i := range sw.NumPorts() { // the world's ports: a plug may have added some
			port := sw.PortName(i)
			st, err := sw.Stats(i)
			if err != nil {
				continue
			}
			total += st.RxFrames
			if st.RxFrames > most {
				most, busiest = st.RxFrames, s.Name+":"+port
			}
		}
	}
	if busiest == "" {
		return "no switch port received anything"
	}
	return fmt.Sprintf("storm: switch ports received %d frames, most of them %s (%d): a loop without spanning tree?", total, busiest, most)
}

func endpoint(s string) topo.Endpoint {
	node, port, _ := strings.Cut(s, ":")
	return topo.Endpoint{Node: node, Port: port}
}

// fail reports a backend error as the step's failure, and notes a spent
// budget, which ends the run.
func (r *runner) fail(err error) (bool, string) {
	if sim.Stopped(err) {
		r.spent = err
	}
	return false, err.Error()
}

// addr turns a step's destination into an address: an address as it is;
// a container of a Docker scenario, or any name the graph does not know,
// through the sender's nameserver (as ping containerB in a container
// does); other nodes (host, host:iface) by their address in the graph.
// A name that does not resolve gives why; err is the backend's failure.
func (r *runner) addr(from, to string) (a netip.Addr, why string, err error) {
	if a, err := netip.ParseAddr(to); err == nil {
		return a, "", nil
	}
	a, gerr := r.g.ResolveAddr(to)
	if !r.byDNS(to, gerr) {
		return a, "", nil // the graph knows it: the step validated it
	}
	res, err := r.b.Resolve(from, to, dns.TypeA, DefaultTimeout)
	switch {
	case err != nil:
		return netip.Addr{}, "", err
	case len(res.Addrs) > 0:
		return res.Addrs[0], "", nil
	}
	return netip.Addr{}, fmt.Sprintf("%s does not resolve from %s: %s", to, from, cmp.Or(res.Err, res.Rcode, "no answer")), nil
}

// byDNS reports whether a step's destination is a name for the sender's
// DNS: in a Docker scenario, a container's bare name or a name the graph
// does not know (an alias, name.network).
func (r *runner) byDNS(to string, graphErr error) bool {
	d := r.g.Docker
	if d == nil {
		return false
	}
	return graphErr != nil || !strings.Contains(to, ":") &&
		slices.ContainsFunc(d.Containers, func(c topo.Container) bool { return c.Name == to && c.Attach == "" && !c.OnHostNetwork() })
}

// summarise counts repeated error strings: "host unreachable x3".
func summarise(errs []string) string {
	n := map[string]int{}
	var order []string
	for _, e := range errs {
		if n[e] == 0 {
			order = append(order, e)
		}
		n[e]++
	}
	parts := make([]string, len(order))
	for i, e := range order {
		parts[i] = e
		if n[e] > 1 {
			parts[i] += fmt.Sprintf(" x%d", n[e])
		}
	}
	return strings.Join(parts, ", ")
}

// warnings reports what the Docker model warned of, each at its file:line,
// as docker run prints a warning and goes on.
func (r *runner) warnings(rep *Report) {
	if r.g.Docker == nil {
		return
	}
	for _, w := range r.g.Docker.Warnings {
		e := r.f.errAt(w.Path, "%s", w.Msg)
		rep.Warnings = append(rep.Warnings, e.Error())
		fmt.Fprintf(r.out, "  %s\n", e.Error())
	}
}
