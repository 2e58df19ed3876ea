package netns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim/topo"
)

// RunInfo describes a running (or crashed) `netyard up`: what it is, and
// every object it made, as its state file records them.
type RunInfo struct {
	Prefix string `json:"prefix"`
	PID    int    `json:"pid"`
	// Started is the process's start time (clock ticks since boot, from
	// /proc/PID/stat), so that another process that reuses the pid is not
	// taken for this run. 0: unknown.
	Started uint64            `json:"started,omitempty"`
	File    string            `json:"file"`
	Hosts   map[string]string `json:"hosts"` // host -> namespace
	Addrs   map[string]string `json:"addrs"` // host -> addresses, for ls
	// Owned lists what the run made, in the order it made it. Each entry
	// is written before the object is made, so a crash leaves no object
	// unrecorded; a cleanup checks each one's mark before removing it.
	Owned []Owned `json:"owned"`
	Alive bool    `json:"-"`
	// Shared lists the containers on a Docker host's host network, each
	// with its host: they are the host's own stack, in this process, and
	// have no namespace.
	Shared map[string]string `json:"shared,omitempty"`
	// API is where the run serves its live API (docs/live/api.md):
	// "unix:/run/netyard/PREFIX.sock" or "http://127.0.0.1:PORT"; empty
	// while it has none (or for a run made by an older netyard).
	API string `json:"api,omitempty"`
}

// Owned is one object a run made.
type Owned struct {
	Kind string `json:"kind"` // KindNamespace, KindResolvConf or KindDevice
	Name string `json:"name"`
	// ID is a namespace's identity (its inode); 0 while it is being made.
	ID uint64 `json:"id,omitempty"`
}

// Kinds of owned objects.
const (
	KindNamespace  = "namespace"   // /run/netns/NAME; its mark is its identity
	KindResolvConf = "resolv.conf" // /etc/netns/NAME/resolv.conf; its mark is its first line
	KindDevice     = "device"      // a network device in the host's namespace; its mark is its alias
)

// prefixRE matches a run's prefix: ny and a pid in base 36.
var prefixRE = regexp.MustCompile(`^ny[0-9a-z]{1,13}$`)

// maxState bounds a state file.
const maxState = 1 << 20

// parseRun reads a state file strictly: unknown fields, a bad prefix or
// pid, an unknown kind or a name that is not one netyard makes are
// errors, so that nothing a cleanup does can be steered outside the
// directories netyard manages.
func parseRun(b []byte) (RunInfo, error) {
	var r RunInfo
	if len(b) > maxState {
		return r, fmt.Errorf("larger than %d bytes", maxState)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return RunInfo{}, err
	}
	if dec.More() {
		return RunInfo{}, fmt.Errorf("more than one JSON value")
	}
	if !prefixRE.MatchString(r.Prefix) {
		return RunInfo{}, fmt.Errorf("prefix %q is not one netyard makes", r.Prefix)
	}
	if r.PID <= 0 {
		return RunInfo{}, fmt.Errorf("pid %d", r.PID)
	}
	for _, o := range r.Owned {
		var err error
		switch o.Kind {
		case KindNamespace, KindResolvConf:
			err = nsutil.CheckName(o.Name)
		case KindDevice:
			err = nsutil.CheckName(o.Name)
			if err == nil && len(o.Name) > topo.MaxIfaceNameLen {
				err = fmt.Errorf("device name %q is longer than 15 bytes", o.Name)
			}
		default:
			err = fmt.Errorf("unknown kind %q", o.Kind)
		}
		if err != nil {
			return RunInfo{}, fmt.Errorf("owned %s %q: %w", o.Kind, o.Name, err)
		}
	}
	if err := checkAPI(r.API); err != nil {
		return RunInfo{}, fmt.Errorf("api %q: %w", r.API, err)
	}
	for h, ns := range r.Hosts {
		if ns == "" { // an anonymous one: nothing to find
			continue
		}
		if err := nsutil.CheckName(ns); err != nil {
			return RunInfo{}, fmt.Errorf("host %q: %w", h, err)
		}
	}
	return r, nil
}

// checkAPI accepts the two forms of a run's API address, strictly: a
// unix socket's clean absolute path ending in .sock (unix:/run/netyard/ny1a.sock),
// or plain HTTP on an IP address and a port (http://127.0.0.1:8080,
// http://[::1]:8080), nothing more (no path, no user, no host name).
func checkAPI(api string) error {
	switch {
	case api == "":
		return nil
	case strings.HasPrefix(api, "unix:"):
		p := strings.TrimPrefix(api, "unix:")
		if !path.IsAbs(p) || path.Clean(p) != p || !strings.HasSuffix(p, ".sock") || strings.ContainsAny(p, "\x00\n") {
			return fmt.Errorf("not a clean absolute path to a .sock file")
		}
		return nil
	case strings.HasPrefix(api, "http://"):
		ap, err := netip.ParseAddrPort(strings.TrimPrefix(api, "http://"))
		if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			return fmt.Errorf("not http://IP:PORT")
		}
		return nil
	}
	return fmt.Errorf("want unix:PATH or http://IP:PORT")
}
