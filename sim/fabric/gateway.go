package fabric

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
)

// Gateway nodes (a Docker host's router, package nat/gateway) are the same
// Go code in every world, like switches: the fabric builds them. In mem
// the engine calls them from its one goroutine. In netns frames arrive
// from many TAP readers and timers fire on their own goroutines, so with
// Options.Serial each gateway runs on a goroutine of its own, fed through
// a queue bounded in frames and in bytes, as a NIC's ring feeds a kernel.

// The bounds of a serialised gateway's queue: frames, and bytes of the
// buffers they pin. Buffers come in size classes (a frame of an ordinary
// MTU takes 2 KiB, a jumbo frame 16 KiB, only a TCP super-frame 64 KiB),
// so that a full queue holds what its frames need: at most 4096 frames
// and 16 MiB, however big the frames are. More are dropped and counted by
// reason.
const (
	GatewayQueue      = 4096
	GatewayQueueBytes = 16 << 20
)

// frameClasses are the sizes of the queue's buffers.
var frameClasses = [...]int{2048, 16 << 10, link.MaxSuperFrame}

// Gateway is a gateway node in the fabric.
type Gateway struct {
	*gateway.Gateway
	name   string
	loop   *serial      // nil: called directly
	tracer trace.Tracer // for drops at the queue, before the gateway sees them
	clk    clock.Clock
	ports  map[string]*link.Port // the legs, by interface name
	// DroppedFull counts frames dropped because GatewayQueue frames
	// waited; DroppedBytes because their buffers held GatewayQueueBytes;
	// DroppedOversize because the frame was bigger than any buffer.
	DroppedFull, DroppedBytes, DroppedOversize atomic.Uint64
}

// Dropped returns how many frames were dropped at the queue, whatever the
// reason.
func (g *Gateway) Dropped() uint64 {
	return g.DroppedFull.Load() + g.DroppedBytes.Load() + g.DroppedOversize.Load()
}

// Do runs f with the gateway to itself: on its goroutine when serialised.
func (g *Gateway) Do(f func()) {
	if g.loop == nil {
		f()
		return
	}
	done := make(chan struct{})
	if !g.loop.post(func() { f(); close(done) }, true) {
		return
	}
	<-done
}

// addGateway builds the gateway node of h (h.Router set), with an
// endpoint per leg.
func (f *Fabric) addGateway(h topo.Host) (*Gateway, error) {
	r := h.Router
	clk := f.opts.Clock
	node := &Gateway{name: h.Name, tracer: f.opts.Tracer, clk: f.opts.Clock, ports: map[string]*link.Port{}}
	if f.opts.Serial {
		node.loop = newSerial()
		clk = serialClock{clk, node.loop}
		f.closers = append(f.closers, node.loop.stop)
	}
	names := map[string]topo.Iface{}
	for _, i := range h.Ifaces {
		names[i.Name] = i
	}
	var ifcs []*stack.Iface
	legs := 0
	leg := func(name string) gateway.Leg {
		fi := names[name]
		idx := legs
		legs++
		p := &link.Port{
			Input:        func(fr []byte) { node.input(idx, fr) },
			InputOffload: func(fr []byte, o link.Offload) { node.inputOffload(idx, fr, o) },
			SetCarrier: func(up bool) {
				node.Do(func() {
					if idx < len(ifcs) {
						ifcs[idx].SetUp(up)
					}
				})
			},
		}
		node.ports[name] = p
		return gateway.Leg{Name: name, MAC: net.HardwareAddr(fi.MAC[:]), Addr: fi.Addr, Out: &p.Out}
	}
	c := gateway.Config{Name: h.Name, LAN: leg(r.LAN), MaxFlows: r.MaxFlows}
	for _, b := range r.Bridges {
		c.Bridges = append(c.Bridges, gateway.Bridge{Leg: leg(b.Iface), Network: b.Network, Internal: b.Internal})
	}
	for _, p := range r.Publish {
		proto := map[string]uint8{"tcp": nat.TCP, "udp": nat.UDP}[p.Proto]
		c.Publish = append(c.Publish, nat.Publish{Proto: proto, Ext: p.Ext, To: p.To})
	}
	// No upstreams: there is no outside network to ask, so unknown names
	// answer NXDOMAIN.
	c.DNS = dnsd.New(dnsd.Options{Rand: sim.Stream(f.opts.Seed, h.Name, "dns shuffle")})
	for _, n := range r.DNS {
		c.DNS.Add(n.Network, n.Container, n.Addr, n.Aliases...)
	}
	gw, err := gateway.New(c, gateway.Options{Clock: clk, Tracer: f.opts.Tracer, Rand: sim.Stream(f.opts.Seed, h.Name, "dns ids")})
	if err != nil {
		return nil, err
	}
	node.Gateway = gw
	ifcs = gw.Host().Ifaces()
	for _, i := range ifcs {
		i.SetUp(false) // until Connect lays the links
	}
	f.mu.Lock()
	f.gateways[h.Name] = node
	f.mu.Unlock()
	return node, nil
}

