package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netyard/netyard/sim/netns"
)

// The verbs that speak to a running up's API (docs/live/api.md). Each
// takes the run first, or none when one runs (takeRun, pickRun); an
// error of the API is printed as its sentence, exit 1; a bad command line
// exits 2.

// fail prints err as netyard's error and returns exit 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "netyard:", err)
	return 1
}

// badUsage prints what is wrong with a command line and returns exit 2.
func badUsage(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "netyard %s: %s (netyard %s --help explains)\n", name, fmt.Sprintf(format, a...), name)
	return 2
}

// downWait is how long down waits for a run's process to finish its
// teardown: generous, as a busy machine removes namespaces slowly.
var downWait = 2 * time.Minute

func cmdDown(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("down", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, 0)
	if len(rest) > 0 {
		return badUsage(stderr, "down", "%q is not a run's name (ny..., as netyard ls shows it)", rest[0])
	}
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	r := c.run
	if _, err := c.change("/api/v1/down", struct{}{}); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "netyard: tearing down run %s (%s)\n", r.Prefix, r.File)
	deadline := time.Now().Add(downWait)
	for r.Running() || exists(netns.RunFile(r.Prefix, ".json")) {
		if time.Now().After(deadline) {
			return fail(stderr, fmt.Errorf("run %s is not down after %v: pid %d still runs or its state file is there (its log, if detached: %s)", r.Prefix, downWait, r.PID, netns.RunFile(r.Prefix, ".log")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	var left []string
	ns, dev := 0, 0
	for _, o := range r.Owned {
		var path string
		switch o.Kind {
		case netns.KindNamespace:
			path, ns = "/run/netns/"+o.Name, ns+1
		case netns.KindDevice:
			path, dev = "/sys/class/net/"+o.Name, dev+1
		case netns.KindResolvConf:
			path = "/etc/netns/" + o.Name
		}
		if path != "" && exists(path) {
			left = append(left, o.Kind+" "+o.Name)
		}
	}
	for _, ext := range []string{".sock", ".log"} {
		if p := netns.RunFile(r.Prefix, ext); exists(p) {
			left = append(left, p)
		}
	}
	if len(left) > 0 {
		return fail(stderr, fmt.Errorf("run %s is down but left %s (netyard cleanup removes what is still its)", r.Prefix, strings.Join(left, ", ")))
	}
	fmt.Fprintf(stdout, "netyard: run %s is down: %s and %s removed, with its state file, socket and log\n", r.Prefix, plural(ns, "namespace"), plural(dev, "device"))
	return 0
}

// exists reports whether something is at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// plural is n thing or n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := flags("inspect", stderr)
	asJSON := fs.Bool("json", false, "print JSON, in docker inspect's words for networks and containers")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, 1)
	if len(rest) > 1 {
		return badUsage(stderr, "inspect", "one thing at a time, not %s", strings.Join(rest, " "))
	}
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	path := "/api/v1/inspect"
	if len(rest) == 1 {
		path += "/" + url.PathEscape(rest[0])
	}
	if !*asJSON {
		path += "?format=text"
	}
	resp, err := c.do(http.MethodGet, path, nil)
	if err != nil {
		return fail(stderr, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// interrupted returns a context that ends on Ctrl-C or SIGTERM, for a
// verb that streams until then. SIGPIPE is caught too: a reader that goes
// (tshark -c 5) makes the write fail, which ends the verb quietly.
func interrupted() (context.Context, func()) {
	signal.Ignore(syscall.SIGPIPE)
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// streamed reports whether a streaming verb ended normally: interrupted,
// its reader gone (EPIPE), or its world gone (EOF).
func streamed(ctx context.Context, err error) bool {
	return err == nil || ctx.Err() != nil || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF)
}

func cmdCapture(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("capture", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, -1)
	q := url.Values{}
	for _, at := range rest {
		if !strings.Contains(at, ":") {
			return badUsage(stderr, "capture", "%q is not a link's end: want NODE:IFACE, as containerA:eth0", at)
		}
		q.Add("at", at)
	}
	if isTerminal(stdout) {
		fmt.Fprintln(stderr, "netyard capture: stdout is a terminal, and pcapng is binary: pipe it into wireshark -k -i - or tshark -r -, or redirect it to a file (> out.pcapng)")
		return 2
	}
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	ctx, stop := interrupted()
	defer stop()
	path := "/api/v1/capture"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.do(http.MethodGet, path, nil)
	if err != nil {
		return fail(stderr, err)
	}
	defer resp.Body.Close()
	what := "every link"
	if len(rest) > 0 {
		what = strings.Join(rest, ", ")
	}
	fmt.Fprintf(stderr, "netyard: capturing %s of run %s (Ctrl-C stops)\n", what, c.run.Prefix)
	go func() { <-ctx.Done(); resp.Body.Close() }()
	if _, err := io.Copy(flushWriter{stdout}, resp.Body); !streamed(ctx, err) {
		return fail(stderr, err)
	}
	return 0
}

// flushWriter writes through at once: a frame reaches the reader as it
// crosses.
type flushWriter struct{ w io.Writer }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if fl, ok := f.w.(interface{ Flush() error }); ok && err == nil {
		err = fl.Flush()
	}
	return n, err
}

// event is one entry of the event stream as events prints it.
type event struct {
	N    uint64  `json:"n"`
	T    float64 `json:"t"`
	Text string  `json:"text"`
}

func cmdEvents(args []string, stdout, stderr io.Writer) int {
	fs := flags("events", stderr)
	node := fs.String("node", "", "only the events of these nodes, comma-separated (a link's: \"link NAME\")")
	kind := fs.String("kind", "", "only these kinds, comma-separated: learned, forwarded, flooded, dropped, state, host, stp, routed, lost, frame...")
	asJSON := fs.Bool("json", false, "print each entry as a JSON line (the --trace-json record, its n and its text)")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, 0)
	if len(rest) > 0 {
		return badUsage(stderr, "events", "%q: events takes only a run's name; filter with --node and --kind", rest[0])
	}
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	ctx, stop := interrupted()
	defer stop()
	q := url.Values{}
	if *node != "" {
		q.Set("node", *node)
	}
	if *kind != "" {
		q.Set("kind", *kind)
	}
	path := "/api/v1/events"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.do(http.MethodGet, path, nil)
	if err != nil {
		return fail(stderr, err)
	}
	defer resp.Body.Close()
	go func() { <-ctx.Done(); resp.Body.Close() }()
	err = readSSE(resp.Body, func(name string, data []byte) error {
		switch name {
		case "trace":
			if *asJSON {
				_, err := fmt.Fprintf(stdout, "%s\n", data)
				return err
			}
			var e event
			if err := json.Unmarshal(data, &e); err != nil {
				return fmt.Errorf("the event stream carried what is not an entry: %w", err)
			}
			_, err := fmt.Fprintf(stdout, "%10.6fs  %s\n", e.T, e.Text)
			return err
		case "dropped":
			var d struct {
				Dropped uint64 `json:"dropped"`
			}
			_ = json.Unmarshal(data, &d)
			fmt.Fprintf(stderr, "netyard: %d events dropped so far: this reader was slower than the world\n", d.Dropped)
		}
		return nil
	})
	if !streamed(ctx, err) {
		return fail(stderr, err)
	}
	return 0
}

// readSSE reads a server-sent event stream, calling f with each event's
// name ("message" if none) and data, until the stream ends or f fails.
func readSSE(r io.Reader, f func(name string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	name, data := "", []byte(nil)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != nil {
				if name == "" {
					name = "message"
				}
				if err := f(name, data); err != nil {
					return err
				}
			}
			name, data = "", nil
		case strings.HasPrefix(line, ":"): // a comment: keepalive
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			d := strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, d...)
		}
	}
	return sc.Err()
}

