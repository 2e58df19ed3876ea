// Package mem is the in-memory backend: it builds a topo.Graph out of
// netyard's switch (package vswitch), gateways (package nat/gateway),
// simulated hosts (internal/stack) and simulated links (package sim), all
// driven by one discrete-event engine on a virtual clock.
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
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
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
	world    *fabric.Fabric
	Engine   *sim.Engine
	hosts    map[string]*stack.Host
	pingID   uint16
	udpWant  []byte           // the payload the UDP probe under way waits for
	udpGot   bool             // it arrived
	accepted []netip.AddrPort // peers of handshakes listeners completed
}

var _ backend.Backend = (*Network)(nil)

// ErrUnknown is returned for a name the topology does not have.
var ErrUnknown = fabric.ErrUnknown

func init() {
	backend.Register("mem", func(g *topo.Graph, o backend.Options) (backend.Backend, error) {
		return New(g, Options{Seed: o.Seed, Tracer: o.Tracer, Capture: o.Capture, Budget: o.Budget})
	})
}

// New builds g, which must be valid, into a running network at virtual time
// zero, with MACs assigned to interfaces that have none. g is not changed.
func New(g *topo.Graph, o Options) (*Network, error) {
	g = g.Assigned()
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
	f, err := fabric.New(g, fabric.Options{Clock: e, Seed: o.Seed, Tracer: tracer, Capture: o.Capture, OnLoop: e.Halt})
	if err != nil {
		return nil, err
	}
	n := &Network{world: f, Engine: e, hosts: map[string]*stack.Host{}}
	for _, h := range g.Hosts {
		if !h.Sandbox() {
			continue // the fabric's own
		}
		host := stack.New(stack.Options{Name: h.Name, Clock: e, Tracer: tracer})
		n.hosts[h.Name] = host
		for _, fi := range h.Ifaces {
			ifc, err := host.AddIface(fi.Name, fi.MAC, fi.Addr, nil)
			if err != nil {
				return nil, err
			}
			ifc.SetUp(false)
		}
		if err := f.AddNode(h.Name, hostNode{host}); err != nil {
			return nil, err
		}
		if h.Gateway.IsValid() {
			host.SetGateway(h.Gateway)
		}
		for _, r := range h.Routes {
			host.AddRoute(stack.Route{To: r.To, Via: r.Via})
		}
		for _, port := range h.ListenTCP {
			l, err := host.ListenTCP(port)
			if err != nil {
				return nil, fmt.Errorf("host %s: %w", h.Name, err)
			}
			l.OnAccept = func(peer netip.AddrPort) { n.accepted = append(n.accepted, peer) }
		}
		for _, port := range h.ListenUDP {
			c, err := host.ListenUDP(port)
			if err != nil {
				return nil, fmt.Errorf("host %s: %w", h.Name, err)
			}
			c.OnRecv = n.gotUDP
		}
	}
	if err := n.listenOnHosts(g); err != nil {
		return nil, err
	}
	if err := f.Connect(); err != nil {
		return nil, err
	}
	return n, nil
}

// listenOnHosts opens the ports the Docker hosts' own stacks listen on
// (their containers' on the host network), as the sandboxes' are.
func (n *Network) listenOnHosts(g *topo.Graph) error {
	for _, h := range g.Hosts {
		gw := n.world.Gateway(h.Name)
		if h.Router == nil || gw == nil {
			continue
		}
		for _, port := range h.Router.ListenTCP {
			l, err := gw.Host().ListenTCP(port)
			if err != nil {
				return fmt.Errorf("host %s: %w", h.Name, err)
			}
			l.OnAccept = func(peer netip.AddrPort) { n.accepted = append(n.accepted, peer) }
		}
		for _, port := range h.Router.ListenUDP {
			c, err := gw.Host().ListenUDP(port)
			if err != nil {
				return fmt.Errorf("host %s: %w", h.Name, err)
			}
			c.OnRecv = n.gotUDP
		}
	}
	return nil
}

// hostNode is a simulated host as a fabric node: its interfaces.
type hostNode struct{ h *stack.Host }

func (n hostNode) Endpoint(port string) link.Endpoint {
	for _, i := range n.h.Ifaces() {
		if i.Name() == port {
			return i.Endpoint()
		}
	}
	return nil
}

// World returns the running world: switches, gateways and links, to
// inspect and change.
func (n *Network) World() *fabric.Fabric { return n.world }

type gatedTracer struct {
	t    trace.Tracer
	open bool
}

func (g *gatedTracer) Trace(e trace.Event) {
	if g.open {
		g.t.Trace(e)
	}
}

// Wants asks the tracer behind the gate, once it is open.
func (g *gatedTracer) Wants(k trace.Kind) bool { return g.open && trace.Wants(g.t, k) }

// Name returns "mem".
func (n *Network) Name() string { return "mem" }

// VirtualTime reports true: a Network runs on the engine's clock.
func (n *Network) VirtualTime() bool { return true }

// Close does nothing: a Network holds no outside resources.
func (n *Network) Close() error { return nil }

// host returns the simulated host named name, or nil.
func (n *Network) host(name string) *stack.Host { return n.hosts[name] }

// Elapsed returns the virtual time since the run started.
func (n *Network) Elapsed() time.Duration { return n.Engine.Elapsed() }

