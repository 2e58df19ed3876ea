package vswitch

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// Defaults for Options.
const (
	DefaultAgeingTime = 300 * time.Second // the Linux bridge's ageing_time
	DefaultMaxEntries = 8192
	DefaultVLAN       = 1 // the PVID of a port with no VLAN settings
)

// Options configure a Switch. Nil and zero fields take the defaults named.
type Options struct {
	Name       string        // name used in traces; default "switch"
	Clock      clock.Clock   // default clock.Real
	AgeingTime time.Duration // default DefaultAgeingTime
	MaxEntries int           // FDB bound; default DefaultMaxEntries
	Tracer     trace.Tracer  // default none
	// MAC is the bridge's address: the source of its BPDUs and, with the
	// priority, its bridge ID. Required with STP.
	MAC MAC
	// STP turns spanning tree on; nil means off (no BPDUs, link-local
	// frames dropped like any other).
	STP *STPConfig
}

// PortMode is a port's 802.1Q role.
type PortMode uint8

// Port modes.
const (
	Access PortMode = iota // untagged member of one VLAN, its PVID
	Trunk                  // tagged member of several VLANs, untagged in its native VLAN
)

// String returns "access" or "trunk".
func (m PortMode) String() string {
	if m == Trunk {
		return "trunk"
	}
	return "access"
}

// PortConfig describes a port.
type PortConfig struct {
	Name string
	Mode PortMode
	// PVID is an access port's VLAN; 0 means DefaultVLAN.
	PVID uint16
	// Allowed lists the VLANs a trunk carries tagged; empty means 1-4094.
	Allowed []uint16
	// Native is the VLAN a trunk carries untagged; 0 means none, so
	// untagged frames arriving on the trunk are dropped.
	Native uint16
	// STP is the port's spanning tree settings, used when the switch runs
	// STP.
	STP PortSTP
	// Isolated ports forward only to ports that are not isolated, as a
	// Linux bridge port with the isolated flag (bridge link set isolated
	// on): two isolated ports never exchange frames.
	Isolated bool
}

type vlanSet [4096 / 64]uint64

func (v *vlanSet) add(id uint16)      { v[id>>6] |= 1 << (id & 63) }
func (v *vlanSet) has(id uint16) bool { return v[id>>6]&(1<<(id&63)) != 0 }

// port is one switch port. Its configuration is immutable after AddPort;
// the atomics may change at any time.
//
// What a frame leaving by the port reads of it comes first: the fields
// up to member's first word (VLANs 0-63) take 48 bytes, so that they sit
// on one cache line (a port is allocated in a size class of 64-byte
// multiples, after an 8-byte header of the allocator's), where a port
// laid out by topic had them on four or five. A flood reads them of every
// port.
type port struct {
	state    atomic.Uint32 // stDown | stNoCarrier | stMonitor; 0: forwarding
	mirror   atomic.Int32  // index+1 of the monitor port copying this port; 0: none
	mode     PortMode
	isolated bool    // PortConfig.Isolated
	own      bool    // out is &ep.Out: send calls it without an interface
	pvid     uint16  // access VLAN or trunk native VLAN (0: none)
	ep       portEnd // the port as an Endpoint (see Endpoint)
	member   vlanSet

	out  link.Sender        // &ep.Out, or the Sender AddPort was given
	oout link.OffloadSender // out, when it takes offload metadata; else nil
	idx  int
	name string
	ctr  counters
}

// portEnd is a port as an Endpoint: what is handed to it goes into the
// switch (Input), what the port sends comes out of Out. It calls input
// itself, without the closure of a link.Port between, since every frame
// the switch takes comes this way.
type portEnd struct {
	link.Out
	s   *Switch
	idx int
}

var _ link.Endpoint = (*portEnd)(nil)

// Receive is Input on the port.
func (e *portEnd) Receive(frame []byte) error {
	e.s.input(e.idx, frame, link.Offload{})
	return nil
}

// ReceiveOffload is InputOffload on the port.
func (e *portEnd) ReceiveOffload(frame []byte, o link.Offload) error {
	e.s.input(e.idx, frame, o)
	return nil
}

// Carrier is SetCarrier on the port. Carrier from the switch is not
// passed on (a port's carrier is its own state).
func (e *portEnd) Carrier(up bool) { _ = e.s.SetCarrier(e.idx, up) }

// classify returns the VLAN of a frame arriving with tag, and whether the
// port admits it.
func (p *port) classify(t Tag) (uint16, bool) {
	vid := t.VID
	if !t.Tagged || vid == 0 { // untagged or priority-tagged
		if p.pvid == 0 {
			return 0, false
		}
		return p.pvid, true
	}
	if vid == 4095 || !p.member.has(vid) {
		return 0, false
	}
	if p.mode == Access && vid != p.pvid {
		return 0, false
	}
	return vid, true
}

