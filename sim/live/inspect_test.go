package live_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/backend"
	_ "github.com/netyard/netyard/sim/kinds/nic"
	_ "github.com/netyard/netyard/sim/kinds/router"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/scenario"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// inspectWorld runs scenario file name (in scenarios/) in mem, without its steps.
func inspectWorld(t *testing.T, name string) *mem.Network {
	t.Helper()
	f, err := scenario.Load(filepath.Join("..", "..", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	n, err := mem.New(g, mem.Options{Seed: f.Seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.World().Close() })
	return n
}

var (
	publishB     = netip.MustParseAddr("172.18.0.10")
	publishHost1 = netip.MustParseAddr("192.168.56.11")
)

// inspectPublish is docker-publish after some traffic: containerA pings
// containerB (both learned on br-mybridge), the client connects to the
// published 8080 (a published flow in host1's conntrack); then 1.5s pass.
func inspectPublish(t *testing.T) *mem.Network {
	t.Helper()
	n := inspectWorld(t, "docker-publish.yaml")
	if st, err := n.Ping("containerA", publishB, 2, time.Second, time.Second); err != nil || st.Received != 2 {
		t.Fatalf("ping containerA -> containerB: %+v, %v", st, err)
	}
	if r, err := n.Dial("client", netip.AddrPortFrom(publishHost1, 8080), time.Second); err != nil || r.Result != backend.Open {
		t.Fatalf("client -> host1:8080: %+v, %v", r, err)
	}
	if err := n.Wait(1500 * time.Millisecond); err != nil { // the entries age
		t.Fatal(err)
	}
	return n
}

// inspectJSON returns v as JSON decoded into plain maps, the shape a client
// of the API sees.
func inspectJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// inspectFind returns the element of list whose key is value.
func inspectFind(t *testing.T, list any, key, value string) map[string]any {
	t.Helper()
	for _, x := range list.([]any) {
		if m := x.(map[string]any); m[key] == value {
			return m
		}
	}
	t.Fatalf("no %s %q in %v", key, value, list)
	return nil
}

// TestInspectAgreesWithTheWorld: the JSON of docker-publish says what the
// plan and the traffic made, in Docker's words for networks and
// containers.
func TestInspectAgreesWithTheWorld(t *testing.T) {
	n := inspectPublish(t)
	m := inspectJSON(t, live.Inspect(n.World()))

	mybridge := inspectFind(t, m["networks"], "Name", "mybridge")
	cfg := mybridge["IPAM"].(map[string]any)["Config"].([]any)[0].(map[string]any)
	if cfg["Subnet"] != "172.18.0.0/16" || cfg["Gateway"] != "172.18.0.1" {
		t.Errorf("mybridge's IPAM.Config = %v, want Subnet 172.18.0.0/16, Gateway 172.18.0.1", cfg)
	}
	if mybridge["Driver"] != "bridge" || mybridge["Scope"] != "local" || mybridge["Bridge"] != "br-mybridge" || mybridge["Host"] != "host1" {
		t.Errorf("mybridge = %v", mybridge)
	}
	var b map[string]any
	for _, e := range mybridge["Containers"].(map[string]any) {
		if e := e.(map[string]any); e["Name"] == "containerB" {
			b = e
		}
	}
	if b == nil {
		t.Fatalf("containerB is not in mybridge's Containers: %v", mybridge["Containers"])
	}
	if b["IPv4Address"] != "172.18.0.10/16" || b["MacAddress"] != "02:42:ac:12:00:0a" || b["IPv6Address"] != "" {
		t.Errorf("containerB on mybridge = %v, want IPv4Address 172.18.0.10/16, MacAddress 02:42:ac:12:00:0a", b)
	}

	cb := inspectFind(t, m["containers"], "Name", "containerB")
	ep := cb["Networks"].(map[string]any)["mybridge"].(map[string]any)
	if cb["State"] != "running" || ep["IPAddress"] != "172.18.0.10" || ep["IPPrefixLen"] != 16.0 || ep["Gateway"] != "172.18.0.1" ||
		ep["MacAddress"] != "02:42:ac:12:00:0a" || !slices.Equal(ep["Aliases"].([]any), []any{"web"}) {
		t.Errorf("containerB = %v", cb)
	}
	if p := cb["Ports"].(map[string]any)["80/tcp"]; p == nil || p.([]any)[0].(map[string]any)["HostPort"] != "8080" {
		t.Errorf("containerB's Ports[80/tcp] = %v, want host port 8080", p)
	}
	for _, c := range m["containers"].([]any) {
		if c.(map[string]any)["Name"] == "client" {
			t.Error("the LAN client is listed as a Docker container")
		}
	}

	sw := inspectFind(t, m["switches"], "name", "br-mybridge")
	for mac, port := range map[string]string{"02:42:ac:12:00:02": "containerA", "02:42:ac:12:00:0a": "containerB"} {
		e := inspectFind(t, sw["fdb"], "mac", mac)
		if e["port"] != port || e["vlan"] != 1.0 || e["host"] != port {
			t.Errorf("br-mybridge's FDB entry of %s = %v, want port %s", mac, e, port)
		}
	}

	gw := inspectFind(t, m["gateways"], "name", "host1")
	var published map[string]any
	for _, f := range gw["nat"].([]any) {
		if f := f.(map[string]any); f["kind"] == "published" && f["orig_dst"] == "192.168.56.11:8080" {
			published = f
		}
	}
	if published == nil || published["proto"] != "tcp" || published["orig_src"] != "192.168.56.12:"+inspectPort(published["orig_src"]) ||
		published["reply_src"] != "172.18.0.10:80" || published["expires"].(float64) <= 0 {
		t.Errorf("host1's published flow to 8080 = %v (nat %v)", published, gw["nat"])
	}
	p := inspectFind(t, gw["published"], "host", "192.168.56.11:8080")
	if p["to"] != "172.18.0.10:80" || p["container"] != "containerB" || p["proto"] != "tcp" {
		t.Errorf("host1's published 8080 = %v", p)
	}
	web := inspectFind(t, gw["dns"], "name", "containerB")
	if web["network"] != "mybridge" || web["addr"] != "172.18.0.10" || !slices.Equal(web["aliases"].([]any), []any{"web"}) {
		t.Errorf("host1's DNS record of containerB = %v", web)
	}
	alloc := inspectFind(t, gw["ipam"], "network", "mybridge")
	if !slices.Equal(alloc["allocated"].([]any), []any{"172.18.0.2", "172.18.0.10"}) || alloc["subnet"] != "172.18.0.0/16" {
		t.Errorf("host1's IPAM of mybridge = %v", alloc)
	}

	if nb := inspectFind(t, gw["arp"], "addr", "172.18.0.10"); nb["mac"] != "02:42:ac:12:00:0a" || nb["host"] != "containerB" {
		t.Errorf("host1's neighbour 172.18.0.10 = %v", nb)
	}

	client := inspectFind(t, m["hosts"], "name", "client")
	if client["kind"] != "client" || inspectFind(t, client["ifaces"], "name", "eth0")["addr"] != "192.168.56.12/24" {
		t.Errorf("client = %v", client)
	}
	a := inspectFind(t, m["hosts"], "name", "containerA")
	if a["kind"] != "container" || a["gateway"] != "172.18.0.1" || a["nameserver"] != "127.0.0.11" {
		t.Errorf("containerA = %v", a)
	}
	l := inspectFind(t, m["links"], "a", "br-mybridge:containerB")
	if l["b"] != "containerB:eth0" || l["up"] != true || l["name"] != "br-mybridge:containerB -- containerB:eth0" || l["a_to_b"].(map[string]any)["sent"].(float64) == 0 {
		t.Errorf("containerB's link = %v", l)
	}
}

// inspectPort returns the port of "addr:port", as a string.
func inspectPort(v any) string {
	ap, err := netip.ParseAddrPort(v.(string))
	if err != nil {
		return ""
	}
	return ap.String()[len(ap.Addr().String())+1:]
}

// TestInspectOne: each kind of name finds its thing; a bridge's name
// gives its network and its switch.
func TestInspectOne(t *testing.T) {
	n := inspectPublish(t)
	w := n.World()
	for name, want := range map[string]string{
		"mybridge": "network", "br-mybridge": "network", "host1/mybridge": "network", "bridge": "network", "docker0": "network",
		"lan": "switch", "host1": "gateway", "containerB": "container", "client": "host",
		"client:eth0": "link", "lan:client": "link", "lan:client -- client:eth0": "link",
	} {
		v, err := live.InspectOne(w, name)
		if err != nil {
			t.Errorf("InspectOne(%q): %v", name, err)
			continue
		}
		o := v.(live.One)
		if o.Kind != want {
			t.Errorf("InspectOne(%q) is a %s, want a %s", name, o.Kind, want)
		}
		var buf bytes.Buffer
		if err := live.WriteText(&buf, v); err != nil || buf.Len() == 0 {
			t.Errorf("WriteText(InspectOne(%q)): %q, %v", name, buf.String(), err)
		}
	}
	v, _ := live.InspectOne(w, "br-mybridge")
	o := v.(live.One)
	if o.Network == nil || o.Network.Name != "mybridge" || o.Switch == nil || o.Switch.Name != "br-mybridge" || len(o.Switch.FDB) == 0 {
		t.Errorf("InspectOne(br-mybridge) = %+v, want mybridge and its switch's tables", o)
	}
	v, _ = live.InspectOne(w, "containerB")
	if o := v.(live.One); o.Container == nil || o.Host == nil || len(o.Host.Ifaces) != 1 || o.Host.Ifaces[0].Addr != "172.18.0.10/16" {
		t.Errorf("InspectOne(containerB) = %+v, want the container and its sandbox", o)
	}
	for _, name := range []string{"nosuch", "", "containerB:eth9", "host2/mybridge"} {
		if _, err := live.InspectOne(w, name); !errors.Is(err, live.ErrNotFound) {
			t.Errorf("InspectOne(%q): %v, want ErrNotFound", name, err)
		}
	}
}

// TestInspectSTP: on stp-triangle once converged, exactly one port of the
// loop is left alternate and blocking (s3:p2), and s1 is everyone's
// root.
func TestInspectSTP(t *testing.T) {
	n := inspectWorld(t, "stp-triangle.yaml")
	if err := n.Wait(40 * time.Second); err != nil {
		t.Fatal(err)
	}
	in := live.Inspect(n.World())
	var blocked []string
	root := ""
	for _, s := range in.Switches {
		if !s.STP.Enabled {
			t.Errorf("%s: STP off", s.Name)
		}
		if s.Name == "s1" {
			root = s.STP.Bridge
			if s.STP.RootPort != "" || s.STP.Cost != 0 {
				t.Errorf("s1, the root, has root port %q, cost %d", s.STP.RootPort, s.STP.Cost)
			}
		}
		for _, p := range s.STP.Ports {
			if p.State != "forwarding" {
				blocked = append(blocked, s.Name+":"+p.Name+" "+p.Role+"/"+p.State)
			}
			if p.Cost != 100 {
				t.Errorf("%s:%s costs %d, want 100 (the default)", s.Name, p.Name, p.Cost)
			}
		}
	}
	if !slices.Equal(blocked, []string{"s3:p2 alternate/blocking"}) {
		t.Errorf("ports not forwarding: %v, want [s3:p2 alternate/blocking]", blocked)
	}
	for _, s := range in.Switches {
		if s.STP.Root != root {
			t.Errorf("%s's root is %s, want s1 (%s)", s.Name, s.STP.Root, root)
		}
	}
	var buf bytes.Buffer
	if err := live.WriteText(&buf, in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("alternate")) {
		t.Errorf("the text does not show the alternate port:\n%s", buf.String())
	}
}

// TestInspectFollowsTheWorld: a disconnect and a stop made while the world
// runs show in the next inspection.
func TestInspectFollowsTheWorld(t *testing.T) {
	n := inspectPublish(t)
	w := n.World()
	if _, err := w.DockerDisconnect("containerA", "mybridge"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DockerStop("containerB"); err != nil {
		t.Fatal(err)
	}
	in := live.Inspect(w)
	for _, net := range in.Networks {
		if net.Name == "mybridge" && len(net.Containers) != 0 {
			t.Errorf("mybridge still lists %v", net.Containers)
		}
	}
	for _, c := range in.Containers {
		switch c.Name {
		case "containerA":
			if _, on := c.Networks["mybridge"]; on || c.State != "running" {
				t.Errorf("containerA after its disconnect = %+v", c)
			}
		case "containerB":
			ep := c.Networks["mybridge"]
			if c.State != "exited" || ep.IPAddress != "" || ep.MacAddress != "" || len(c.Ports) != 0 {
				t.Errorf("containerB stopped = %+v", c)
			}
		}
	}
	for _, g := range in.Gateways {
		if len(g.DNS) != 0 || len(g.Published) != 0 {
			t.Errorf("host1 still has DNS %v, published %v", g.DNS, g.Published)
		}
		for _, a := range g.IPAM {
			if a.Network == "mybridge" && len(a.Allocated) != 0 {
				t.Errorf("mybridge still allocates %v", a.Allocated)
			}
		}
	}
	for _, h := range in.Hosts {
		if (h.Name == "containerA" || h.Name == "containerB") && len(h.Ifaces) != 0 {
			t.Errorf("%s still has %v", h.Name, h.Ifaces)
		}
	}
	if _, err := w.DockerStart("containerB"); err != nil {
		t.Fatal(err)
	}
	v, err := live.InspectOne(w, "containerB")
	if err != nil {
		t.Fatal(err)
	}
	if c := v.(live.One).Container; c.State != "running" || c.Networks["mybridge"].IPAddress != "172.18.0.10" {
		t.Errorf("containerB started again = %+v", c)
	}
}

// TestInspectTextGolden: the tables of docker-publish, everything and
// br-mybridge alone, are these bytes every run (go test -update rewrites
// them).
func TestInspectTextGolden(t *testing.T) {
	var runs [2][]byte
	for i := range runs {
		n := inspectPublish(t)
		var buf bytes.Buffer
		if err := live.WriteText(&buf, live.Inspect(n.World())); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("\n# netyard inspect br-mybridge\n\n")
		v, err := live.InspectOne(n.World(), "br-mybridge")
		if err != nil {
			t.Fatal(err)
		}
		if err := live.WriteText(&buf, v); err != nil {
			t.Fatal(err)
		}
		runs[i] = buf.Bytes()
	}
	if !bytes.Equal(runs[0], runs[1]) {
		t.Fatalf("two runs of the same world inspect differently:\n%s\n---\n%s", runs[0], runs[1])
	}
	golden := filepath.Join("testdata", "inspect-docker-publish.txt")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, runs[0], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestInspectTextGolden -update writes it)", err)
	}
	if !bytes.Equal(runs[0], want) {
		t.Errorf("the text differs from %s (go test -update rewrites it):\n%s", golden, runs[0])
	}
}

// TestInspectEveryScenario: every scenario's world inspects, as JSON and
// as text, and every name the inspection lists is found by InspectOne.
func TestInspectEveryScenario(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := scenario.Load(file)
			if err != nil {
				t.Skipf("does not load: %v", err)
			}
			g, err := f.Graph()
			if err != nil {
				t.Skipf("does not compile: %v", err)
			}
			n, err := mem.New(g, mem.Options{Seed: f.Seed})
			if err != nil {
				t.Skipf("does not build in mem: %v", err)
			}
			defer n.World().Close()
			if err := n.Wait(2 * time.Second); err != nil {
				t.Logf("wait: %v", err)
			}
			w := n.World()
			in := live.Inspect(w)
			if _, err := json.Marshal(in); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := live.WriteText(&buf, in); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range in.Networks {
				names = append(names, x.Host+"/"+x.Name)
			}
			for _, x := range in.Switches {
				names = append(names, x.Name)
			}
			for _, x := range in.Gateways {
				names = append(names, x.Name)
			}
			for _, x := range in.Hosts {
				names = append(names, x.Name)
			}
			for _, x := range in.Links {
				names = append(names, x.Name, x.A, x.B)
			}
			for _, name := range names {
				v, err := live.InspectOne(w, name)
				if err != nil {
					t.Errorf("InspectOne(%q): %v", name, err)
					continue
				}
				if err := live.WriteText(&buf, v); err != nil {
					t.Errorf("WriteText(InspectOne(%q)): %v", name, err)
				}
			}
		})
	}
}

