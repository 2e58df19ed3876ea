package scenario_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/scenario"
)

// drawing returns the DOT of a scenario file.
func drawing(t *testing.T, path string) string {
	t.Helper()
	f, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	return g.DOT()
}

// drawn lists, for every scenario, what its drawing must show for a
// student to follow the lab. A new scenario needs a row.
var drawn = map[string][]string{
	"ageing-and-moves.yaml": {
		"ageing 5s",
		"<b>p4</b> · <font color=\"#666666\">unplugged</font>", // where h3 will be carried
		"switch · STP off",
	},
	"docker-bridge-tutorial.yaml": {
		"<b>network mybridge</b> · bridge br-mybridge<br/>subnet 172.18.0.0/16 · gateway 172.18.0.1",
		"<b>eth0</b> 172.18.0.2/16 · mybridge",
		"<b>eth0</b> 172.18.0.3/16 · mybridge",
		"<b>eth0</b> 192.168.56.11/24 · on the LAN",
		"<b>br-mybridge</b> 172.18.0.1/16 · gateway of network mybridge",
		"outside client on the LAN",
		"listens tcp/80",
		"<b>the hosts' LAN</b> 192.168.56.0/24",
	},
	"docker-connect.yaml": { // the plan as compiled: the steps change the world, not the drawing
		"<b>network back</b> · bridge br-back<br/>subnet 172.30.0.0/24 · gateway 172.30.0.1",
		"<b>eth0</b> 172.30.0.2/24 · back",
		"<b>eth0</b> 172.18.0.2/16 · front",
	},
	"docker-default-bridge.yaml": {
		"<b>network bridge</b> · bridge docker0<br/>subnet 172.17.0.0/16 · gateway 172.17.0.1<br/>default network: no name resolution",
		"<b>eth0</b> 172.17.0.2/16 · bridge",
		"<b>eth0</b> 172.17.0.3/16 · bridge",
	},
	"docker-dns.yaml": {
		"nameserver 127.0.0.11 (embedded DNS of host1, in this sandbox)",
		"nameserver 127.0.0.11 (embedded DNS of host2, in this sandbox)",
		"default route via 172.17.0.1<br/>nameserver 192.168.56.2", // plain, on the default bridge: host1's resolver
		"serves DNS: outside.test www.outside.test",
		"Docker host: routes, NAT; its daemon's DNS answers in each container",
	},
	"docker-internal.yaml": {
		"<b>network backend</b> · bridge br-backend<br/>subnet 172.30.0.0/24 · gateway 172.30.0.1<br/><font color=\"#c00000\"><b>internal</b>: no default route, nothing leaves the host",
		"gateway of network backend <font color=\"#c00000\">(internal)</font>",
		"<b>eth0</b> 172.30.0.2/24 · backend · aliases store",
		"<b>eth0</b> 172.30.0.3/24 · backend · aliases store",
		"no default route<br/>nameserver 127.0.0.11 (embedded DNS of host1, in this sandbox)",
		"<b>eth1</b> 172.30.0.4/24 · backend", // app, on both networks
		"default route via 172.18.0.1",
	},
	"docker-isolation.yaml": {
		"<b>network frontend</b> · bridge br-frontend<br/>subnet 172.18.0.0/16",
		"<b>network backend</b> · bridge br-backend<br/>subnet 172.19.0.0/16",
		"<b>eth0</b> 172.18.0.3/16 · frontend",
		"<b>eth1</b> 172.19.0.3/16 · backend",
	},
	"docker-host.yaml": {
		"container hostweb on the host network",
		"listens tcp/8081, udp/9001 on the host's own stack",
		"allow-direct-routing: published container ports reached by their own addresses",
		"route 172.18.0.0/16 via 192.168.56.11",
		"publishes 192.168.56.11:8080/tcp → app 172.18.0.10:80",
	},
	"docker-macvlan.yaml": {
		`<b>eth0</b><br/><font point-size="8">nic</font>`, // host1's card, a node of its own
		`<b>eth0</b> 192.168.56.3/24<br/><font point-size="8" color="#666666">02:42:c0:a8:38:03`,
		`<b>eth0</b> 192.168.56.11/24 · on the LAN<br/><font point-size="8" color="#666666">02:00:c0:a8:38:0b`,
	},
	"docker-macvlan-internal.yaml": {
		"<b>eth0</b> 10.99.0.2/24",
		"no default route",
	},
	"docker-macvlan-vlan.yaml": {
		"<b>host1</b> · trunk · tagged 10 · native 1",
		"<b>v10</b> · VLAN 10",
		"<b>eth0</b> 192.168.10.50/24 · VLAN 10",
	},
	"docker-ipvlan-l2.yaml": {
		`<b>eth0</b> 192.168.56.192/24<br/><font point-size="8" color="#666666">02:00:c0:a8:38:0b`, // the card's MAC
		`<b>eth0</b> 192.168.56.193/24<br/><font point-size="8" color="#666666">02:00:c0:a8:38:0b`,
	},
	"docker-ipvlan-l3.yaml": {
		`<b>eth0</b> 192.168.214.10/24<br/><font point-size="8" color="#666666">02:00:c0:a8:38:0b`,
		`<b>eth0</b> 10.1.214.10/24<br/><font point-size="8" color="#666666">02:00:c0:a8:38:0b`,
	},
	"docker-none.yaml": {
		"<b>network none</b><br/>loopback only",
		"container, --network none",
		"lo 127.0.0.1/8 only",
		"<b>network mynet</b> · bridge br-mynet",
	},
	"docker-two-hosts.yaml": {
		"<b>network app</b> · bridge br-app on host2<br/>subnet 172.18.0.0/16",
		"<b>host2.br-app</b>",
		"publishes 192.168.56.12:8080/tcp → web2 172.18.0.2:80",
		"publishes 192.168.56.11:8080/tcp → web1 172.18.0.2:80",
	},
	"overlay-two-hosts.yaml": {
		"<b>network ov</b> · overlay, VXLAN 4096, MTU 1450 · switch ov-ov on host1",
		"the way out: docker_gwbridge",
		"hosts host1, host2: one segment, joined by VXLAN over the LAN",
		"the VTEP: VXLAN 4096 to the other hosts",
		"<b>network docker_gwbridge</b> · bridge docker_gwbridge on host2",
	},
	"overlay-isolation.yaml": {
		"<b>network blue</b> · overlay, VXLAN 4096, MTU 1450 · switch ov-blue on host2",
		"<b>network green</b> · overlay, VXLAN 4097, MTU 1450 · switch ov-green on host1",
		"<b>network local</b> · bridge br-local on host1",
	},
	"overlay-no-broadcast.yaml": {
		"<b>network ov</b> · overlay, VXLAN 4096, MTU 1450 · switch ov-ov on host2",
		"<b>internal</b>: no way out",
		"VTEP of network ov: VXLAN 4096 over UDP 4789 of the LAN address",
	},
	"overlay-host-leaves.yaml": {
		"<b>network ov</b> · overlay, VXLAN 4096, MTU 1450 · switch ov-ov on host1",
		"<b>host2.ov-ov</b>",
	},
	"docker-publish.yaml": {
		"publishes 192.168.56.11:8080/tcp → containerB 172.18.0.10:80",
		"publishes 192.168.56.11:32768/tcp → containerB 172.18.0.10:443",
		"publishes 192.168.56.11:8125/udp → containerB 172.18.0.10:8125",
		"publishes 192.168.56.11:9000/udp → containerB 172.18.0.10:9000",
		"published 8080→80/tcp, 32768→443/tcp, 8125→8125/udp, 9000→9000/udp",
		"<b>eth0</b> 172.18.0.10/16 · mybridge · aliases web",
		"listens tcp/80, tcp/443, udp/8125",
	},
	"docker-options.yaml": {
		"publishes 192.168.56.11:40000/tcp → web 172.18.0.2:80",
		"publishes 192.168.56.11:40001/tcp → web 172.18.0.2:443",
		"publishes 192.168.56.11:8001/tcp → web 172.18.0.2:82",
		"publishes 127.0.0.1:9090/tcp → web 172.18.0.2:80",
		"<b>network a-network-name-longer-than-fifteen</b> · bridge br-75ec80264ccc",
	},
	"impaired-link.yaml": {
		"label=<latency 10ms>",
		"label=<latency 5ms · loss 10%>",
		"label=<1 Mbit/s>",
	},
	"impairment-change.yaml": {
		"label=<latency 1ms>", // the latency before the steps change it
	},
	"l2-learning.yaml": {
		"label=<latency 100µs>",
		"<b>eth0</b> 10.0.0.3/24<br/><font point-size=\"8\" color=\"#666666\">02:00:00:00:00:03</font>",
	},
	"loop-without-stp.yaml": {
		"<b>STP off, in a loop</b>: a broadcast storms",
	},
	"loop-mesh.yaml": {
		"<b>STP off, in a loop</b>: a broadcast storms",
	},
	"mirror-loop.yaml": {
		"<b>p1</b> · mirrored to p2",
		"<b>p2</b> · <b>monitor</b>: copies of p1, forwards nothing",
	},
	"port-mirror.yaml": {
		"<b>p1</b> · mirrored to p9",
		"<b>p9</b> · <b>monitor</b>: copies of p1, forwards nothing",
	},
	"rewire.yaml": {
		"<b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01<br/>hello 1s · max age 6s · forward delay 4s",
		"<b>p8</b> · <font color=\"#666666\">unplugged</font>", // where the new cable goes
	},
	"stp-link-failure.yaml": {
		"<b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01<br/>hello 1s · max age 6s · forward delay 4s",
		"<b>p9</b> · edge",
	},
	"stp-ring.yaml": {
		"<b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01",
		"<b>STP on</b>, priority 32768 (default)<br/>bridge ID 32768.02:00:00:01:00:05",
		"ports: cost 100, priority 128 unless shown",
	},
	"router-two-subnets.yaml": {
		`<b>r1</b><br/><font point-size="8">router</font>`,
		"<b>eth2</b> 10.0.12.1/30",
		`"r1" -- "r2" [tailport="i2:e", headport="i0:w"]`,
	},
	"stp-root-failure.yaml": {
		"<b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01<br/>hello 1s · max age 6s · forward delay 4s",
		"bridge ID 32768.02:00:00:01:00:03",
	},
	"stp-triangle.yaml": {
		"<b>STP on</b>, priority 4096<br/>bridge ID 4096.02:00:00:01:00:01<br/>hello 1s · max age 6s · forward delay 4s",
		"bridge ID 32768.02:00:00:01:00:02",
		"<b>p9</b> · edge",
	},
	"tcp-handshake.yaml": {
		"listens tcp/80",
		"<b>eth0</b> 10.0.0.1/24",
	},
	"vlan-isolation.yaml": {
		"<b>p1</b> · VLAN 10",
		"<b>p2</b> · VLAN 20",
		"<b>p3</b> · trunk · tagged 10 · <font color=\"#c00000\">no native VLAN</font>",
		"<b>p9</b> · trunk · tagged 10, 20 · no native VLAN",
		"<b>eth0</b> 10.0.0.1/24 · VLAN 10",
		"<b>eth0</b> 10.0.0.4/24 · VLAN 20",
		"in no VLAN: untagged frames dropped",                                                  // h5
		`"s1" -- "s2" [tailport="p3:e", headport="p2:w", color="#0072b2:#d55e00", penwidth=2]`, // the trunk, one line per VLAN
		"&nbsp;&nbsp;VLAN 10&nbsp;&nbsp;",                                                      // the legend
	},
}

