package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/scenario"
	"github.com/netyard/netyard/sim/topo"
)

// Changed is what every change answers: what changed, in the words of the
// scenario runner's steps.
type Changed struct {
	Changed []string `json:"changed"`
}

// Value is a change's field given as a string ("20ms", "1%", "10mbit") or
// a number (seconds, a probability, bits per second), read as the
// scenario file reads it.
type Value string

// UnmarshalJSON takes a string or a number.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = Value(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, not %s", b)
	}
	*v = Value(n)
	return nil
}

// LinkChange is POST /api/v1/link: the link step's fields.
type LinkChange struct {
	At      string `json:"at"`    // either end: node:port
	State   string `json:"state"` // up or down; "": as it is
	Latency *Value `json:"latency,omitempty"`
	Jitter  *Value `json:"jitter,omitempty"`
	Loss    *Value `json:"loss,omitempty"`
	Rate    *Value `json:"rate,omitempty"` // a rate, or unlimited
	Queue   *int   `json:"queue,omitempty"`
}

// PortChange is POST /api/v1/port.
type PortChange struct {
	At    string `json:"at"` // switch:port
	State string `json:"state"`
}

// NetworkChange is POST /api/v1/network/connect and disconnect.
type NetworkChange struct {
	Network   string   `json:"network"`
	Container string   `json:"container"`
	IP        string   `json:"ip,omitempty"`      // connect: --ip
	Aliases   []string `json:"aliases,omitempty"` // connect: --alias
}

// ContainerChange is POST /api/v1/container/stop, start and restart.
type ContainerChange struct {
	Container string `json:"container"`
}

// endpoint parses node:port.
func endpoint(s string) (topo.Endpoint, error) {
	node, port, ok := strings.Cut(s, ":")
	if !ok || node == "" || port == "" || strings.Contains(port, ":") {
		return topo.Endpoint{}, badRequest("at %q: want node:port, like h1:eth0 or s1:p1", s)
	}
	return topo.Endpoint{Node: node, Port: port}, nil
}

// state parses up or down.
func state(s string) (bool, error) {
	switch s {
	case "up":
		return true, nil
	case "down":
		return false, nil
	}
	return false, badRequest("state %q: want up or down", s)
}

