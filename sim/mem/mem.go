// Package mem is the in-memory backend: it builds a topo.Graph out of
// netyard's switch (package vswitch), simulated hosts (internal/stack) and
// simulated links (package sim), all driven by one discrete-event engine on
// a virtual clock.
//
// # Determinism
//
// Everything runs on the calling goroutine, in the engine's event order.
// Identical graphs, seeds and calls give identical traces and captures, byte
// for byte, whatever GOMAXPROCS or the wall clock say.
//
// # Use from Go
//
// The scenario runner drives a Network through its methods (Ping, UDP, Wait,
// SetLink, ...), and so can a Go test: see the package example.
package mem

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Options configure a Network.
type Options struct {
	Seed    uint64          // the run's seed
	Tracer  trace.Tracer    // hears every node's decisions; nil: none
	Capture *capture.Writer // records every frame on every link; nil: none
	Budget  uint64          // bound on events run; 0: none
}

// Network is a topology running in memory.
type Network struct {
	Engine *sim.Engine
	graph  *topo.Graph

	switches map[string]*vswitch.Switch
	hosts    map[string]*stack.Host
	links    []*sim.Link
	plugs    map[topo.Endpoint]*plug // every switch port and host interface
	pingID   uint16
}

// plug is what a node transmits into: the near end of a link, or nothing.
type plug struct {
	end   *sim.End
	input func(frame []byte) // the node's receive function for this plug
	carry func(up bool)      // the node's carrier function for this plug
}

func (p *plug) Send(frame []byte) error {
	if p.end == nil {
		return link.ErrDown
	}
	return p.end.Send(frame)
}

// connect puts end into p.
func (p *plug) connect(end *sim.End) {
	p.end = end
	end.Attach(p.input, p.carry)
	p.carry(end.Link().Up())
}

// ErrUnknown is returned for a name the topology does not have.
var ErrUnknown = errors.New("mem: unknown")

// New builds g, which must be valid, into a running network at virtual time
// zero. It assigns MACs to interfaces that have none.
func New(g *topo.Graph, o Options) (*Network, error) {
	g.Assign()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	e := sim.New(o.Seed)
	e.Budget = o.Budget
	// Nodes trace through a gate that opens once the network is built, so
	// plugging the cables in is not narrated.
	gate := &gatedTracer{t: o.Tracer}
	defer func() { gate.open = true }()
	var tracer trace.Tracer
	if o.Tracer != nil {
		tracer = gate
	}
	n := &Network{
		Engine: e, graph: g,
		switches: map[string]*vswitch.Switch{},
		hosts:    map[string]*stack.Host{},
		plugs:    map[topo.Endpoint]*plug{},
	}
	for _, s := range g.Switches {
		sw := vswitch.New(vswitch.Options{Name: s.Name, Clock: e, AgeingTime: s.AgeingTime, MaxEntries: s.MaxEntries, Tracer: tracer})
		n.switches[s.Name] = sw
		for _, name := range g.PortNames(s.Name) {
			p := &plug{}
			idx, err := sw.AddPort(s.PortConfig(name), p)
			if err != nil {
				return nil, fmt.Errorf("switch %s: %w", s.Name, err)
			}
			p.input = func(f []byte) { sw.Input(idx, f) }
			p.carry = func(up bool) { _ = sw.SetCarrier(idx, up) }
			_ = sw.SetCarrier(idx, false)
			n.plugs[topo.Endpoint{Node: s.Name, Port: name}] = p
		}
		if m := s.Mirror; m != nil {
			var src []int
			for _, name := range m.Sources {
				src = append(src, sw.PortIndex(name))
			}
			if err := sw.SetMirror(sw.PortIndex(m.To), src...); err != nil {
				return nil, fmt.Errorf("switch %s: mirror: %w", s.Name, err)
			}
		}
	}
	for _, h := range g.Hosts {
		host := stack.New(stack.Options{Name: h.Name, Clock: e, Tracer: tracer})
		n.hosts[h.Name] = host
		for idx, f := range h.Ifaces {
			p := &plug{}
			ifc, err := host.AddIface(f.Name, net.HardwareAddr(f.MAC[:]), f.Addr, p)
			if err != nil {
				return nil, err
			}
			p.input = func(fr []byte) { host.Input(idx, fr) }
			p.carry = ifc.SetUp
			ifc.SetUp(false)
			n.plugs[topo.Endpoint{Node: h.Name, Port: f.Name}] = p
		}
		if h.Gateway.IsValid() {
			host.SetGateway(h.Gateway)
		}
	}
	for _, l := range g.Links {
		sl, err := sim.NewLink(l.Name(), l.A.String(), l.B.String(), l.Config, sim.LinkOptions{Clock: e, Seed: o.Seed, Tracer: tracer})
		if err != nil {
			return nil, err
		}
		if o.Capture != nil {
			w := o.Capture
			sl.Capture = func(l *sim.Link, _ *sim.End, at time.Time, frame []byte) { w.Write(l.Name(), at, frame, "") }
		}
		n.links = append(n.links, sl)
		n.plugs[l.A].connect(sl.End(0))
		n.plugs[l.B].connect(sl.End(1))
	}
	return n, nil
}

