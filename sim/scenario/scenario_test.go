package scenario_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden traces in testdata/")

// files returns every scenario in scenarios/.
func files(t testing.TB) []string {
	t.Helper()
	fs, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(fs) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	return fs
}

// output is everything a run produces.
type output struct {
	report, explain, pcap, traceJSON []byte
}

func run(t *testing.T, path string) output {
	t.Helper()
	f, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var explain, pcap, tj bytes.Buffer
	rep, err := scenario.Run(f, scenario.Options{Out: &explain, Explain: &explain, Pcap: &pcap, TraceJSON: &tj})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("%s: %d steps failed:\n%s", path, rep.Failed, explain.String())
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return output{js, explain.Bytes(), pcap.Bytes(), tj.Bytes()}
}

// TestScenariosPassAndAreDeterministic runs every scenario twice under each
// of GOMAXPROCS 1 and 8: every step passes, and the report, the narrated
// trace, the JSON trace and the pcapng are the same bytes every time. The trace is also
// compared with testdata/<name>.golden (go test -update rewrites it).
func TestScenariosPassAndAreDeterministic(t *testing.T) {
	for _, path := range files(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			var first output
			for i, procs := range []int{1, 1, 8, 8} {
				old := runtime.GOMAXPROCS(procs)
				got := run(t, path)
				runtime.GOMAXPROCS(old)
				if i == 0 {
					first = got
					continue
				}
				if !bytes.Equal(got.report, first.report) {
					t.Errorf("run %d (GOMAXPROCS=%d): report differs", i, procs)
				}
				if !bytes.Equal(got.explain, first.explain) {
					t.Errorf("run %d (GOMAXPROCS=%d): trace differs", i, procs)
				}
				if !bytes.Equal(got.pcap, first.pcap) {
					t.Errorf("run %d (GOMAXPROCS=%d): pcapng differs", i, procs)
				}
				if !bytes.Equal(got.traceJSON, first.traceJSON) {
					t.Errorf("run %d (GOMAXPROCS=%d): JSON trace differs", i, procs)
				}
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, first.explain, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sim/scenario -update)", err)
			}
			if !bytes.Equal(first.explain, want) {
				t.Errorf("trace differs from %s; if the change is intended, run go test ./sim/scenario -update and review the diff", golden)
			}
			// The capture and the JSON trace are pinned by their hashes, so
			// that the same bytes on every machine is tested, not only
			// within one process.
			sums := fmt.Sprintf("pcapng %x\ntrace-json %x\nreport %x\n", sha256.Sum256(first.pcap), sha256.Sum256(first.traceJSON), sha256.Sum256(first.report))
			pinned := filepath.Join("testdata", name+".sha256")
			if *update {
				if err := os.WriteFile(pinned, []byte(sums), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want, err := os.ReadFile(pinned); err != nil || string(want) != sums {
				t.Errorf("pcapng, JSON trace or report of %s differ from %s (%v):\n%swant\n%s(if the change is intended, run go test ./sim/scenario -update)", name, pinned, err, sums, want)
			}
		})
	}
}

// TestSeedChangesLosses checks that the seed, and only the seed, decides
// which frames an impaired link loses.
func TestSeedChangesLosses(t *testing.T) {
	f, err := scenario.Load("../../scenarios/impaired-link.yaml")
	if err != nil {
		t.Fatal(err)
	}
	received := func(seed uint64) string {
		rep, err := scenario.Run(f, scenario.Options{Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Steps[1].Detail
	}
	if a, b := received(1), received(1); a != b {
		t.Errorf("the same seed gave %q, then %q", a, b)
	}
	if received(1) == received(2) {
		t.Error("seeds 1 and 2 gave the same losses")
	}
	if got := received(1); !strings.HasPrefix(got, "84/100 replies") {
		t.Errorf("seed 1: %q, want 84/100 replies (the seeded count)", got)
	}
}

// tool returns the path of a program a test needs, or skips the test
// saying which Debian package has it.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s); .ci/run installs it", name, pkg)
	}
	return path
}

