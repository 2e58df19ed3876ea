package live

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/trace"
)

// PcapngType is the media type of a capture.
const PcapngType = "application/vnd.tcpdump.pcapng"

// captureLinks resolves the capture's at= endpoints to the names of their
// links (none: every link of the world now).
func (s *Server) captureLinks(ats []string) ([]string, error) {
	var names []string
	var err error
	s.locked(func() {
		w := s.o.Backend.World()
		if len(ats) == 0 {
			for _, l := range w.Links() {
				names = append(names, l.Name())
			}
			return
		}
		for _, at := range ats {
			e, perr := endpoint(at)
			if perr != nil {
				err = perr
				return
			}
			l := w.Link(e)
			if l == nil {
				err = notFound("no link at %s", at)
				return
			}
			if !slices.Contains(names, l.Name()) {
				names = append(names, l.Name())
			}
		}
	})
	return names, err
}

// capture streams the frames crossing the links asked for as one pcapng
// section, one interface per link, flushed per frame, until the client
// goes or the server closes. A slow reader loses frames: counted, said in
// the next frame's comment and in the world's log, never waited for.
func (s *Server) capture(w http.ResponseWriter, r *http.Request) {
	ats := list(strings.Join(r.URL.Query()["at"], ","))
	names, err := s.captureLinks(ats)
	if err != nil {
		writeError(w, err)
		return
	}
	all := len(ats) == 0
	sub := newSubscriber(true, func(e trace.Event) bool {
		return e.Kind == trace.Frame && (all || slices.Contains(names, e.Link))
	})
	s.hub.subscribe(sub)
	defer s.hub.unsubscribe(sub)
	w.Header().Set("Content-Type", PcapngType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	c, err := capture.New(w, names)
	if err != nil || c.Flush() != nil || rc.Flush() != nil {
		return
	}
	what := "every link"
	if !all {
		what = strings.Join(names, ", ")
	}
	var told uint64
	defer func() {
		if _, dropped := sub.drain(nil); dropped > 0 {
			s.o.Logf("netyard: a capture of %s lost %d frames: its reader was slower than the world", what, dropped)
		}
	}()
	var batch []item
	for s.await(r, sub, nil) == ready {
		var dropped uint64
		batch, dropped = sub.drain(batch[:0])
		for i, it := range batch {
			comment := ""
			if i == 0 && dropped > told {
				comment = fmt.Sprintf("netyard: %d frames lost before this one (the reader was slow)", dropped-told)
				told = dropped
			}
			c.Write(it.e.Link, it.e.Time, it.e.Bytes, comment)
		}
		if c.Flush() != nil || rc.Flush() != nil {
			return
		}
	}
}
