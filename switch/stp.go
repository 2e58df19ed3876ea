package vswitch

import (
	"cmp"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// STP-lite: the IEEE 802.1D-1998 spanning tree (§8), with RSTP's edge ports
// and the usual guards. See the package documentation, Spanning tree.

// 802.1D defaults.
const (
	DefaultBridgePriority = 32768
	DefaultPortPriority   = 128
	DefaultPathCost       = 100 // Linux's cost for a port of unknown speed
	DefaultHelloTime      = 2 * time.Second
	DefaultMaxAge         = 20 * time.Second
	DefaultForwardDelay   = 15 * time.Second
	// messageAgeIncrement is what a relaying bridge adds to a BPDU's age
	// (802.1D-1998 §8.10.2: message age increment overestimate).
	messageAgeIncrement = time.Second
)

// STPConfig turns STP on for a switch (Options.STP). Zero fields take the
// 802.1D defaults; Priority is a pointer because 0 is a valid priority.
type STPConfig struct {
	Priority     *uint16
	HelloTime    time.Duration
	MaxAge       time.Duration
	ForwardDelay time.Duration
}

// PortSTP is a port's STP settings (PortConfig.STP).
type PortSTP struct {
	Cost      uint32 // path cost; default DefaultPathCost
	Priority  uint8  // port priority; default DefaultPortPriority
	Edge      bool   // an edge port: forwards at once, until it hears a BPDU
	BPDUGuard bool   // an edge port that hears a BPDU is disabled
	RootGuard bool   // a port that hears a superior BPDU blocks instead of becoming root port
}

// Role is a port's spanning tree role.
type Role uint8

// Port roles.
const (
	RoleDisabled Role = iota
	RoleRoot
	RoleDesignated
	RoleAlternate
	RoleBackup
)

func (r Role) String() string {
	return [...]string{"disabled", "root", "designated", "alternate", "backup"}[r]
}

// State is a port's spanning tree state.
type State uint8

// Port states (802.1D-1998 §8.4).
const (
	StateDisabled State = iota
	StateBlocking
	StateListening
	StateLearning
	StateForwarding
)

func (s State) String() string {
	return [...]string{"disabled", "blocking", "listening", "learning", "forwarding"}[s]
}

// vector is a spanning tree priority vector; lower is better.
type vector struct {
	root   BridgeID
	cost   uint32
	bridge BridgeID
	port   uint16
}

func (a vector) cmp(b vector) int {
	if c := cmp.Compare(a.root, b.root); c != 0 {
		return c
	}
	if c := cmp.Compare(a.cost, b.cost); c != 0 {
		return c
	}
	if c := cmp.Compare(a.bridge, b.bridge); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

type stpPort struct {
	p                             *port
	id                            uint16
	cost                          uint32
	edgeCfg, bpduGuard, rootGuard bool

	enabled      bool
	edge         bool // operational edge
	role         Role
	state        State
	info         *vector // best information received, nil when none
	infoAge      time.Duration
	infoTC       bool
	infoTimers   [3]time.Duration // max age, hello, forward delay of the received BPDU
	inconsistent bool             // root guard holds it blocked
	guarded      bool             // BPDU guard disabled it
	tcAck        bool             // a TCN arrived: acknowledge in the next config BPDU
	ageTimer     clock.Timer
	fwdTimer     clock.Timer
}

var zeroOffload link.Offload

type stpOut struct {
	p     *port
	frame []byte
}

// stp is a switch's spanning tree. Everything is guarded by mu; frames and
// trace events are queued and released after mu is (see unlock), in the
// order they happened. FDB changes (flushes, fast ageing) are made under
// mu, taking fdb.mu inside it (the lock order is stp.mu, then fdb.mu), and
// their events join the queue.
type stp struct {
	mu       sync.Mutex
	s        *Switch
	id       BridgeID
	own      [3]time.Duration // configured max age, hello, forward delay
	use      [3]time.Duration // in use: the root's
	root     BridgeID
	cost     uint32
	rootPort *stpPort
	ports    []*stpPort
	hello    clock.Timer
	tcn      clock.Timer
	tcWhile  clock.Timer
	tc       bool // topology change in effect (fast ageing, TC flag)
	sendTCN  bool
	quiet    bool // transmits no BPDU (a scenario's failed root)
	hellos   int  // hello timers run so far
	ageing   time.Duration
	outq     []stpOut
	evq      []trace.Event
}

func newSTP(s *Switch, c STPConfig, mac MAC) *stp {
	prio := uint16(DefaultBridgePriority)
	if c.Priority != nil {
		prio = *c.Priority
	}
	t := &stp{s: s, id: NewBridgeID(prio, mac)}
	t.own = [3]time.Duration{cmp.Or(c.MaxAge, DefaultMaxAge), cmp.Or(c.HelloTime, DefaultHelloTime), cmp.Or(c.ForwardDelay, DefaultForwardDelay)}
	t.use = t.own
	t.root = t.id
	return t
}

func (t *stp) maxAge() time.Duration   { return t.use[0] }
func (t *stp) fwdDelay() time.Duration { return t.use[2] }
func (t *stp) isRoot() bool            { return t.root == t.id }

// unlock releases mu, then sends the queued BPDUs and emits queued events.
func (t *stp) unlock() {
	out, ev := t.outq, t.evq
	t.outq, t.evq = nil, nil
	t.mu.Unlock()
	for _, e := range ev {
		t.s.emit(e)
	}
	for _, o := range out {
		if o.p.state.Load()&(stDown|stNoCarrier) == 0 {
			t.s.send(o.p, o.frame, zeroOffload)
		}
	}
}

// tracing reports whether anyone listens: events with bridge IDs are built
// only then.
func (t *stp) tracing() bool { return t.s.tracer != nil }

// event queues e, an STP event about port p (nil: the bridge), to be
// emitted once the lock is released.
func (t *stp) event(p *stpPort, e trace.Event) {
	if t.s.tracer == nil {
		return
	}
	e.Kind = trace.STP
	if p != nil {
		e.Port = p.p.name
	}
	t.evq = append(t.evq, e)
}

// addPort brings a new port under STP; it starts enabled if it has carrier.
func (t *stp) addPort(p *port, c PortSTP) {
	t.mu.Lock()
	sp := &stpPort{p: p, cost: cmp.Or(c.Cost, DefaultPathCost), edgeCfg: c.Edge, bpduGuard: c.BPDUGuard, rootGuard: c.RootGuard}
	sp.id = uint16(cmp.Or(c.Priority, DefaultPortPriority))<<8 | uint16(p.idx+1)&0xfff
	for len(t.ports) <= p.idx {
		t.ports = append(t.ports, nil)
	}
	t.ports[p.idx] = sp
	t.setStateLocked(sp, StateBlocking, "new port")
	sp.enabled = p.state.Load()&(stDown|stNoCarrier) == 0
	sp.edge = sp.edgeCfg
	t.recomputeLocked("port " + p.name + " added")
	if t.isRoot() && t.hello == nil {
		t.helloLocked()
	}
	t.unlock()
}

// portEnabled follows a port's carrier and administrative state: a port
// going down loses its information at once, so a failed root port is
// replaced without waiting for max age (802.1D-1998 §8.7.2).
func (t *stp) portEnabled(p *port, up bool) {
	t.mu.Lock()
	sp := t.ports[p.idx]
	if sp == nil || sp.enabled == up || sp.guarded {
		t.mu.Unlock()
		return
	}
	sp.enabled = up
	sp.info, sp.inconsistent = nil, false
	stop(sp.ageTimer)
	sp.edge = sp.edgeCfg
	why := "went down"
	if up {
		why = "came up"
	}
	t.recomputeLocked("port " + p.name + " " + why)
	t.unlock()
}

func stop(tm clock.Timer) {
	if tm != nil {
		tm.Stop()
	}
}

// recomputeLocked elects the root and gives every port its role
// (802.1D-1998 §8.6.8, §8.6.9).
func (t *stp) recomputeLocked(why string) {
	wasRoot := t.isRoot()
	oldRoot, oldRP := t.root, t.rootPort
	var best vector
	var rp *stpPort
	for _, sp := range t.ports {
		if sp == nil || !sp.enabled || sp.info == nil || sp.inconsistent {
			continue
		}
		cand := vector{sp.info.root, sp.info.cost + sp.cost, sp.info.bridge, sp.info.port}
		if cand.root >= t.id {
			continue
		}
		if rp == nil || cand.cmp(best) < 0 || cand.cmp(best) == 0 && sp.id < rp.id {
			best, rp = cand, sp
		}
	}
	t.rootPort = rp
	if rp == nil {
		t.root, t.cost, t.use = t.id, 0, t.own
	} else {
		t.root, t.cost, t.use = best.root, best.cost, rp.infoTimers
	}
	if (t.root != oldRoot || t.rootPort != oldRP) && t.tracing() {
		switch {
		case t.isRoot():
			t.event(nil, trace.Event{Op: trace.OpClaimsRoot, Bridge: t.id.String(), Root: t.id.String(), Reason: why})
		default:
			t.event(rp, trace.Event{Op: trace.OpRoot, Root: t.root.String(), Cost: t.cost, RootPort: rp.p.name, Bridge: t.id.String(), Reason: why})
		}
	}
	for _, sp := range t.ports {
		if sp == nil {
			continue
		}
		role := RoleDisabled
		switch {
		case !sp.enabled:
		case sp == rp:
			role = RoleRoot
		case sp.inconsistent:
			role = RoleAlternate
		case sp.info == nil || (vector{t.root, t.cost, t.id, sp.id}).cmp(*sp.info) < 0:
			role = RoleDesignated
		case sp.info.bridge == t.id:
			role = RoleBackup
		default:
			role = RoleAlternate
		}
		t.setRoleLocked(sp, role, why)
	}
	switch {
	case t.isRoot() && !wasRoot:
		stop(t.tcn)
		t.sendTCN = false
		t.helloLocked()
	case !t.isRoot() && wasRoot:
		stop(t.hello)
	}
}

// setRoleLocked applies a role and the state it implies.
func (t *stp) setRoleLocked(sp *stpPort, role Role, why string) {
	if sp.role != role {
		if t.tracing() {
			e := trace.Event{Op: trace.OpRole, WasRole: sp.role.String(), Role: role.String(), Reason: why}
			if sp.info != nil && role != RoleDesignated {
				e.Bridge, e.Root, e.Cost = sp.info.bridge.String(), sp.info.root.String(), sp.info.cost
			}
			t.event(sp, e)
		}
		sp.role = role
	}
	switch role {
	case RoleRoot, RoleDesignated:
		switch {
		case sp.edge:
			t.setStateLocked(sp, StateForwarding, "edge port")
		case sp.state == StateBlocking || sp.state == StateDisabled:
			t.setStateLocked(sp, StateListening, "now "+role.String())
			t.armFwdLocked(sp)
		}
	case RoleDisabled:
		stop(sp.fwdTimer)
		t.setStateLocked(sp, StateDisabled, "port disabled")
	default:
		stop(sp.fwdTimer)
		t.setStateLocked(sp, StateBlocking, "now "+role.String())
	}
}

func (t *stp) armFwdLocked(sp *stpPort) {
	if sp.fwdTimer == nil {
		sp.fwdTimer = t.s.clk.AfterFunc(t.fwdDelay(), func() { t.forwardDelayExpired(sp) })
	} else {
		sp.fwdTimer.Reset(t.fwdDelay())
	}
}

// forwardDelayExpired moves a port from listening to learning to forwarding.
func (t *stp) forwardDelayExpired(sp *stpPort) {
	t.mu.Lock()
	switch sp.state {
	case StateListening:
		t.setStateLocked(sp, StateLearning, "forward delay "+t.fwdDelay().String()+" passed")
		t.armFwdLocked(sp)
	case StateLearning:
		t.setStateLocked(sp, StateForwarding, "forward delay "+t.fwdDelay().String()+" passed")
	}
	t.unlock()
}

// setStateLocked sets a port's state, its forwarding bits, and notices
// topology changes (802.1D-1998 §8.6.14).
func (t *stp) setStateLocked(sp *stpPort, st State, why string) {
	old := sp.state
	if old == st {
		return
	}
	sp.state = st
	p := sp.p
	p.setState(stNoLearn, st != StateLearning && st != StateForwarding)
	p.setState(stNoForward, st != StateForwarding)
	if t.s.tracer != nil && !(old == StateDisabled && st == StateBlocking && sp.role == RoleDisabled) {
		t.event(sp, trace.Event{Op: trace.OpState, WasState: old.String(), State: st.String(), Role: sp.role.String(), Reason: why})
	}
	if st == StateBlocking || st == StateDisabled {
		t.evq = t.s.forget(p, "stp "+st.String(), t.evq)
	}
	if !sp.edge && (st == StateForwarding || old == StateForwarding || old == StateLearning) && (st == StateForwarding || st == StateBlocking || st == StateDisabled) {
		t.topologyChangeLocked(sp)
	}
}

// topologyChangeLocked reacts to a port entering or leaving forwarding: the
// root announces it; any other bridge notifies its way up (§8.6.14, §8.6.15).
func (t *stp) topologyChangeLocked(sp *stpPort) {
	if t.isRoot() {
		t.startTCLocked("a port changed state here")
		return
	}
	if t.rootPort != nil && !t.sendTCN {
		t.sendTCN = true
		t.event(sp, trace.Event{Op: trace.OpTCNotify, RootPort: t.rootPort.p.name})
		t.tcnLocked()
	}
}

// tcnLocked sends a TCN on the root port, and again every hello time until
// acknowledged.
func (t *stp) tcnLocked() {
	if !t.sendTCN || t.rootPort == nil {
		return
	}
	t.queueLocked(t.rootPort, BPDU{Type: BPDUTCN})
	if t.tcn == nil {
		t.tcn = t.s.clk.AfterFunc(t.own[1], func() { t.mu.Lock(); t.tcnLocked(); t.unlock() })
	} else {
		t.tcn.Reset(t.own[1])
	}
}

// startTCLocked (root) sets the topology change flag for max age + forward
// delay, and ages the FDB in forward delay meanwhile (§8.5.3.12).
func (t *stp) startTCLocked(why string) {
	d := t.maxAge() + t.fwdDelay()
	if !t.tc {
		t.event(nil, trace.Event{Op: trace.OpTC, Dur: d, Reason: why})
	}
	t.setTCLocked(true)
	if t.tcWhile == nil {
		t.tcWhile = t.s.clk.AfterFunc(d, func() { t.mu.Lock(); t.setTCLocked(false); t.unlock() })
	} else {
		t.tcWhile.Reset(d)
	}
}

// setTCLocked turns fast ageing (forward delay) on or off.
func (t *stp) setTCLocked(on bool) {
	if t.tc == on {
		return
	}
	t.tc = on
	if on {
		t.ageing = t.s.AgeingTime()
		t.evq = t.s.setAgeing(t.fwdDelay(), t.evq)
	} else {
		t.evq = t.s.setAgeing(t.ageing, t.evq)
	}
}

// helloLocked (root) sends configuration BPDUs on every designated port and
// re-arms the hello timer.
func (t *stp) helloLocked() {
	if !t.isRoot() {
		return
	}
	if t.hellos++; t.hellos == 2 { // the first runs as the switch is built
		if t.tracing() {
			t.event(nil, trace.Event{Op: trace.OpHello, Bridge: t.id.String(), Root: t.id.String()})
		}
	}
	t.configAllLocked()
	if t.hello == nil {
		t.hello = t.s.clk.AfterFunc(t.own[1], func() { t.mu.Lock(); t.helloLocked(); t.unlock() })
	} else {
		t.hello.Reset(t.own[1])
	}
}

func (t *stp) configAllLocked() {
	for _, sp := range t.ports {
		if sp != nil && sp.enabled && sp.role == RoleDesignated && !sp.edge {
			t.configLocked(sp)
		}
	}
}

// configLocked queues a configuration BPDU on sp (§8.6.2).
func (t *stp) configLocked(sp *stpPort) {
	b := BPDU{Type: BPDUConfig, Root: t.root, Cost: t.cost, Bridge: t.id, Port: sp.id,
		MaxAge: t.use[0], HelloTime: t.use[1], ForwardDelay: t.use[2]}
	if rp := t.rootPort; rp != nil {
		b.MessageAge = rp.infoAge + messageAgeIncrement
		if b.MessageAge >= b.MaxAge {
			return // too old to pass on (§8.6.2.3.2)
		}
	}
	if t.tc || (t.rootPort != nil && t.rootPort.infoTC) {
		b.Flags |= FlagTC
	}
	if sp.tcAck {
		b.Flags |= FlagTCAck
		sp.tcAck = false
	}
	t.queueLocked(sp, b)
}

func (t *stp) queueLocked(sp *stpPort, b BPDU) {
	if t.quiet {
		return
	}
	t.outq = append(t.outq, stpOut{sp.p, b.AppendFrame(nil, t.id.MAC())})
}

// stpInput handles a frame to the bridge group address.
func (s *Switch) stpInput(p *port, frame []byte) {
	b, err := ParseBPDU(frame)
	if err != nil {
		s.drop(p, DropBPDU, frame)
		return
	}
	t := s.stp
	t.mu.Lock()
	sp := t.ports[p.idx]
	if sp == nil || !sp.enabled { // BPDU guard took it out (or it is going down)
		t.unlock()
		s.drop(p, DropBPDU, frame)
		return
	}
	if sp.edge {
		if sp.bpduGuard {
			sp.guarded, sp.enabled = true, false
			if t.tracing() {
				t.event(sp, trace.Event{Op: trace.OpBPDUGuard, Bridge: b.Bridge.String()})
			}
			t.recomputeLocked("BPDU guard on " + p.name)
			t.unlock()
			p.ctr.drops[DropBPDU].Add(1)
			return
		}
		sp.edge = false
		t.event(sp, trace.Event{Op: trace.OpEdgeLost})
		if sp.state == StateForwarding && sp.role == RoleDesignated {
			t.setStateLocked(sp, StateListening, "no longer an edge port")
			t.armFwdLocked(sp)
		}
	}
	switch b.Type {
	case BPDUTCN:
		if sp.role == RoleDesignated {
			sp.tcAck = true
			t.configLocked(sp)
			t.event(sp, trace.Event{Op: trace.OpTCNReceived})
			t.topologyChangeLocked(sp)
		}
	default: // configuration, or RST answered in 802.1D
		t.configReceivedLocked(sp, b)
	}
	t.unlock()
}

// configReceivedLocked is 802.1D-1998 §8.7.1.
func (t *stp) configReceivedLocked(sp *stpPort, b BPDU) {
	if b.MessageAge >= b.MaxAge {
		return // expired in transit
	}
	msg := vector{b.Root, b.Cost, b.Bridge, b.Port}
	if sp.rootGuard && msg.root < t.root {
		if !sp.inconsistent {
			if t.tracing() {
				t.event(sp, trace.Event{Op: trace.OpRootGuard, Bridge: b.Bridge.String(), Root: b.Root.String()})
			}
		}
		sp.inconsistent = true
		t.armAgeLocked(sp, b.MaxAge-b.MessageAge)
		t.recomputeLocked("root guard on " + sp.p.name)
		return
	}
	// The port's current vector: what it heard, or, on a port with nothing
	// heard, what this bridge would send there (§8.6.2.2).
	cur := vector{t.root, t.cost, t.id, sp.id}
	if sp.info != nil {
		cur = *sp.info
	}
	same := cur.bridge == msg.bridge && cur.port == msg.port
	if msg.cmp(cur) < 0 || same {
		sp.info, sp.infoAge, sp.infoTC = &msg, b.MessageAge, b.Flags&FlagTC != 0
		sp.infoTimers = [3]time.Duration{b.MaxAge, b.HelloTime, b.ForwardDelay}
		t.armAgeLocked(sp, b.MaxAge-b.MessageAge)
		t.recomputeLocked("BPDU from " + b.Bridge.String() + " on " + sp.p.name)
		if sp == t.rootPort {
			if b.Flags&FlagTCAck != 0 && t.sendTCN {
				t.sendTCN = false
				stop(t.tcn)
				if t.tracing() {
					t.event(sp, trace.Event{Op: trace.OpTCAck, Bridge: b.Bridge.String()})
				}
			}
			t.setTCLocked(sp.infoTC)
			t.configAllLocked() // relay (§8.6.1.3.3)
		}
		return
	}
	if sp.role == RoleDesignated { // inferior information: answer with ours (§8.6.1.3.2)
		t.configLocked(sp)
	}
}

func (t *stp) armAgeLocked(sp *stpPort, d time.Duration) {
	if sp.ageTimer == nil {
		sp.ageTimer = t.s.clk.AfterFunc(d, func() { t.infoExpired(sp) })
	} else {
		sp.ageTimer.Reset(d)
	}
}

// infoExpired discards a port's information at max age (§8.7.5).
func (t *stp) infoExpired(sp *stpPort) {
	t.mu.Lock()
	if sp.inconsistent {
		sp.inconsistent = false
		t.event(sp, trace.Event{Op: trace.OpRootGuardReleased})
	} else if sp.info != nil {
		if t.tracing() {
			t.event(sp, trace.Event{Op: trace.OpMaxAge, Bridge: sp.info.bridge.String()})
		}
		sp.info = nil
	}
	wasRoot := t.isRoot()
	t.recomputeLocked("max age on " + sp.p.name)
	if !wasRoot && !t.isRoot() {
		t.configAllLocked()
	}
	t.unlock()
}

// STPStatus is a switch's spanning tree, as reported by Switch.STP.
type STPStatus struct {
	Enabled  bool
	Bridge   BridgeID
	Root     BridgeID
	RootPort string // "" on the root bridge
	Cost     uint32
	TC       bool // a topology change is in effect
	Ports    []STPPortStatus
}

// STPPortStatus is one port's role and state.
type STPPortStatus struct {
	Port  string
	Role  Role
	State State
	Edge  bool
}

// STP returns the spanning tree status; Enabled is false without STP.
func (s *Switch) STP() STPStatus {
	t := s.stp
	if t == nil {
		return STPStatus{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := STPStatus{Enabled: true, Bridge: t.id, Root: t.root, Cost: t.cost, TC: t.tc || (t.rootPort != nil && t.rootPort.infoTC)}
	if t.rootPort != nil {
		st.RootPort = t.rootPort.p.name
	}
	for _, sp := range t.ports {
		if sp != nil {
			st.Ports = append(st.Ports, STPPortStatus{Port: sp.p.name, Role: sp.role, State: sp.state, Edge: sp.edge})
		}
	}
	return st
}

// SetBPDUTransmit stops (false) or resumes a switch's BPDU transmission
// while its links stay up: a root that has silently failed.
func (s *Switch) SetBPDUTransmit(on bool) {
	if t := s.stp; t != nil {
		t.mu.Lock()
		t.quiet = !on
		op := trace.OpBPDUStopped
		if on {
			op = trace.OpBPDUResumed
		}
		t.event(nil, trace.Event{Op: op})
		t.unlock()
	}
}
