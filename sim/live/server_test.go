package live_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/trace"
)

// world is a mem world served by a live.Server over HTTP, its clock
// advanced by the test under mu, as the Server's Lock.
type world struct {
	t   *testing.T
	mu  sync.Mutex
	net *mem.Network
	bus *trace.Bus
	srv *live.Server
	web *httptest.Server
}

// serve builds scenario file in memory and serves it; edit changes the
// Options before the Server is made.
func serve(t *testing.T, file string, edit func(*live.Options)) *world {
	t.Helper()
	f, err := scenario.Load("../../scenarios/" + file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, bus: &trace.Bus{}}
	w.net, err = mem.New(g, mem.Options{Seed: f.Seed, Tracer: w.bus, Budget: f.Budget})
	if err != nil {
		t.Fatal(err)
	}
	o := live.Options{Backend: w.net, Graph: g, Name: f.Name, File: f.Path(), Run: "nytest", Bus: w.bus, Origin: sim.Epoch,
		Names: scenario.NarrationNames(g, w.net.World()), Lock: &w.mu}
	if edit != nil {
		edit(&o)
	}
	if w.srv, err = live.New(o); err != nil {
		t.Fatal(err)
	}
	w.web = httptest.NewServer(w.srv)
	t.Cleanup(func() {
		w.srv.Close()
		w.web.Close()
	})
	return w
}

// do runs f on the world, holding it as the Server does.
func (w *world) do(f func(n *mem.Network)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.net)
}

// ping pings from host from to address to count times, and returns the
// replies.
func (w *world) ping(from, to string, count int) int {
	w.t.Helper()
	var got int
	w.do(func(n *mem.Network) {
		st, err := n.Ping(from, netip.MustParseAddr(to), count, time.Second, time.Second)
		if err != nil {
			w.t.Fatalf("ping %s -> %s: %v", from, to, err)
		}
		got = st.Received
	})
	return got
}

