package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func netyard(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestRunPasses(t *testing.T) {
	code, out, errOut := netyard("run", "../../scenarios/l2-learning.yaml", "--seed", "3")
	if code != 0 || !strings.Contains(out, "7 passed, 0 failed") || !strings.Contains(out, "seed 3") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestExplainNarrates(t *testing.T) {
	_, out, _ := netyard("run", "--explain", "../../scenarios/l2-learning.yaml")
	for _, want := range []string{
		"s1 learned 02:00:00:00:00:01 (h1) on p1 vlan 1",
		"s1 02:00:00:00:00:01 (h1) -> ff:ff:ff:ff:ff:ff vlan 1 from p1: broadcast, flooded to p2 p3",
		"destination known on p2, forwarded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--explain lacks %q", want)
		}
	}
}

func TestJSONAndPcap(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "out.pcapng")
	code, out, errOut := netyard("run", "../../scenarios/vlan-isolation.yaml", "--json", "--pcap", pcap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Passed, Failed int
		Steps          []struct{ Pass bool }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if rep.Failed != 0 || rep.Passed != len(rep.Steps) || rep.Passed == 0 {
		t.Errorf("report %+v", rep)
	}
	if b, err := os.ReadFile(pcap); err != nil || !bytes.HasPrefix(b, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("pcapng not written (%v)", err)
	}
}

func TestFailingScenarioExitsOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fail.yaml")
	src := "switches: [{name: s1}]\nhosts: [{name: h1, address: 10.0.0.1/24}, {name: h2, address: 10.0.0.2/24}]\nlinks: ['h1 -- s1:p1']\nsteps: [{ping: {from: h1, to: h2}}]\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := netyard("run", path)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "0 passed, 1 failed") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestBadFileIsOneClearError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("name: x\nhosts:\n  - {name: h1, address: 10.0.0.300/24}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "validate"} {
		code, _, errOut := netyard(cmd, path)
		want := path + `:3: bad CIDR "10.0.0.300/24"`
		if code != 2 || !strings.Contains(errOut, want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", cmd, code, errOut, want)
		}
	}
}

func TestUsage(t *testing.T) {
	if code, _, e := netyard(); code != 2 || !strings.Contains(e, "usage") {
		t.Errorf("no args: exit %d, %q", code, e)
	}
	if code, _, _ := netyard("frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, out, _ := netyard("validate", "../../scenarios/l2-learning.yaml"); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("validate: exit %d, %q", code, out)
	}
}

// TestREADMEStaysTrue runs the README's example scenario and checks that the
// demo output it shows is what make demo prints.
func TestREADMEStaysTrue(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	examples := 0
	for rest := text; ; examples++ {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		example, tail, _ := strings.Cut(after, "```")
		rest = tail
		path := filepath.Join(t.TempDir(), "readme.yaml")
		if err := os.WriteFile(path, []byte(example), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := netyard("run", path); code != 0 {
			t.Errorf("README example %d: exit %d\n%s%s", examples+1, code, out, errOut)
		}
	}
	if examples == 0 {
		t.Fatal("README has no yaml example")
	}

	_, after, ok := strings.Cut(text, "<!-- make demo's output")
	if !ok {
		t.Fatal("README does not show make demo's output")
	}
	_, after, _ = strings.Cut(after, "```\n")
	shown, _, _ := strings.Cut(after, "```")
	t.Chdir("../..") // make demo runs from the top of the repository
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, _ := strings.Cut(string(mk), "\ndemo:\n")
	recipe, _, _ = strings.Cut(recipe, "\n")
	_, args, ok := strings.Cut(recipe, "./cmd/netyard ")
	if !ok {
		t.Fatalf("make demo's recipe %q does not run ./cmd/netyard", recipe)
	}
	_, demo, _ := netyard(strings.Fields(args)...)
	// The lines shown must be make demo's, in its order; "..." stands for
	// lines left out.
	printed := strings.Split(demo, "\n")
	at := 0
	for _, line := range strings.Split(shown, "\n") {
		if strings.TrimSpace(line) == "..." || line == "" {
			continue
		}
		i := slices.Index(printed[at:], line)
		if i < 0 {
			if slices.Contains(printed, line) {
				t.Errorf("README shows a line of make demo out of its order:\n%s", line)
			} else {
				t.Errorf("README shows a line make demo does not print:\n%s", line)
			}
			continue
		}
		at += i + 1
	}
}

func TestDraw(t *testing.T) {
	code, out, errOut := netyard("draw", "../../scenarios/docker-bridge-tutorial.yaml")
	if code != 0 || !strings.HasPrefix(out, "graph netyard {") || !strings.Contains(out, `"br-mybridge" -- "containerA"`) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, _, _ := netyard("draw"); code != 2 {
		t.Errorf("draw without a file: exit %d, want 2", code)
	}
	if code, _, _ := netyard("draw", "../../scenarios/nosuch.yaml"); code != 2 {
		t.Errorf("draw of a missing file: exit %d, want 2", code)
	}
}

// TestEveryHelp: every command's --help (and -h, and netyard help CMD)
// prints its help on stdout, exits 0 and does nothing else: cleanup does
// not clean up, run does not run.
func TestEveryHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}, {c.name, "../../scenarios/l2-learning.yaml", "--help"}} {
			if (c.name == "help" || c.name == "exec") && len(args) > 2 && args[0] == c.name {
				continue // help takes a command there; exec, the command to run
			}
			code, out, errOut := netyard(args...)
			if code != 0 || !strings.HasPrefix(out, "usage: netyard "+c.name) || errOut != "" {
				t.Errorf("netyard %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
			}
			for _, did := range []string{"nothing to clean up", "removed ", " passed, 0 failed", "ok (", "graph netyard"} {
				if strings.Contains(out, did) {
					t.Errorf("netyard %s did something: %q", strings.Join(args, " "), did)
				}
			}
		}
	}
	if code, out, _ := netyard("--help"); code != 0 || !strings.Contains(out, "usage:") {
		t.Errorf("netyard --help: exit %d", code)
	}
}