// Port state bits. A port forwards only when none is set, so the hot path
// tests them all with one load.
const (
	stDown      = 1 << iota // administratively down
	stNoCarrier             // the link beneath has no carrier
	stMonitor               // a monitor port: sends mirrored copies only
	stNoLearn               // STP: blocking or listening, learns nothing
	stNoForward             // STP: not forwarding (blocking, listening or learning)
)

// setState sets or clears bit and reports whether that changed anything.
func (p *port) setState(bit uint32, on bool) bool {
	for {
		old := p.state.Load()
		nu := old &^ bit
		if on {
			nu |= bit
		}
		if nu == old {
			return false
		}
		if p.state.CompareAndSwap(old, nu) {
			return true
		}
	}
}

// egressTagged reports whether frames of vlan leave p with a tag.
func (p *port) egressTagged(vlan uint16) bool {
	return p.mode == Trunk && vlan != p.pvid
}

// Switch is a MAC-learning Ethernet switch. See the package documentation.
type Switch struct {
	name   string
	clk    clock.Clock
	nanos  clock.Nanos // clk's fast path, or nil
	tracer trace.Tracer

	addMu sync.Mutex              // serialises changes of the port table
	ports atomic.Pointer[[]*port] // copy-on-write

	fdb fdb
	stp *stp // nil without STP

	bufs sync.Pool // *[]byte of capacity MaxFrame, for retagging
}

// New returns a switch with no ports.
func New(o Options) *Switch {
	s := &Switch{
		name:   cmp.Or(o.Name, "switch"),
		clk:    clock.Or(o.Clock),
		tracer: o.Tracer,
	}
	s.nanos, _ = s.clk.(clock.Nanos)
	if o.STP != nil {
		s.stp = newSTP(s, *o.STP, o.MAC)
	}
	s.fdb.init(cmp.Or(o.MaxEntries, DefaultMaxEntries), cmp.Or(o.AgeingTime, DefaultAgeingTime), s.armLocked)
	s.ports.Store(&[]*port{})
	s.bufs.New = func() any { b := make([]byte, 0, MaxFrame); return &b }
	return s
}

// now returns the clock's time in Unix nanoseconds.
func (s *Switch) now() int64 {
	if s.nanos != nil {
		return s.nanos.UnixNano()
	}
	return s.clk.Now().UnixNano()
}

// Name returns the switch's name.
func (s *Switch) Name() string { return s.name }

// Errors returned by the configuration methods.
var (
	ErrNoPort  = errors.New("vswitch: no such port")
	ErrBadVLAN = errors.New("vswitch: VLAN ID out of range 1-4094")
	ErrDupPort = errors.New("vswitch: duplicate port name")
)

// AddPort adds an up port and returns its index, which is what Input and
// Endpoint take. The port sends through out, or, if out is nil, to the
// receiver attached to its Endpoint. Ports are numbered from 0 in the
// order added; floods go out in that order.
func (s *Switch) AddPort(c PortConfig, out link.Sender) (int, error) {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	old := *s.ports.Load()
	p := &port{idx: len(old), name: c.Name, mode: c.Mode, out: out, isolated: c.Isolated}
	if out == nil {
		p.out, p.own = &p.ep.Out, true
	}
	p.oout, _ = p.out.(link.OffloadSender)
	p.ep.s, p.ep.idx = s, p.idx
	if p.name == "" {
		p.name = fmt.Sprintf("p%d", p.idx)
	}
	for _, q := range old {
		if q.name == p.name {
			return -1, fmt.Errorf("%w: %s", ErrDupPort, p.name)
		}
	}
	okVID := func(v uint16) bool { return v >= 1 && v <= 4094 }
	switch c.Mode {
	case Access:
		p.pvid = cmp.Or(c.PVID, DefaultVLAN)
		if !okVID(p.pvid) {
			return -1, fmt.Errorf("%w: port %s pvid %d", ErrBadVLAN, p.name, p.pvid)
		}
		p.member.add(p.pvid)
	case Trunk:
		p.pvid = c.Native
		if p.pvid != 0 {
			if !okVID(p.pvid) {
				return -1, fmt.Errorf("%w: port %s native %d", ErrBadVLAN, p.name, p.pvid)
			}
			p.member.add(p.pvid)
		}
		if len(c.Allowed) == 0 {
			for v := uint16(1); v <= 4094; v++ {
				p.member.add(v)
			}
		}
		for _, v := range c.Allowed {
			if !okVID(v) {
				return -1, fmt.Errorf("%w: port %s allowed %d", ErrBadVLAN, p.name, v)
			}
			p.member.add(v)
		}
	default:
		return -1, fmt.Errorf("vswitch: port %s: unknown mode %d", p.name, c.Mode)
	}
	next := append(slices.Clip(old), p)
	s.ports.Store(&next)
	if s.stp != nil {
		s.stp.addPort(p, c.STP)
	}
	return p.idx, nil
}

