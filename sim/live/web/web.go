// Package web is netyard's page: the topology drawn with cytoscape, frames
// moving along its links, each switch's tables and the event list with its
// narration, live over a running world's API (sim/live) or stepped
// through a finished mem run's recording. Its files are embedded, so it
// works with no network.
package web

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/live"
	_ "github.com/netyard/netyard/sim/mem" // a recording runs in memory
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
)

//go:embed static
var static embed.FS

// Page serves the page's files at / (mount a live.Server's API beside it,
// at /api/).
func Page() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil { // the embedded tree is fixed at build time
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method", "the page is read with GET")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// MaxEntries bounds a recording: the events after it are counted, not
// kept (a storm's run stops at its budget far sooner in most files).
const MaxEntries = 1_000_000

// Recording is a finished mem run: its topology and every event, frames
// with their bytes.
type Recording struct {
	Name     string        // the scenario's name
	File     string        // its file
	Seed     uint64        // the seed it ran with
	Topology live.Topology // the plan as it was built (changes are events)
	Entries  []live.Entry  // every event, in order, n from 1; frames keep their Bytes
	Dropped  uint64        // events past MaxEntries, not kept
	Elapsed  float64       // seconds the run took, virtual
	Events   uint64        // simulated events
}

// Record runs f in memory (o as scenario.Run takes it: its Backend is
// forced to mem, its Trace and World hooks are the recording's, chained
// to any o had) and records it.
func Record(f *scenario.File, o scenario.Options) (*Recording, *scenario.Report, error) {
	if o.Backend != "" && o.Backend != "mem" {
		return nil, nil, fmt.Errorf("web: a recording is of a mem run, not of backend %q", o.Backend)
	}
	o.Backend = "mem"
	rec := &Recording{}
	var names *strings.Replacer
	world, tr := o.World, o.Trace
	o.World = func(g *topo.Graph, w *fabric.Fabric) {
		names = scenario.NarrationNames(g, w)
		rec.Topology = live.WorldTopology("", w)
		if world != nil {
			world(g, w)
		}
	}
	o.Trace = func(e trace.Event, step int64) {
		if tr != nil {
			tr(e, step)
		}
		if len(rec.Entries) >= MaxEntries {
			rec.Dropped++
			return
		}
		rec.Entries = append(rec.Entries, live.NewEntry(uint64(len(rec.Entries)+1), e, sim.Epoch, step, names))
	}
	rep, err := scenario.Run(f, o)
	if err != nil {
		return nil, rep, err
	}
	rec.Name, rec.File, rec.Seed = rep.Scenario, rep.File, rep.Seed
	rec.Topology.Name = rep.Scenario
	rec.Elapsed, rec.Events = rep.Elapsed, rep.Events
	return rec, rep, nil
}

// Recorded serves the page and the read-only part of the API over r:
// world (recorded: true), topology, history, frames/N and
// frames/N.pcapng. A change is refused: a recording is what happened.
func Recorded(r *Recording) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", Page())
	mux.HandleFunc("/api/", func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			if req.Method == http.MethodPost {
				writeError(w, http.StatusConflict, "refused", "a recording cannot be changed: it is a finished run")
				return
			}
			writeError(w, http.StatusMethodNotAllowed, "method", "the API is read with GET")
			return
		}
		r.serveAPI(w, req)
	})
	return mux
}

// World is what /api/v1/world answers.
type World struct {
	Name     string  `json:"name"`
	File     string  `json:"file"`
	Backend  string  `json:"backend"`
	Run      string  `json:"run"`
	Recorded bool    `json:"recorded"`
	Elapsed  float64 `json:"elapsed"`
	Virtual  bool    `json:"virtual"`
	Events   int     `json:"events"`
}

// History is what /api/v1/history answers.
type History struct {
	First   uint64       `json:"first"`
	Next    uint64       `json:"next"`
	Dropped uint64       `json:"dropped"`
	Entries []live.Entry `json:"entries"`
}

// FrameDecode is what /api/v1/frames/N answers.
type FrameDecode struct {
	N       uint64 `json:"n"`
	Link    string `json:"link"`
	From    string `json:"from"`
	Len     int    `json:"len"`
	Summary string `json:"summary"`
	Decode  string `json:"decode"`
}

func (r *Recording) serveAPI(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, "/api/v1/")
	switch {
	case path == "world":
		writeJSON(w, World{Name: r.Name, File: r.File, Backend: "mem", Recorded: true, Elapsed: r.Elapsed, Virtual: true, Events: len(r.Entries)})
	case path == "topology":
		writeJSON(w, r.Topology)
	case path == "history":
		from := uint64(1)
		if s := req.URL.Query().Get("from"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad-request", fmt.Sprintf("from %q is not an event number", s))
				return
			}
			from = max(n, 1)
		}
		h := History{First: 1, Next: uint64(len(r.Entries)) + 1, Dropped: r.Dropped, Entries: []live.Entry{}}
		if from <= uint64(len(r.Entries)) {
			h.Entries = r.Entries[from-1:]
		}
		writeJSON(w, h)
	case strings.HasPrefix(path, "frames/"):
		r.serveFrame(w, strings.TrimPrefix(path, "frames/"))
	case path == "inspect" || strings.HasPrefix(path, "inspect/"):
		writeError(w, http.StatusNotImplemented, "not-modelled", "a recording holds its events, not a world to inspect: fold its history")
	default:
		writeError(w, http.StatusNotFound, "not-found", fmt.Sprintf("no route %s in a recording's API", req.URL.Path))
	}
}

// frame returns frame event n, or nil.
func (r *Recording) frame(n uint64) *live.Entry {
	if n < 1 || n > uint64(len(r.Entries)) {
		return nil
	}
	e := &r.Entries[n-1]
	if e.Kind != trace.Frame || e.Bytes == nil {
		return nil
	}
	return e
}

func (r *Recording) serveFrame(w http.ResponseWriter, s string) {
	num, pcap := strings.CutSuffix(s, ".pcapng")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "not-found", fmt.Sprintf("no frame %q: frames are numbered as events", s))
		return
	}
	e := r.frame(n)
	if e == nil {
		writeError(w, http.StatusNotFound, "not-found", fmt.Sprintf("event %d is not a frame of this recording", n))
		return
	}
	if !pcap {
		writeJSON(w, DecodeFrame(e))
		return
	}
	var b bytes.Buffer
	c, err := capture.New(&b, []string{e.Link})
	if err == nil {
		c.Write(e.Link, sim.Epoch.Add(time.Duration(e.T*float64(time.Second))), e.Bytes, fmt.Sprintf("event %d: %s", e.N, e.Summary))
		err = c.Flush()
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "the frame could not be written as pcapng: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/vnd.tcpdump.pcapng")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="frame-%d.pcapng"`, e.N))
	_, _ = w.Write(b.Bytes())
}

// DecodeFrame returns frame entry e with its decode: gopacket's dump of
// its layers.
func DecodeFrame(e *live.Entry) FrameDecode {
	p := gopacket.NewPacket(e.Bytes, layers.LayerTypeEthernet, gopacket.Default)
	return FrameDecode{N: e.N, Link: e.Link, From: e.Port, Len: cmp.Or(e.Len, len(e.Bytes)), Summary: e.Summary, Decode: p.Dump()}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a write error is the client gone
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg, "code": code})
}