// TestPcapReadableByTshark checks that Wireshark's dissectors find no
// malformed frame in any scenario's capture.
func TestPcapReadableByTshark(t *testing.T) {
	tshark := tool(t, "tshark", "tshark")
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			out := run(t, path)
			file := filepath.Join(t.TempDir(), "capture.pcapng")
			if err := os.WriteFile(file, out.pcap, 0o644); err != nil {
				t.Fatal(err)
			}
			all, err := exec.Command(tshark, "-n", "-r", file).Output()
			if err != nil {
				t.Fatalf("tshark -r: %v\n%s", err, all)
			}
			if n := bytes.Count(all, []byte("\n")); n == 0 {
				t.Error("tshark read no frame")
			}
			bad, err := exec.Command(tshark, "-n", "-r", file, "-Y", "_ws.malformed || _ws.expert.severity == error").Output()
			if err != nil || len(bytes.TrimSpace(bad)) > 0 {
				t.Errorf("tshark finds malformed frames (%v):\n%s", err, bad)
			}
			if strings.HasPrefix(filepath.Base(path), "overlay-") {
				// The outer packets decode as VXLAN with the inner frame.
				vx, err := exec.Command(tshark, "-n", "-r", file, "-Y", "vxlan && eth.type == 0x0800 && icmp").Output()
				if err != nil || bytes.Count(vx, []byte("\n")) == 0 {
					t.Errorf("tshark decodes no ICMP inside VXLAN (%v)", err)
				}
				raw, err := exec.Command(tshark, "-n", "-r", file, "-Y", "udp.port == 4789 && !vxlan").Output()
				if err != nil || len(bytes.TrimSpace(raw)) > 0 {
					t.Errorf("tshark leaves packets to UDP 4789 undecoded as VXLAN (%v):\n%s", err, raw)
				}
			}
		})
	}
}

// TestDrawingsRender: Graphviz draws every scenario's topology (netyard
// draw) without a warning, and the drawing names every node.
func TestDrawingsRender(t *testing.T) {
	dot := tool(t, "dot", "graphviz")
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := f.Graph()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(g.DOT())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			svg, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("dot: %v\n%s", err, stderr.Bytes())
			}
			// Graphviz titles each node's group with its name, '-' escaped.
			has := func(name string) bool {
				return bytes.Contains(svg, []byte("<title>"+strings.ReplaceAll(name, "-", "&#45;")+"</title>"))
			}
			for _, n := range g.Switches {
				if !has(n.Name) {
					t.Errorf("switch %s is not in the drawing", n.Name)
				}
			}
			for _, h := range g.Hosts {
				if !has(h.Name) {
					t.Errorf("host %s is not in the drawing", h.Name)
				}
			}
		})
	}
}

