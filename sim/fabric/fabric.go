// Package fabric is the runtime world every backend shares: the nodes that
// are netyard's own code in every world (switches, a Docker host's gateway,
// and every registered kind, such as the router), the sandboxes a backend
// adds, and the links between their endpoints, with the operations the
// scenario runner and a live view perform on them (inspect FDB, STP,
// counters and conntrack; change link and port state, impairments and the
// links themselves, while the world runs).
//
// # The model
//
// A topo.Graph is the plan and is never changed: New builds a node for
// every switch and every interfaced node that is not a sandbox, through
// the builder registered for its kind (Register); the backend adds its
// sandboxes (AddNode: simulated hosts in sim/mem, TAP devices in
// namespaces in sim/netns), then Connect lays the plan's links. Every port
// of every node is a link.Endpoint, and a link is a sim.Link joined to the
// two endpoints it connects, so nothing here knows what a node is beyond
// its endpoints. The Fabric keeps its own table of links, which AddLink,
// RemoveLink, Move and SetLinkConfig change as the world runs.
//
// # Concurrency
//
// A Fabric is safe for concurrent use once connected: endpoints swap what
// they are attached to atomically, links and switches are safe for
// concurrent use; changes to nodes and links are serialised by mu.
package fabric

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/registry"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Options configure a Fabric.
type Options struct {
	Clock   clock.Clock     // the world's clock
	Seed    uint64          // for the links' loss and jitter streams
	Tracer  trace.Tracer    // hears switches and links; nil: none
	Capture *capture.Writer // records every frame on every link; nil: none
	// Direct makes perfect links that touch a sandbox, or a node that runs
	// on a goroutine of its own behind a queue (Build.Serial: a gateway, a
	// router), deliver synchronously. Links between two of netyard's own
	// synchronous nodes (switches) always queue, so that a loop cannot
	// recurse without bound.
	Direct bool
	// FrameBudget bounds the frames put on links; past it every link drops
	// and Exhausted reports true. The netns backend's storm stop (mem uses
	// the engine's event budget). 0: no bound.
	FrameBudget uint64
	// Serial runs each node that asks for it (a gateway) on a goroutine
	// of its own (the netns world, where frames and timers arrive
	// concurrently).
	Serial bool
	// OnLoop is called once when a frame is found looping on a link
	// between two switches (sim.LinkOptions.OnLoop). From then on every
	// link drops what it is given and Looping reports the loop: the storm
	// is stopped. mem halts its engine here. nil: nothing more.
	OnLoop func()
	// Underlay carries the Docker hosts' overlays over a network outside
	// the world (netyard up --host: the machine's own); nil: over the
	// gateways' LAN legs, from their own stacks.
	Underlay Underlay
}

// Node is a running node, as the Fabric sees it: its ports.
type Node interface {
	// Endpoint returns the node's port named port, or nil.
	Endpoint(port string) link.Endpoint
}

// Builder builds a node of one kind from its configuration: the host of
// the plan with that kind. It may register things to stop on Close
// (Build.OnClose).
type Builder func(b *Build, h topo.Host) (Node, error)

// Build is what a Builder is given: the world's clock, seed and tracer.
type Build struct {
	Clock  clock.Clock
	Seed   uint64
	Tracer trace.Tracer // nil: none
	// Serial asks nodes that are not safe for concurrent input to run on
	// a goroutine of their own (netns).
	Serial bool
	f      *Fabric
}

// OnClose registers f to run when the Fabric closes.
func (b *Build) OnClose(f func()) { b.f.closers = append(b.f.closers, f) }

// OnStart registers f to run once the plan's links are laid (Connect):
// where a node starts talking (a control plane joining its cluster).
func (b *Build) OnStart(f func()) { b.f.starters = append(b.f.starters, f) }

var kinds = registry.New[Builder]("fabric: node kind", nil)

// Register makes kind buildable: every Fabric builds the plan's hosts of
// that kind with b. It panics if kind is registered twice, or is the
// sandbox kind (a program error, found at init).
func Register(kind string, b Builder) {
	if kind == topo.SandboxKind {
		panic("fabric: the sandbox kind is each backend's own")
	}
	kinds.Add(kind, b)
}

// Kinds returns the registered kinds, sorted.
func Kinds() []string { return kinds.Names() }

func builder(kind string) Builder {
	b, _ := kinds.Get(kind)
	return b
}

// ErrUnknownKind is returned for a node of a kind nothing registered.
var ErrUnknownKind = errors.New("fabric: no such node kind (is its package imported?)")

