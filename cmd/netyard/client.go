package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/netns"
)

// apiClient speaks to one run's API (docs/live/api.md).
type apiClient struct {
	run  netns.RunInfo
	http *http.Client
	base string // the URL the API's paths follow
}

// apiError is an error the API answered: its sentence is what the user
// reads.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// connect finds the run (pickRun) and a client for its API.
func connect(run string) (*apiClient, error) {
	r, err := pickRun(run)
	if err != nil {
		return nil, err
	}
	hc, base, err := live.Dial(r.API)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.Prefix, err)
	}
	return &apiClient{run: r, http: hc, base: base}, nil
}

// do sends a request and returns the answer when its status is 2xx; an
// error answer is read into an *apiError.
func (c *apiClient) do(method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("run %s's API (%s) does not answer: %w", c.run.Prefix, c.run.API, unwrapURL(err))
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil, &apiError{Status: resp.StatusCode, Code: e.Code, Msg: e.Error}
}

// unwrapURL drops net/http's "Get URL:" wrapping, which names the
// placeholder host of a unix socket.
func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// change posts a change and returns what changed, in sentences.
func (c *apiClient) change(path string, body any) ([]string, error) {
	resp, err := c.do(http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Changed []string `json:"changed"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("run %s's API answered %s with what is not its JSON: %w", c.run.Prefix, path, err)
	}
	return out.Changed, nil
}