// TestInspectWhileDockerChanges: an inspection on another goroutine than
// the one changing Docker (netns: the API's handler beside a connect)
// reads each table under its lock (go test -race), and always sees
// containerA either on mybridge with its address or off it.
func TestInspectWhileDockerChanges(t *testing.T) {
	n := inspectWorld(t, "docker-publish.yaml")
	w := n.World()
	done := make(chan error)
	go func() {
		defer close(done)
		for range 20 {
			if _, err := w.DockerDisconnect("containerA", "mybridge"); err != nil {
				done <- err
				return
			}
			if _, err := w.DockerConnect("containerA", "mybridge", netip.Addr{}, nil); err != nil {
				done <- err
				return
			}
		}
	}()
	for running := true; running; {
		select {
		case err, ok := <-done:
			if ok {
				t.Fatal(err)
			}
			running = false
		default:
		}
		for _, c := range live.Inspect(w).Containers {
			if e, on := c.Networks["mybridge"]; c.Name == "containerA" && on && e.IPAddress != "172.18.0.2" {
				t.Fatalf("containerA on mybridge at %q", e.IPAddress)
			}
		}
	}
}

// TestInspectOneOnTwoHosts: a network name two Docker hosts have is
// named HOST/NAME; alone it is refused with the choices.
func TestInspectOneOnTwoHosts(t *testing.T) {
	w := inspectWorld(t, "docker-two-hosts.yaml").World()
	_, err := live.InspectOne(w, "bridge")
	if !errors.Is(err, live.ErrNotFound) || !strings.Contains(err.Error(), "host1/bridge, host2/bridge") {
		t.Errorf("InspectOne(bridge) on two hosts: %v, want ErrNotFound naming host1/bridge, host2/bridge", err)
	}
	for _, name := range []string{"host2/bridge", "host2.docker0"} {
		v, err := live.InspectOne(w, name)
		if err != nil {
			t.Errorf("InspectOne(%q): %v", name, err)
			continue
		}
		if o := v.(live.One); o.Network.Host != "host2" || o.Switch == nil || o.Switch.Name != "host2.docker0" {
			t.Errorf("InspectOne(%q) = %+v, want host2's bridge and its switch", name, o)
		}
	}
}
