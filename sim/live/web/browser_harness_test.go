package web_test

// The harness of the browser tests: one headless Chromium per test, driven
// over the DevTools protocol by chromedp, a tab per page, and the helpers
// that read the page's hooks (docs/live/api.md, "The page's hooks").

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// brScreenshots asks the browser tests to refresh the README's screenshots
// in docs/img (go test ./sim/live/web -run Browser -args -screenshots, or
// NETYARD_SCREENSHOTS=1).
var brScreenshots = flag.Bool("screenshots", false, "browser tests: also write the page's screenshots into docs/img")

// The wall clock's deadlines of a browser test: generous, as CI is a busy
// 2-core machine; a test that passes takes a few seconds.
const (
	brReadyTimeout = 60 * time.Second // the page drawn and its history loaded
	brTestTimeout  = 3 * time.Minute  // everything one test does in its browser
)

// chromiumPath returns the Chromium to drive: $NETYARD_CHROMIUM, else the
// first of chromium, chromium-browser and google-chrome on $PATH; "" when
// there is none.
func chromiumPath() string {
	if p := os.Getenv("NETYARD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium, its first tab already open.
type browser struct {
	ctx context.Context // a chromedp context: the browser's first tab
}

// needChromium skips t when no Chromium is installed, and returns the
// one to drive.
func needChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium: install Debian's chromium (apt-get install chromium), or set NETYARD_CHROMIUM to a Chromium or Chrome binary, to run the browser tests")
	}
	return path
}

// newBrowser starts a headless Chromium for t, stopped when t ends (before
// whatever t made earlier is cleaned up: make the servers first); it skips
// t when no Chromium is installed.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := needChromium(t)
	// The flags a root user needs on a machine with no network and no
	// GPU: no sandbox (root), no background fetches (refused, many at a
	// time, by a closed network), a profile of its own.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), brTestTimeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(bcancel)
	// The first Run starts the browser; its context must not have a
	// deadline shorter than the browser's life.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return &browser{ctx: bctx}
}

// tab is one page open in the browser.
type tab struct {
	t   *testing.T
	ctx context.Context
	url string

	mu      sync.Mutex
	console []string // what the page wrote to its console: errors and exceptions
}

// open opens url in a new tab and waits until the page says it is ready
// (window.netyard.ready): its topology drawn and its history loaded.
func (b *browser) open(t *testing.T, url string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, url: url}
	if err := chromedp.Do(ctx); err != nil { // the tab exists: its console can be read
		t.Fatalf("opening a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				tb.mu.Lock()
				if len(tb.console) < 100 {
					tb.console = append(tb.console, m.String())
				}
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range tb.messages() {
				t.Logf("the page's console: %s", m)
			}
		}
	})
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(url),
	); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`window.netyard !== undefined && window.netyard.ready === true`,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(brReadyTimeout),
	)); err != nil {
		t.Fatalf("the page at %s never became ready (window.netyard.ready) in %v: %v; its console: %q",
			url, brReadyTimeout, err, tb.messages())
	}
	return tb
}

// messages returns the errors the page wrote to its console so far.
func (tb *tab) messages() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.console...)
}

// evalIn evaluates the JavaScript expression js in tb's page, awaiting it if
// it is a promise, and decodes its value as a T.
func evalIn[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s in the page: %v", js, err)
	}
	return v
}

// step moves the page to index n (n entries applied), as the page's own
// controls do, and waits for the page to have drawn it.
func (tb *tab) step(n uint64) {
	tb.t.Helper()
	got := evalIn[uint64](tb, fmt.Sprintf(`(async () => {
		await window.netyard.step(%d);
		await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
		return window.netyard.index;
	})()`, n))
	if got != n {
		tb.t.Fatalf("step(%d): the page's index is %d", n, got)
	}
}

// screenshot saves a full-page PNG of tb as name in t's artefacts
// (t.ArtifactDir: kept with go test -artifacts, else removed when the
// test ends), and, for the README's (readme), in docs/img when asked to
// refresh them.
func (tb *tab) screenshot(name string, readme bool) {
	tb.t.Helper()
	// Let the layout's animations settle before the picture.
	evalIn[bool](tb, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot of %s: %v", tb.url, err)
	}
	dir := tb.t.ArtifactDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatalf("saving the screenshot: %v", err)
	}
	tb.t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if readme && (*brScreenshots || os.Getenv("NETYARD_SCREENSHOTS") == "1") {
		root, err := brModuleRoot()
		if err != nil {
			tb.t.Fatal(err)
		}
		path := filepath.Join(root, "docs", "img", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			tb.t.Fatalf("saving the screenshot: %v", err)
		}
		tb.t.Logf("screenshot refreshed: %s", path)
	}
}

// brModuleRoot returns the directory of the go.mod above the working
// directory.
func brModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: cannot find docs/img")
		}
		dir = parent
	}
}

// brGetJSON decodes the JSON answer of GET url into v.
func brGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %.200s", url, err, body)
	}
}

// brEntry is what the browser tests read of a history entry.
type brEntry struct {
	N        uint64 `json:"n"`
	Text     string `json:"text"`
	Node     string `json:"node"`
	Kind     string `json:"kind"`
	Op       string `json:"op"`
	Port     string `json:"port"`
	VLAN     uint16 `json:"vlan"`
	Src      string `json:"src"`
	Role     string `json:"role"`
	State    string `json:"state"`
	WasState string `json:"was_state"`
}

// brHistory is GET /api/v1/history.
type brHistory struct {
	First   uint64    `json:"first"`
	Next    uint64    `json:"next"`
	Dropped uint64    `json:"dropped"`
	Entries []brEntry `json:"entries"`
}

// brTopology is what the browser tests read of GET /api/v1/topology.
type brTopology struct {
	Name  string `json:"name"`
	Nodes []struct {
		ID        string   `json:"id"`
		Kind      string   `json:"kind"`
		Label     string   `json:"label"`
		Network   string   `json:"network"`
		Published []string `json:"published"`
	} `json:"nodes"`
	Links []struct {
		ID string `json:"id"`
		A  brEnd  `json:"a"`
		B  brEnd  `json:"b"`
	} `json:"links"`
}

// brEnd is one end of a link.
type brEnd struct {
	Node string `json:"node"`
	Port string `json:"port"`
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
