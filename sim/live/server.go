package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
)

// MaxBody bounds a request's body: a change is a few fields.
const MaxBody = 64 << 10

// HistorySize is how many entries a live world's history holds: the last
// ones; older ones are dropped and counted.
const HistorySize = 10000

// QueueSize is each subscriber's queue (an event stream, a capture): what
// does not fit while the subscriber is slow is dropped and counted.
const QueueSize = 1024

// Options are what a Server serves.
type Options struct {
	Backend backend.Backend // the running world (mem or netns); required
	Graph   *topo.Graph     // its plan; nil: Backend.World().Graph()
	Name    string          // the scenario's name
	File    string          // the scenario's file
	Run     string          // the run's prefix (ny...), as netyard ls shows it
	// Bus is the tracer the backend was built with: the API's event
	// stream, capture and history subscribe to it. Required.
	Bus    *trace.Bus
	Origin time.Time // where the entries' time ("t") starts: the run's start
	// Names renames bridge IDs and MACs in the entries' sentences as
	// --explain does (scenario.NarrationNames); nil: none.
	Names *strings.Replacer
	// Lock is held around every access to the world: the mem world is
	// single-threaded, and whoever advances its clock holds the same
	// lock. nil: none (netns, safe for concurrent use).
	Lock sync.Locker
	// History keeps the last HistorySize entries, frames with their bytes,
	// for /history and /frames (the page, --web). Without it history is
	// empty, with a note: a ring subscribed to every event, frames
	// included, costs the data path.
	History bool
	// Web, if not nil, is served at / (the page).
	Web http.Handler
	// Down tears the world down (POST /api/v1/down); it is called once,
	// after the answer is sent. nil: down is not modelled.
	Down func()
	// Logf reports what the world's log should say (frames a capture
	// lost); nil: nothing.
	Logf func(format string, a ...any)
	// Keepalive is the interval of the event stream's keepalive comments;
	// 0: 15s.
	Keepalive time.Duration
	// Clock times the keepalives; nil: the wall clock. A server answers
	// people, so its clock is theirs, whatever the world's is.
	Clock clock.Clock
}

// Server is the API of one running world, an http.Handler.
type Server struct {
	o    Options
	mux  *http.ServeMux
	hub  *hub
	done chan struct{} // closed by Close: streams end
	once sync.Once
	down sync.Once
	cmu  sync.Mutex // serialises changes made through the API
}

// nopLocker is the Lock of a world safe for concurrent use.
type nopLocker struct{}

func (nopLocker) Lock()   {}
func (nopLocker) Unlock() {}

// New returns the API of the running world o describes.
func New(o Options) (*Server, error) {
	switch {
	case o.Backend == nil || o.Backend.World() == nil:
		return nil, errors.New("live: no world to serve (Options.Backend)")
	case o.Bus == nil:
		return nil, errors.New("live: the world has no trace bus (Options.Bus): its events cannot be served")
	}
	if o.Graph == nil {
		o.Graph = o.Backend.World().Graph()
	}
	if o.Lock == nil {
		o.Lock = nopLocker{}
	}
	if o.Keepalive <= 0 {
		o.Keepalive = 15 * time.Second
	}
	o.Clock = clock.Or(o.Clock)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	s := &Server{o: o, mux: http.NewServeMux(), done: make(chan struct{})}
	s.hub = newHub(o.Bus, o.History)
	s.routes()
	return s, nil
}

// Close ends every stream and unsubscribes from the world's events. The
// handler answers reads and changes still; streams end at once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.hub.close()
	})
}

// ServeHTTP serves the API at /api/v1/ and the page, if any, at /.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// route registers h for path, answering only method (405 otherwise).
func (s *Server) route(method, path string, h func(http.ResponseWriter, *http.Request)) {
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, fmt.Errorf("%w: %s %s: use %s", errMethod, r.Method, r.URL.Path, method))
			return
		}
		h(w, r)
	})
}

