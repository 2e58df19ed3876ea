package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/trace"

	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/scenario"
)

// record runs scenarios/NAME.yaml into a recording.
func record(t *testing.T, name string, o scenario.Options) (*web.Recording, *scenario.Report) {
	t.Helper()
	f, err := scenario.Load("../../../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec, rep, err := web.Record(f, o)
	if err != nil {
		t.Fatal(err)
	}
	return rec, rep
}

// TestServeByHand serves a recording for a person to look at, with
// NETYARD_WEB_SERVE=ADDR (and NETYARD_WEB_FILE=NAME, default stp-triangle).
func TestServeByHand(t *testing.T) {
	addr := os.Getenv("NETYARD_WEB_SERVE")
	if addr == "" {
		t.Skip("set NETYARD_WEB_SERVE=127.0.0.1:PORT to serve a recording by hand")
	}
	name := os.Getenv("NETYARD_WEB_FILE")
	if name == "" {
		name = "stp-triangle"
	}
	rec, _ := record(t, name, scenario.Options{})
	mux := http.NewServeMux()
	mux.Handle("/api/", web.Recorded(rec))
	mux.Handle("/", http.FileServer(http.Dir("static"))) // edits show on reload
	t.Log(http.ListenAndServe(addr, mux))
}

// explained returns the sentences of the --explain narration of
// scenarios/NAME.yaml, timestamps aside.
func explained(t *testing.T, name string) []string {
	t.Helper()
	f, err := scenario.Load("../../../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := scenario.Run(f, scenario.Options{Explain: &buf}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		_, sentence, ok := strings.Cut(strings.TrimLeft(line, " "), "  ")
		if !ok {
			t.Fatalf("narration line %q has no timestamp", line)
		}
		out = append(out, sentence)
	}
	return out
}

// The recording's entries are the narration's events, one for one and
// in order, in the narration's words; frames are the recording's own
// (--explain leaves them out), and each carries its bytes.
func TestRecordingAgreesWithNarration(t *testing.T) {
	for _, name := range []string{"stp-triangle", "docker-bridge-tutorial"} {
		t.Run(name, func(t *testing.T) {
			want := explained(t, name)
			if len(want) == 0 {
				t.Fatal("the narration is empty")
			}
			rec, rep := record(t, name, scenario.Options{})
			if !rep.OK() {
				t.Fatalf("the run failed: %+v", rep)
			}
			var got []string
			frames := 0
			for i, e := range rec.Entries {
				if e.N != uint64(i+1) {
					t.Fatalf("entry %d is numbered %d", i+1, e.N)
				}
				if e.Kind == trace.Frame {
					frames++
					if len(e.Bytes) == 0 || e.Link == "" || e.Summary == "" {
						t.Fatalf("frame entry %d has no bytes, link or summary: %+v", e.N, e)
					}
					continue
				}
				got = append(got, e.Text)
			}
			if frames == 0 {
				t.Error("the recording holds no frame")
			}
			for i := range max(len(got), len(want)) {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Fatalf("event %d of %d (narration has %d):\n recording: %q\n narration: %q", i+1, len(got), len(want), g, w)
				}
			}
		})
	}
}

// Two recordings of one file with one seed are the same, event for
// event, frames and their bytes too.
func TestRecordingDeterministic(t *testing.T) {
	seed := uint64(7)
	a, _ := record(t, "stp-triangle", scenario.Options{Seed: &seed})
	b, _ := record(t, "stp-triangle", scenario.Options{Seed: &seed})
	if len(a.Entries) != len(b.Entries) {
		t.Fatalf("%d entries, then %d", len(a.Entries), len(b.Entries))
	}
	for i := range a.Entries {
		ja, _ := json.Marshal(a.Entries[i])
		jb, _ := json.Marshal(b.Entries[i])
		if !bytes.Equal(ja, jb) || !bytes.Equal(a.Entries[i].Bytes, b.Entries[i].Bytes) {
			t.Fatalf("entry %d differs:\n %s\n %s", i+1, ja, jb)
		}
	}
}