type gatedTracer struct {
	t    trace.Tracer
	open bool
}

func (g *gatedTracer) Trace(e trace.Event) {
	if g.open {
		g.t.Trace(e)
	}
}

// LinkNames returns the names of the graph's links, in order: the
// interfaces of a capture.
func LinkNames(g *topo.Graph) []string {
	names := make([]string, len(g.Links))
	for i, l := range g.Links {
		names[i] = l.Name()
	}
	return names
}

var _ backend.Backend = (*Network)(nil)

// Name returns "mem".
func (n *Network) Name() string { return "mem" }

// Close does nothing: a Network holds no outside resources.
func (n *Network) Close() error { return nil }

// Graph returns the topology.
func (n *Network) Graph() *topo.Graph { return n.graph }

// Switch returns the switch named name, or nil.
func (n *Network) Switch(name string) *vswitch.Switch { return n.switches[name] }

// Host returns the host named name, or nil.
func (n *Network) Host(name string) *stack.Host { return n.hosts[name] }

// Link returns the link with endpoint e, or nil.
func (n *Network) Link(e topo.Endpoint) *sim.Link {
	if i := n.graph.LinkOf(e); i >= 0 {
		return n.links[i]
	}
	return nil
}

// Elapsed returns the virtual time since the run started.
func (n *Network) Elapsed() time.Duration { return n.Engine.Elapsed() }

// Wait lets d of virtual time pass, running everything due meanwhile.
func (n *Network) Wait(d time.Duration) error {
	if n.Engine.RunFor(d) == sim.Budget {
		return n.budgetErr()
	}
	return nil
}

func (n *Network) budgetErr() error {
	return fmt.Errorf("%w: %d events run by %v of virtual time", sim.ErrBudget, n.Engine.Events(), n.Engine.Elapsed())
}

// Ping sends count echo requests from the host from to the address to,
// interval apart, each waiting up to timeout for its reply, and runs the
// network until every probe is answered or has timed out.
func (n *Network) Ping(from string, to netip.Addr, count int, interval, timeout time.Duration) (backend.PingStats, error) {
	h := n.hosts[from]
	if h == nil {
		return backend.PingStats{}, fmt.Errorf("%w host %q", ErrUnknown, from)
	}
	n.pingID++
	id := n.pingID
	st := backend.PingStats{Sent: count}
	type probe struct {
		done bool
		res  stack.PingResult
	}
	probes := make([]probe, count)
	left := count
	finish := func(i int, r stack.PingResult) {
		if probes[i].done {
			return
		}
		probes[i] = probe{true, r}
		left--
	}
	for i := range probes {
		n.Engine.Schedule(time.Duration(i)*interval, func() {
			seq := uint16(i + 1)
			cancel, err := h.Ping(to, id, seq, 56, func(r stack.PingResult) { finish(i, r) })
			if err != nil {
				finish(i, stack.PingResult{Seq: seq, Err: err})
				return
			}
			n.Engine.Schedule(timeout, func() {
				cancel()
				finish(i, stack.PingResult{Seq: seq, Err: errTimeout})
			})
		})
	}
	if n.Engine.RunUntil(func() bool { return left == 0 }, n.Engine.Elapsed()+time.Duration(count)*interval+timeout) == sim.Budget {
		return st, n.budgetErr()
	}
	for _, p := range probes {
		switch {
		case p.res.Reply:
			st.Received++
			st.RTTs = append(st.RTTs, p.res.RTT)
		case p.res.Err != nil:
			st.Errors = append(st.Errors, strings.TrimPrefix(p.res.Err.Error(), "stack: "))
		}
	}
	return st, nil
}