// Endpoint returns the leg named port, or nil.
func (g *Gateway) Endpoint(port string) link.Endpoint {
	if p := g.ports[port]; p != nil {
		return p
	}
	return nil
}

// input takes a frame for leg idx: at once, or queued for the loop.
func (g *Gateway) input(idx int, fr []byte) { g.inputOffload(idx, fr, link.Offload{}) }

// inputOffload takes a frame with offload metadata for leg idx.
func (g *Gateway) inputOffload(idx int, fr []byte, o link.Offload) {
	if g.loop == nil {
		g.Gateway.InputOffload(idx, fr, o)
		return
	}
	switch g.loop.postFrame(g, idx, fr, o) {
	case queued:
		return
	case full:
		g.DroppedFull.Add(1)
		g.dropped("queue full: %d frames wait for the gateway", GatewayQueue)
	case noRoom:
		g.DroppedBytes.Add(1)
		g.dropped("queue full: frames waiting for the gateway hold %d MiB", GatewayQueueBytes>>20)
	case oversize:
		g.DroppedOversize.Add(1)
		g.dropped("a frame of %d bytes is bigger than any the gateway takes (%d)", len(fr), frameClasses[len(frameClasses)-1])
	}
}

// dropped traces a frame dropped at the queue.
func (g *Gateway) dropped(format string, args ...any) {
	if g.tracer != nil {
		g.tracer.Trace(trace.Event{Time: g.clk.Now(), Node: g.name, Kind: trace.Dropped, Reason: fmt.Sprintf(format, args...)})
	}
}

// Gateway returns the gateway node named name, or nil.
func (f *Fabric) Gateway(name string) *Gateway {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gateways[name]
}

// NAT returns the connection tracking flows of gateway name, sorted.
func (f *Fabric) NAT(name string) ([]nat.Flow, error) {
	g := f.Gateway(name)
	if g == nil {
		return nil, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	var out []nat.Flow
	g.Do(func() { out = g.NAT().Dump(f.opts.Clock.Now()) })
	return out, nil
}

// serial runs jobs one at a time on one goroutine: frames for a gateway,
// and functions (timers, reads of its state).
type serial struct {
	ch    chan job
	done  chan struct{}
	once  sync.Once
	bytes atomic.Int64 // of the buffers of the frames queued
}

// job is a frame for leg idx (a buffer of size class class), or a
// function.
type job struct {
	f     func()
	g     *Gateway
	idx   int
	frame *[]byte
	class int
	o     link.Offload
}

// frames recycles the copies of frames waiting for a gateway, one pool per
// size class, so that a frame costs no allocation on the way in.
var frames [len(frameClasses)]sync.Pool

func init() {
	for i, n := range frameClasses {
		frames[i].New = func() any { b := make([]byte, 0, n); return &b }
	}
}

// classOf returns the size class of a frame of n bytes, or -1.
func classOf(n int) int {
	for i, c := range frameClasses {
		if n <= c {
			return i
		}
	}
	return -1
}

func newSerial() *serial {
	s := &serial{ch: make(chan job, GatewayQueue), done: make(chan struct{})}
	go s.loop()
	return s
}

// loop runs the jobs until stop.
func (s *serial) loop() {
	for {
		select {
		case j := <-s.ch:
			if j.f != nil {
				j.f()
				continue
			}
			j.g.Gateway.InputOffload(j.idx, *j.frame, j.o)
			s.bytes.Add(-int64(frameClasses[j.class]))
			frames[j.class].Put(j.frame)
		case <-s.done:
			return
		}
	}
}

// post queues f; wait says whether to wait for room rather than drop.
func (s *serial) post(f func(), wait bool) bool {
	if wait {
		select {
		case s.ch <- job{f: f}:
			return true
		case <-s.done:
			return false
		}
	}
	select {
	case s.ch <- job{f: f}:
		return true
	default:
		return false
	}
}

// What postFrame did with a frame.
const (
	queued   = iota
	full     // GatewayQueue jobs wait
	noRoom   // GatewayQueueBytes are held
	oversize // bigger than the biggest buffer
)

// postFrame queues a copy of a frame for g's leg idx, or drops it when
// the queue is full, by frames or by bytes.
func (s *serial) postFrame(g *Gateway, idx int, fr []byte, o link.Offload) int {
	c := classOf(len(fr))
	if c < 0 {
		return oversize
	}
	size := int64(frameClasses[c])
	if s.bytes.Add(size) > GatewayQueueBytes {
		s.bytes.Add(-size)
		return noRoom
	}
	b := frames[c].Get().(*[]byte)
	*b = append((*b)[:0], fr...)
	select {
	case s.ch <- job{g: g, idx: idx, frame: b, class: c, o: o}:
		return queued
	default:
		s.bytes.Add(-size)
		frames[c].Put(b)
		return full
	}
}

func (s *serial) stop() { s.once.Do(func() { close(s.done) }) }

// serialClock runs timer callbacks on the loop.
type serialClock struct {
	clock.Clock
	s *serial
}

func (c serialClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.Clock.AfterFunc(d, func() { c.s.post(f, true) })
}
