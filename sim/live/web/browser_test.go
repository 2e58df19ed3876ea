package web_test

// The page in a real browser: a headless Chromium opens the page over a
// recorded mem run and asserts what a person sees there (docs/live/browser.md).

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/scenario"
)

// brServeRecording runs the scenario file in memory, records it and serves
// the page over the recording; it returns the server's URL.
func brServeRecording(t *testing.T, file string) string {
	t.Helper()
	f, err := scenario.Load(filepath.Join("..", "..", "..", "scenarios", file))
	if err != nil {
		t.Fatal(err)
	}
	rec, rep, err := web.Record(f, scenario.Options{})
	if err != nil {
		t.Fatalf("recording %s: %v", file, err)
	}
	if rep != nil && !rep.OK() {
		t.Fatalf("%s did not pass in memory: %d steps failed", file, rep.Failed)
	}
	srv := httptest.NewServer(web.Recorded(rec))
	t.Cleanup(srv.Close)
	return srv.URL
}

// drawnNodes returns the ids of the nodes the page drew, sorted.
func drawnNodes(tb *tab) []string {
	ids := evalIn[[]string](tb, `window.netyard.cy.nodes().map(n => n.id())`)
	slices.Sort(ids)
	return ids
}

// topologyNodes returns the ids of the nodes of the API's topology, sorted.
func topologyNodes(tp brTopology) []string {
	var ids []string
	for _, n := range tp.Nodes {
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	return ids
}

// stpRow is a row of the page's STP table, as drawn.
type stpRow struct {
	Found bool   `json:"found"`
	Role  string `json:"role"`
	State string `json:"state"`
}

// stpRowOf reads the #stp row of switch sw's port.
func stpRowOf(tb *tab, sw, port string) stpRow {
	return evalIn[stpRow](tb, fmt.Sprintf(`(() => {
		const tr = document.querySelector('#stp tr[data-switch=' + CSS.escape(%s) + '][data-port=' + CSS.escape(%s) + ']');
		if (!tr) return {found: false, role: "", state: ""};
		const td = s => { const c = tr.querySelector(s); return c ? c.textContent.trim() : ""; };
		return {found: true, role: td('td.role'), state: td('td.state')};
	})()`, jsQuote(sw), jsQuote(port)))
}

// edgeView is a link as the graph draws it.
type edgeView struct {
	Found   bool   `json:"found"`
	Blocked bool   `json:"blocked"`
	AState  string `json:"a_state"`
	BState  string `json:"b_state"`
}

// edgeOf reads the graph's edge of link id.
func edgeOf(tb *tab, id string) edgeView {
	return evalIn[edgeView](tb, fmt.Sprintf(`(() => {
		const e = window.netyard.cy.getElementById(%s);
		if (!e || e.length === 0) return {found: false, blocked: false, a_state: "", b_state: ""};
		return {found: true, blocked: e.hasClass('blocked'), a_state: String(e.data('a_state') || ""), b_state: String(e.data('b_state') || "")};
	})()`, jsQuote(id)))
}

// fdbHas reports whether the page's FDB table of switch sw has a row for mac.
func fdbHas(tb *tab, sw, mac string) bool {
	return evalIn[bool](tb, fmt.Sprintf(`document.querySelector('#fdb table[data-switch=' + CSS.escape(%s) + '] tr[data-mac=' + CSS.escape(%s) + ']') !== null`,
		jsQuote(sw), jsQuote(mac)))
}

// eventText returns the texts the event list shows for entry n: the li's
// whole text, its own text (outside its elements), then each of its
// elements' (a time or a step may sit beside the sentence), whether there
// is such an li, and whether it is the current one.
func eventText(tb *tab, n uint64) (texts []string, found, current bool) {
	v := evalIn[struct {
		Found   bool     `json:"found"`
		Texts   []string `json:"texts"`
		Current bool     `json:"current"`
	}](tb, fmt.Sprintf(`(() => {
		const li = document.querySelector('#events li[data-n="%d"]');
		if (!li) return {found: false, texts: [], current: false};
		const own = Array.from(li.childNodes).filter(c => c.nodeType === Node.TEXT_NODE).map(c => c.textContent).join('');
		const texts = [li.textContent, own].concat(Array.from(li.querySelectorAll('*')).map(e => e.textContent));
		return {found: true, texts: texts, current: li.classList.contains('current')};
	})()`, n))
	return v.Texts, v.Found, v.Current
}

// shows reports whether one of the texts is the narration, once runs of
// white space are one space.
func shows(texts []string, narration string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, t := range texts {
		if norm(t) == norm(narration) {
			return true
		}
	}
	return false
}

// portKey names a switch's port.
type portKey struct{ sw, port string }

// TestBrowserSTPTriangle opens stp-triangle.yaml's recording and checks
// what a person sees: the three switches and hosts, s3:p2 blocked at the
// end, a port turning forwarding at its instant, an FDB row appearing
// when its MAC is learned, and the narration in the event list.
func TestBrowserSTPTriangle(t *testing.T) {
	needChromium(t)
	url := brServeRecording(t, "stp-triangle.yaml")
	b := newBrowser(t)

	var tp brTopology
	brGetJSON(t, url+"/api/v1/topology", &tp)
	var h brHistory
	brGetJSON(t, url+"/api/v1/history", &h)
	if len(h.Entries) == 0 {
		t.Fatal("the recording's history is empty")
	}
	// A recording holds every entry, 1 to total, so entry n is applied
	// exactly at index n: step(n-1) is the instant before it, step(n) its
	// instant.
	for i, e := range h.Entries {
		if e.N != uint64(i)+1 {
			t.Fatalf("the recording's history is not whole: its entry %d is n=%d (first %d, dropped %d)", i, e.N, h.First, h.Dropped)
		}
	}
	total := uint64(len(h.Entries))

	tb := b.open(t, url+"/")

	t.Run("every node drawn", func(t *testing.T) {
		tb.t = t
		want := topologyNodes(tp)
		for _, n := range []string{"s1", "s2", "s3", "h1", "h2", "h3"} {
			if !slices.Contains(want, n) {
				t.Errorf("the API's topology has no node %s: %v", n, want)
			}
		}
		if got := drawnNodes(tb); !slices.Equal(got, want) {
			t.Errorf("the page drew nodes %v, the topology has %v", got, want)
		}
		if got := evalIn[uint64](tb, `window.netyard.total`); got != total {
			t.Errorf("window.netyard.total = %d, the history's last entry is %d", got, total)
		}
	})

	// Each port's last STP state, from the history.
	final := map[portKey]string{}
	for _, e := range h.Entries {
		if e.Kind == "stp" && e.State != "" && e.Port != "" {
			final[portKey{e.Node, e.Port}] = e.State
		}
	}

	t.Run("the blocked port shown blocked", func(t *testing.T) {
		tb.t = t
		tb.step(total)
		if got := final[portKey{"s3", "p2"}]; got != "blocking" {
			t.Fatalf("the history leaves s3:p2 %q, not blocking (the scenario says it cuts the loop)", got)
		}
		for _, l := range tp.Links {
			ends := []brEnd{l.A, l.B}
			blocked := false
			for _, e := range ends {
				st, ok := final[portKey{e.Node, e.Port}]
				if ok && st != "forwarding" {
					blocked = true
				}
			}
			ev := edgeOf(tb, l.ID)
			if !ev.Found {
				t.Errorf("the page drew no edge %s", l.ID)
				continue
			}
			if ev.Blocked != blocked {
				t.Errorf("edge %s: class blocked %v, want %v (its ends end %q and %q)", l.ID, ev.Blocked, blocked,
					final[portKey{l.A.Node, l.A.Port}], final[portKey{l.B.Node, l.B.Port}])
			}
			for i, e := range ends {
				st, ok := final[portKey{e.Node, e.Port}]
				if !ok {
					continue
				}
				got := ev.AState
				if i == 1 {
					got = ev.BState
				}
				if got != st {
					t.Errorf("edge %s: its %s end (%s:%s) shows state %q, want %q", l.ID, []string{"a", "b"}[i], e.Node, e.Port, got, st)
				}
			}
		}
		row := stpRowOf(tb, "s3", "p2")
		if !row.Found {
			t.Fatal("#stp has no row for s3 p2")
		}
		if row.State != "blocking" || row.Role != "alternate" {
			t.Errorf("#stp s3 p2: role %q, state %q; want alternate, blocking", row.Role, row.State)
		}
		tb.screenshot("web-stp-triangle.png", true)
	})

	t.Run("a port starts forwarding at its instant", func(t *testing.T) {
		tb.t = t
		// The first port to go from learning to forwarding (a port between
		// switches: host ports are edge ports, forwarding at once).
		var fw brEntry
		for _, e := range h.Entries {
			if e.Kind == "stp" && e.State == "forwarding" && e.WasState == "learning" {
				fw = e
				break
			}
		}
		if fw.N == 0 {
			t.Fatal("the history has no port going to forwarding")
		}
		t.Logf("entry %d: %s", fw.N, fw.Text)
		tb.step(fw.N - 1)
		before := stpRowOf(tb, fw.Node, fw.Port)
		if !before.Found {
			t.Fatalf("#stp has no row for %s %s at index %d", fw.Node, fw.Port, fw.N-1)
		}
		if before.State != fw.WasState {
			t.Errorf("#stp %s %s at index %d: state %q, want %q (the state before entry %d)", fw.Node, fw.Port, fw.N-1, before.State, fw.WasState, fw.N)
		}
		tb.step(fw.N)
		after := stpRowOf(tb, fw.Node, fw.Port)
		if after.State != "forwarding" {
			t.Errorf("#stp %s %s at index %d: state %q, want forwarding", fw.Node, fw.Port, fw.N, after.State)
		}
		// The graph follows: the port's end of its edge.
		for _, l := range tp.Links {
			for i, e := range []brEnd{l.A, l.B} {
				if e.Node != fw.Node || e.Port != fw.Port {
					continue
				}
				tb.step(fw.N - 1)
				b := edgeOf(tb, l.ID)
				tb.step(fw.N)
				a := edgeOf(tb, l.ID)
				got := [2]string{b.AState, a.AState}
				if i == 1 {
					got = [2]string{b.BState, a.BState}
				}
				if got != [2]string{fw.WasState, "forwarding"} {
					t.Errorf("edge %s: its %s end shows %q then %q, want %q then forwarding", l.ID, e.Node+":"+e.Port, got[0], got[1], fw.WasState)
				}
				if !b.Blocked {
					t.Errorf("edge %s is not drawn blocked while %s is %s", l.ID, e.Node+":"+e.Port, fw.WasState)
				}
			}
		}
	})

	t.Run("an FDB row appears when its MAC is learned", func(t *testing.T) {
		tb.t = t
		var l brEntry
		for _, e := range h.Entries {
			if e.Kind == "learned" && e.Src != "" {
				l = e
				break
			}
		}
		if l.N == 0 {
			t.Fatal("the history learns no MAC")
		}
		t.Logf("entry %d: %s", l.N, l.Text)
		tb.step(l.N - 1)
		if fdbHas(tb, l.Node, l.Src) {
			t.Errorf("#fdb of %s has %s at index %d, before entry %d learns it", l.Node, l.Src, l.N-1, l.N)
		}
		tb.step(l.N)
		if !fdbHas(tb, l.Node, l.Src) {
			t.Errorf("#fdb of %s has no row for %s at index %d, when entry %d learns it", l.Node, l.Src, l.N, l.N)
		}
	})

	t.Run("the event list shows the narration", func(t *testing.T) {
		tb.t = t
		tb.step(total)
		// Every entry of the kinds a person reads first (STP, learning,
		// the hosts' ARP and ICMP), up to 200 of them.
		checked := 0
		for _, e := range h.Entries {
			if e.Kind != "stp" && e.Kind != "learned" && e.Kind != "host" {
				continue
			}
			texts, found, _ := eventText(tb, e.N)
			if !found {
				t.Errorf("#events has no li[data-n=%d] (%s)", e.N, e.Text)
				continue
			}
			if !shows(texts, e.Text) {
				t.Errorf("#events li[data-n=%d] says %q, the narration is %q", e.N, texts[0], e.Text)
			}
			checked++
			if checked >= 200 {
				break
			}
		}
		mid := h.Entries[len(h.Entries)/2].N
		tb.step(mid)
		if _, found, current := eventText(tb, mid); !found || !current {
			t.Errorf("at index %d, #events li[data-n=%d] found %v, current %v; want the current entry marked", mid, mid, found, current)
		}
	})
}

// TestBrowserDocker opens docker-publish.yaml's recording and checks that
// the Docker world is drawn: its containers, its bridge, the Docker host's
// gateway, containerB's published ports, and the published port's flow in
// the NAT table once the run has made it.
func TestBrowserDocker(t *testing.T) {
	needChromium(t)
	url := brServeRecording(t, "docker-publish.yaml")
	b := newBrowser(t)

	var tp brTopology
	brGetJSON(t, url+"/api/v1/topology", &tp)
	tb := b.open(t, url+"/")

	want := topologyNodes(tp)
	if got := drawnNodes(tb); !slices.Equal(got, want) {
		t.Errorf("the page drew nodes %v, the topology has %v", got, want)
	}

	type node struct {
		Found     bool     `json:"found"`
		Kind      string   `json:"kind"`
		Label     string   `json:"label"`
		Published []string `json:"published"`
		Network   string   `json:"network"`
	}
	nodeOf := func(id string) node {
		return evalIn[node](tb, fmt.Sprintf(`(() => {
			const n = window.netyard.cy.getElementById(%s);
			if (!n || n.length === 0) return {found: false, kind: "", label: "", published: [], network: ""};
			const p = n.data('published');
			return {found: true, kind: String(n.data('kind') || ""), label: String(n.data('label') || ""),
				published: Array.isArray(p) ? p.map(String) : [], network: String(n.data('network') || "")};
		})()`, jsQuote(id)))
	}
	// What the page must draw, by kind: the topology's own nodes.
	kinds := map[string][]string{}
	for _, n := range tp.Nodes {
		kinds[n.Kind] = append(kinds[n.Kind], n.ID)
		got := nodeOf(n.ID)
		if !got.Found {
			t.Errorf("the page drew no node %s (%s)", n.ID, n.Kind)
			continue
		}
		if got.Kind != n.Kind {
			t.Errorf("node %s: kind %q on the page, %q in the topology", n.ID, got.Kind, n.Kind)
		}
	}
	for _, c := range []string{"containerA", "containerB"} {
		if !slices.Contains(kinds["container"], c) {
			t.Errorf("no container %s in the topology: %v", c, kinds)
		}
	}
	if len(kinds["gateway"]) == 0 {
		t.Errorf("no gateway (the Docker host) in the topology: %v", kinds)
	}
	bridge := false
	for _, n := range tp.Nodes {
		if n.Kind == "switch" && n.Network == "mybridge" {
			bridge = true
			if got := nodeOf(n.ID); got.Network != "mybridge" {
				t.Errorf("bridge %s: network %q on the page, want mybridge", n.ID, got.Network)
			}
		}
	}
	if !bridge {
		t.Errorf("no switch of network mybridge in the topology: %v", kinds)
	}

	// containerB publishes 8080:80/tcp: a person sees it on the graph.
	cb := nodeOf("containerB")
	shown := strings.Join(cb.Published, " ") + " " + cb.Label
	if !strings.Contains(shown, "8080") {
		t.Errorf("containerB shows no published port 8080: published %q, label %q", cb.Published, cb.Label)
	}

	// The NAT table follows the run: empty at its start; at its end, the
	// client's connection to host1:8080 translated to containerB:80 (the
	// scenario's first step). The screenshot shows the tables filled.
	nat := func() string {
		return evalIn[string](tb, `(document.querySelector('#nat') || {innerText: ""}).innerText`)
	}
	published := func(s string) bool {
		return strings.Contains(s, "192.168.56.11:8080") && strings.Contains(s, "172.18.0.10:80")
	}
	tb.step(0)
	if s := nat(); published(s) {
		t.Errorf("#nat at index 0, before any frame, already shows the published flow: %q", s)
	}
	var h brHistory
	brGetJSON(t, url+"/api/v1/history", &h)
	tb.step(uint64(len(h.Entries)))
	if s := nat(); !published(s) {
		t.Errorf("#nat at the end shows no flow from host1:8080 to 172.18.0.10:80: %q", s)
	}
	tb.screenshot("web-docker.png", true)
}