// TestDrawingsShowTheLab: each scenario's drawing shows what the lab is
// about (VLANs, STP settings, impairments, mirrors, networks with subnet,
// gateway and internal flag, published ports), and draws it the same on
// every load.
func TestDrawingsShowTheLab(t *testing.T) {
	for _, path := range files(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := drawn[name]
			if !ok {
				t.Fatalf("no row in drawn for %s: say what its drawing must show", name)
			}
			dot := drawing(t, path)
			for _, w := range want {
				if !strings.Contains(dot, w) {
					t.Errorf("draw %s lacks %q; got:\n%s", name, w, dot)
				}
			}
			if again := drawing(t, path); again != dot {
				t.Errorf("draw %s differs between two loads", name)
			}
		})
	}
}

// TestDrawingsDoNotOverlap: Graphviz's layout of each scenario puts no
// text over other text, no node over another, no edge label on a node,
// and no node inside a cluster it is not in.
func TestDrawingsDoNotOverlap(t *testing.T) {
	dot := tool(t, "dot", "graphviz")
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cmd := exec.Command(dot, "-Tjson")
			cmd.Stdin = strings.NewReader(drawing(t, path))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("dot -Tjson: %v\n%s", err, stderr.Bytes())
			}
			for _, p := range overlaps(t, out) {
				t.Error(p)
			}
		})
	}
}

