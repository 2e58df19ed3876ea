// Package fabric is what every backend shares: a topology's switches,
// gateway nodes (a Docker host's router, see gateway.go) and links, wired
// to plugs, with the operations the scenario runner performs on them (link
// and port state, replugging, FDB, counter and conntrack reads).
//
// A backend builds a Fabric from a topo.Graph, adds a plug for each host
// interface (a simulated host in sim/mem, a TAP device in a namespace in
// sim/netns), then calls Connect, which lays the links. Switches are the
// same vswitch code in every world; only the clock, the hosts and whether
// links deliver synchronously differ.
//
// # Concurrency
//
// A Fabric is safe for concurrent use once connected: plugs swap their link
// end atomically, links and switches are safe for concurrent use. Moves and
// state changes are serialised by mu.
package fabric

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
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
	// Direct makes perfect links that touch a host deliver synchronously
	// (real devices). Links between two switches always queue, so that a
	// loop cannot recurse without bound.
	Direct bool
	// FrameBudget bounds the frames put on links; past it every link drops
	// and Exhausted reports true. The netns backend's storm stop (mem uses
	// the engine's event budget). 0: no bound.
	FrameBudget uint64
	// Serial runs each gateway node on a goroutine of its own (the netns
	// world, where frames and timers arrive concurrently).
	Serial bool
	// OnLoop is called once when a frame is found looping on a link
	// between two switches (sim.LinkOptions.OnLoop). From then on every
	// plug drops what it is given and Looping reports the loop: the storm
	// is stopped. mem halts its engine here. nil: nothing more.
	OnLoop func()
}

// Fabric is a topology's switches and links.
type Fabric struct {
	frames   atomic.Uint64          // put on links, counted only with a FrameBudget
	loop     atomic.Pointer[string] // what was found looping; nil: nothing
	graph    *topo.Graph
	opts     Options
	switches map[string]*vswitch.Switch
	links    []*sim.Link
	plugs    map[topo.Endpoint]*Plug
	macs     map[vswitch.MAC]string // the host with each interface MAC
	gateways map[string]*Gateway
	closers  []func()
	mu       sync.Mutex // serialises Move, SetLink, SetPort
}

// Close stops the gateways' goroutines.
func (f *Fabric) Close() {
	for _, c := range f.closers {
		c()
	}
}

// Plug is what a node transmits into: the near end of a link, or nothing.
type Plug struct {
	f        *Fabric
	end      atomic.Pointer[sim.End]
	input    func(frame []byte)                 // the node receives through this
	inputOff func(frame []byte, o link.Offload) // and offload frames through this, if it takes them
	carry    func(up bool)                      // the node learns of carrier changes through this
}

var _ link.OffloadSender = (*Plug)(nil)

// SendOffload transmits a frame with offload metadata into the link plugged
// here (see sim.End.SendOffload).
func (p *Plug) SendOffload(frame []byte, o link.Offload) error {
	end := p.end.Load()
	if end == nil {
		return link.ErrDown
	}
	if err := p.f.spend(); err != nil {
		return err
	}
	return end.SendOffload(frame, o)
}

// TakeOffloads makes the node behind p receive frames with offload metadata
// through f, instead of resolved ones. Call it before Connect.
func (p *Plug) TakeOffloads(f func(frame []byte, o link.Offload)) { p.inputOff = f }

// Send transmits frame into the link plugged here.
func (p *Plug) Send(frame []byte) error {
	end := p.end.Load()
	if end == nil {
		return link.ErrDown
	}
	if err := p.f.spend(); err != nil {
		return err
	}
	return end.Send(frame)
}

// spend counts one frame against the budget, and refuses every frame once
// a loop was found.
func (f *Fabric) spend() error {
	if f.loop.Load() != nil {
		return ErrLoop
	}
	if b := f.opts.FrameBudget; b > 0 && f.frames.Add(1) > b {
		return ErrBudget
	}
	return nil
}

