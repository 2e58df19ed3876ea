package live

import "errors"

// The errors the API answers with, each with its status and code
// (docs/live/api.md, Errors). Wrap them with what was asked for.
var (
	ErrBadRequest  = errors.New("bad request")  // 400 bad-request
	ErrNotFound    = errors.New("not found")    // 404 not-found
	ErrRefused     = errors.New("refused")      // 409 refused
	ErrNotModelled = errors.New("not modelled") // 501 not-modelled
)