// layoutJSON is the part of dot -Tjson's output the overlap test reads.
type layoutJSON struct {
	LDraw   []drawOp `json:"_ldraw_"`
	Objects []struct {
		ID     int      `json:"_gvid"`
		Name   string   `json:"name"`
		BB     string   `json:"bb"` // clusters: "x1,y1,x2,y2"
		Nodes  []int    `json:"nodes"`
		Pos    string   `json:"pos"` // nodes: centre "x,y"
		Width  string   `json:"width"`
		Height string   `json:"height"` // inches
		LDraw  []drawOp `json:"_ldraw_"`
	} `json:"objects"`
	Edges []struct {
		Tail, Head int
		LDraw      []drawOp `json:"_ldraw_"`
		HDraw      []drawOp `json:"_hldraw_"`
		TDraw      []drawOp `json:"_tldraw_"`
	} `json:"edges"`
}

// drawOp is an xdot drawing operation: F sets the font size, T writes text.
type drawOp struct {
	Op    string    `json:"op"`
	Size  float64   `json:"size"`
	Pt    []float64 `json:"pt"`
	Align string    `json:"align"`
	Width float64   `json:"width"`
	Text  string    `json:"text"`
}

type box struct{ x1, y1, x2, y2 float64 }

// over reports whether two boxes overlap by more than a point's slack.
func (a box) over(b box) bool {
	const slack = 1
	return a.x1+slack < b.x2 && b.x1+slack < a.x2 && a.y1+slack < b.y2 && b.y1+slack < a.y2
}

