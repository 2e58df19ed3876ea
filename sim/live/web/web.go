// Package web is netyard's page: the topology drawn with cytoscape, frames
// moving along its links, each switch's tables and the event list with its
// narration, live over a running world's API (sim/live) or stepped
// through a finished mem run's recording. Its files are embedded, so it
// works with no network.
package web

import (
	"errors"
	"net/http"

	"github.com/netyard/netyard/sim/scenario"
)

// Page serves the page's files at / (mount a live.Server's API beside it,
// at /api/).
func Page() http.Handler { return http.NotFoundHandler() }

// Recording is a finished mem run: its topology and every event, frames
// with their bytes.
type Recording struct{}

// Record runs f in memory (o as scenario.Run takes it) and records it.
func Record(f *scenario.File, o scenario.Options) (*Recording, *scenario.Report, error) {
	return nil, nil, errors.New("web: not yet")
}

// Recorded serves the page and the read-only part of the API over r.
func Recorded(r *Recording) http.Handler { return http.NotFoundHandler() }