// Fabric is a running world's nodes and links.
type Fabric struct {
	frames atomic.Uint64          // put on links, counted only with a FrameBudget
	loop   atomic.Pointer[string] // what was found looping; nil: nothing
	graph  *topo.Graph            // the plan; never changed
	opts   Options
	build  Build
	mu     sync.Mutex // serialises changes to nodes and links
	nodes  map[string]Node
	kinds  map[string]string // node -> kind
	// serialised: the nodes that run on a Loop's goroutine (Build.Serial)
	serialised map[string]bool
	switches   map[string]*vswitch.Switch
	gateways   map[string]*Gateway
	wires      map[topo.Endpoint]*wire // by either end
	laid       []*wire                 // in the order laid
	macs       map[vswitch.MAC]string  // the host of each MAC one host alone has
	docker     *topo.Docker            // the world's Docker state; nil: none
	closers    []func()
	starters   []func() // run once Connect has laid the links

	// Docker's run-time changes (docker.go), one at a time under dmu.
	dmu       sync.Mutex
	sandboxes Sandboxes            // the backend's; nil: none can change
	ctrs      map[string]*ctrState // by container, made on first use
}

// wire is a link of the world: the plan's, or one laid since.
type wire struct {
	cfg  topo.Link // its ends as they are now
	l    *sim.Link
	ends [2]link.Endpoint // the node endpoints joined
	taps [2]link.Endpoint // the link's ends, as the nodes see them
}

// Close stops what the nodes started (gateways' goroutines).
func (f *Fabric) Close() {
	for _, c := range f.closers {
		c()
	}
	f.closers = nil
}

// ErrLoop is returned by links once a loop was found.
var ErrLoop = fmt.Errorf("%w (stopped)", sim.ErrLoop)

// ErrBudget is returned by links once the frame budget is spent.
var ErrBudget = fmt.Errorf("%w (frames)", sim.ErrBudget)

// spend counts one frame against the budget, and refuses every frame once
// a loop was found: in mem too, where the engine halts at the loop but the
// event that found it (a flood) goes on sending.
func (f *Fabric) spend() error {
	if f.loop.Load() != nil {
		return ErrLoop
	}
	if b := f.opts.FrameBudget; b > 0 && f.frames.Add(1) > b {
		return ErrBudget
	}
	return nil
}

// tap is a link's end as the node on its side sees it: spend, then the
// end. It calls the end itself, not through a closure: every frame of the
// world crosses a tap, and a closure apiece would be one more object (a
// cache line of its own) to load per frame, and two more indirect calls.
type tap struct {
	e *sim.End
	f *Fabric
}

var _ link.Endpoint = (*tap)(nil)

// Receive puts frame on the link, unless the fabric refuses it (spend).
func (t *tap) Receive(frame []byte) error {
	if err := t.f.spend(); err != nil {
		return err
	}
	return t.e.Send(frame)
}

// ReceiveOffload is Receive for a frame with offload metadata.
func (t *tap) ReceiveOffload(frame []byte, o link.Offload) error {
	if err := t.f.spend(); err != nil {
		return err
	}
	return t.e.SendOffload(frame, o)
}

// Carrier is the end's (which ignores it: a link's carrier is its own).
func (t *tap) Carrier(up bool) { t.e.Carrier(up) }

// Attach sets the receiver of what arrives at the end.
func (t *tap) Attach(r link.Receiver) { t.e.Attach(r) }

// Looping reports what was found looping, if anything: "a broadcast from
// h2 (02:00:00:00:00:02, ARP) crossed s1:p1 -> s2:p1 16 times within 1s".
func (f *Fabric) Looping() (string, bool) {
	if d := f.loop.Load(); d != nil {
		return *d, true
	}
	return "", false
}

// looped records a loop a link found, once.
func (f *Fabric) looped(l *sim.Link, from *sim.End, frame []byte) {
	d := fmt.Sprintf("%s crossed %s -> %s %d times within %v", f.describe(frame), from.Name(), from.Peer().Name(), sim.LoopCopies, sim.LoopWindow)
	if f.loop.CompareAndSwap(nil, &d) && f.opts.OnLoop != nil {
		f.opts.OnLoop()
	}
}