// ErrLoop is returned by plugs once a loop was found.
var ErrLoop = fmt.Errorf("%w (stopped)", sim.ErrLoop)

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

// ErrBudget is returned by plugs once the frame budget is spent.
var ErrBudget = fmt.Errorf("%w (frames)", sim.ErrBudget)

// Exhausted reports whether the frame budget is spent, and how many frames
// were counted.
func (f *Fabric) Exhausted() (bool, uint64) {
	n := f.frames.Load()
	return f.opts.FrameBudget > 0 && n > f.opts.FrameBudget, n
}

// connect puts end into p.
func (p *Plug) connect(end *sim.End) {
	p.end.Store(end)
	end.Attach(p.input, p.carry)
	end.AttachOffload(p.inputOff)
	p.carry(end.Link().Up())
}

// ErrUnknown is returned for a name the topology does not have.
var ErrUnknown = errors.New("unknown")

// New builds g's switches, each port on a plug. g must be valid.
func New(g *topo.Graph, o Options) (*Fabric, error) {
	f := &Fabric{graph: g, opts: o, switches: map[string]*vswitch.Switch{}, plugs: map[topo.Endpoint]*Plug{}, macs: map[vswitch.MAC]string{}}
	ix := g.Index() // the graph's own lookups scan it: quadratic for a large one
	for _, h := range g.Hosts {
		for _, i := range h.Ifaces {
			f.macs[i.MAC] = h.Name
		}
	}
	for _, s := range g.Switches {
		sw := vswitch.New(vswitch.Options{Name: s.Name, Clock: o.Clock, AgeingTime: s.AgeingTime, MaxEntries: s.MaxEntries, Tracer: o.Tracer, MAC: s.MAC, STP: s.STP})
		f.switches[s.Name] = sw
		for _, name := range ix.PortNames(s.Name) {
			p := &Plug{f: f}
			idx, err := sw.AddPort(ix.PortConfig(s.Name, name), p)
			if err != nil {
				return nil, fmt.Errorf("switch %s: %w", s.Name, err)
			}
			p.input = func(fr []byte) { sw.Input(idx, fr) }
			p.inputOff = func(fr []byte, o link.Offload) { sw.InputOffload(idx, fr, o) }
			p.carry = func(up bool) { _ = sw.SetCarrier(idx, up) }
			_ = sw.SetCarrier(idx, false) // no cable until Connect
			f.plugs[topo.Endpoint{Node: s.Name, Port: name}] = p
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
	return f, nil
}

// AddPlug adds the plug of a host interface: input receives the frames the
// link delivers, carry hears carrier changes. The node transmits into the
// returned plug.
func (f *Fabric) AddPlug(at topo.Endpoint, input func(frame []byte), carry func(up bool)) *Plug {
	p := &Plug{f: f, input: input, carry: carry}
	f.plugs[at] = p
	return p
}

// Connect lays every link of the graph between the plugs.
func (f *Fabric) Connect() error {
	ix := f.graph.Index()
	for _, l := range f.graph.Links {
		ka, kb := ix.Kind(l.A.Node), ix.Kind(l.B.Node)
		direct := f.opts.Direct && (ka == topo.HostNode || kb == topo.HostNode)
		lo := sim.LinkOptions{Clock: f.opts.Clock, Seed: f.opts.Seed, Tracer: f.opts.Tracer, Direct: direct}
		if ka == topo.SwitchNode && kb == topo.SwitchNode {
			lo.OnLoop = f.looped // only a loop brings a frame back between switches
		}
		sl, err := sim.NewLink(l.Name(), l.A.String(), l.B.String(), l.Config, lo)
		if err != nil {
			return err
		}
		if w := f.opts.Capture; w != nil {
			sl.Capture = func(l *sim.Link, _ *sim.End, at time.Time, frame []byte) { w.Write(l.Name(), at, frame, "") }
		}
		f.links = append(f.links, sl)
		for i, ep := range []topo.Endpoint{l.A, l.B} {
			p := f.plugs[ep]
			if p == nil {
				return fmt.Errorf("fabric: nothing plugged at %s", ep)
			}
			p.connect(sl.End(i))
		}
	}
	return nil
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

// Graph returns the topology.
func (f *Fabric) Graph() *topo.Graph { return f.graph }

// Switch returns the switch named name, or nil.
func (f *Fabric) Switch(name string) *vswitch.Switch { return f.switches[name] }

// Link returns the link with endpoint e, or nil.
func (f *Fabric) Link(e topo.Endpoint) *sim.Link {
	if i := f.graph.LinkOf(e); i >= 0 && i < len(f.links) {
		return f.links[i]
	}
	return nil
}

// SetLink brings the link at endpoint e up or down.
func (f *Fabric) SetLink(e topo.Endpoint, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.Link(e)
	if l == nil {
		return fmt.Errorf("%w link at %s", ErrUnknown, e)
	}
	l.SetUp(up)
	return nil
}

// SetPort brings a switch port administratively up or down.
func (f *Fabric) SetPort(e topo.Endpoint, up bool) error {
	sw := f.switches[e.Node]
	if sw == nil || sw.PortIndex(e.Port) < 0 {
		return fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return sw.SetPortUp(sw.PortIndex(e.Port), up)
}

// Move unplugs the link of host interface iface from wherever its other end
// is and plugs it into the free endpoint to: a laptop carried to another
// port, a VM migrated.
func (f *Fabric) Move(iface, to topo.Endpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	li := f.graph.LinkOf(iface)
	if li < 0 {
		return fmt.Errorf("%w link at %s", ErrUnknown, iface)
	}
	dst := f.plugs[to]
	if dst == nil {
		return fmt.Errorf("%w endpoint %s", ErrUnknown, to)
	}
	if dst.end.Load() != nil {
		return fmt.Errorf("%s is already linked", to)
	}
	gl := f.graph.Links[li]
	from, side := gl.B, 1
	if gl.B == iface {
		from, side = gl.A, 0
	}
	old := f.plugs[from]
	old.end.Store(nil)
	old.carry(false)
	// The moving end now serves another node: make it forget the old one.
	f.links[li].End(side).Attach(nil, nil)
	f.links[li].End(side).AttachOffload(nil)
	if side == 0 {
		gl.A = to
	} else {
		gl.B = to
	}
	f.graph.Links[li] = gl
	dst.connect(f.links[li].End(side))
	return nil
}

// FDB returns switch sw's forwarding database.
func (f *Fabric) FDB(sw string) ([]vswitch.FDBEntry, error) {
	s := f.switches[sw]
	if s == nil {
		return nil, fmt.Errorf("%w switch %q", ErrUnknown, sw)
	}
	return s.FDB(), nil
}

// STP returns switch sw's spanning tree status.
func (f *Fabric) STP(sw string) (vswitch.STPStatus, error) {
	s := f.switches[sw]
	if s == nil {
		return vswitch.STPStatus{}, fmt.Errorf("%w switch %q", ErrUnknown, sw)
	}
	return s.STP(), nil
}

// SetBPDUTransmit stops or resumes switch sw's BPDUs.
func (f *Fabric) SetBPDUTransmit(sw string, on bool) error {
	s := f.switches[sw]
	if s == nil {
		return fmt.Errorf("%w switch %q", ErrUnknown, sw)
	}
	s.SetBPDUTransmit(on)
	return nil
}

// Stats returns the counters of a switch port.
func (f *Fabric) Stats(e topo.Endpoint) (vswitch.PortStats, error) {
	s := f.switches[e.Node]
	if s == nil || s.PortIndex(e.Port) < 0 {
		return vswitch.PortStats{}, fmt.Errorf("%w switch port %s", ErrUnknown, e)
	}
	return s.Stats(s.PortIndex(e.Port))
}
