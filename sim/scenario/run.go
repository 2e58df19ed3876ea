package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
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
}

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
	g = g.Assigned() // as every backend does: the same MACs, for narration

	seed := f.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	rep := &Report{Scenario: cmp.Or(f.Name, f.path), File: f.path, Backend: cmp.Or(o.Backend, "mem"), Seed: seed}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	var tracer trace.Tracer
	var names *strings.Replacer // bridge IDs to switch names, host MACs with names, in narration
	origin := sim.Epoch
	if rep.Backend != "mem" { // the netns backend runs on the wall clock
		origin = clock.Real.Now()
	}
	var bus trace.Bus     // serialises the netns backend's goroutines for its sinks
	var step atomic.Int64 // the step running, for trace lines; 0 while the topology is built
	if w := o.TraceJSON; w != nil {
		bus.Subscribe(trace.JSONLines(w, origin, step.Load))
	}
	if o.Explain != nil {
		w := o.Explain
		bus.Subscribe(func(e trace.Event) {
			line := trace.Narrate(e)
			if names != nil {
				line = names.Replace(line)
			}
			fmt.Fprintf(w, "    %s  %s\n", stamp(e.Time.Sub(origin)), line)
		})
	}
	if bus.Len() > 0 {
		tracer = &bus
	}
	var pcap *capture.Writer
	if o.Pcap != nil {
		if pcap, err = capture.New(o.Pcap, fabric.LinkNames(g)); err != nil {
			return nil, err
		}
	}
	b, err := backend.Build(rep.Backend, g, backend.Options{Seed: seed, Tracer: tracer, Capture: pcap, Budget: cmp.Or(f.Budget, DefaultBudget), NoOffloads: o.NoOffloads})
	if err != nil {
		return nil, err
	}
	if c, ok := b.(interface{ Events() uint64 }); ok { // a simulation counts its events
		defer func() { rep.Events = c.Events() }()
	}
	defer b.Close()
	// In narration, bridge IDs become their switches' names, and hosts'
	// MACs carry their host's name beside them.
	var pairs []string
	for _, sw := range g.Switches {
		if st, err := b.World().STP(sw.Name); err == nil && st.Enabled {
			pairs = append(pairs, st.Bridge.String(), sw.Name)
		}
	}
	macs := map[vswitch.MAC]string{} // the host of each interface MAC
	for _, h := range g.Hosts {
		for _, i := range h.Ifaces {
			macs[i.MAC] = h.Name
			pairs = append(pairs, i.MAC.String(), i.MAC.String()+" ("+h.Name+")")
		}
	}
	if len(pairs) > 0 {
		names = strings.NewReplacer(pairs...)
	}

	fmt.Fprintf(out, "netyard: %s (%s), seed %d, backend %s\n", rep.Scenario, f.path, seed, rep.Backend)
	if f.Description != "" {
		for _, l := range wrap(strings.TrimSpace(f.Description), 76) {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	r := &runner{f: f, g: g, b: b, w: b.World(), macs: macs}
	stopped := ""
	for i, s := range f.Steps {
		at := b.Elapsed()
		res := StepResult{Step: i + 1, Line: f.Line(fmt.Sprintf("steps[%d]", i)), At: at.Seconds()}
		step.Store(int64(i + 1))
		res.Kind, res.Desc = describe(s)
		if s.Name != "" {
			res.Desc = s.Name + ": " + res.Desc
		}
		if o.Explain != nil {
			fmt.Fprintf(out, "  step %d (line %d): %s\n", res.Step, res.Line, res.Desc)
		}
		if stopped != "" {
			res.Detail = "not run: " + stopped
		} else {
			r.seen = &Seen{}
			res.Pass, res.Detail = r.step(s)
			if !reflect.ValueOf(*r.seen).IsZero() {
				res.Seen = r.seen
			}
			if r.spent != nil {
				stopped = "the run stopped when its event budget ran out"
				kind := "budget"
				if errors.Is(r.spent, sim.ErrLoop) {
					stopped, kind = "the run stopped when a frame looped", "loop"
				}
				if res.Seen == nil {
					res.Seen = r.seen
				}
				res.Seen.Stopped, res.Seen.Why = kind, r.spent.Error()
				res.Detail += "; " + r.stormDiagnostic()
			}
		}
		if res.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
		if o.Explain != nil {
			fmt.Fprintf(out, "  %s  %s\n", verdict(res.Pass), res.Detail)
		} else {
			fmt.Fprintf(out, "  [%s] %-4s step %d (line %d) %s: %s\n", stamp(at), verdict(res.Pass), res.Step, res.Line, res.Desc, res.Detail)
		}
		rep.Steps = append(rep.Steps, res)
	}
	rep.Elapsed = b.Elapsed().Seconds()
	fmt.Fprintf(out, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	if pcap != nil {
		if err := pcap.Flush(); err != nil {
			return rep, err
		}
	}
	return rep, nil
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

// describe returns a step's kind and a one-line description.
func describe(s Step) (kind, desc string) {
	switch {
	case s.Ping != nil:
		p := s.Ping
		return "ping", fmt.Sprintf("ping %s -> %s x%d", p.From, p.To, cmp.Or(p.Count, 1))
	case s.UDP != nil:
		return "udp", fmt.Sprintf("udp %s -> %s:%d", s.UDP.From, s.UDP.To, s.UDP.Port)
	case s.Wait != nil:
		return "wait", fmt.Sprintf("wait %v", *s.Wait)
	case s.Link != nil:
		return "link", fmt.Sprintf("link at %s %s", s.Link.At, s.Link.State)
	case s.Port != nil:
		return "port", fmt.Sprintf("port %s %s", s.Port.At, s.Port.State)
	case s.Move != nil:
		return "move", fmt.Sprintf("move %s to %s", s.Move.Iface, s.Move.To)
	case s.BPDUs != nil:
		return "bpdus", fmt.Sprintf("BPDUs of %s %s", s.BPDUs.Switch, s.BPDUs.State)
	case s.Connect != nil:
		return "connect", fmt.Sprintf("connect %s -> %s:%d", s.Connect.From, s.Connect.To, s.Connect.Port)
	case s.Resolve != nil:
		return "resolve", fmt.Sprintf("resolve %s %s from %s", strings.ToUpper(cmp.Or(s.Resolve.Type, "A")), s.Resolve.Name, s.Resolve.From)
	default:
		var parts []string
		if s.Expect.FDB != nil {
			parts = append(parts, "fdb of "+s.Expect.FDB.Switch)
		}
		if s.Expect.Counters != nil {
			parts = append(parts, "counters of "+s.Expect.Counters.At)
		}
		if s.Expect.STP != nil {
			parts = append(parts, "spanning tree of "+s.Expect.STP.Switch)
		}
		if s.Expect.NAT != nil {
			parts = append(parts, "conntrack of "+s.Expect.NAT.Host)
		}
		if s.Expect.IPAM != nil {
			parts = append(parts, "addresses of "+s.Expect.IPAM.Network)
		}
		if s.Expect.Reach != nil {
			parts = append(parts, "reachability among "+strings.Join(slices.Sorted(maps.Keys(s.Expect.Reach)), " "))
		}
		return "expect", "expect " + strings.Join(parts, ", ")
	}
}

// runner runs steps against a backend.
type runner struct {
	f     *File
	g     *topo.Graph
	b     backend.Backend
	w     *fabric.Fabric         // b's world
	spent error                  // why the backend stopped the run (budget, loop): the run ends
	seen  *Seen                  // what the step running saw, as data
	macs  map[vswitch.MAC]string // the host of each interface MAC
}

// hostOf returns the host whose interface has mac, or "".
func (r *runner) hostOf(mac vswitch.MAC) string { return r.macs[mac] }

// stormDiagnostic names the busiest switch port: where a storm shows.
func (r *runner) stormDiagnostic() string {
	var busiest string
	var most uint64
	var total uint64
	for _, sw := range r.g.Switches {
		for _, port := range r.g.PortNames(sw.Name) {
			st, err := r.w.Stats(topo.Endpoint{Node: sw.Name, Port: port})
			if err != nil {
				continue
			}
			total += st.RxFrames
			if st.RxFrames > most {
				most, busiest = st.RxFrames, sw.Name+":"+port
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

// step runs one step and returns its verdict and what was seen.
// fail reports a backend error as the step's failure, and notes a spent
// budget, which ends the run.
func (r *runner) fail(err error) (bool, string) {
	if sim.Stopped(err) {
		r.spent = err
	}
	return false, err.Error()
}

func (r *runner) step(s Step) (bool, string) {
	fail := r.fail
	switch {
	case s.Ping != nil:
		return r.ping(s.Ping)
	case s.UDP != nil:
		u := s.UDP
		to, why, err := r.addr(u.From, u.To)
		if err != nil {
			return fail(err)
		}
		if why != "" {
			return u.Expect == "not-delivered", "not sent: " + why
		}
		res, err := r.b.UDP(u.From, to, u.Port, cmp.Or(u.Timeout, DefaultTimeout))
		if err != nil {
			return fail(err)
		}
		r.seen.Delivered, r.seen.Error = &res.Delivered, res.Err
		want := u.Expect != "not-delivered"
		if res.Delivered {
			return want, "delivered"
		}
		return !want, "not delivered: " + res.Err
	case s.Wait != nil:
		if err := r.b.Wait(*s.Wait); err != nil {
			return fail(err)
		}
		now := r.b.Elapsed().Seconds()
		r.seen.Now = &now
		return true, fmt.Sprintf("now at %s", stamp(r.b.Elapsed()))
	case s.Link != nil:
		if err := r.w.SetLink(endpoint(s.Link.At), s.Link.State == "up"); err != nil {
			return fail(err)
		}
		return true, "link " + s.Link.State
	case s.Port != nil:
		if err := r.w.SetPort(endpoint(s.Port.At), s.Port.State == "up"); err != nil {
			return fail(err)
		}
		return true, "port " + s.Port.State
	case s.Move != nil:
		if err := r.w.Move(endpoint(s.Move.Iface), endpoint(s.Move.To)); err != nil {
			return fail(err)
		}
		return true, "replugged"
	case s.Connect != nil:
		return r.connect(s.Connect)
	case s.Resolve != nil:
		return r.resolve(s.Resolve)
	case s.BPDUs != nil:
		if err := r.w.SetBPDUTransmit(s.BPDUs.Switch, s.BPDUs.State == "on"); err != nil {
			return fail(err)
		}
		return true, "BPDUs " + s.BPDUs.State
	default:
		return r.expect(s.Expect)
	}
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
		slices.ContainsFunc(d.Containers, func(c topo.Container) bool { return c.Name == to && c.Attach == "" })
}

func (r *runner) connect(c *ConnectStep) (bool, string) {
	to, why, err := r.addr(c.From, c.To)
	if err != nil {
		return r.fail(err)
	}
	if why != "" {
		return false, "not tried: " + why
	}
	got, err := r.b.Dial(c.From, netip.AddrPortFrom(to, c.Port), cmp.Or(c.Timeout, 4*time.Second))
	if err != nil {
		return r.fail(err)
	}
	pass := string(got.Result) == cmp.Or(c.Expect, "open")
	r.seen.Result = string(got.Result)
	if got.Peer.IsValid() {
		r.seen.Peer = got.Peer.String()
	}
	detail := fmt.Sprintf("%s:%d is %s", to, c.Port, got.Result)
	if got.Peer.IsValid() {
		detail += fmt.Sprintf(", the listener saw the client as %s", got.Peer.Addr())
	}
	if c.SeenFrom != "" {
		want, _ := r.g.ResolveAddr(c.SeenFrom)
		if got.Peer.Addr() != want {
			pass = false
			detail += fmt.Sprintf("; expected it to see %s", want)
		}
	}
	return pass, detail
}

func (r *runner) resolve(q *ResolveStep) (bool, string) {
	qtype, name := dns.StringToType[strings.ToUpper(cmp.Or(q.Type, "A"))], q.Name
	if qtype == dns.TypePTR {
		if a, err := netip.ParseAddr(name); err == nil {
			name, _ = dns.ReverseAddr(a.String()) // as dig -x asks
		}
	}
	res, err := r.b.Resolve(q.From, name, qtype, cmp.Or(q.Timeout, DefaultTimeout))
	if err != nil {
		return r.fail(err)
	}
	got := res.Names
	for _, a := range res.Addrs {
		got = append(got, a.String())
	}
	r.seen.Rcode, r.seen.Answers, r.seen.Error = res.Rcode, got, res.Err
	detail := fmt.Sprintf("%s: %s", q.Name, cmp.Or(res.Rcode, res.Err))
	if len(got) > 0 {
		detail += " " + strings.Join(got, " ")
	}
	switch q.Expect.Rcode {
	case "nxdomain":
		return res.Rcode == "NXDOMAIN", detail
	case "servfail":
		return res.Rcode == "SERVFAIL", detail
	case "no-answer":
		return res.Rcode == "NOERROR" && len(got) == 0, detail
	case "timeout":
		return res.Err == "timeout", detail
	}
	var want []string
	for _, w := range q.Expect.Addrs {
		if qtype == dns.TypePTR {
			want = append(want, dns.Fqdn(w))
			continue
		}
		a, _ := r.g.ResolveAddr(w)
		want = append(want, a.String())
	}
	slices.Sort(want)
	sorted := slices.Sorted(slices.Values(got))
	if res.Rcode == "NOERROR" && slices.Equal(sorted, want) {
		return true, detail
	}
	return false, detail + "; expected " + strings.Join(want, " ")
}

func (r *runner) ping(p *PingStep) (bool, string) {
	to, why, err := r.addr(p.From, p.To)
	if err != nil {
		return r.fail(err)
	}
	if why != "" {
		return p.Expect == "no-reply", "not sent: " + why
	}
	count := cmp.Or(p.Count, 1)
	st, err := r.b.Ping(p.From, to, count, cmp.Or(p.Interval, DefaultInterval), cmp.Or(p.Timeout, DefaultTimeout))
	if p.Expect == "storm" {
		if sim.Stopped(err) {
			r.spent = err
			return true, "a storm, as expected: " + err.Error()
		}
		return false, fmt.Sprintf("no storm: no frame looped and the run stayed within its budget (%d/%d replies, %v)", st.Received, st.Sent, err)
	}
	if err != nil {
		return r.fail(err)
	}
	detail := fmt.Sprintf("%d/%d replies from %s", st.Received, st.Sent, to)
	r.seen.Sent, r.seen.Received = &st.Sent, &st.Received
	if len(st.RTTs) > 0 {
		lo, hi := slices.Min(st.RTTs), slices.Max(st.RTTs)
		var sum time.Duration
		for _, d := range st.RTTs {
			sum += d
		}
		avg := sum / time.Duration(len(st.RTTs))
		r.seen.RTT = &RTT{Min: lo.Seconds(), Avg: avg.Seconds(), Max: hi.Seconds()}
		detail += fmt.Sprintf(", rtt min/avg/max %v/%v/%v", lo, avg, hi)
	}
	if len(st.Errors) > 0 {
		r.seen.Errors = map[string]int{}
		for _, e := range st.Errors {
			r.seen.Errors[e]++
		}
	}
	if len(st.Errors) > 0 {
		detail += " (" + summarise(st.Errors) + ")"
	}
	var ok bool
	switch {
	case p.Received != nil:
		ok = p.Received.Match(uint64(st.Received))
		detail += fmt.Sprintf("; expected %s replies", p.Received)
	case p.Expect == "no-reply":
		ok = st.Received == 0
	default:
		ok = st.Received == st.Sent
	}
	if p.RTT != nil && len(st.RTTs) > 0 {
		// Times are exact in memory. On the wall clock (netns) a busy
		// machine can make anything slower, never faster than the links'
		// latencies: only the lower bound holds there.
		in := slices.Min(st.RTTs) >= p.RTT.Min
		if r.b.VirtualTime() {
			in = in && slices.Max(st.RTTs) <= p.RTT.Max
		}
		switch {
		case !in && r.b.VirtualTime():
			detail += fmt.Sprintf("; rtt outside %s", p.RTT)
		case !in:
			detail += fmt.Sprintf("; rtt below %v (on the wall clock only the lower bound of %s is checked)", p.RTT.Min, p.RTT)
		}
		ok = ok && in
	}
	return ok, detail
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

func (r *runner) expect(x *ExpectStep) (bool, string) {
	var problems, seen []string
	if d := x.FDB; d != nil {
		entries, err := r.w.FDB(d.Switch)
		if err != nil {
			return r.fail(err)
		}
		match := func(m FDBMatch) bool {
			mac, _ := r.g.ResolveMAC(m.MAC)
			for _, e := range entries {
				if e.MAC == mac && (m.Port == "" || m.Port == e.Port) && (m.VLAN == 0 || m.VLAN == e.VLAN) {
					return true
				}
			}
			return false
		}
		for _, m := range d.Has {
			if !match(m) {
				problems = append(problems, fmt.Sprintf("%s lacks %s", d.Switch, describeMatch(m)))
			}
		}
		for _, m := range d.Lacks {
			if match(m) {
				problems = append(problems, fmt.Sprintf("%s has %s", d.Switch, describeMatch(m)))
			}
		}
		if d.Size != nil && !d.Size.Match(uint64(len(entries))) {
			problems = append(problems, fmt.Sprintf("%s has %d entries, expected %s", d.Switch, len(entries), d.Size))
		}
		var list []string
		data := []FDBSeen{}
		for _, e := range entries {
			list = append(list, fmt.Sprintf("%s@%s/vlan%d", e.MAC, e.Port, e.VLAN))
			data = append(data, FDBSeen{MAC: e.MAC.String(), Host: r.hostOf(e.MAC), Port: e.Port, VLAN: e.VLAN})
		}
		r.seen.FDB = map[string][]FDBSeen{d.Switch: data}
		seen = append(seen, fmt.Sprintf("fdb %s: [%s]", d.Switch, strings.Join(list, " ")))
	}
	if c := x.Counters; c != nil {
		st, err := r.w.Stats(endpoint(c.At))
		if err != nil {
			return r.fail(err)
		}
		check := func(name string, want *Count, got uint64) {
			if want != nil && !want.Match(got) {
				problems = append(problems, fmt.Sprintf("%s %s = %d, expected %s", c.At, name, got, want))
			}
		}
		check("rx_frames", c.RxFrames, st.RxFrames)
		check("tx_frames", c.TxFrames, st.TxFrames)
		check("rx_bytes", c.RxBytes, st.RxBytes)
		check("tx_bytes", c.TxBytes, st.TxBytes)
		for _, reason := range slices.Sorted(maps.Keys(c.Drops)) {
			want := c.Drops[reason]
			check("drops."+reason, &want, st.Drops[reason])
		}
		r.seen.Counters = map[string]CounterSeen{c.At: {RxFrames: st.RxFrames, TxFrames: st.TxFrames, RxBytes: st.RxBytes, TxBytes: st.TxBytes, Drops: st.Drops}}
		drops := "none"
		if len(st.Drops) > 0 {
			var d []string
			for _, k := range slices.Sorted(maps.Keys(st.Drops)) {
				d = append(d, fmt.Sprintf("%s=%d", k, st.Drops[k]))
			}
			drops = strings.Join(d, " ")
		}
		seen = append(seen, fmt.Sprintf("%s rx %d tx %d, drops %s", c.At, st.RxFrames, st.TxFrames, drops))
	}
	if c := x.STP; c != nil {
		st, err := r.w.STP(c.Switch)
		if err != nil {
			return r.fail(err)
		}
		root := st.Root.String()
		for _, sw := range r.g.Switches { // name the root, if it is one of ours
			if o, err := r.w.STP(sw.Name); err == nil && o.Bridge == st.Root {
				root = sw.Name
			}
		}
		rp := cmp.Or(st.RootPort, "none")
		if c.Root != "" && c.Root != root {
			problems = append(problems, fmt.Sprintf("%s sees %s as root, expected %s", c.Switch, root, c.Root))
		}
		if c.RootPort != "" && c.RootPort != rp {
			problems = append(problems, fmt.Sprintf("%s root port is %s, expected %s", c.Switch, rp, c.RootPort))
		}
		var ports []string
		data := STPSeen{Root: root, RootPort: st.RootPort, Ports: []STPPortSeen{}}
		for _, ps := range st.Ports {
			ports = append(ports, fmt.Sprintf("%s %s/%s", ps.Port, ps.Role, ps.State))
			data.Ports = append(data.Ports, STPPortSeen{Port: ps.Port, Role: ps.Role.String(), State: ps.State.String()})
			for _, want := range c.Ports {
				if want.Port == ps.Port && (want.Role != "" && want.Role != ps.Role.String() || want.State != "" && want.State != ps.State.String()) {
					problems = append(problems, fmt.Sprintf("%s %s is %s/%s, expected %s/%s", c.Switch, ps.Port, ps.Role, ps.State, cmp.Or(want.Role, "*"), cmp.Or(want.State, "*")))
				}
			}
		}
		r.seen.STP = map[string]STPSeen{c.Switch: data}
		seen = append(seen, fmt.Sprintf("%s: root %s via %s; %s", c.Switch, root, rp, strings.Join(ports, ", ")))
	}
	if x.Reach != nil {
		hosts := slices.Sorted(maps.Keys(x.Reach))
		reached := 0
		for _, a := range hosts {
			for _, b := range hosts {
				if a == b {
					continue
				}
				to, _ := r.g.ResolveAddr(b)
				st, err := r.b.Ping(a, to, 1, DefaultInterval, DefaultTimeout)
				if err != nil {
					return r.fail(err)
				}
				got, want := st.Received > 0, slices.Contains(x.Reach[a], b)
				if got {
					reached++
				}
				if got != want {
					verb := map[bool]string{true: "reaches", false: "does not reach"}
					problems = append(problems, fmt.Sprintf("%s %s %s", a, verb[got], b))
				}
			}
		}
		pairs := len(hosts) * (len(hosts) - 1)
		r.seen.Reached, r.seen.Pairs = &reached, &pairs
		seen = append(seen, fmt.Sprintf("%d of %d pairs reach each other", reached, pairs))
	}
	if c := x.NAT; c != nil {
		flows, err := r.w.NAT(c.Host)
		if err != nil {
			return r.fail(err)
		}
		if c.Flows != nil && !c.Flows.Match(uint64(len(flows))) {
			problems = append(problems, fmt.Sprintf("%s tracks %d flows, expected %s", c.Host, len(flows), c.Flows))
		}
		for _, m := range c.Has {
			if !slices.ContainsFunc(flows, func(f nat.Flow) bool { return r.flowMatch(m, f) }) {
				problems = append(problems, fmt.Sprintf("%s tracks no %s", c.Host, describeFlow(m)))
			}
		}
		var list []string
		data := []FlowSeen{}
		for _, f := range flows {
			proto, _, _ := strings.Cut(f.Orig.String(), " ")
			data = append(data, FlowSeen{Kind: f.Kind, Proto: proto, Src: f.Orig.Src.String(), Dst: f.Orig.Dst.String(),
				Reply: f.Reply.Src.String() + " -> " + f.Reply.Dst.String(), State: f.State})
			state := ""
			if f.State != "" {
				state = " " + f.State
			}
			list = append(list, fmt.Sprintf("%s %s (reply %s -> %s)%s", f.Kind, f.Orig, f.Reply.Src, f.Reply.Dst, state))
		}
		r.seen.NAT = map[string][]FlowSeen{c.Host: data}
		seen = append(seen, fmt.Sprintf("conntrack %s: [%s]", c.Host, strings.Join(list, "; ")))
	}
	if c := x.IPAM; c != nil {
		p, s := r.ipam(c)
		problems = append(problems, p...)
		seen = append(seen, s)
	}
	if len(problems) > 0 {
		r.seen.Problems = problems
		return false, strings.Join(problems, "; ") + " (" + strings.Join(seen, "; ") + ")"
	}
	return true, strings.Join(seen, "; ")
}

// flowMatch reports whether a tracked flow matches m.
func (r *runner) flowMatch(m FlowMatch, f nat.Flow) bool {
	proto := map[uint8]string{nat.TCP: "tcp", nat.UDP: "udp", nat.ICMP: "icmp"}[f.Orig.Proto]
	addrIs := func(want string, got ...netip.Addr) bool {
		if want == "" {
			return true
		}
		a, err := r.g.ResolveAddr(want)
		return err == nil && slices.Contains(got, a)
	}
	return (m.Kind == "" || m.Kind == f.Kind) && (m.Proto == "" || m.Proto == proto) &&
		(m.State == "" || m.State == f.State) &&
		addrIs(m.From, f.Orig.Src.Addr()) && addrIs(m.To, f.Orig.Dst.Addr(), f.Reply.Src.Addr())
}

func describeFlow(m FlowMatch) string {
	s := cmp.Or(m.Kind, "any") + " " + cmp.Or(m.Proto, "") + " flow"
	if m.From != "" {
		s += " from " + m.From
	}
	if m.To != "" {
		s += " to " + m.To
	}
	if m.State != "" {
		s += " in state " + m.State
	}
	return s
}

// ipam checks a network's allocation against the compiled Docker model.
func (r *runner) ipam(c *IPAMExpect) (problems []string, seen string) {
	d := r.g.Docker
	host := cmp.Or(c.Host, d.Hosts[0].Name)
	n := d.Network(host, c.Network)
	if n == nil {
		return []string{fmt.Sprintf("no network %q", c.Network)}, ""
	}
	if c.Subnet != "" && c.Subnet != n.Subnet.String() {
		problems = append(problems, fmt.Sprintf("%s has subnet %s, expected %s", n.Name, n.Subnet, c.Subnet))
	}
	if c.Gateway != "" && c.Gateway != n.Gateway.String() {
		problems = append(problems, fmt.Sprintf("%s has gateway %s, expected %s", n.Name, n.Gateway, c.Gateway))
	}
	got := map[string]string{}
	for _, ct := range d.Containers {
		for _, e := range ct.Endpoints {
			if ct.Host == host && e.Network == n.Name && e.Addr.IsValid() {
				got[ct.Name] = e.Addr.Addr().String()
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Containers)) {
		if got[name] != c.Containers[name] {
			problems = append(problems, fmt.Sprintf("%s has %s on %s, expected %s", name, cmp.Or(got[name], "no address"), n.Name, c.Containers[name]))
		}
	}
	var list []string
	for _, name := range slices.Sorted(maps.Keys(got)) {
		list = append(list, name+"="+got[name])
	}
	return problems, fmt.Sprintf("%s: subnet %s gateway %s; %s", n.Name, n.Subnet, n.Gateway, strings.Join(list, " "))
}

func describeMatch(m FDBMatch) string {
	s := m.MAC
	if m.Port != "" {
		s += " on " + m.Port
	}
	if m.VLAN != 0 {
		s += fmt.Sprintf(" vlan %d", m.VLAN)
	}
	return s
}