// Endpoint returns port i as an Endpoint, or nil: frames handed to it
// arrive at the port (Input), its carrier is the port's (SetCarrier), and
// what the port sends goes to the receiver attached, when the port was
// added without a Sender of its own.
func (s *Switch) Endpoint(i int) link.Endpoint {
	if p := s.port(i); p != nil {
		return &p.ep
	}
	return nil
}

// port returns port i, or nil.
func (s *Switch) port(i int) *port {
	ps := *s.ports.Load()
	if i < 0 || i >= len(ps) {
		return nil
	}
	return ps[i]
}

// PortIndex returns the index of the port named name, or -1.
func (s *Switch) PortIndex(name string) int {
	for _, p := range *s.ports.Load() {
		if p.name == name {
			return p.idx
		}
	}
	return -1
}

// PortName returns the name of port i, or "" if there is none.
func (s *Switch) PortName(i int) string {
	if p := s.port(i); p != nil {
		return p.name
	}
	return ""
}

// NumPorts returns the number of ports.
func (s *Switch) NumPorts() int { return len(*s.ports.Load()) }

// Stats returns a snapshot of port i's counters.
func (s *Switch) Stats(i int) (PortStats, error) {
	p := s.port(i)
	if p == nil {
		return PortStats{}, ErrNoPort
	}
	return p.ctr.snapshot(), nil
}

// PortUp reports whether port i is up.
func (s *Switch) PortUp(i int) bool {
	p := s.port(i)
	return p != nil && p.state.Load()&stDown == 0
}

// SetPortUp brings port i administratively up or down. Taking a port down
// flushes the addresses learned on it, as the Linux bridge does.
func (s *Switch) SetPortUp(i int, up bool) error { return s.setPortState(i, stDown, up, "port") }

// SetCarrier tells the switch that the link under port i gained or lost
// carrier. Losing carrier flushes the port's addresses, like a port going
// down.
func (s *Switch) SetCarrier(i int, up bool) error {
	return s.setPortState(i, stNoCarrier, up, "carrier")
}

// setPortState clears (up) or sets (down) one of port i's down bits.
func (s *Switch) setPortState(i int, bit uint32, up bool, what string) error {
	p := s.port(i)
	if p == nil {
		return ErrNoPort
	}
	if p.setState(bit, !up) {
		s.portChanged(p, up, what)
	}
	return nil
}

func (s *Switch) portChanged(p *port, up bool, what string) {
	state := "up"
	if !up {
		state = "down"
	}
	op := trace.OpCarrier
	if what != "carrier" {
		op = trace.OpAdmin
	}
	s.emit(trace.Event{Kind: trace.State, Op: op, Port: p.name, State: state})
	if s.stp != nil {
		s.stp.portEnabled(p, p.state.Load()&(stDown|stNoCarrier) == 0)
	}
	if !up {
		s.flushPort(p, what+" down")
	}
}

// flushPort forgets every address learned on p.
func (s *Switch) flushPort(p *port, why string) {
	for _, e := range s.forget(p, why, nil) {
		s.emit(e)
	}
}

// forget removes every address learned on p and appends the events that
// say so to evq, for the caller to emit (after its own lock, for STP).
func (s *Switch) forget(p *port, why string, evq []trace.Event) []trace.Event {
	s.fdb.mu.Lock()
	gone := s.fdb.flushPortLocked(p.idx)
	s.fdb.mu.Unlock()
	if !s.wants(trace.Flushed) {
		return evq
	}
	for _, g := range gone {
		vlan, mac := splitKey(g.key)
		evq = append(evq, trace.Event{Kind: trace.Flushed, Port: p.name, VLAN: vlan, Src: mac.String(), Reason: why})
	}
	return evq
}