// TestStormStopsAtBudget: a loop without spanning tree turns one broadcast
// into a storm; the run stops at its event budget, says so, skips the rest,
// and does it at the same event count every time.
func TestStormStopsAtBudget(t *testing.T) {
	// No loop here, only more work than the budget allows: 100 pings a
	// millisecond apart, with a budget of 300 events.
	src := `name: busy
budget: 300
switches: [{name: s1}]
hosts: [{name: h1, address: 10.0.0.1/24}, {name: h2, address: 10.0.0.2/24}]
links: [h1 -- s1:p1, h2 -- s1:p2]
steps:
  - ping: {from: h1, to: h2, count: 100, interval: 1ms}
  - wait: 1s
`
	f, err := scenario.Parse("busy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var events []uint64
	for range 2 {
		rep, err := scenario.Run(f, scenario.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || !strings.Contains(rep.Steps[0].Detail, "event budget exhausted") || !strings.HasPrefix(rep.Steps[1].Detail, "not run") {
			t.Fatalf("report: %+v", rep.Steps)
		}
		events = append(events, rep.Events)
	}
	if events[0] != events[1] || events[0] > 300 {
		t.Errorf("the run stopped after %v events, want the same number, at most 300, both times", events)
	}
}

// TestStormsStopAtALoop: a broadcast storm, made by redundant cables or by
// a monitor port cabled back, stops when one frame has crossed a cable
// between switches LoopCopies times, at the same event count every run,
// naming the frame and the cable; the rest of the run does not happen.
func TestStormsStopAtALoop(t *testing.T) {
	for _, name := range []string{"loop-without-stp", "loop-mesh", "mirror-loop"} {
		t.Run(name, func(t *testing.T) {
			f, err := scenario.Load("../../scenarios/" + name + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			f.Steps = append(f.Steps, scenario.Step{Action: new(scenario.WaitStep)})
			var events []uint64
			for range 2 {
				rep, err := scenario.Run(f, scenario.Options{})
				if err != nil {
					t.Fatal(err)
				}
				d := rep.Steps[0].Detail
				if !rep.Steps[0].Pass || !strings.Contains(d, "a frame is looping") || !strings.Contains(d, "crossed s") || !strings.Contains(d, "16 times within 1s") {
					t.Errorf("step 1: %s", d)
				}
				if last := rep.Steps[len(rep.Steps)-1]; !strings.HasPrefix(last.Detail, "not run: the run stopped when a frame looped") {
					t.Errorf("the step after the storm: %s", last.Detail)
				}
				events = append(events, rep.Events)
			}
			if events[0] != events[1] || events[0] > 1000 {
				t.Errorf("stopped after %v events, want the same, few, both times", events)
			}
		})
	}
}

// BenchmarkStorm measures whole-simulation speed on a busy run: pings a
// microsecond apart across two switches, switches forwarding and links
// delivering, with no tracing (a storm in a loop stops at once now, so it
// measures nothing). It reports simulated events per second of wall time.
func BenchmarkStorm(b *testing.B) {
	src := `name: busy
switches: [{name: s1}, {name: s2}]
hosts: [{name: h1, address: 10.0.0.1/24}, {name: h2, address: 10.0.0.2/24}]
links: [h1 -- s1:p1, h2 -- s2:p1, s1:p2 -- s2:p2]
steps: [{ping: {from: h1, to: h2, count: COUNT, interval: 1us}}]
`
	storm := func(count string) []byte { return []byte(strings.Replace(src, "COUNT", count, 1)) }
	benchRun(b, "storm.yaml", storm("10000"))
	// Building the world allocates; the packet path must not. What a storm
	// of 10 000 probes allocates beyond one of 5000, per event it adds, is
	// the steady state's figure.
	short, nshort := runAllocs(b, storm("5000"))
	long, nlong := runAllocs(b, storm("10000"))
	b.Logf("allocs: %d for %d events, %d for %d", short, nshort, long, nlong)
	b.ReportMetric(float64(int64(long)-int64(short))/float64(nlong-nshort), "steady-allocs/event")
}

// runAllocs runs the scenario file src three times and returns the
// fewest heap allocations a run made (the runtime's own, from other
// goroutines, land in some) and its events.
func runAllocs(b *testing.B, src []byte) (allocs, events uint64) {
	f := mustParse(b, "run.yaml", src)
	allocs = math.MaxUint64
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		rep := runPassing(b, f)
		runtime.ReadMemStats(&m1)
		allocs, events = min(allocs, m1.Mallocs-m0.Mallocs), rep.Events
	}
	return allocs, events
}

// mustParse parses the scenario file src; an error fails the benchmark.
func mustParse(b *testing.B, name string, src []byte) *scenario.File {
	f, err := scenario.Parse(name, src)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// runPassing runs f once; a run that fails a step fails the benchmark.
func runPassing(b *testing.B, f *scenario.File) *scenario.Report {
	rep, err := scenario.Run(f, scenario.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if !rep.OK() {
		b.Fatalf("%s: %d steps failed", f.Name, rep.Failed)
	}
	return rep
}

// benchRun runs the scenario file src once per iteration, each run passing,
// and reports its events per run, per second of wall time, and the heap
// allocations per event (building the world included).
func benchRun(b *testing.B, name string, src []byte) {
	f := mustParse(b, name, src)
	b.ReportAllocs()
	var events uint64
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		events += runPassing(b, f).Events
	}
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(events), "allocs/event")
}