// get answers GET path: its status and body.
func (w *world) get(path string) (int, []byte) {
	w.t.Helper()
	resp, err := http.Get(w.web.URL + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// post answers POST path with body.
func (w *world) post(path, body string) (int, []byte) {
	w.t.Helper()
	resp, err := http.Post(w.web.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// getJSON decodes GET path's answer into v, which must be status 200.
func (w *world) getJSON(path string, v any) {
	w.t.Helper()
	status, body := w.get(path)
	if status != http.StatusOK {
		w.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		w.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// wantError checks an error answer: its status and code, JSON.
func wantError(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e live.Error
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s: the error is not JSON: %v: %s", what, err, body)
	}
	if status != wantStatus || e.Code != wantCode || e.Error == "" {
		t.Fatalf("%s: got %d %+v, want %d %s with a sentence", what, status, e, wantStatus, wantCode)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// readSSE parses server-sent events from r onto the channel returned,
// closed at the end of r.
func readSSE(r io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 4096)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

// parseSSE parses a whole stream.
func parseSSE(b []byte) []sseEvent {
	var out []sseEvent
	for ev := range readSSE(bytes.NewReader(b)) {
		out = append(out, ev)
	}
	return out
}

func TestWorld(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	var v live.World
	w.getJSON("/api/v1/world", &v)
	if v.Name != "docker-publish" || v.Backend != "mem" || !v.Virtual || v.Run != "nytest" || v.Recorded {
		t.Fatalf("world: %+v", v)
	}
	w.do(func(n *mem.Network) { _ = n.Wait(2 * time.Second) })
	w.getJSON("/api/v1/world", &v)
	if v.Elapsed < 2 {
		t.Fatalf("elapsed %v after 2s of virtual time", v.Elapsed)
	}
}

// TestInspect reads the world through the API as JSON and text; the
// networks and containers agree with the world's Docker record.
func TestInspect(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	var v struct {
		Networks   []map[string]any `json:"networks"`
		Containers []map[string]any `json:"containers"`
		Switches   []map[string]any `json:"switches"`
		Links      []map[string]any `json:"links"`
	}
	w.getJSON("/api/v1/inspect", &v)
	if len(v.Networks) == 0 {
		t.Skip("inspect is still the stub (sim/live/inspect.go): only its status and shape are checked until it is merged")
	}
	var found bool
	for _, n := range v.Networks {
		if n["Name"] == "mybridge" {
			found = true
			ctrs, _ := n["Containers"].(map[string]any)
			var addrs []string
			for _, c := range ctrs {
				c, _ := c.(map[string]any)
				addrs = append(addrs, c["Name"].(string)+" "+c["IPv4Address"].(string))
			}
			for _, want := range []string{"containerA 172.18.0.2/16", "containerB 172.18.0.10/16"} {
				if !strings.Contains(strings.Join(addrs, ","), want) {
					t.Errorf("mybridge's containers %v lack %s", addrs, want)
				}
			}
		}
	}
	if !found {
		t.Errorf("no network mybridge in %v", v.Networks)
	}
	status, body := w.get("/api/v1/inspect/br-mybridge")
	if status != http.StatusOK {
		t.Fatalf("inspect br-mybridge: %d %s", status, body)
	}
	status, body = w.get("/api/v1/inspect?format=text")
	if status != http.StatusOK || !strings.Contains(string(body), "mybridge") {
		t.Fatalf("inspect as text: %d %s", status, body)
	}
}

// TestInspectShape holds while inspect is a stub too: JSON with the
// contract's keys, text as text/plain.
func TestInspectShape(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	var v map[string]json.RawMessage
	w.getJSON("/api/v1/inspect", &v)
	for _, k := range []string{"networks", "containers", "switches", "gateways", "hosts", "links"} {
		if _, ok := v[k]; !ok {
			t.Errorf("inspect has no %q: %s", k, v)
		}
	}
	resp, err := http.Get(w.web.URL + "/api/v1/inspect?format=text")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("inspect as text: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var top map[string]json.RawMessage
	w.getJSON("/api/v1/topology", &top)
	if string(top["name"]) != `"docker-publish"` {
		t.Fatalf("topology: %s", top["name"])
	}
}

// TestRefusals: what the API must refuse, each as the contract says, and
// the world answers still.
func TestRefusals(t *testing.T) {
	w := serve(t, "docker-publish.yaml", func(o *live.Options) { o.Down = nil })
	for _, c := range []struct {
		what, method, path, body string
		status                   int
		code                     string
	}{
		{"an unknown node", "GET", "/api/v1/inspect/nosuchnode", "", 404, "not-found"},
		{"an unknown route", "GET", "/api/v1/nosuch", "", 404, "not-found"},
		{"a read with POST", "POST", "/api/v1/world", "{}", 405, "method"},
		{"a change with GET", "GET", "/api/v1/link", "", 405, "method"},
		{"malformed JSON", "POST", "/api/v1/link", `{"at": "containerA:eth0", "state": `, 400, "bad-request"},
		{"not JSON at all", "POST", "/api/v1/link", `state down`, 400, "bad-request"},
		{"an unknown field", "POST", "/api/v1/link", `{"at": "containerA:eth0", "stat": "down"}`, 400, "bad-request"},
		{"two objects", "POST", "/api/v1/link", `{"at": "containerA:eth0", "state": "down"} {}`, 400, "bad-request"},
		{"an empty body", "POST", "/api/v1/link", ``, 400, "bad-request"},
		{"a bad value", "POST", "/api/v1/link", `{"at": "containerA:eth0", "latency": "fast"}`, 400, "bad-request"},
		{"a bad loss", "POST", "/api/v1/link", `{"at": "containerA:eth0", "loss": "200%"}`, 400, "bad-request"},
		{"a bad state", "POST", "/api/v1/link", `{"at": "containerA:eth0", "state": "sideways"}`, 400, "bad-request"},
		{"nothing to change", "POST", "/api/v1/link", `{"at": "containerA:eth0"}`, 400, "bad-request"},
		{"a bad endpoint", "POST", "/api/v1/link", `{"at": "containerA", "state": "down"}`, 400, "bad-request"},
		{"a link that is not there", "POST", "/api/v1/link", `{"at": "nosuch:eth0", "state": "down"}`, 404, "not-found"},
		{"a port that is not there", "POST", "/api/v1/port", `{"at": "br-mybridge:p99", "state": "down"}`, 404, "not-found"},
		{"an unknown container", "POST", "/api/v1/container/stop", `{"container": "nosuch"}`, 404, "not-found"},
		{"an unknown network", "POST", "/api/v1/network/connect", `{"network": "nosuch", "container": "containerA"}`, 404, "not-found"},
		{"a connect Docker refuses", "POST", "/api/v1/network/connect", `{"network": "mybridge", "container": "containerA"}`, 409, "refused"},
		{"a start of a running container", "POST", "/api/v1/container/start", `{"container": "containerA"}`, 409, "refused"},
		{"a bad address", "POST", "/api/v1/network/connect", `{"network": "bridge", "container": "containerA", "ip": "x"}`, 400, "bad-request"},
		{"a body too large", "POST", "/api/v1/link", `{"at": "` + strings.Repeat("a", live.MaxBody) + `"}`, 400, "bad-request"},
		{"a bad event kind", "GET", "/api/v1/events?kind=nosuch", "", 400, "bad-request"},
		{"a capture of no link", "GET", "/api/v1/capture?at=nosuch:eth0", "", 404, "not-found"},
		{"a frame with no history", "GET", "/api/v1/frames/1", "", 404, "not-found"},
		{"a frame that is not a number", "GET", "/api/v1/frames/x", "", 400, "bad-request"},
		{"down where it is not modelled", "POST", "/api/v1/down", `{}`, 501, "not-modelled"},
		{"a bad format", "GET", "/api/v1/inspect?format=xml", "", 400, "bad-request"},
	} {
		var status int
		var body []byte
		if c.method == "GET" {
			status, body = w.get(c.path)
		} else {
			status, body = w.post(c.path, c.body)
		}
		wantError(t, c.what, status, body, c.status, c.code)
		var v live.World
		w.getJSON("/api/v1/world", &v) // the world answers still
	}
	if got := w.ping("containerA", "172.18.0.10", 1); got != 1 {
		t.Fatalf("after the refusals, containerA's ping got %d replies of 1", got)
	}
}

func TestDown(t *testing.T) {
	down := make(chan struct{})
	w := serve(t, "docker-publish.yaml", func(o *live.Options) { o.Down = func() { close(down) } })
	status, body := w.post("/api/v1/down", "")
	if status != http.StatusOK {
		t.Fatalf("down: %d %s", status, body)
	}
	select {
	case <-down:
	case <-time.After(30 * time.Second):
		t.Fatal("down was answered but Down was not called")
	}
	if status, _ := w.post("/api/v1/down", "{}"); status != http.StatusOK { // twice: Down is called once
		t.Fatalf("down again: %d", status)
	}
}