// describe names a frame for a person: its kind, who sent it (the host
// of its source MAC, where one has it) and its EtherType.
func (f *Fabric) describe(frame []byte) string {
	e := header.Ethernet(frame)
	if len(e) < header.EthernetLen {
		return "a runt frame"
	}
	kind := "a frame"
	switch {
	case e.Dst().IsBroadcast():
		kind = "a broadcast"
	case e.Dst().IsMulticast():
		kind = "a multicast frame"
	}
	src := e.Src()
	who := src.String()
	if h := f.macs[src]; h != "" {
		who = h + " (" + who + ")"
	}
	et := map[uint16]string{header.EtherTypeIPv4: "IPv4", header.EtherTypeARP: "ARP", header.EtherTypeVLAN: "802.1Q", header.EtherTypeIPv6: "IPv6"}[e.EtherType()]
	if et == "" {
		et = fmt.Sprintf("EtherType %#04x", e.EtherType())
	}
	return fmt.Sprintf("%s from %s, %s,", kind, who, et)
}

// Exhausted reports whether the frame budget is spent, and how many frames
// were counted.
func (f *Fabric) Exhausted() (bool, uint64) {
	n := f.frames.Load()
	return f.opts.FrameBudget > 0 && n > f.opts.FrameBudget, n
}

// ErrUnknown is returned for a name the world does not have.
var ErrUnknown = errors.New("unknown")