// printChanged prints what a change did.
func printChanged(stdout io.Writer, changed []string) {
	if len(changed) == 0 {
		fmt.Fprintln(stdout, "nothing changed")
	}
	for _, c := range changed {
		fmt.Fprintln(stdout, c)
	}
}

// linkWords are the words link set takes after A:IF, as the link step
// names its fields.
var linkWords = []string{"state", "latency", "jitter", "loss", "rate", "queue"}

func cmdLinkSet(args []string, stdout, stderr io.Writer) int {
	return setVerb("link set", "/api/v1/link", linkWords, args, stdout, stderr)
}

func cmdPortSet(args []string, stdout, stderr io.Writer) int {
	return setVerb("port set", "/api/v1/port", []string{"state"}, args, stdout, stderr)
}

// setVerb is link set and port set: [RUN] END WORD VALUE..., as ip link
// set takes them.
func setVerb(name, path string, words []string, args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags(name, stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, -1)
	if len(rest) == 0 || !strings.Contains(rest[0], ":") {
		return badUsage(stderr, name, "which end? want NODE:PORT first, as containerA:eth0")
	}
	if len(rest) == 1 {
		return badUsage(stderr, name, "and what to set? %s", strings.Join(words, ", "))
	}
	if len(rest)%2 == 0 {
		return badUsage(stderr, name, "%s has no value", rest[len(rest)-1])
	}
	body := map[string]any{"at": rest[0]}
	for i := 1; i < len(rest); i += 2 {
		w, v := rest[i], rest[i+1]
		if !slices.Contains(words, w) {
			return badUsage(stderr, name, "%q: want one of %s", w, strings.Join(words, ", "))
		}
		if _, dup := body[w]; dup {
			return badUsage(stderr, name, "%s given twice", w)
		}
		switch w {
		case "state":
			if v != "up" && v != "down" {
				return badUsage(stderr, name, "state %q: want up or down", v)
			}
			body[w] = v
		case "queue":
			q, err := strconv.Atoi(v)
			if err != nil || q < 0 {
				return badUsage(stderr, name, "queue %q: want a number of frames", v)
			}
			body[w] = q
		default:
			body[w] = v
		}
	}
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	changed, err := c.change(path, body)
	if err != nil {
		return fail(stderr, err)
	}
	printChanged(stdout, changed)
	return 0
}

