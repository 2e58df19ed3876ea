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
// a bounded queue, as a NIC's ring feeds a kernel.

// GatewayQueue bounds the frames waiting for a serialised gateway; more
// are dropped and counted.
const GatewayQueue = 4096

// Gateway is a gateway node in the fabric.
type Gateway struct {
	*gateway.Gateway
	name   string
	loop   *serial      // nil: called directly
	tracer trace.Tracer // for drops at the queue, before the gateway sees them
	clk    clock.Clock
	// Dropped counts frames dropped because the queue was full.
	Dropped atomic.Uint64
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

// AddGateway builds the gateway node of h (h.Router set), with a plug per
// interface. Call it before Connect.
func (f *Fabric) AddGateway(h topo.Host) (*Gateway, error) {
	r := h.Router
	clk := f.opts.Clock
	node := &Gateway{name: h.Name, tracer: f.opts.Tracer, clk: f.opts.Clock}
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
		p := f.AddPlug(topo.Endpoint{Node: h.Name, Port: name},
			func(fr []byte) { node.input(idx, fr) },
			func(up bool) {
				node.Do(func() {
					if idx < len(ifcs) {
						ifcs[idx].SetUp(up)
					}
				})
			})
		p.TakeOffloads(func(fr []byte, o link.Offload) { node.inputOffload(idx, fr, o) })
		return gateway.Leg{Name: name, MAC: net.HardwareAddr(fi.MAC[:]), Addr: fi.Addr, Out: p}
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
	gw, err := gateway.New(c, gateway.Options{Clock: clk, Tracer: f.opts.Tracer})
	if err != nil {
		return nil, err
	}
	node.Gateway = gw
	ifcs = gw.Host().Ifaces()
	for _, i := range ifcs {
		i.SetUp(false) // until Connect lays the links
	}
	if f.gateways == nil {
		f.gateways = map[string]*Gateway{}
	}
	f.gateways[h.Name] = node
	return node, nil
}

// input takes a frame for leg idx: at once, or queued for the loop.
func (g *Gateway) input(idx int, fr []byte) { g.inputOffload(idx, fr, link.Offload{}) }

// inputOffload takes a frame with offload metadata for leg idx.
func (g *Gateway) inputOffload(idx int, fr []byte, o link.Offload) {
	if g.loop == nil {
		g.Gateway.InputOffload(idx, fr, o)
		return
	}
	if !g.loop.postFrame(g, idx, fr, o) {
		g.Dropped.Add(1)
		if g.tracer != nil {
			g.tracer.Trace(trace.Event{Time: g.clk.Now(), Node: g.name, Kind: trace.Dropped,
				Reason: fmt.Sprintf("queue full: %d frames wait for the gateway", GatewayQueue)})
		}
	}
}

// Gateway returns the gateway node named name, or nil.
func (f *Fabric) Gateway(name string) *Gateway { return f.gateways[name] }

// NAT returns the connection tracking flows of gateway name, sorted.
func (f *Fabric) NAT(name string) ([]nat.Flow, error) {
	g := f.gateways[name]
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
	ch   chan job
	done chan struct{}
	once sync.Once
}

// job is a frame for leg idx (a buffer from frames), or a function.
type job struct {
	f     func()
	g     *Gateway
	idx   int
	frame *[]byte
	o     link.Offload
}

// frames recycles the copies of frames waiting for a gateway, so that a
// frame costs no allocation on the way in.
var frames = sync.Pool{New: func() any { b := make([]byte, 0, link.MaxSuperFrame); return &b }}

func newSerial() *serial {
	s := &serial{ch: make(chan job, GatewayQueue), done: make(chan struct{})}
	go func() {
		for {
			select {
			case j := <-s.ch:
				if j.f != nil {
					j.f()
					continue
				}
				j.g.Gateway.InputOffload(j.idx, *j.frame, j.o)
				frames.Put(j.frame)
			case <-s.done:
				return
			}
		}
	}()
	return s
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

// postFrame queues a copy of a frame for g's leg idx, or drops it when
// the queue is full.
func (s *serial) postFrame(g *Gateway, idx int, fr []byte, o link.Offload) bool {
	b := frames.Get().(*[]byte)
	*b = append((*b)[:0], fr...)
	select {
	case s.ch <- job{g: g, idx: idx, frame: b, o: o}:
		return true
	default:
		frames.Put(b)
		return false
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