// get fetches path from srv: its status, content type and body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// Recorded serves the page, its vendored scripts and the read-only API
// over the recording; what is not there is a 404 in the API's words, a
// change is refused.
func TestRecordedServes(t *testing.T) {
	rec, _ := record(t, "stp-triangle", scenario.Options{})
	srv := httptest.NewServer(web.Recorded(rec))
	defer srv.Close()

	for path, want := range map[string]string{
		"/":                               "vendor/cytoscape.min.js",
		"/index.html":                     "id=\"events\"",
		"/app.js":                         "window.netyard",
		"/app.css":                        "#events",
		"/vendor/cytoscape.min.js":        "cytoscape",
		"/vendor/cytoscape-dagre.min.js":  "dagre",
		"/vendor/LICENSE.cytoscape":       "Permission is hereby granted",
		"/vendor/LICENSE.cytoscape-dagre": "Permission is hereby granted",
		"/vendor/LICENSE.dagre":           "Permission is hereby granted",
		"/vendor/LICENSE.graphlib":        "Permission is hereby granted",
	} {
		code, _, body := get(t, srv, path)
		if code != http.StatusOK || !bytes.Contains(body, []byte(want)) {
			t.Errorf("GET %s: %d, %d bytes, want 200 with %q", path, code, len(body), want)
		}
	}

	var w web.World
	getJSON(t, srv, "/api/v1/world", &w)
	if !w.Recorded || w.Backend != "mem" || !w.Virtual || w.Name != "stp-triangle" || w.Events != len(rec.Entries) {
		t.Errorf("world %+v, want the recorded mem run of stp-triangle with %d events", w, len(rec.Entries))
	}
	var top live.Topology
	getJSON(t, srv, "/api/v1/topology", &top)
	var ids []string
	for _, n := range top.Nodes {
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	if want := []string{"h1", "h2", "h3", "s1", "s2", "s3"}; !slices.Equal(ids, want) || len(top.Links) != 6 {
		t.Errorf("topology nodes %v and %d links, want %v and 6", ids, len(top.Links), want)
	}
	blocked := 0 // the page starts a recording from the states the world was built with
	for _, n := range top.Nodes {
		for _, p := range n.Ports {
			if n.STP && p.State == "" {
				t.Errorf("%s %s: no initial STP state", n.ID, p.Name)
			}
			if p.State != "" && p.State != "forwarding" {
				blocked++
			}
		}
	}
	if blocked == 0 {
		t.Error("no port starts other than forwarding: STP would have nothing to show")
	}

	var h web.History
	getJSON(t, srv, "/api/v1/history", &h)
	if h.First != 1 || h.Next != uint64(len(rec.Entries))+1 || len(h.Entries) != len(rec.Entries) {
		t.Errorf("history first %d next %d with %d entries, want 1, %d, %d", h.First, h.Next, len(h.Entries), len(rec.Entries)+1, len(rec.Entries))
	}
	getJSON(t, srv, "/api/v1/history?from=10", &h)
	if len(h.Entries) == 0 || h.Entries[0].N != 10 || h.Entries[0].Text == "" {
		t.Errorf("history from 10 starts at %+v, want entry 10 with its sentence", h.Entries[:min(1, len(h.Entries))])
	}

	frame := slices.IndexFunc(rec.Entries, func(e live.Entry) bool { return e.Kind == trace.Frame })
	if frame < 0 {
		t.Fatal("no frame recorded")
	}
	n := rec.Entries[frame].N
	var d web.FrameDecode
	getJSON(t, srv, fmt.Sprintf("/api/v1/frames/%d", n), &d)
	if d.N != n || d.Link != rec.Entries[frame].Link || !strings.Contains(d.Decode, "Ethernet") || !strings.Contains(d.Decode, "STP") {
		t.Errorf("frame %d: %+v, want its link and gopacket's dump of a BPDU", n, d)
	}
	code, ctype, body := get(t, srv, fmt.Sprintf("/api/v1/frames/%d.pcapng", n))
	if code != http.StatusOK || ctype != "application/vnd.tcpdump.pcapng" {
		t.Fatalf("frame %d as pcapng: %d %s", n, code, ctype)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(body), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := r.ReadPacketData()
	if err != nil || !bytes.Equal(data, rec.Entries[frame].Bytes) {
		t.Errorf("the pcapng slice holds %x (%v), want the frame %x", data, err, rec.Entries[frame].Bytes)
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("the pcapng slice holds more than its frame (%v)", err)
	}

	for _, path := range []string{"/api/v1/frames/999999", "/api/v1/frames/1", "/api/v1/frames/x", "/api/v1/nothing"} {
		code, _, body := get(t, srv, path)
		var e struct{ Error, Code string }
		if err := json.Unmarshal(body, &e); code != http.StatusNotFound || err != nil || e.Code != "not-found" || e.Error == "" {
			t.Errorf("GET %s: %d %s, want 404 not-found with a sentence", path, code, body)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/api/v1/link", "application/json", strings.NewReader(`{"at":"s1:p1","state":"down"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("POST a change to a recording: %d, want 409", resp.StatusCode)
	}
}

func getJSON(t *testing.T, srv *httptest.Server, path string, v any) {
	t.Helper()
	code, ctype, body := get(t, srv, path)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("GET %s: %d %s %s", path, code, ctype, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