// change reads a change's body into v, runs do under the world's lock (and
// one change at a time), and answers what changed.
func (s *Server) change(w http.ResponseWriter, r *http.Request, v any, do func() ([]string, error)) {
	if err := decode(w, r, v, false); err != nil {
		writeError(w, err)
		return
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	var what []string
	var err error
	s.locked(func() { what, err = do() })
	if err != nil {
		writeError(w, err)
		return
	}
	if what == nil {
		what = []string{}
	}
	writeJSON(w, http.StatusOK, Changed{what})
}

// apply returns cfg with c's impairments set, and the names and values it
// sets as a scenario writes them.
func (c *LinkChange) apply(cfg sim.LinkConfig) (sim.LinkConfig, []string, error) {
	var names []string
	if c.Latency != nil {
		d, err := scenario.ParseDuration(string(*c.Latency))
		if err != nil {
			return cfg, nil, badRequest("latency: %v", err)
		}
		cfg.Latency, names = d, append(names, "latency")
	}
	if c.Jitter != nil {
		d, err := scenario.ParseDuration(string(*c.Jitter))
		if err != nil {
			return cfg, nil, badRequest("jitter: %v", err)
		}
		cfg.Jitter, names = d, append(names, "jitter")
	}
	if c.Loss != nil {
		p, err := scenario.ParseProbability(string(*c.Loss))
		if err != nil {
			return cfg, nil, badRequest("%v", err)
		}
		cfg.Loss, names = float64(p), append(names, "loss")
	}
	if c.Rate != nil {
		if v := strings.TrimSpace(string(*c.Rate)); v == "unlimited" || v == "0" {
			cfg.Rate = 0
		} else {
			r, err := scenario.ParseRate(v)
			if err != nil {
				return cfg, nil, badRequest("%v", err)
			}
			cfg.Rate = uint64(r)
		}
		names = append(names, "rate")
	}
	if c.Queue != nil {
		if *c.Queue < 0 {
			return cfg, nil, badRequest("queue %d must not be negative", *c.Queue)
		}
		cfg.Queue, names = *c.Queue, append(names, "queue")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, badRequest("%v", err)
	}
	return cfg, names, nil
}

// impairment writes one impairment of cfg as a scenario file does.
func impairment(cfg sim.LinkConfig, name string) string {
	switch name {
	case "latency":
		return cfg.Latency.String()
	case "jitter":
		return cfg.Jitter.String()
	case "loss":
		return scenario.FormatProbability(cfg.Loss)
	case "rate":
		return scenario.FormatRate(cfg.Rate)
	}
	return strconv.Itoa(cfg.Queue)
}

func (s *Server) changeLink(w http.ResponseWriter, r *http.Request) {
	var c LinkChange
	s.change(w, r, &c, func() ([]string, error) {
		e, err := endpoint(c.At)
		if err != nil {
			return nil, err
		}
		up := false
		if c.State != "" {
			if up, err = state(c.State); err != nil {
				return nil, err
			}
		}
		world := s.o.Backend.World()
		l := world.Link(e)
		if l == nil {
			return nil, notFound("no link at %s", c.At)
		}
		was := l.Config()
		now, names, err := c.apply(was)
		if err != nil {
			return nil, err
		}
		if c.State == "" && len(names) == 0 {
			return nil, badRequest("a link change needs a state (up or down) or an impairment (latency, jitter, loss, rate, queue)")
		}
		var done []string
		if len(names) > 0 {
			if err := world.SetLinkConfig(e, now); err != nil {
				return nil, fmt.Errorf("%w: link at %s: %v", ErrRefused, c.At, err)
			}
			got := l.Config() // with the default queue filled in
			for _, n := range names {
				done = append(done, fmt.Sprintf("link at %s: %s %s (was %s)", c.At, n, impairment(got, n), impairment(was, n)))
			}
		}
		if c.State != "" {
			if err := world.SetLink(e, up); err != nil {
				return nil, err
			}
			done = append([]string{fmt.Sprintf("link at %s %s", c.At, c.State)}, done...)
		}
		return done, nil
	})
}

func (s *Server) changePort(w http.ResponseWriter, r *http.Request) {
	var c PortChange
	s.change(w, r, &c, func() ([]string, error) {
		e, err := endpoint(c.At)
		if err != nil {
			return nil, err
		}
		up, err := state(c.State)
		if err != nil {
			return nil, err
		}
		if err := s.o.Backend.World().SetPort(e, up); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("port %s %s", c.At, c.State)}, nil
	})
}

// needs refuses a change missing a field.
func needs(what string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return badRequest("%s needs %q", what, fields[i])
		}
	}
	return nil
}

func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request) {
	var c NetworkChange
	s.change(w, r, &c, func() ([]string, error) {
		if err := needs("network connect", "network", c.Network, "container", c.Container); err != nil {
			return nil, err
		}
		var ip netip.Addr
		if c.IP != "" {
			var err error
			if ip, err = netip.ParseAddr(c.IP); err != nil {
				return nil, badRequest("ip %q is not an address", c.IP)
			}
		}
		return s.o.Backend.World().DockerConnect(c.Container, c.Network, ip, c.Aliases)
	})
}

func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request) {
	var c NetworkChange
	s.change(w, r, &c, func() ([]string, error) {
		if err := needs("network disconnect", "network", c.Network, "container", c.Container); err != nil {
			return nil, err
		}
		if c.IP != "" || len(c.Aliases) > 0 {
			return nil, badRequest("network disconnect takes network and container only")
		}
		return s.o.Backend.World().DockerDisconnect(c.Container, c.Network)
	})
}

func (s *Server) container(verb string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		var c ContainerChange
		s.change(w, r, &c, func() ([]string, error) {
			if err := needs("container "+verb, "container", c.Container); err != nil {
				return nil, err
			}
			world := s.o.Backend.World()
			switch verb {
			case "stop":
				return world.DockerStop(c.Container)
			case "start":
				return world.DockerStart(c.Container)
			}
			return world.DockerRestart(c.Container)
		})
	}
}

// tearDown answers POST /api/v1/down, then tears the world down.
func (s *Server) tearDown(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := decode(w, r, &body, true); err != nil {
		writeError(w, err)
		return
	}
	if s.o.Down == nil {
		writeError(w, fmt.Errorf("%w: this world cannot be torn down through its API", ErrNotModelled))
		return
	}
	writeJSON(w, http.StatusOK, Changed{[]string{"the world is being torn down"}})
	_ = http.NewResponseController(w).Flush()
	s.down.Do(func() { go s.o.Down() })
}
