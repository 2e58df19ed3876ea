package netns

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// TestSTPWithLinuxBridge joins two netyard switches and a Linux kernel
// bridge with stp_state 1 into one loop: both sides must agree on the root
// and on which port is cut, no storm may form, and pings must cross.
func TestSTPWithLinuxBridge(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip to make the kernel bridge")
	}
	if _, err := os.Stat("/sys/class/net"); err != nil {
		t.Skip("needs sysfs")
	}
	prio := uint16(4096)
	timers := vswitch.STPConfig{HelloTime: time.Second, MaxAge: 6 * time.Second, ForwardDelay: 4 * time.Second}
	root := timers
	root.Priority = &prio
	pfx := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	g := &topo.Graph{
		Switches: []topo.Switch{{Name: "s1", STP: &root}, {Name: "s2", STP: &timers}},
		Hosts: []topo.Host{
			{Name: "kb", Ifaces: []topo.Iface{{Name: "eth0", Addr: pfx("10.0.9.1/24")}, {Name: "eth1", Addr: pfx("10.0.9.2/24")}}},
			{Name: "h1", Ifaces: []topo.Iface{{Name: "eth0", Addr: pfx("10.0.0.1/24")}}},
			{Name: "h2", Ifaces: []topo.Iface{{Name: "eth0", Addr: pfx("10.0.0.2/24")}}},
		},
		Links: []topo.Link{
			{A: ep("s1", "p1"), B: ep("s2", "p1")},
			{A: ep("s1", "p2"), B: ep("kb", "eth0")},
			{A: ep("s2", "p2"), B: ep("kb", "eth1")},
			{A: ep("h1", "eth0"), B: ep("s1", "p9")},
			{A: ep("h2", "eth0"), B: ep("s2", "p9")},
		},
	}
	n := up(t, g, Options{Named: true, FrameBudget: 1_000_000})
	ns := n.Namespace("kb")
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// kb becomes a kernel bridge over its two interfaces, 10.0.0.9 on br0.
	ip("link", "add", "br0", "type", "bridge", "stp_state", "1", "hello_time", "100", "max_age", "600", "forward_delay", "400")
	for _, dev := range []string{"eth0", "eth1"} {
		ip("addr", "flush", "dev", dev)
		ip("link", "set", dev, "master", "br0")
	}
	ip("addr", "add", "10.0.0.9/24", "dev", "br0")
	ip("link", "set", "br0", "up")
	sysfs := func(path string) string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/sys/class/net/"+path).CombinedOutput()
		if err != nil {
			t.Fatalf("read %s in %s: %v\n%s", path, ns, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	time.Sleep(11 * time.Second) // listening 4 s + learning 4 s, and margin

	s1, _ := n.World().STP("s1")
	if got := sysfs("br0/bridge/root_id"); got != s1.Bridge.String() {
		t.Errorf("the kernel bridge's root is %s, want s1 (%s)", got, s1.Bridge)
	}
	for _, sw := range []string{"s1", "s2"} {
		if st, _ := n.World().STP(sw); st.Root != s1.Bridge {
			t.Errorf("%s thinks the root is %s", sw, st.Root)
		}
	}
	// kb's ID (8000.020000000001, its lowest port MAC) beats s2's
	// (8000.020000010002), so the kernel is designated on the s2-kb segment
	// and s2:p2 is the cut.
	s2, _ := n.World().STP("s2")
	for _, p := range s2.Ports {
		if p.Port == "p2" && (p.Role != vswitch.RoleAlternate || p.State != vswitch.StateBlocking) {
			t.Errorf("s2:p2 is %v/%v, want alternate/blocking", p.Role, p.State)
		}
	}
	const forwarding = "3" // BR_STATE_FORWARDING
	for _, dev := range []string{"eth0", "eth1"} {
		if st := sysfs("br0/brif/" + dev + "/state"); st != forwarding {
			t.Errorf("kernel port %s is in state %s, want forwarding (3)", dev, st)
		}
	}
	for _, from := range []string{"h1", "h2"} {
		if st, err := n.Ping(from, netip.MustParseAddr("10.0.0.9"), 3, 200*time.Millisecond, 2*time.Second); err != nil || st.Received != 3 {
			t.Errorf("%s -> the kernel bridge: %+v %v", from, st, err)
		}
	}
	if st, err := n.Ping("h1", netip.MustParseAddr("10.0.0.2"), 3, 200*time.Millisecond, 2*time.Second); err != nil || st.Received != 3 {
		t.Errorf("h1 -> h2 across the loop: %+v %v", st, err)
	}
	if spent, frames := n.World().Exhausted(); spent || frames > 5000 {
		t.Errorf("%d frames on links: a storm?", frames)
	}
}

func ep(node, port string) topo.Endpoint { return topo.Endpoint{Node: node, Port: port} }