// Wait lets d of virtual time pass, running everything due meanwhile.
func (n *Network) Wait(d time.Duration) error {
	if stopped(n.Engine.RunFor(d)) {
		return n.budgetErr()
	}
	return nil
}

// settle runs what is left to happen at this instant: the frames a
// step's last exchange still sets off (an ACK, a RST, a DNS answer's
// echo on another port), so that they are the step's, not the next one's.
func (n *Network) settle() error {
	if stopped(n.Engine.RunUntil(nil, n.Engine.Elapsed())) {
		return n.budgetErr()
	}
	return nil
}

// stopped reports whether the engine stopped the run: its budget spent,
// or halted on a loop.
func stopped(o sim.Outcome) bool { return o == sim.Budget || o == sim.Halted }

// budgetErr says why the run stopped.
func (n *Network) budgetErr() error {
	if loop, ok := n.world.Looping(); ok {
		return fmt.Errorf("%w: %s; stopped after %d events at %v of virtual time", sim.ErrLoop, loop, n.Engine.Events(), n.Engine.Elapsed())
	}
	return fmt.Errorf("%w: %d events run or queued by %v of virtual time", sim.ErrBudget, n.Engine.Events()+uint64(n.Engine.Pending()), n.Engine.Elapsed())
}

// Ping sends count echo requests from the host from to the address to,
// interval apart, each waiting up to timeout for its reply, and runs the
// network until every probe is answered or has timed out.
func (n *Network) Ping(from string, to netip.Addr, count int, interval, timeout time.Duration) (backend.PingStats, error) {
	s, err := n.probe(from)
	if err != nil {
		return backend.PingStats{}, err
	}
	n.pingID++
	return s.Ping(n.pingID, to, count, interval, timeout)
}

// UDP sends one datagram from host from to to:port and runs the network
// until it arrives or timeout passes. If to belongs to a host of the graph
// without a socket on port, that host listens on port for the duration.
func (n *Network) UDP(from string, to netip.Addr, port uint16, timeout time.Duration) (backend.UDPResult, error) {
	s, err := n.probe(from)
	if err != nil {
		return backend.UDPResult{}, err
	}
	payload := fmt.Appendf(nil, "netyard udp probe %d", n.Engine.Events())
	for _, name := range slices.Sorted(maps.Keys(n.hosts)) {
		dst := n.hosts[name]
		if !owns(dst, to) {
			continue
		}
		if l, err := dst.ListenUDP(port); err == nil {
			defer l.Close()
			l.OnRecv = n.gotUDP
		}
	}
	n.udpWant, n.udpGot = payload, false
	defer func() { n.udpWant = nil }()
	return s.UDP(netip.AddrPortFrom(to, port), payload, func() bool { return n.udpGot }, timeout)
}

// gotUDP notes whether a datagram a socket received is the one the UDP
// probe waits for; nothing else is kept.
func (n *Network) gotUDP(_, _ netip.AddrPort, p []byte) {
	if n.udpWant != nil && string(p) == string(n.udpWant) {
		n.udpGot = true
	}
}

// Dial tries a TCP handshake from host from to to. With open, it runs
// on until the listener has the handshake's last ACK, to report the client
// as the listener saw it.
func (n *Network) Dial(from string, to netip.AddrPort, timeout time.Duration) (backend.ConnectResult, error) {
	s, err := n.probe(from)
	if err != nil {
		return backend.ConnectResult{}, err
	}
	n.accepted = n.accepted[:0]
	return s.Dial(to, timeout, func() (netip.AddrPort, bool) {
		if len(n.accepted) == 0 {
			return netip.AddrPort{}, false
		}
		return n.accepted[0], true
	})
}

// Resolve asks host from's nameserver for name's records of type qtype.
func (n *Network) Resolve(from, name string, qtype uint16, timeout time.Duration) (backend.Resolved, error) {
	s, err := n.probe(from)
	if err != nil {
		return backend.Resolved{}, err
	}
	g := n.world.Graph()
	return s.Resolve(g.Host(g.StackOf(from)).Nameserver, name, qtype, timeout)
}

// probe returns the stack steps from host from run on: its own, or for
// the Docker host (and a container on its host network) the gateway's.
func (n *Network) probe(from string) (backend.Stack, error) {
	name := n.world.Graph().StackOf(from)
	h := n.hosts[name]
	if h == nil {
		if gw := n.world.Gateway(name); gw != nil {
			h = gw.Host()
		}
	}
	if h == nil {
		return backend.Stack{}, fmt.Errorf("%w host %q", ErrUnknown, from)
	}
	return backend.Stack{Host: h, Clock: n.Engine, Do: func(f func()) { f() }, Run: n.run, Settle: n.settle}, nil
}

// run runs the network until done reports true or d has passed.
func (n *Network) run(done func() bool, d time.Duration) error {
	if stopped(n.Engine.RunUntil(done, n.Engine.Elapsed()+d)) {
		return n.budgetErr()
	}
	return nil
}

func owns(h *stack.Host, a netip.Addr) bool {
	for _, i := range h.Ifaces() {
		if i.Prefix().Addr() == a {
			return true
		}
	}
	return false
}

// Events returns how many events the engine ran.
func (n *Network) Events() uint64 { return n.Engine.Events() }
