package main

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/netns"
)

func TestParseJoin(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"192.168.56.12", []string{"192.168.56.12:7946"}, false},
		{"192.168.56.12:8000", []string{"192.168.56.12:8000"}, false},
		{"192.168.56.12, 192.168.56.13:7947", []string{"192.168.56.12:7946", "192.168.56.13:7947"}, false},
		{"fd00::2", []string{"[fd00::2]:7946"}, false},
		{"[fd00::2]:8000", []string{"[fd00::2]:8000"}, false},
		{"::ffff:192.168.56.12", []string{"192.168.56.12:7946"}, false},
		{"host2", nil, true},
		{"192.168.56.12:0", nil, true},
		{"192.168.56.12,", nil, true},
		{"192.168.56.300", nil, true},
	} {
		got, err := parseJoin(c.in)
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if (err != nil) != c.bad || !slices.Equal(s, c.want) {
			t.Errorf("parseJoin(%q) = %v, %v; want %v (error: %v)", c.in, s, err, c.want, c.bad)
		}
	}
	if _, err := parseJoin("host2"); err == nil || !strings.Contains(err.Error(), `"host2" is not an address`) {
		t.Errorf("parseJoin(host2): %v", err)
	}
}

// TestUpHostFlags: up's help names --host and --join and what --host
// leaves out; --join alone is a command-line error, said before anything
// is read or made.
func TestUpHostFlags(t *testing.T) {
	code, out, _ := netyard("up", "--help")
	for _, want := range []string{"[--host NAME [--join ADDR[,ADDR]]]", "-host NAME", "-join ADDR[:PORT],...", "LAN leg then has no cable", "UDP 7946"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("netyard up --help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "testdata/two-machines.yaml", "--join", "192.168.56.12"}, "--join needs --host"},
		{[]string{"up", "testdata/two-machines.yaml", "--host", "host1", "--join", "host2"}, `--join: "host2" is not an address`},
	} {
		code, _, errOut := netyard(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("netyard %s: exit %d, %q; want 2 and %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

// TestUpHostRefusals: --host naming no Docker host of the file, or given
// a file with none, is a clear error before anything is made.
func TestUpHostRefusals(t *testing.T) {
	needRoot(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "testdata/two-machines.yaml", "--host", "hots2"}, `--host: topo: no Docker host "hots2" (the plan has host1, host2); did you mean host2?`},
		{[]string{"up", "testdata/two-machines.yaml", "--host", "web"}, `no Docker host "web"`},
		{[]string{"up", "../../scenarios/l2-learning.yaml", "--host", "host1"}, "the plan has no Docker hosts"},
	} {
		code, out, errOut := netyard(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Contains(out, "is up") {
			t.Errorf("netyard %s: exit %d, %q; want 2 and %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

// TestUpHostWithoutOverlay: a Docker host on no overlay network is a part
// too: its bridge networks and containers, up alone, and the output says
// it joins nobody.
func TestUpHostWithoutOverlay(t *testing.T) {
	needRoot(t)
	cmd := exec.Command(os.Args[0], "up", "../../scenarios/docker-two-hosts.yaml", "--host", "host2")
	cmd.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	var lines []string
	prefix := ""
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "try:") {
		lines = append(lines, sc.Text())
		if _, rest, ok := strings.Cut(sc.Text(), "is up (run "); ok {
			prefix, _, _ = strings.Cut(rest, ")")
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	text := strings.Join(lines, "\n")
	t.Logf("netyard up --host host2:\n%s", text)
	if prefix == "" {
		t.Fatalf("netyard up --host host2 never came up:\n%s", text)
	}
	for _, want := range []string{"host2's part of docker-two-hosts is up", "host2 is on no overlay network: it joins no other host",
		"not here: host1 (containers web1), each Docker host on its own machine", "not here: the LAN switch and the clients on it (client)", "no cable: this machine's network is the underlay"} {
		if !strings.Contains(text, want) {
			t.Errorf("up --host host2 does not say %q:\n%s", want, text)
		}
	}
	for _, absent := range []string{"web1", "client"} {
		if l := leftovers(t, prefix); slices.Contains(l, "namespace "+prefix+"-"+absent) {
			t.Errorf("%s is host1's or the LAN's, but has a namespace here: %v", absent, l)
		}
	}
	if _, err := exec.LookPath("ping"); err == nil {
		ex := exec.Command(os.Args[0], "exec", "--run", prefix, "tool2", "--", "ping", "-c", "1", "-W", "3", "web2")
		ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
		if b, err := ex.CombinedOutput(); err != nil {
			t.Errorf("tool2 pings web2 on host2's own network: %v\n%s", err, b)
		}
	}
	interrupt(t, cmd, prefix)
}

// TestUpHostNotThisMachine: a host whose address from the file is not
// this machine's cannot bind its sockets; up says so and leaves nothing.
func TestUpHostNotThisMachine(t *testing.T) {
	needRoot(t)
	code, out, errOut := netyard("up", "testdata/two-machines.yaml", "--host", "host1")
	if code != 1 || !strings.Contains(errOut, "host1's address 192.168.56.11 is not an address of this machine") || strings.Contains(out, "is up") {
		t.Errorf("up --host host1 where 192.168.56.11 is not here: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if runs, _, _ := netns.Runs(); len(runs) > 0 {
		t.Errorf("runs left behind: %+v", runs)
	}
}