// strs is a repeatable string flag.
type strs []string

func (s *strs) String() string     { return strings.Join(*s, ",") }
func (s *strs) Set(v string) error { *s = append(*s, v); return nil }

func cmdNetworkConnect(args []string, stdout, stderr io.Writer) int {
	fs := flags("network connect", stderr)
	ip := fs.String("ip", "", "the container's IPv4 address on the network (the network needs a subnet given)")
	var aliases strs
	fs.Var(&aliases, "alias", "a name the container has on the network, besides its own (repeatable)")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, 2)
	if len(rest) != 2 {
		return badUsage(stderr, "network connect", "want a network and a container")
	}
	body := map[string]any{"network": rest[0], "container": rest[1]}
	if *ip != "" {
		body["ip"] = *ip
	}
	if len(aliases) > 0 {
		body["aliases"] = []string(aliases)
	}
	return changeVerb(run, "/api/v1/network/connect", body, stdout, stderr)
}

func cmdNetworkDisconnect(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("network disconnect", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	run, rest := takeRun(pos, 2)
	if len(rest) != 2 {
		return badUsage(stderr, "network disconnect", "want a network and a container")
	}
	return changeVerb(run, "/api/v1/network/disconnect", map[string]any{"network": rest[0], "container": rest[1]}, stdout, stderr)
}

// cmdContainer returns container stop, start or restart.
func cmdContainer(verb string) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		name := "container " + verb
		pos, done, code := parse(flags(name, stderr), args, stdout, stderr, false)
		if done {
			return code
		}
		run, rest := takeRun(pos, 1)
		if len(rest) != 1 {
			return badUsage(stderr, name, "want one container")
		}
		return changeVerb(run, "/api/v1/container/"+verb, map[string]any{"container": rest[0]}, stdout, stderr)
	}
}

// changeVerb posts one change to the run and prints what changed.
func changeVerb(run, path string, body any, stdout, stderr io.Writer) int {
	c, err := connect(run)
	if err != nil {
		return fail(stderr, err)
	}
	changed, err := c.change(path, body)
	if err != nil {
		return fail(stderr, err)
	}
	printChanged(stdout, changed)
	return 0
}
