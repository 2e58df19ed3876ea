package scenario

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
)

func init() { registerStep[PlugStep]("plug", 46) }

// PlugStep lays a new link while the world runs, as plugging a cable in
// does: written as a link of links is ("a -- b", [a, b], or a mapping
// with ends and impairments). Both ends must be free at its step: never
// linked, or freed by an unplug or a move. A host named alone is its
// first interface; a switch end names its port, which the switch gets if
// it has no such port (an access port in VLAN 1).
type PlugStep LinkConfig

func (s *PlugStep) decodeNode(d *decoder, n *yaml.Node, path string) {
	(*LinkConfig)(s).decodeNode(d, n, path)
}

// link returns the link the step lays, its hosts looked up by host.
func (s *PlugStep) link(host func(string) *topo.Host) topo.Link {
	var ends [2]topo.Endpoint
	for i, e := range s.Ends {
		node, port, _ := strings.Cut(strings.TrimSpace(e), ":")
		if h := host(node); h != nil && port == "" && len(h.Ifaces) > 0 {
			port = h.Ifaces[0].Name
		}
		ends[i] = topo.Endpoint{Node: node, Port: port}
	}
	return topo.Link{A: ends[0], B: ends[1], Config: (*LinkConfig)(s).config()}
}

// config is the link's impairments, as the simulator takes them.
func (l *LinkConfig) config() sim.LinkConfig {
	return sim.LinkConfig{Latency: l.Latency, Jitter: l.Jitter, Loss: l.Loss, Rate: l.Rate, Queue: l.Queue}
}

func (s *PlugStep) check(c *checker, p string) {
	if s.Ends == [2]string{} {
		return // the decoder said why
	}
	l := s.link(c.ix.Host)
	ok := true
	for i, e := range []topo.Endpoint{l.A, l.B} {
		ep := fmt.Sprintf("%s.ends[%d]", p, i)
		switch c.ix.Kind(e.Node) {
		case topo.None:
			c.bad(ep, "unknown node %q in link end %q%s", e.Node, s.Ends[i], c.f.didYouMean(e.Node, c.f.nodeNames(c.ix.Graph())))
			ok = false
			continue
		case topo.HostNode:
			if c.ix.Host(e.Node).Iface(e.Port) == nil {
				c.bad(ep, "host %s has no interface %q", e.Node, e.Port)
				ok = false
				continue
			}
		case topo.SwitchNode:
			if e.Port == "" {
				c.bad(ep, "plug %s: name the switch's port, like %s:p9", s.Ends[i], e.Node)
				ok = false
				continue
			}
			if err := topo.ValidName(e.Port); err != nil {
				c.bad(ep, "port %v", err)
				ok = false
				continue
			}
		}
		ok = c.free(ep, e) && ok
	}
	if ok && l.A.Node == l.B.Node {
		c.bad(p, "a link must join two different nodes")
		ok = false
	}
	if err := l.Config.Validate(); err != nil {
		c.bad(p, "%v", err)
		ok = false
	}
	if ok {
		c.plug(l.A, l.B)
	}
}

func (s *PlugStep) describe() string {
	d := fmt.Sprintf("plug %s -- %s", s.Ends[0], s.Ends[1])
	if c := (*LinkConfig)(s).config(); c != (sim.LinkConfig{}) {
		d += " (" + impairments(c) + ")"
	}
	return d
}

func (s *PlugStep) run(r *runner) (bool, string) {
	l := s.link(r.g.Host)
	if err := r.w.AddLink(l); err != nil {
		return r.fail(err)
	}
	return true, "plugged " + l.Name()
}

// impairments writes a link's impairments as a file does: "latency 10ms,
// loss 5%"; those at zero are left out.
func impairments(c sim.LinkConfig) string {
	var parts []string
	if c.Latency != 0 {
		parts = append(parts, "latency "+c.Latency.String())
	}
	if c.Jitter != 0 {
		parts = append(parts, "jitter "+c.Jitter.String())
	}
	if c.Loss != 0 {
		parts = append(parts, "loss "+FormatProbability(c.Loss))
	}
	if c.Rate != 0 {
		parts = append(parts, "rate "+FormatRate(c.Rate))
	}
	if c.Queue != 0 {
		parts = append(parts, fmt.Sprintf("queue %d", c.Queue))
	}
	return strings.Join(parts, ", ")
}