// New builds g's switches and every interfaced node that is not a sandbox
// (gateways, registered kinds), without links: the backend adds its
// sandboxes (AddNode), then calls Connect. g must be valid; it is not
// changed, nor kept beyond reading it here and in Connect.
func New(g *topo.Graph, o Options) (*Fabric, error) {
	f := &Fabric{graph: g, opts: o, nodes: map[string]Node{}, kinds: map[string]string{}, switches: map[string]*vswitch.Switch{},
		gateways: map[string]*Gateway{}, wires: map[topo.Endpoint]*wire{}, macs: g.HostsByMAC()}
	f.build = Build{Clock: o.Clock, Seed: o.Seed, Tracer: o.Tracer, Serial: o.Serial, f: f}
	f.docker = cloneDocker(g.Docker) // the world's own, to change while it runs
	ix := g.Index()                  // the graph's own lookups scan it: quadratic for a large one
	for _, s := range g.Switches {
		sw := vswitch.New(vswitch.Options{Name: s.Name, Clock: o.Clock, AgeingTime: s.AgeingTime, MaxEntries: s.MaxEntries, Tracer: o.Tracer, MAC: s.MAC, STP: s.STP})
		for _, name := range ix.PortNames(s.Name) {
			idx, err := sw.AddPort(ix.PortConfig(s.Name, name), nil)
			if err != nil {
				return nil, fmt.Errorf("switch %s: %w", s.Name, err)
			}
			_ = sw.SetCarrier(idx, false) // no cable until Connect
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
		f.switches[s.Name] = sw
		f.nodes[s.Name] = switchNode{sw}
		f.kinds[s.Name] = topo.SwitchKind
	}
	for _, h := range g.Hosts {
		if h.Sandbox() {
			continue
		}
		if _, err := f.AddKind(h); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// AddKind builds h, a node of a registered kind or a gateway, and adds it
// to the world, without links.
func (f *Fabric) AddKind(h topo.Host) (Node, error) {
	kind := h.KindName()
	var n Node
	var err error
	if kind == topo.GatewayKind {
		n, err = f.addGateway(h)
	} else if b := builder(kind); b == nil {
		err = fmt.Errorf("%w: %s (node %s)", ErrUnknownKind, kind, h.Name)
	} else {
		n, err = b(&f.build, h)
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.nodes[h.Name]; dup {
		return nil, fmt.Errorf("fabric: node %s exists", h.Name)
	}
	f.nodes[h.Name] = n
	f.kinds[h.Name] = kind
	return n, nil
}

// AddNode adds a node the backend made (a sandbox), without links.
func (f *Fabric) AddNode(name string, n Node) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.nodes[name]; dup {
		return fmt.Errorf("fabric: node %s exists", name)
	}
	f.nodes[name] = n
	f.kinds[name] = topo.SandboxKind
	return nil
}

// switchNode is a switch as a Node.
type switchNode struct{ sw *vswitch.Switch }

func (s switchNode) Endpoint(port string) link.Endpoint {
	if i := s.sw.PortIndex(port); i >= 0 {
		return s.sw.Endpoint(i)
	}
	return nil
}

// Connect lays every link of the plan.
func (f *Fabric) Connect() error {
	for _, l := range f.graph.Links {
		if err := f.AddLink(l); err != nil {
			return err
		}
	}
	for _, s := range f.starters {
		s()
	}
	return nil
}

// endpointLocked returns the endpoint e names, adding a port to a switch
// that does not have it yet (an access port in VLAN 1, as a port named
// only by a link is).
func (f *Fabric) endpointLocked(e topo.Endpoint, other string) (link.Endpoint, error) {
	n := f.nodes[e.Node]
	if n == nil {
		return nil, fmt.Errorf("%w node %q", ErrUnknown, e.Node)
	}
	if ep := n.Endpoint(e.Port); ep != nil {
		return ep, nil
	}
	if sw := f.switches[e.Node]; sw != nil {
		c := vswitch.PortConfig{Name: e.Port, Mode: vswitch.Access, PVID: vswitch.DefaultVLAN}
		c.STP.Edge = f.kinds[other] != topo.SwitchKind
		idx, err := sw.AddPort(c, nil)
		if err != nil {
			return nil, fmt.Errorf("switch %s: %w", e.Node, err)
		}
		_ = sw.SetCarrier(idx, false)
		return sw.Endpoint(idx), nil
	}
	return nil, fmt.Errorf("%w endpoint %s", ErrUnknown, e)
}

// AddLink lays a link between two free endpoints, while the world runs or
// before: both ends see carrier come up.
func (f *Fabric) AddLink(l topo.Link) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range []topo.Endpoint{l.A, l.B} {
		if f.wires[e] != nil {
			return fmt.Errorf("%s is already linked", e)
		}
	}
	if l.A == l.B {
		return fmt.Errorf("a link from %s to itself", l.A)
	}
	var eps [2]link.Endpoint
	for i, e := range []topo.Endpoint{l.A, l.B} {
		other := l.B.Node
		if i == 1 {
			other = l.A.Node
		}
		ep, err := f.endpointLocked(e, other)
		if err != nil {
			return err
		}
		eps[i] = ep
	}
	ka, kb := f.kinds[l.A.Node], f.kinds[l.B.Node]
	// A node on a goroutine of its own (a Loop) takes frames through its
	// queue, so a perfect link to it may be direct too: a frame cannot
	// come back round without a queue in between.
	direct := f.opts.Direct && (ka == topo.SandboxKind || kb == topo.SandboxKind || f.serialised[l.A.Node] || f.serialised[l.B.Node])
	lo := sim.LinkOptions{Clock: f.opts.Clock, Seed: f.opts.Seed, Tracer: f.opts.Tracer, Direct: direct}
	if ka == topo.SwitchKind && kb == topo.SwitchKind {
		lo.OnLoop = f.looped // only a loop brings a frame back between switches
	}
	sl, err := sim.NewLink(l.Name(), l.A.String(), l.B.String(), l.Config, lo)
	if err != nil {
		return err
	}
	if c, tr := f.opts.Capture, f.opts.Tracer; c != nil || tr != nil {
		sl.Capture = func(l *sim.Link, from *sim.End, frame []byte) {
			want := trace.Wants(tr, trace.Frame) // a subscriber asked for frames
			if c == nil && !want {
				return
			}
			at := l.Clock().Now()
			if c != nil {
				c.Write(l.Name(), at, frame, "")
			}
			if want {
				tr.Trace(trace.Event{Time: at, Node: "link " + l.Name(), Kind: trace.Frame, Link: l.Name(), Port: from.Name(), Len: len(frame), Summary: capture.Summarize(frame), Bytes: slices.Clone(frame)})
			}
		}
	}
	w := &wire{cfg: l, l: sl, ends: eps}
	for i := range 2 {
		w.taps[i] = &tap{e: sl.End(i), f: f}
		link.Join(eps[i], w.taps[i])
		eps[i].Carrier(sl.Up())
	}
	f.wires[l.A], f.wires[l.B] = w, w
	f.laid = append(f.laid, w)
	return nil
}

// RemoveLink takes away the link at endpoint e: both ends lose carrier,
// frames in flight are lost.
func (f *Fabric) RemoveLink(e topo.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.wires[e]
	if w == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, e)
	}
	w.l.SetUp(false) // frames in flight die on arrival; both ends hear carrier go
	for i := range 2 {
		link.Unjoin(w.ends[i], w.taps[i])
	}
	delete(f.wires, w.cfg.A)
	delete(f.wires, w.cfg.B)
	f.laid = slices.DeleteFunc(f.laid, func(x *wire) bool { return x == w })
	return nil
}

// Links returns the world's links as they are now, in the order laid.
func (f *Fabric) Links() []topo.Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]topo.Link, len(f.laid))
	for i, w := range f.laid {
		out[i] = w.cfg
		out[i].Config = w.l.Config()
	}
	return out
}

