package scenario

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netyard/netyard/sim/topo"
)

// checkSteps checks every step against the compiled graph g, in order,
// each knowing the links as they will be when it runs. lenient says the
// file has problems already: a node then may lack what they left out (an
// interface, an address), and naming it is no new problem.
func (f *File) checkSteps(g *topo.Graph, lenient bool) Errors {
	c := newChecker(f, g, lenient)
	for i, s := range f.Steps {
		if s.Action == nil {
			continue // the decoder said why
		}
		c.step = i
		s.Action.check(c, fmt.Sprintf("steps[%d].%s", i, s.Kind()))
	}
	return c.errs
}

// checker is what a step's check knows: the plan, the links as they will
// be when the step runs (the plan's, less those unplugged, plus those
// plugged, with moves), and where to report problems.
type checker struct {
	f       *File
	ix      *topo.Index
	lenient bool
	errs    Errors
	step    int // the step being checked, from 0

	cables  map[topo.Endpoint]*cable // by either end
	gone    map[topo.Endpoint]string // an end whose link a step took away: what happened
	plugged map[topo.Endpoint]bool   // switch ports a plug made

	hostNames, switchNames []string // for suggestions, when first needed
}

// cable is a link as the steps see it.
type cable struct {
	ends [2]topo.Endpoint
	link int    // the plan's link it is, or -1
	step int    // otherwise, the step that laid it there
	verb string // and how: plug, move
}

// stepName names step i for messages: "step 3 (line 14)".
func (c *checker) stepName(i int) string {
	return fmt.Sprintf("step %d (line %d)", i+1, c.f.Line(fmt.Sprintf("steps[%d]", i)))
}

// by says what laid k where it is: "links[2] (line 9)", "the plug of step
// 4 (line 20)".
func (c *checker) by(k *cable) string {
	switch {
	case k.link >= 0 && c.f.Docker():
		return "the Docker model"
	case k.link >= 0:
		return fmt.Sprintf("links[%d] (line %d)", k.link, c.f.Line(fmt.Sprintf("links[%d]", k.link)))
	}
	return "the " + k.verb + " of " + c.stepName(k.step)
}

func newChecker(f *File, g *topo.Graph, lenient bool) *checker {
	c := &checker{f: f, ix: g.Index(), lenient: lenient, cables: make(map[topo.Endpoint]*cable, 2*len(g.Links)),
		gone: map[topo.Endpoint]string{}, plugged: map[topo.Endpoint]bool{}}
	for i, l := range g.Links {
		k := &cable{ends: [2]topo.Endpoint{l.A, l.B}, link: i}
		for _, e := range k.ends {
			if c.cables[e] == nil { // the first, as topo.Index has it; Validate refused the rest
				c.cables[e] = k
			}
		}
	}
	return c
}

// bad reports a problem at the field at path.
func (c *checker) bad(path, format string, a ...any) {
	c.errs = append(c.errs, c.f.errAt(path, format, a...))
}

// oneOf checks that v is one of allowed ("" among them: it may be left
// out).
func (c *checker) oneOf(path, field, v string, allowed ...string) {
	c.f.oneOf(&c.errs, path, field, v, allowed...)
}

// hosts lists the hosts steps run from, for suggestions.
func (c *checker) hosts() []string {
	if c.hostNames == nil {
		c.hostNames = []string{}
		for _, h := range c.ix.Graph().Hosts {
			if h.Sandbox() {
				c.hostNames = append(c.hostNames, h.Name)
			}
		}
	}
	return c.hostNames
}

// switches lists the switches, for suggestions.
func (c *checker) switches() []string {
	if c.switchNames == nil {
		c.switchNames = []string{}
		for _, s := range c.ix.Graph().Switches {
			c.switchNames = append(c.switchNames, s.Name)
		}
	}
	return c.switchNames
}

// host checks that name is a host a step can run from.
func (c *checker) host(path, name string) {
	switch h := c.ix.Host(c.ix.Graph().StackOf(name)); {
	case h != nil && h.Router != nil:
		// The Docker host's own stack (from: host1), or a container on
		// its host network.
	case h == nil:
		c.bad(path, "unknown host %q%s", name, c.f.didYouMean(name, c.hosts()))
	case !h.Sandbox():
		c.bad(path, "%q is a %s, one of netyard's own nodes: steps run from hosts", name, h.Kind)
	}
}

