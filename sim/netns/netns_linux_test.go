package netns

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim/topo"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and TAP devices")
	}
}

// star returns n hosts on one switch, 10.9.0.1 upwards.
func star(n int) *topo.Graph {
	g := &topo.Graph{Switches: []topo.Switch{{Name: "s1"}}}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("h%d", i)
		g.Hosts = append(g.Hosts, topo.Host{Name: name, Ifaces: []topo.Iface{{Name: "eth0", Addr: netip.MustParsePrefix(fmt.Sprintf("10.9.0.%d/24", i))}}})
		g.Links = append(g.Links, topo.Link{A: topo.Endpoint{Node: name, Port: "eth0"}, B: topo.Endpoint{Node: "s1", Port: fmt.Sprintf("p%d", i)}})
	}
	return g
}

func up(t *testing.T, g *topo.Graph, o Options) *Network {
	t.Helper()
	n, err := New(g, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// TestConcurrentTAPPorts has every host ping every other at once, so that
// all TAP readers feed the switch concurrently (run with -race).
func TestConcurrentTAPPorts(t *testing.T) {
	needRoot(t)
	const hosts = 4
	n := up(t, star(hosts), Options{Seed: 1})
	var wg sync.WaitGroup
	for a := 1; a <= hosts; a++ {
		for b := 1; b <= hosts; b++ {
			if a == b {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := n.Ping(fmt.Sprintf("h%d", a), netip.MustParseAddr(fmt.Sprintf("10.9.0.%d", b)), 20, 5*time.Millisecond, 2*time.Second)
				if err != nil || st.Received != st.Sent {
					t.Errorf("h%d -> h%d: %+v %v", a, b, st, err)
				}
			}()
		}
	}
	wg.Wait()
	if fdb, _ := n.FDB("s1"); len(fdb) != hosts {
		t.Errorf("FDB has %d entries, want %d", len(fdb), hosts)
	}
	for i := 1; i <= hosts; i++ {
		st, _ := n.Stats(topo.Endpoint{Node: "s1", Port: fmt.Sprintf("p%d", i)})
		if st.RxFrames == 0 || st.Dropped() != 0 {
			t.Errorf("p%d: %+v", i, st)
		}
	}
}

// TestUDPAndPortUnreachable sends datagrams to a listening and a closed port.
func TestUDPAndPortUnreachable(t *testing.T) {
	needRoot(t)
	n := up(t, star(2), Options{})
	to := netip.MustParseAddr("10.9.0.2")
	if r, err := n.UDP("h1", to, 5000, 2*time.Second); err != nil || !r.Delivered {
		t.Errorf("to a listener: %+v %v", r, err)
	}
	if r, err := n.UDP("h1", netip.MustParseAddr("10.9.0.77"), 5000, 500*time.Millisecond); err != nil || r.Delivered {
		t.Errorf("to nobody: %+v %v", r, err)
	}
}

// deadPID returns a process ID nobody has.
func deadPID(t *testing.T) int {
	for pid := 4194000; pid > 100000; pid-- {
		if !alive(pid) {
			return pid
		}
	}
	t.Fatal("no free pid")
	return 0
}

// TestNamedExecAndCleanup builds named namespaces, runs a command in one,
// then plays a crashed run and cleans up after it.
func TestNamedExecAndCleanup(t *testing.T) {
	needRoot(t)
	old := StateDir
	StateDir = t.TempDir()
	t.Cleanup(func() { StateDir = old })

	n := up(t, star(2), Options{Named: true})
	if _, err := n.SaveState("test.yaml"); err != nil {
		t.Fatal(err)
	}
	ns, err := FindHost("", "h2")
	if err != nil || ns != Prefix+"-h2" {
		t.Fatalf("FindHost = %q, %v", ns, err)
	}
	if _, err := exec.LookPath("ip"); err == nil {
		out, _ := os.CreateTemp(t.TempDir(), "out")
		stdout := os.Stdout
		os.Stdout = out
		code, err := Exec(ns, []string{"ip", "-4", "addr", "show", "eth0"})
		os.Stdout = stdout
		b, _ := os.ReadFile(out.Name())
		if err != nil || code != 0 || !strings.Contains(string(b), "10.9.0.2/24") {
			t.Errorf("exec ip addr in %s: code %d, %v:\n%s", ns, code, err, b)
		}
	}

	// A crashed run: a namespace and a state file under a dead pid.
	pid := deadPID(t)
	prefix := "ny" + strconv.FormatInt(int64(pid), 36)
	h, err := nsutil.New(prefix + "-x")
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := os.WriteFile(filepath.Join(StateDir, prefix+".json"), []byte(`{"prefix":"`+prefix+`","pid":`+strconv.Itoa(pid)+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := Cleanup()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(removed, ", ")
	if !strings.Contains(got, "namespace "+prefix+"-x") || !strings.Contains(got, "state "+prefix) {
		t.Errorf("Cleanup removed %q", got)
	}
	if strings.Contains(got, Prefix) {
		t.Errorf("Cleanup removed the live run's things: %q", got)
	}
	if _, err := vnetns.GetFromName(prefix + "-x"); err == nil {
		t.Error("the crashed run's namespace is still there")
	}
	if _, err := vnetns.GetFromName(Prefix + "-h1"); err != nil {
		t.Error("the live run's namespace is gone")
	}
}

func TestOwner(t *testing.T) {
	for name, want := range map[string]int{"ny1-h1": 1, "nyzzt12": 1295, "ny2xt3": 2*36 + 33, "eth0": 0, "nyt": 0} {
		if got, _ := owner(name); got != want {
			t.Errorf("owner(%q) = %d, want %d", name, got, want)
		}
	}
}
