package netns

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/internal/nsutil/nstest"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/switch/tap"
	"github.com/vishvananda/netlink"
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
	leak.Check(t) // first: it runs after the Close below
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
// all TAP readers feed the switch concurrently (run with -race), with each
// kind of port: readers in Go's poller, egress queues, ppoll and io_uring
// readers.
func TestConcurrentTAPPorts(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
	}{{"poller", Options{}}, {"queued", Options{PortQueue: DefaultPortQueue}}, {"ppoll", Options{PPollReads: true}}, {"uring", Options{URingReads: true}}} {
		t.Run(c.name, func(t *testing.T) {
			if c.o.URingReads {
				if err := tap.URingAvailable(); err != nil {
					t.Skipf("io_uring reader not available here: %v", err)
				}
			}
			c.o.Seed = 1
			concurrentPings(t, c.o)
		})
	}
}

func concurrentPings(t *testing.T, o Options) {
	needRoot(t)
	const hosts = 4
	n := up(t, star(hosts), o)
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
	if fdb, _ := n.World().FDB("s1"); len(fdb) != hosts {
		t.Errorf("FDB has %d entries, want %d", len(fdb), hosts)
	}
	for i := 1; i <= hosts; i++ {
		st, _ := n.World().Stats(topo.Endpoint{Node: "s1", Port: fmt.Sprintf("p%d", i)})
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

func TestMain(m *testing.M) { nstest.Main(m) }

// deadPID returns a process ID nobody has.
func deadPID(t *testing.T) int {
	for pid := 4194000; pid > 100000; pid-- {
		if !alive(pid, 0) {
			return pid
		}
	}
	t.Fatal("no free pid")
	return 0
}

// ip runs the ip command, failing the test on error.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// TestNamedExecAndCleanup builds named namespaces and runs a command in
// one; then, beside objects made by hand with netyard-like names and a
// crashed run's leftovers (some of them since replaced by someone else's),
// it cleans up: exactly the crashed run's own objects go. It runs in the
// package's sandbox (nstest), so nothing here is the host's.
func TestNamedExecAndCleanup(t *testing.T) {
	needRoot(t)
	if !nstest.Inside() {
		t.Fatal("not in the test sandbox: this test would touch the host")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	n := up(t, star(2), Options{Named: true})
	if _, err := n.SaveState("test.yaml"); err != nil {
		t.Fatal(err)
	}
	ns, err := FindHost("", "h2")
	if err != nil || ns != Prefix+"-h2" {
		t.Fatalf("FindHost = %q, %v", ns, err)
	}
	out, _ := os.CreateTemp(t.TempDir(), "out")
	stdout := os.Stdout
	os.Stdout = out
	code, err := Exec(ns, []string{"ip", "-4", "addr", "show", "eth0"})
	os.Stdout = stdout
	b, _ := os.ReadFile(out.Name())
	if err != nil || code != 0 || !strings.Contains(string(b), "10.9.0.2/24") {
		t.Errorf("exec ip addr in %s: code %d, %v:\n%s", ns, code, err, b)
	}

	// Made by hand, with names of netyard's old pattern: all must stay.
	ip(t, "netns", "add", "nyprod-db")
	ip(t, "netns", "add", "nyse-web")
	ip(t, "link", "add", "nyprod-a", "type", "veth", "peer", "name", "nyprod-b")
	ip(t, "link", "add", "nyset1", "type", "veth", "peer", "name", "nyset2")
	ip(t, "tuntap", "add", "dev", "nyprodt1", "mode", "tap")
	if err := os.MkdirAll(resolvConfDir+"/nyprod-db", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(resolvConfDir+"/nyprod-db/resolv.conf", []byte("nameserver 10.1.1.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A crashed run: what it made and still carries its mark goes; what
	// it recorded but someone else holds now stays.
	pid := deadPID(t)
	dead := "ny" + strconv.FormatInt(int64(pid), 36)
	_, idOwn, err := nsutil.NewNamed(dead + "-x")
	if err != nil {
		t.Fatal(err)
	}
	ip(t, "netns", "add", dead+"-y") // its name, someone else's namespace
	ip(t, "netns", "add", dead+"-z") // recorded, never confirmed
	ip(t, "tuntap", "add", "dev", dead+"t1", "mode", "tap")
	ip(t, "link", "set", dead+"t1", "alias", mark(dead))
	ip(t, "tuntap", "add", "dev", dead+"t2", "mode", "tap") // not marked
	for name, content := range map[string]string{dead + "-x": "# " + mark(dead) + "\nnameserver 172.18.0.1\n", dead + "-y": "nameserver 8.8.8.8\n"} {
		os.MkdirAll(resolvConfDir+"/"+name, 0o755)
		os.WriteFile(resolvConfDir+"/"+name+"/resolv.conf", []byte(content), 0o644)
	}
	rec := RunInfo{Prefix: dead, PID: pid, Owned: []Owned{
		{Kind: KindNamespace, Name: dead + "-x", ID: idOwn},
		{Kind: KindNamespace, Name: dead + "-y", ID: idOwn + 1},
		{Kind: KindNamespace, Name: dead + "-z"},
		{Kind: KindDevice, Name: dead + "t1"},
		{Kind: KindDevice, Name: dead + "t2"},
		{Kind: KindResolvConf, Name: dead + "-x"},
		{Kind: KindResolvConf, Name: dead + "-y"},
	}}
	b, _ = json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(StateDir, dead+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(StateDir, "nyzz.json"), []byte(`{"prefix":"nyzz","pid":1,"owned":[{"kind":"namespace","name":"../../etc"}]}`), 0o644)

	sw, err := Cleanup()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sw.Removed)
	want := []string{"device " + dead + "t1", "namespace " + dead + "-x", "resolv.conf " + dead + "-x", "state " + dead}
	if !slices.Equal(sw.Removed, want) {
		t.Errorf("Cleanup removed %q, want %q", sw.Removed, want)
	}
	left := strings.Join(sw.Left, "\n")
	for _, l := range []string{"namespace " + dead + "-y", "namespace " + dead + "-z", "device " + dead + "t2", "resolv.conf " + dead + "-y", "nyzz.json"} {
		if !strings.Contains(left, l) {
			t.Errorf("Cleanup does not say it left %s:\n%s", l, left)
		}
	}
	for _, ns := range []string{"nyprod-db", "nyse-web", dead + "-y", dead + "-z", Prefix + "-h1", Prefix + "-h2"} {
		if !exists(nsutil.NetnsDir + "/" + ns) {
			t.Errorf("namespace %s is gone", ns)
		}
	}
	for _, dev := range []string{"nyprod-a", "nyprod-b", "nyset1", "nyset2", "nyprodt1", dead + "t2"} {
		if _, err := netlink.LinkByName(dev); err != nil {
			t.Errorf("device %s is gone: %v", dev, err)
		}
	}
	for _, f := range []string{resolvConfDir + "/nyprod-db/resolv.conf", resolvConfDir + "/" + dead + "-y/resolv.conf", filepath.Join(StateDir, Prefix+".json")} {
		if !exists(f) {
			t.Errorf("%s is gone", f)
		}
	}
	if exists(nsutil.NetnsDir+"/"+dead+"-x") || exists(resolvConfDir+"/"+dead+"-x") {
		t.Error("the crashed run's own namespace or resolv.conf is still there")
	}
}

// TestSetupFailureLeavesNothing: a topology that fails halfway through
// being built (h1 made, then h2's namespace name or resolv.conf directory
// found taken by someone else) is one clear error, not a panic, leaves
// nothing of its own behind and leaves the other's object alone; names
// that would escape their directory never get that far.
func TestSetupFailureLeavesNothing(t *testing.T) {
	needRoot(t)
	leak.Check(t)
	for _, tc := range []struct {
		name string
		edit func(g *topo.Graph)
		take func(t *testing.T) string // makes someone else's object, returns its path
		want string
	}{
		{"namespace name taken", nil, func(t *testing.T) string {
			ip(t, "netns", "add", Prefix+"-h2")
			return nsutil.NetnsDir + "/" + Prefix + "-h2"
		}, "exists already"},
		{"resolv.conf directory taken", func(g *topo.Graph) { g.Hosts[1].Nameserver = netip.MustParseAddr("10.9.0.1") }, func(t *testing.T) string {
			os.MkdirAll(resolvConfDir+"/"+Prefix+"-h2", 0o755)
			return resolvConfDir + "/" + Prefix + "-h2"
		}, "exists already"},
		{"interface ..", func(g *topo.Graph) { g.Hosts[1].Ifaces[0].Name = ".."; g.Links[1].A.Port = ".." }, nil, "interface name"},
		{"host name of 300 bytes", func(g *topo.Graph) { g.Hosts[1].Name = strings.Repeat("h", 300); g.Links[1].A.Node = g.Hosts[1].Name }, nil, "300 bytes"},
		{"host name escaping", func(g *topo.Graph) { g.Hosts[1].Name = "a/../../../../tmp/X"; g.Links[1].A.Node = g.Hosts[1].Name }, nil, "letters, digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var theirs string
			if tc.take != nil {
				theirs = tc.take(t)
			}
			before := snapshot(t)
			g := star(2)
			if tc.edit != nil {
				tc.edit(g)
			}
			n, err := New(g, Options{Named: true})
			if err == nil {
				n.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error saying %q", err, tc.want)
			}
			if after := snapshot(t); !slices.Equal(after, before) {
				t.Errorf("left behind: %v (before: %v)", after, before)
			}
			if theirs != "" {
				if !exists(theirs) {
					t.Errorf("%s, someone else's, is gone", theirs)
				}
				if strings.HasPrefix(theirs, nsutil.NetnsDir) {
					ip(t, "netns", "del", filepath.Base(theirs))
				} else {
					os.Remove(theirs)
				}
			}
			if exists("/tmp/X") {
				t.Error("/tmp/X was made")
			}
		})
	}
}

// snapshot lists the namespaces, devices, resolv.conf directories and
// state files there are.
func snapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{nsutil.NetnsDir, resolvConfDir, StateDir} {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			out = append(out, dir+"/"+e.Name())
		}
	}
	ls, _ := netlink.LinkList()
	for _, l := range ls {
		out = append(out, "device "+l.Attrs().Name)
	}
	slices.Sort(out)
	return out
}

// TestReusedPIDIsNotAlive: a run whose pid now belongs to another process
// (another start time) is dead.
func TestReusedPIDIsNotAlive(t *testing.T) {
	me := os.Getpid()
	if !alive(me, started(me)) || !alive(me, 0) {
		t.Fatal("this process is not alive")
	}
	if alive(me, started(me)+1) {
		t.Error("a pid with another start time is alive")
	}
}

// TestListenersKeepNothing: a host's UDP listener that hears a thousand
// datagrams nobody waits for keeps none of them (it once recorded every
// payload for the run's whole life); a probe still finds its own.
func TestListenersKeepNothing(t *testing.T) {
	needRoot(t)
	g := star(2)
	g.Hosts[1].ListenUDP = []uint16{7000}
	n := up(t, g, Options{})
	var c net.Conn
	if err := nsutil.Do(n.hosts["h1"].ns, func() (err error) {
		c, err = net.Dial("udp4", "10.9.0.2:7000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 1000 {
		fmt.Fprintf(c, "noise %d", i)
	}
	// The noise may fill the listener's socket buffer on a busy machine
	// and crowd a probe out: a probe must get through eventually.
	delivered := false
	for try := 0; try < 10 && !delivered; try++ {
		r, err := n.UDP("h1", netip.MustParseAddr("10.9.0.2"), 7000, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		delivered = r.Delivered
	}
	if !delivered {
		t.Fatal("no probe got through in 10 tries")
	}
	n.udpMu.Lock()
	defer n.udpMu.Unlock()
	if len(n.udpWant) != 0 {
		t.Errorf("%d payloads kept after the probe", len(n.udpWant))
	}
}
