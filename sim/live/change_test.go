package live_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
)

// change posts a change and returns what it says changed.
func (w *world) change(path, body string) []string {
	w.t.Helper()
	status, out := w.post(path, body)
	if status != http.StatusOK {
		w.t.Fatalf("POST %s %s: %d %s", path, body, status, out)
	}
	var c live.Changed
	if err := json.Unmarshal(out, &c); err != nil {
		w.t.Fatal(err)
	}
	return c.Changed
}

// linkAt returns the world's link at endpoint e.
func (w *world) linkAt(e string) topo.Link {
	w.t.Helper()
	var out topo.Link
	w.do(func(n *mem.Network) {
		for _, l := range n.World().Links() {
			if l.A.String() == e || l.B.String() == e {
				out = l
			}
		}
	})
	return out
}

// TestLinkDown sets a link down through the API: a ping across it fails,
// and inspect shows the link down; up again, it works.
func TestLinkDown(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	if got := w.ping("containerA", "172.18.0.10", 1); got != 1 {
		t.Fatalf("before: %d replies of 1", got)
	}
	got := w.change("/api/v1/link", `{"at": "containerA:eth0", "state": "down"}`)
	if !slices.Equal(got, []string{"link at containerA:eth0 down"}) {
		t.Fatalf("changed %q", got)
	}
	if got := w.ping("containerA", "172.18.0.10", 2); got != 0 {
		t.Fatalf("with the link down: %d replies of 2", got)
	}
	var v struct {
		Links []struct {
			A, B string
			Up   bool
		} `json:"links"`
	}
	w.getJSON("/api/v1/inspect", &v)
	if len(v.Links) == 0 {
		t.Log("inspect is still the stub: the link's state is checked in the world only")
	}
	for _, l := range v.Links {
		if (l.A == "containerA:eth0" || l.B == "containerA:eth0") && l.Up {
			t.Fatalf("inspect shows the link at containerA:eth0 up: %+v", l)
		}
	}
	w.do(func(n *mem.Network) {
		if l := n.World().Link(topo.Endpoint{Node: "containerA", Port: "eth0"}); l == nil || l.Up() {
			t.Fatal("the world's link at containerA:eth0 is not down")
		}
	})
	w.change("/api/v1/link", `{"at": "containerA:eth0", "state": "up"}`)
	if got := w.ping("containerA", "172.18.0.10", 1); got != 1 {
		t.Fatalf("up again: %d replies of 1", got)
	}
}

func TestLinkImpairments(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	got := w.change("/api/v1/link", `{"at": "containerA:eth0", "latency": "20ms", "loss": "1%", "rate": "10mbit", "jitter": 0.005}`)
	want := []string{
		"link at containerA:eth0: latency 20ms (was 0s)",
		"link at containerA:eth0: jitter 5ms (was 0s)",
		"link at containerA:eth0: loss 1% (was 0%)",
		"link at containerA:eth0: rate 10Mbit (was unlimited)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changed\n %q\nwant\n %q", got, want)
	}
	c := w.linkAt("containerA:eth0").Config
	if c.Latency != 20*time.Millisecond || c.Jitter != 5*time.Millisecond || c.Loss != 0.01 || c.Rate != 10e6 {
		t.Fatalf("the link's config: %+v", c)
	}
	got = w.change("/api/v1/link", `{"at": "br-mybridge:containerA", "rate": "unlimited", "state": "down"}`)
	if len(got) != 2 || got[0] != "link at br-mybridge:containerA down" || !strings.Contains(got[1], "rate unlimited (was 10Mbit)") {
		t.Fatalf("changed %q", got)
	}
}

func TestPortAndDocker(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	if got := w.change("/api/v1/port", `{"at": "br-mybridge:containerB", "state": "down"}`); !slices.Equal(got, []string{"port br-mybridge:containerB down"}) {
		t.Fatalf("port: %q", got)
	}
	if got := w.ping("containerA", "172.18.0.10", 1); got != 0 {
		t.Fatalf("with containerB's port down: %d replies", got)
	}
	w.change("/api/v1/port", `{"at": "br-mybridge:containerB", "state": "up"}`)
	w.do(func(n *mem.Network) { _ = n.Wait(time.Minute) }) // past STP's forward delay, if any
	if got := w.ping("containerA", "172.18.0.10", 1); got != 1 {
		t.Fatalf("with containerB's port up: %d replies", got)
	}

	if got := w.change("/api/v1/container/stop", `{"container": "containerB"}`); len(got) == 0 {
		t.Fatal("stop changed nothing")
	}
	if got := w.ping("containerA", "172.18.0.10", 1); got != 0 {
		t.Fatalf("containerB stopped: %d replies", got)
	}
	if got := w.change("/api/v1/container/start", `{"container": "containerB"}`); len(got) == 0 {
		t.Fatal("start changed nothing")
	}
	if got := w.change("/api/v1/container/restart", `{"container": "containerB"}`); len(got) == 0 {
		t.Fatal("restart changed nothing")
	}
	got := w.change("/api/v1/network/disconnect", `{"network": "mybridge", "container": "containerA"}`)
	if len(got) == 0 {
		t.Fatal("disconnect changed nothing")
	}
	got = w.change("/api/v1/network/connect", `{"network": "mybridge", "container": "containerA", "ip": "172.18.0.20", "aliases": ["a"]}`)
	if !strings.Contains(strings.Join(got, " "), "172.18.0.20") {
		t.Fatalf("connect: %q", got)
	}
	w.do(func(n *mem.Network) { _ = n.Wait(time.Minute) })
	if got := w.ping("containerA", "172.18.0.10", 1); got != 1 {
		t.Fatalf("reconnected at 172.18.0.20: %d replies", got)
	}
}