// TestFlagsCheckedFirst: a bad flag value is a command-line error (exit
// 2), said before any file is read.
func TestFlagsCheckedFirst(t *testing.T) {
	code, _, errOut := netyard("run", "--backend", "docker", "../../scenarios/nosuch.yaml")
	if code != 2 || !strings.Contains(errOut, `--backend "docker": want mem, netns or both`) || strings.Contains(errOut, "nosuch") {
		t.Errorf("--backend docker: exit %d, %q", code, errOut)
	}
	if os.Geteuid() != 0 {
		for _, args := range [][]string{{"run", "--backend", "both", "../../scenarios/nosuch.yaml"}, {"up", "../../scenarios/nosuch.yaml"}} {
			code, _, errOut := netyard(args...)
			if code != 2 || !strings.Contains(errOut, "needs root") || strings.Contains(errOut, "nosuch") || strings.Contains(errOut, "--backend mem needs none") && args[0] == "up" {
				t.Errorf("netyard %s as non-root: exit %d, %q", strings.Join(args, " "), code, errOut)
			}
		}
	}
	if code, _, errOut := netyard("run", "--seed", "x", "a.yaml"); code != 2 || !strings.Contains(errOut, "invalid value") {
		t.Errorf("--seed x: exit %d, %q", code, errOut)
	}
}

func TestExecSaysWhatIsMissing(t *testing.T) {
	for args, want := range map[string]string{
		"exec":               "which node",
		"exec h1":            "and which command",
		"exec h1 ping h2":    "put -- between the node and the command: netyard exec h1 -- ping h2",
		"exec h1 --":         "no command after --",
		"exec --run x":       "which node",
		"exec --bogus h1 --": "flag provided but not defined",
	} {
		code, _, errOut := netyard(strings.Fields(args)...)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("netyard %s: exit %d, %q; want 2 and %q", args, code, errOut, want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, _ := netyard(args...); code != 0 || !strings.HasPrefix(out, "netyard ") || !strings.Contains(out, "go1.") {
			t.Errorf("netyard %v: exit %d, %q", args, code, out)
		}
	}
}

func TestLsJSON(t *testing.T) {
	code, out, errOut := netyard("ls", "--json")
	if runtime.GOOS != "linux" {
		t.Skip("ls needs Linux")
	}
	var runs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil {
		t.Errorf("ls --json: exit %d, %q %q", code, out, errOut)
	}
}

// TestJSONIsData: --json gives times and counts as numbers, each step
// kind's results in fields of their own, and no HTML escapes; trace lines
// carry their step's number.
func TestJSONIsData(t *testing.T) {
	tj := filepath.Join(t.TempDir(), "trace.jsonl")
	code, out, errOut := netyard("run", "../../scenarios/impaired-link.yaml", "--json", "--trace-json", tj)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, `\u003e`) {
		t.Error(`--json escapes ">" as \u003e`)
	}
	var rep struct {
		Elapsed float64
		Steps   []struct {
			Step int
			At   float64
			Seen struct {
				Sent, Received int
				RTT            struct{ Min, Avg, Max float64 }
				Errors         map[string]int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	s := rep.Steps[1]
	if rep.Elapsed <= 13 || s.At != 2.03 || s.Seen.Sent != 100 || s.Seen.Received != 84 || s.Seen.RTT.Min != 0.03 || s.Seen.Errors["no reply within the timeout"] != 16 {
		t.Errorf("report: elapsed %v, step 2 %+v", rep.Elapsed, s)
	}
	b, err := os.ReadFile(tj)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct {
			Step *int
			T    float64
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Step == nil {
			t.Fatalf("trace line without a step: %s (%v)", line, err)
		}
		steps[*e.Step] = true
	}
	if !steps[1] || !steps[4] || strings.Contains(string(b), `\u003e`) {
		t.Errorf("trace lines name steps %v", steps)
	}
}