// SetMirror makes port monitor receive a copy of every frame received on or
// sent by each port in sources. The monitor port stops forwarding. Passing no
// sources turns mirroring to monitor off.
func (s *Switch) SetMirror(monitor int, sources ...int) error {
	m := s.port(monitor)
	if m == nil {
		return ErrNoPort
	}
	for _, src := range sources {
		if p := s.port(src); p == nil || src == monitor {
			return fmt.Errorf("%w: mirror source %d", ErrNoPort, src)
		}
	}
	for _, p := range *s.ports.Load() {
		if int(p.mirror.Load())-1 == monitor {
			p.mirror.Store(0)
		}
	}
	for _, src := range sources {
		s.port(src).mirror.Store(int32(monitor + 1))
	}
	m.setState(stMonitor, len(sources) > 0)
	return nil
}

// AgeingTime returns the current ageing time.
func (s *Switch) AgeingTime() time.Duration { return time.Duration(s.fdb.ageing.Load()) }

// SetAgeingTime changes the ageing time and applies it at once to every
// entry (STP's fast ageing uses this).
func (s *Switch) SetAgeingTime(d time.Duration) {
	if d <= 0 {
		d = DefaultAgeingTime
	}
	for _, e := range s.setAgeing(d, nil) {
		s.emit(e)
	}
}

// setAgeing is SetAgeingTime with the events of the entries it ages out
// appended to evq, for the caller to emit.
func (s *Switch) setAgeing(d time.Duration, evq []trace.Event) []trace.Event {
	s.fdb.ageing.Store(int64(d))
	return s.sweep(evq)
}

// FDB returns the live entries sorted by VLAN, MAC.
func (s *Switch) FDB() []FDBEntry {
	now := s.now()
	ps := *s.ports.Load()
	var out []FDBEntry
	s.fdb.each(func(key uint64, port int, seen int64) {
		if s.fdb.expired(seen, now) {
			return
		}
		vlan, mac := splitKey(key)
		e := FDBEntry{VLAN: vlan, MAC: mac, Age: time.Duration(now - seen)}
		if port < len(ps) {
			e.Port = ps[port].name
		}
		out = append(out, e)
	})
	slices.SortFunc(out, func(a, b FDBEntry) int {
		if c := cmp.Compare(a.VLAN, b.VLAN); c != 0 {
			return c
		}
		return slices.Compare(a.MAC[:], b.MAC[:])
	})
	return out
}

// Lookup returns the port name (vlan, mac) is learned on, if any.
func (s *Switch) Lookup(vlan uint16, mac MAC) (string, bool) {
	i := s.fdb.lookup(fdbKeyOf(vlan, mac), s.now())
	if i < 0 {
		return "", false
	}
	return s.PortName(i), true
}

// age removes aged-out entries and re-arms the timer for the next deadline.
// It runs from the clock's timer.
func (s *Switch) age() {
	for _, e := range s.sweep(nil) {
		s.emit(e)
	}
}

// sweep is age with the events appended to evq, for the caller to emit.
func (s *Switch) sweep(evq []trace.Event) []trace.Event {
	now := s.now()
	s.fdb.mu.Lock()
	s.fdb.armed = false
	gone, next, ok := s.fdb.expireLocked(now)
	if ok {
		s.armLocked(next, now)
	}
	s.fdb.mu.Unlock()
	if !s.wants(trace.Aged) {
		return evq
	}
	ps := *s.ports.Load()
	for _, g := range gone {
		vlan, mac := splitKey(g.key)
		evq = append(evq, trace.Event{Kind: trace.Aged, Port: ps[g.port].name, VLAN: vlan, Src: mac.String()})
	}
	return evq
}

// armLocked makes sure the ageing timer fires no later than deadline.
// fdb.mu must be held.
func (s *Switch) armLocked(deadline, now int64) {
	f := &s.fdb
	if f.armed && f.armedAt <= deadline {
		return
	}
	d := time.Duration(deadline - now)
	if f.timer == nil {
		f.timer = s.clk.AfterFunc(d, s.age)
	} else {
		f.timer.Reset(d)
	}
	f.armed = true
	f.armedAt = deadline
}

// emit sends e to the tracer, stamped with the switch's name and the time.
func (s *Switch) emit(e trace.Event) {
	if s.tracer == nil {
		return
	}
	e.Node = s.name
	e.Time = s.clk.Now()
	s.tracer.Trace(e)
}

// drop counts a drop on p and traces it.
func (s *Switch) drop(p *port, r DropReason, frame []byte) {
	p.ctr.drops[r].Add(1)
	if !s.wants(trace.Dropped) {
		return
	}
	e := trace.Event{Kind: trace.Dropped, Port: p.name, Reason: r.String()}
	if len(frame) >= EthHdrLen {
		e.Src, e.Dst = EthHdr(frame).Src().String(), EthHdr(frame).Dst().String()
	}
	s.emit(e)
}