func (s *Server) routes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/api/v1/world", s.world)
	s.route(get, "/api/v1/inspect", s.inspect)
	s.route(get, "/api/v1/inspect/{name...}", s.inspectOne)
	s.route(get, "/api/v1/topology", s.topology)
	s.route(get, "/api/v1/history", s.history)
	s.route(get, "/api/v1/frames/{n}", s.frame)
	s.route(get, "/api/v1/events", s.events)
	s.route(get, "/api/v1/capture", s.capture)
	s.route(post, "/api/v1/link", s.changeLink)
	s.route(post, "/api/v1/port", s.changePort)
	s.route(post, "/api/v1/network/connect", s.networkConnect)
	s.route(post, "/api/v1/network/disconnect", s.networkDisconnect)
	for _, verb := range []string{"stop", "start", "restart"} {
		s.route(post, "/api/v1/container/"+verb, s.container(verb))
	}
	s.route(post, "/api/v1/down", s.tearDown)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no such route %s (docs/live/api.md lists them)", r.URL.Path))
	})
	if s.o.Web != nil {
		s.mux.Handle("/", s.o.Web)
	} else {
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, notFound("no page here (the page is served with --web); the API is at /api/v1/"))
		})
	}
}

// locked runs f holding the world still.
func (s *Server) locked(f func()) {
	s.o.Lock.Lock()
	defer s.o.Lock.Unlock()
	f()
}

// World is what GET /api/v1/world answers.
type World struct {
	Name     string  `json:"name"`
	File     string  `json:"file"`
	Backend  string  `json:"backend"` // mem or netns
	Run      string  `json:"run"`
	Recorded bool    `json:"recorded"` // a finished mem run's recording (sim/live/web); a live world: false
	Elapsed  float64 `json:"elapsed"`  // seconds since the world started (virtual in mem)
	Virtual  bool    `json:"virtual"`  // the world's time is a simulator's
	Events   uint64  `json:"events"`   // events numbered so far (all of them while history is kept)
}

func (s *Server) world(w http.ResponseWriter, r *http.Request) {
	var v World
	s.locked(func() {
		b := s.o.Backend
		v = World{Name: s.o.Name, File: s.o.File, Backend: b.Name(), Run: s.o.Run, Elapsed: b.Elapsed().Seconds(), Virtual: b.VirtualTime()}
	})
	v.Events = s.hub.count()
	writeJSON(w, http.StatusOK, v)
}

// wantText reports whether the request asks for the tables a person reads.
func wantText(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		return false, nil
	case "text":
		return true, nil
	default:
		return false, badRequest("format %q: want text or json", f)
	}
}

// answer writes v as JSON or, asked for text, as WriteText's tables.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any) {
	text, err := wantText(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !text {
		writeJSON(w, http.StatusOK, v)
		return
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, v); err != nil {
		writeError(w, fmt.Errorf("inspect as text: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) inspect(w http.ResponseWriter, r *http.Request) {
	if _, err := wantText(r); err != nil {
		writeError(w, err)
		return
	}
	var v Inspection
	s.locked(func() { v = Inspect(s.o.Backend.World()) })
	s.answer(w, r, v)
}

func (s *Server) inspectOne(w http.ResponseWriter, r *http.Request) {
	if _, err := wantText(r); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	var v any
	var err error
	s.locked(func() { v, err = InspectOne(s.o.Backend.World(), name) })
	if err != nil {
		writeError(w, err)
		return
	}
	s.answer(w, r, v)
}

func (s *Server) topology(w http.ResponseWriter, r *http.Request) {
	var v Topology
	s.locked(func() { v = TopologyOf(s.o.Name, s.o.Graph, s.o.Backend.World().Links()) })
	writeJSON(w, http.StatusOK, v)
}

// decode reads a change's JSON body into v: at most MaxBody bytes, one
// object, no field v does not have. An empty body is {} when empty is
// allowed.
func decode(w http.ResponseWriter, r *http.Request, v any, empty bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return badRequest("the body is larger than %d bytes", MaxBody)
	case err != nil:
		return badRequest("reading the body: %v", err)
	case len(bytes.TrimSpace(body)) == 0:
		if empty {
			return nil
		}
		return badRequest("the body is empty: want a JSON object (docs/live/api.md, Changes)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed JSON: more after the object")
	}
	return nil
}

// jsonProblem says what encoding/json found wrong, in a sentence.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q is a %s, want a %s", typ.Field, typ.Value, typ.Type)
		}
		return fmt.Sprintf("a %s, want a %s", typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the object ends early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
