package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/netyard/netyard/sim/fabric"
)

// The errors the API answers with, each with its status and code
// (docs/live/api.md, Errors). Wrap them with what was asked for.
var (
	ErrBadRequest  = errors.New("bad request")  // 400 bad-request
	ErrNotFound    = errors.New("not found")    // 404 not-found
	ErrRefused     = errors.New("refused")      // 409 refused
	ErrNotModelled = errors.New("not modelled") // 501 not-modelled
)

// errMethod is a read asked with POST or a change with GET (405 method).
var errMethod = errors.New("method not allowed")

// Error is the body of every error the API answers: a sentence and its
// code (bad-request, not-found, method, refused, not-modelled).
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// StatusOf returns the HTTP status and code the API answers err with.
// The world's own errors are read too: fabric.ErrUnknown is not-found,
// Docker's refusals are refused (not-found for "No such container" and
// "network X not found", as Docker's API answers them), what the world
// does not model at run time is not-modelled; anything else is refused.
func StatusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, "bad-request"
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, "method"
	case errors.Is(err, ErrNotFound), errors.Is(err, fabric.ErrUnknown):
		return http.StatusNotFound, "not-found"
	case errors.Is(err, ErrNotModelled), errors.Is(err, fabric.ErrNotModelled),
		strings.Contains(err.Error(), fabric.ErrNotModelled.Error()):
		return http.StatusNotImplemented, "not-modelled"
	case errors.Is(err, fabric.ErrDockerRefused):
		if m := err.Error(); strings.Contains(m, "No such container") || strings.HasSuffix(m, " not found") {
			return http.StatusNotFound, "not-found"
		}
		return http.StatusConflict, "refused"
	}
	return http.StatusConflict, "refused"
}

// sentence is what an error says to a person: Docker's refusals in the
// words its CLI prints ("Error response from daemon: ...").
func sentence(err error) string {
	m := err.Error()
	for _, e := range []error{ErrBadRequest, ErrNotFound, ErrRefused, ErrNotModelled, errMethod} {
		if rest, ok := strings.CutPrefix(m, e.Error()+": "); ok && errors.Is(err, e) {
			return rest
		}
	}
	if errors.Is(err, fabric.ErrDockerRefused) {
		if _, rest, ok := strings.Cut(m, fabric.ErrDockerRefused.Error()+": "); ok {
			return "Error response from daemon: " + rest
		}
	}
	return m
}

// writeError answers err as the contract says: JSON, its status and code.
func writeError(w http.ResponseWriter, err error) {
	status, code := StatusOf(err)
	writeJSON(w, status, Error{Error: sentence(err), Code: code})
}

// badRequest is ErrBadRequest with what was wrong.
func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, a...))
}

// notFound is ErrNotFound with what was missing.
func notFound(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, a...))
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went: nothing more to say to it
}