func (a box) inside(b box) bool {
	return a.x1 >= b.x1 && a.x2 <= b.x2 && a.y1 >= b.y1 && a.y2 <= b.y2
}

func (a box) String() string { return fmt.Sprintf("(%.0f,%.0f)-(%.0f,%.0f)", a.x1, a.y1, a.x2, a.y2) }

// texts returns the boxes of the text a drawing writes.
func texts(ops []drawOp) []box {
	var bs []box
	size := 14.0
	for _, o := range ops {
		switch {
		case o.Op == "F":
			size = o.Size
		case o.Op == "T" && len(o.Pt) == 2 && strings.TrimSpace(o.Text) != "":
			x := o.Pt[0]
			switch o.Align {
			case "c":
				x -= o.Width / 2
			case "r":
				x -= o.Width
			}
			// The baseline is at Pt; descenders go a quarter of the size below.
			bs = append(bs, box{x, o.Pt[1] - size/4, x + o.Width, o.Pt[1] + size*3/4})
		}
	}
	return bs
}

// overlaps lists what overlaps in a layout.
func overlaps(t *testing.T, out []byte) []string {
	t.Helper()
	var l layoutJSON
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("dot -Tjson: %v", err)
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("dot -Tjson: number %q: %v", s, err)
		}
		return f
	}
	type item struct {
		what  string
		texts []box
	}
	var items []item
	nodes := map[int]box{}
	var nodeIDs []int
	names := map[int]string{}
	type cluster struct {
		name  string
		bb    box
		nodes []int
	}
	var clusters []cluster
	for _, o := range l.Objects {
		names[o.ID] = o.Name
		items = append(items, item{o.Name, texts(o.LDraw)})
		switch {
		case o.BB != "":
			c := strings.Split(o.BB, ",")
			clusters = append(clusters, cluster{o.Name, box{num(c[0]), num(c[1]), num(c[2]), num(c[3])}, o.Nodes})
		case o.Pos != "":
			x, y, _ := strings.Cut(o.Pos, ",")
			w, h := num(o.Width)*72/2, num(o.Height)*72/2
			nodes[o.ID] = box{num(x) - w, num(y) - h, num(x) + w, num(y) + h}
			nodeIDs = append(nodeIDs, o.ID)
		}
	}
	var edgeLabels []item
	for i, e := range l.Edges {
		what := fmt.Sprintf("label of edge %d (%s -- %s)", i, names[e.Tail], names[e.Head])
		it := item{what, append(append(texts(e.LDraw), texts(e.HDraw)...), texts(e.TDraw)...)}
		items = append(items, it)
		edgeLabels = append(edgeLabels, it)
	}
	items = append(items, item{"legend", texts(l.LDraw)})
	var bad []string
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			for _, a := range items[i].texts {
				for _, b := range items[j].texts {
					if a.over(b) {
						bad = append(bad, fmt.Sprintf("text of %s %v overlaps text of %s %v", items[i].what, a, items[j].what, b))
					}
				}
			}
		}
	}
	for i, a := range nodeIDs {
		for _, b := range nodeIDs[i+1:] {
			if nodes[a].over(nodes[b]) {
				bad = append(bad, fmt.Sprintf("node %s %v overlaps node %s %v", names[a], nodes[a], names[b], nodes[b]))
			}
		}
		for _, e := range edgeLabels {
			for _, tb := range e.texts {
				if tb.over(nodes[a]) {
					bad = append(bad, fmt.Sprintf("%s %v lies on node %s %v", e.what, tb, names[a], nodes[a]))
				}
			}
		}
		for _, c := range clusters {
			in := false
			for _, n := range c.nodes {
				in = in || n == a
			}
			if !in && nodes[a].over(c.bb) {
				bad = append(bad, fmt.Sprintf("node %s %v lies in %s %v, which it is not in", names[a], nodes[a], c.name, c.bb))
			}
		}
	}
	for i, a := range clusters {
		for _, b := range clusters[i+1:] {
			if a.bb.over(b.bb) && !a.bb.inside(b.bb) && !b.bb.inside(a.bb) {
				bad = append(bad, fmt.Sprintf("%s %v overlaps %s %v", a.name, a.bb, b.name, b.bb))
			}
		}
	}
	return bad
}
