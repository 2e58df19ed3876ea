package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netyard/netyard/sim"
)

func init() { registerStep[LinkStep]("link", 40) }

// LinkStep changes the link at one of its ends: brings it up or down,
// changes its impairments, or both. The impairments it names change, at
// once, in both directions; those it leaves out stay as they are (latency:
// 0s takes a latency away). A link that is gone (unplug) is no longer
// there to change.
type LinkStep struct {
	At      string         `yaml:"at"`      // either end: node:port
	State   string         `yaml:"state"`   // up or down; default: as it is
	Latency *time.Duration `yaml:"latency"` // one-way delay
	Jitter  *time.Duration `yaml:"jitter"`
	Loss    *Probability   `yaml:"loss"`
	Rate    *LinkRate      `yaml:"rate"`  // a rate, or unlimited
	Queue   *int           `yaml:"queue"` // 0: the default, 1000 frames
}

// LinkRate is a link's rate as a link step sets it: a Rate, or 0,
// written unlimited.
type LinkRate uint64

// UnmarshalYAML parses a rate or unlimited.
func (r *LinkRate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && strings.TrimSpace(n.Value) == "unlimited" {
		*r = 0
		return nil
	}
	var v Rate
	if n.Kind == yaml.ScalarNode {
		if err := v.UnmarshalYAML(n); err == nil {
			*r = LinkRate(v)
			return nil
		}
	}
	return fmt.Errorf("line %d: bad rate %s: want bits per second like 10Mbit, or unlimited", n.Line, what(n))
}

// impaired reports whether the step changes an impairment.
func (s *LinkStep) impaired() bool {
	return s.Latency != nil || s.Jitter != nil || s.Loss != nil || s.Rate != nil || s.Queue != nil
}

func (s *LinkStep) check(c *checker, p string) {
	c.linkAt(p+".at", s.At)
	if s.State == "" && !s.impaired() {
		c.bad(p, "link needs a state (up or down) or an impairment to change (latency, jitter, loss, rate, queue)")
		return
	}
	if s.State != "" {
		c.oneOf(p+".state", "state", s.State, "up", "down")
	}
	if s.Queue != nil && *s.Queue < 0 {
		c.bad(p+".queue", "queue %d must not be negative", *s.Queue)
	}
}

// changes lists the impairments the step sets, and their values in cfg
// as a file writes them: "latency", "50ms".
func (s *LinkStep) changes(cfg sim.LinkConfig) (names, values []string) {
	add := func(set bool, name, value string) {
		if set {
			names, values = append(names, name), append(values, value)
		}
	}
	add(s.Latency != nil, "latency", cfg.Latency.String())
	add(s.Jitter != nil, "jitter", cfg.Jitter.String())
	add(s.Loss != nil, "loss", FormatProbability(cfg.Loss))
	add(s.Rate != nil, "rate", FormatRate(cfg.Rate))
	add(s.Queue != nil, "queue", strconv.Itoa(cfg.Queue))
	return names, values
}

// apply returns cfg with the step's impairments set.
func (s *LinkStep) apply(cfg sim.LinkConfig) sim.LinkConfig {
	if s.Latency != nil {
		cfg.Latency = *s.Latency
	}
	if s.Jitter != nil {
		cfg.Jitter = *s.Jitter
	}
	if s.Loss != nil {
		cfg.Loss = float64(*s.Loss)
	}
	if s.Rate != nil {
		cfg.Rate = uint64(*s.Rate)
	}
	if s.Queue != nil {
		cfg.Queue = *s.Queue
	}
	return cfg
}

func (s *LinkStep) describe() string {
	var parts []string
	if s.State != "" {
		parts = append(parts, s.State)
	}
	names, values := s.changes(s.apply(sim.LinkConfig{}))
	for i := range names {
		parts = append(parts, names[i]+" "+values[i])
	}
	return fmt.Sprintf("link at %s %s", s.At, strings.Join(parts, ", "))
}

func (s *LinkStep) run(r *runner) (bool, string) {
	e := endpoint(s.At)
	var done []string
	if s.impaired() {
		l := r.w.Link(e)
		if l == nil {
			return false, fmt.Sprintf("no link at %s", s.At)
		}
		was := l.Config()
		now := s.apply(was)
		if err := r.w.SetLinkConfig(e, now); err != nil {
			return r.fail(err)
		}
		names, before := s.changes(was)
		_, after := s.changes(l.Config()) // with the default queue filled in
		for i := range names {
			done = append(done, fmt.Sprintf("%s %s (was %s)", names[i], after[i], before[i]))
		}
	}
	if s.State != "" {
		if err := r.w.SetLink(e, s.State == "up"); err != nil {
			return r.fail(err)
		}
		done = append([]string{"link " + s.State}, done...)
	}
	return true, strings.Join(done, ", ")
}

// FormatProbability writes a probability as a scenario file does, a
// percentage: 0.1 is 10% (what ParseProbability reads back).
func FormatProbability(p float64) string { return strconv.FormatFloat(p*100, 'g', -1, 64) + "%" }

// FormatRate writes bits per second as a scenario file does: 1Mbit,
// 64kbit (what ParseRate reads back); 0 is unlimited.
func FormatRate(bits uint64) string {
	switch {
	case bits == 0:
		return "unlimited"
	case bits%1e9 == 0:
		return fmt.Sprintf("%dGbit", bits/1e9)
	case bits%1e6 == 0:
		return fmt.Sprintf("%dMbit", bits/1e6)
	case bits%1e3 == 0:
		return fmt.Sprintf("%dkbit", bits/1e3)
	}
	return fmt.Sprintf("%dbit", bits)
}