// known reports whether s names an address the graph has (or, in a file
// with problems, a node that may have lost it to them).
func (c *checker) known(s string) bool {
	if _, err := c.ix.ResolveAddr(s); err == nil {
		return true
	}
	node, _, _ := strings.Cut(s, ":")
	return c.lenient && c.ix.Host(node) != nil
}

// notAddr reports that s is neither a host nor an address.
func (c *checker) notAddr(path, s string) {
	node, _, _ := strings.Cut(s, ":")
	hint := ""
	if _, err := netip.ParseAddr(s); err != nil && c.ix.Host(node) == nil {
		hint = c.f.didYouMean(node, c.hosts())
	}
	c.bad(path, "%q is neither a host nor an IPv4 address%s", s, hint)
}

// addr checks a destination: an address, a host or host:iface, or in a
// Docker file any name (the sender's DNS answers for it when it runs).
func (c *checker) addr(path, s string) {
	if !c.known(s) && (c.ix.Graph().Docker == nil || s == "" || strings.Contains(s, ":")) {
		c.notAddr(path, s)
	}
}

// endpoint reads node:port.
func (c *checker) endpoint(path, s string) (topo.Endpoint, bool) {
	node, port, ok := strings.Cut(s, ":")
	if !ok {
		c.bad(path, "want node:port, like s1:p1, not %q", s)
		return topo.Endpoint{}, false
	}
	return topo.Endpoint{Node: node, Port: port}, true
}

// hasPort reports whether switch sw has port at this step: in the plan,
// or made by a plug before it.
func (c *checker) hasPort(sw, port string) bool {
	return c.ix.HasPort(sw, port) || c.plugged[topo.Endpoint{Node: sw, Port: port}]
}

// switchPort checks that s names a switch port that exists at this step.
func (c *checker) switchPort(path, s string) {
	e, ok := c.endpoint(path, s)
	switch {
	case !ok:
	case c.ix.Switch(e.Node) == nil:
		c.bad(path, "no switch port %q: no switch %s%s", s, e.Node, c.f.didYouMean(e.Node, c.switches()))
	case !c.hasPort(e.Node, e.Port):
		c.bad(path, "no switch port %q%s", s, c.f.didYouMean(e.Port, c.ix.PortNames(e.Node)))
	}
}

// stpSwitch checks that name is a switch running STP.
func (c *checker) stpSwitch(path, name string) {
	if sw := c.ix.Switch(name); sw == nil || sw.STP == nil {
		c.bad(path, "%q is not a switch running STP%s", name, c.f.didYouMean(name, c.switches()))
	}
}

// linkAt checks that s (node:port) is an end of a link at this step, and
// returns the link.
func (c *checker) linkAt(path, s string) (*cable, bool) {
	e, ok := c.endpoint(path, s)
	if !ok {
		return nil, false
	}
	k := c.cables[e]
	switch {
	case k != nil:
		return k, true
	case c.gone[e] != "":
		c.bad(path, "no link at %q: %s", s, c.gone[e])
	default:
		c.bad(path, "no link at %q", s)
	}
	return nil, false
}

// free checks that endpoint e, the field at path, has no link at this
// step.
func (c *checker) free(path string, e topo.Endpoint) bool {
	if k := c.cables[e]; k != nil {
		c.bad(path, "%s is already linked, by %s", e, c.by(k))
		return false
	}
	return true
}

// unplug takes link k away from the steps that follow.
func (c *checker) unplug(k *cable) {
	for _, e := range k.ends {
		delete(c.cables, e)
		c.gone[e] = c.stepName(c.step) + " unplugged it"
	}
}

// plug lays a link for the steps that follow; what the link's ends are
// was checked.
func (c *checker) plug(a, b topo.Endpoint) {
	k := &cable{ends: [2]topo.Endpoint{a, b}, link: -1, step: c.step, verb: "plug"}
	for _, e := range k.ends {
		c.cables[e] = k
		delete(c.gone, e)
		if c.ix.Switch(e.Node) != nil && !c.ix.HasPort(e.Node, e.Port) {
			c.plugged[e] = true
		}
	}
}

// move replugs the end of link k away from iface into to.
func (c *checker) move(k *cable, iface, to topo.Endpoint) {
	side := 1
	if k.ends[1] == iface {
		side = 0
	}
	delete(c.cables, k.ends[side])
	c.gone[k.ends[side]] = fmt.Sprintf("%s moved it to %s", c.stepName(c.step), to)
	k.ends[side] = to
	k.link, k.step, k.verb = -1, c.step, "move"
	c.cables[to] = k
	delete(c.gone, to)
}
