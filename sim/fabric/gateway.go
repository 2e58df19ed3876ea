package fabric

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/stack"
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
	name    string
	loop    *serial // nil: called directly
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
	node := &Gateway{name: h.Name}
	if f.opts.Serial {
		node.loop = newSerial()
		clk = serialClock{clk, node.loop}
		f.closers = append(f.closers, node.loop.stop)
	}
	names := map[string]topo.Iface{}
	for _, i := range h.Ifaces {
		names[i.Name] = i
	}
	var legs []*gateway.Leg
	var ifcs []*stack.Iface
	leg := func(name string) gateway.Leg {
		fi := names[name]
		idx := len(legs)
		p := f.AddPlug(topo.Endpoint{Node: h.Name, Port: name},
			func(fr []byte) { node.input(idx, fr) },
			func(up bool) {
				node.Do(func() {
					if idx < len(ifcs) {
						ifcs[idx].SetUp(up)
					}
				})
			})
		l := &gateway.Leg{Name: name, MAC: net.HardwareAddr(fi.MAC[:]), Addr: fi.Addr, Out: p}
		legs = append(legs, l)
		return *l
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
func (g *Gateway) input(idx int, fr []byte) {
	if g.loop == nil {
		g.Gateway.Input(idx, fr)
		return
	}
	cp := append([]byte(nil), fr...)
	if !g.loop.post(func() { g.Gateway.Input(idx, cp) }, false) {
		g.Dropped.Add(1)
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

// serial runs functions one at a time on one goroutine.
type serial struct {
	ch   chan func()
	done chan struct{}
	once sync.Once
}

func newSerial() *serial {
	s := &serial{ch: make(chan func(), GatewayQueue), done: make(chan struct{})}
	go func() {
		for {
			select {
			case f := <-s.ch:
				f()
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
		case s.ch <- f:
			return true
		case <-s.done:
			return false
		}
	}
	select {
	case s.ch <- f:
		return true
	default:
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