// LinkNames returns the names of g's links in order: the interfaces of a
// capture.
func LinkNames(g *topo.Graph) []string {
	names := make([]string, len(g.Links))
	for i, l := range g.Links {
		names[i] = l.Name()
	}
	return names
}

// Graph returns the plan the world was built from. It is not the world:
// links laid, removed or moved since are in Links.
func (f *Fabric) Graph() *topo.Graph { return f.graph }

// Docker returns the Docker state the world runs: its hosts, networks,
// containers and their allocations; nil for a plain topology. It starts
// as a copy of the record the plan was compiled with (its own IPAMs) and
// changes as Docker does at run time (docker.go: connect, disconnect,
// stop, start, network rm).
func (f *Fabric) Docker() *topo.Docker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.docker
}

// Node returns the node named name, or nil.
func (f *Fabric) Node(name string) Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nodes[name]
}

// Switch returns the switch named name, or nil.
func (f *Fabric) Switch(name string) *vswitch.Switch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.switches[name]
}

// Link returns the link with endpoint e, or nil.
func (f *Fabric) Link(e topo.Endpoint) *sim.Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := f.wires[e]; w != nil {
		return w.l
	}
	return nil
}

// SetLink brings the link at endpoint e up or down.
func (f *Fabric) SetLink(e topo.Endpoint, up bool) error {
	l := f.Link(e)
	if l == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, e)
	}
	l.SetUp(up)
	return nil
}

// SetLinkConfig changes the impairments of the link at endpoint e while
// it runs.
func (f *Fabric) SetLinkConfig(e topo.Endpoint, c sim.LinkConfig) error {
	l := f.Link(e)
	if l == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, e)
	}
	return l.SetConfig(c)
}

// SetPort brings a switch port administratively up or down.
func (f *Fabric) SetPort(e topo.Endpoint, up bool) error {
	sw := f.Switch(e.Node)
	if sw == nil || sw.PortIndex(e.Port) < 0 {
		return fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return sw.SetPortUp(sw.PortIndex(e.Port), up)
}

// Move unplugs the link at endpoint iface from wherever its other end is
// and plugs it into the free endpoint to: a laptop carried to another
// port, a VM migrated. The link keeps its counters and impairments.
func (f *Fabric) Move(iface, to topo.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.wires[iface]
	if w == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, iface)
	}
	if f.wires[to] != nil {
		return fmt.Errorf("%s is already linked", to)
	}
	side := 1 // the end that moves: the one away from iface
	if w.cfg.B == iface {
		side = 0
	}
	from := w.cfg.B
	if side == 0 {
		from = w.cfg.A
	}
	dst, err := f.endpointLocked(to, iface.Node)
	if err != nil {
		return err
	}
	old := w.ends[side]
	link.Unjoin(old, w.taps[side])
	old.Carrier(false)
	delete(f.wires, from)
	if side == 0 {
		w.cfg.A = to
	} else {
		w.cfg.B = to
	}
	w.ends[side] = dst
	link.Join(dst, w.taps[side])
	dst.Carrier(w.l.Up())
	f.wires[to] = w
	return nil
}

// switchOf returns switch sw, or an error naming it.
func (f *Fabric) switchOf(sw string) (*vswitch.Switch, error) {
	if s := f.Switch(sw); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w switch %q", ErrUnknown, sw)
}

// FDB returns switch sw's forwarding database.
func (f *Fabric) FDB(sw string) ([]vswitch.FDBEntry, error) {
	s, err := f.switchOf(sw)
	if err != nil {
		return nil, err
	}
	return s.FDB(), nil
}

// STP returns switch sw's spanning tree status.
func (f *Fabric) STP(sw string) (vswitch.STPStatus, error) {
	s, err := f.switchOf(sw)
	if err != nil {
		return vswitch.STPStatus{}, err
	}
	return s.STP(), nil
}

// SetBPDUTransmit stops or resumes switch sw's BPDUs.
func (f *Fabric) SetBPDUTransmit(sw string, on bool) error {
	s, err := f.switchOf(sw)
	if err != nil {
		return err
	}
	s.SetBPDUTransmit(on)
	return nil
}

// Stats returns the counters of a switch port.
func (f *Fabric) Stats(e topo.Endpoint) (vswitch.PortStats, error) {
	s := f.Switch(e.Node)
	if s == nil || s.PortIndex(e.Port) < 0 {
		return vswitch.PortStats{}, fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return s.Stats(s.PortIndex(e.Port))
}
