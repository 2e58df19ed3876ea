package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/netns"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/topo"
)

// apiFlags are up's flags for its API.
type apiFlags struct {
	listen    string // --listen: HTTP on this address instead of the socket
	listenAny bool   // --listen-any: even on an address that is not loopback
	web       bool   // --web: the page at / on HTTP
}

// serving is a running up's API: its listeners and where they are.
type serving struct {
	srv   *live.Server
	https []*http.Server
	api   string        // as the state file records it: unix:PATH or http://IP:PORT
	page  string        // the page's URL, with --web
	down  chan struct{} // closed by POST /api/v1/down
	errs  chan error    // a listener that failed
	close sync.Once
}

// serveAPI serves the API of the world n (built with bus as its tracer)
// as af asks: on the run's unix socket, or on --listen's HTTP, and the
// page beside it with --web. The listeners are opened before it returns,
// so an address in use is an error here.
func serveAPI(n *netns.Network, g *topo.Graph, name, file string, bus *trace.Bus, origin time.Time, af apiFlags, logf func(string, ...any)) (*serving, error) {
	s := &serving{down: make(chan struct{}), errs: make(chan error, 2)}
	var once sync.Once
	o := live.Options{
		Backend: n, Graph: g, Name: name, File: file, Run: netns.Prefix,
		Bus: bus, Origin: origin, Names: scenario.NarrationNames(g, n.World()),
		History: af.web,
		Down:    func() { once.Do(func() { close(s.down) }) },
		Logf:    logf,
	}
	if af.web {
		o.Web = web.Page()
	}
	srv, err := live.New(o)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	var ls []net.Listener
	fail := func(err error) (*serving, error) {
		for _, l := range ls {
			l.Close()
		}
		srv.Close()
		return nil, err
	}
	if af.listen != "" {
		l, err := live.ListenTCP(af.listen, af.listenAny)
		if err != nil {
			return fail(err)
		}
		ls = append(ls, l)
		s.api = "http://" + l.Addr().String()
		if af.web {
			s.page = s.api + "/"
		}
	} else {
		l, err := live.ListenUnix(netns.RunFile(netns.Prefix, ".sock"))
		if err != nil {
			return fail(err)
		}
		ls = append(ls, l)
		s.api = "unix:" + netns.RunFile(netns.Prefix, ".sock")
		if af.web {
			l, err := live.ListenTCP("127.0.0.1:0", false)
			if err != nil {
				return fail(err)
			}
			ls = append(ls, l)
			s.page = "http://" + l.Addr().String() + "/"
		}
	}
	for _, l := range ls {
		h := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
		s.https = append(s.https, h)
		go func() {
			if err := h.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("the API's listener %s: %w", l.Addr(), err)
			}
		}()
	}
	return s, nil
}

// stop ends the API: its streams, then its listeners (the socket is
// removed), waiting a little for answers in flight (down's own).
func (s *serving) stop() {
	s.close.Do(func() {
		s.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, h := range s.https {
			if h.Shutdown(ctx) != nil {
				h.Close()
			}
		}
	})
}