var errTimeout = errors.New("no reply within the timeout")

// UDP sends one datagram from host from to to:port and runs the network
// until it arrives or timeout passes. If to belongs to a host of the graph,
// that host listens on port for the duration.
func (n *Network) UDP(from string, to netip.Addr, port uint16, timeout time.Duration) (backend.UDPResult, error) {
	h := n.hosts[from]
	if h == nil {
		return backend.UDPResult{}, fmt.Errorf("%w host %q", ErrUnknown, from)
	}
	var res backend.UDPResult
	done := false
	payload := fmt.Appendf(nil, "netyard udp probe %d", n.Engine.Events())
	for _, dst := range n.hosts {
		if !owns(dst, to) {
			continue
		}
		l, err := dst.ListenUDP(port)
		if err != nil {
			return res, err
		}
		defer l.Close()
		l.OnRecv = func(_, _ netip.AddrPort, p []byte) {
			if string(p) == string(payload) {
				res.Delivered, done = true, true
			}
		}
	}
	c, err := h.ListenUDP(0)
	if err != nil {
		return res, err
	}
	defer c.Close()
	c.OnError = func(err error) { res.Err, done = strings.TrimPrefix(err.Error(), "stack: "), true }
	if err := c.SendTo(netip.AddrPortFrom(to, port), payload); err != nil {
		return backend.UDPResult{Err: strings.TrimPrefix(err.Error(), "stack: ")}, nil
	}
	if n.Engine.RunUntil(func() bool { return done }, n.Engine.Elapsed()+timeout) == sim.Budget {
		return res, n.budgetErr()
	}
	if !done {
		res.Err = "timeout"
	}
	return res, nil
}

func owns(h *stack.Host, a netip.Addr) bool {
	for _, i := range h.Ifaces() {
		if i.Prefix().Addr() == a {
			return true
		}
	}
	return false
}

// SetLink brings the link at endpoint e up or down.
func (n *Network) SetLink(e topo.Endpoint, up bool) error {
	l := n.Link(e)
	if l == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, e)
	}
	l.SetUp(up)
	return nil
}

// SetPort brings a switch port administratively up or down.
func (n *Network) SetPort(e topo.Endpoint, up bool) error {
	sw := n.switches[e.Node]
	if sw == nil || sw.PortIndex(e.Port) < 0 {
		return fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return sw.SetPortUp(sw.PortIndex(e.Port), up)
}

// Move unplugs the link of host interface iface from wherever its other end
// is and plugs it into the free endpoint to: a laptop carried to another
// port, a VM migrated.
func (n *Network) Move(iface, to topo.Endpoint) error {
	l := n.Link(iface)
	if l == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, iface)
	}
	dst := n.plugs[to]
	if dst == nil {
		return fmt.Errorf("%w endpoint %s", ErrUnknown, to)
	}
	if dst.end != nil {
		return fmt.Errorf("mem: %s is already linked", to)
	}
	far := l.End(1)
	if l.End(1).Name() == iface.String() {
		far = l.End(0)
	}
	for ep, p := range n.plugs {
		if p.end == far {
			p.end = nil
			p.carry(false)
			n.graph.Links[n.graph.LinkOf(iface)] = relink(n.graph.Links[n.graph.LinkOf(iface)], ep, to)
			break
		}
	}
	dst.connect(far)
	return nil
}

func relink(l topo.Link, from, to topo.Endpoint) topo.Link {
	if l.A == from {
		l.A = to
	} else {
		l.B = to
	}
	return l
}

// FDB returns switch sw's forwarding database.
func (n *Network) FDB(sw string) ([]vswitch.FDBEntry, error) {
	s := n.switches[sw]
	if s == nil {
		return nil, fmt.Errorf("%w switch %q", ErrUnknown, sw)
	}
	return s.FDB(), nil
}

// Stats returns the counters of a switch port.
func (n *Network) Stats(e topo.Endpoint) (vswitch.PortStats, error) {
	s := n.switches[e.Node]
	if s == nil || s.PortIndex(e.Port) < 0 {
		return vswitch.PortStats{}, fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return s.Stats(s.PortIndex(e.Port))
}
