package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"

	"github.com/netyard/netyard/netdb"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/switch/vxlan"
	"github.com/netyard/netyard/switch/vxlan/kernel"
)

// machineUnderlay carries a Docker host's overlays over this machine's
// network (Options.Machine): the fabric's Underlay.
type machineUnderlay struct {
	m    Machine
	logf func(format string, args ...any) // nil: silent
}

var _ fabric.Underlay = (*machineUnderlay)(nil)

// OpenVXLAN binds a kernel UDP socket on addr for host's VTEPs.
func (u *machineUnderlay) OpenVXLAN(host string, addr netip.AddrPort) (fabric.VXLANConn, error) {
	c, err := kernel.Listen(addr)
	if err != nil {
		return nil, bindError(host, "VXLAN", addr, err)
	}
	return &vxlanConn{Conn: c, logf: u.logf}, nil
}

// bindError explains a socket of host's (what: VXLAN, gossip) that could
// not be bound on addr: most often an address that is not this
// machine's, or a port another program holds.
func bindError(host, what string, addr netip.AddrPort, err error) error {
	a := addr.Addr()
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		var mine []string
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, ia := range addrs {
				if p, ok := ia.(*net.IPNet); ok && !p.IP.IsLoopback() {
					if x, ok := netip.AddrFromSlice(p.IP); ok && x.Unmap().Is4() == a.Is4() {
						mine = append(mine, x.Unmap().String())
					}
				}
			}
		}
		has := "it has none but loopback"
		if len(mine) > 0 {
			has = "it has " + strings.Join(mine, ", ")
		}
		return fmt.Errorf("netns: %s's address %s is not an address of this machine (%s): netyard up --host binds the host's VXLAN (UDP %d) and gossip (TCP and UDP %d) sockets on its address from the file, so give this machine that address, or the file this machine's (%w)",
			host, a, has, header.VXLANPort, fabric.GossipPort, syscall.EADDRNOTAVAIL)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("netns: %s's %s socket: %s is taken by another program (another netyard up --host, a Linux vxlan device on that port, or Docker's own swarm, which uses 4789 and 7946) (%w)",
			host, what, addr, syscall.EADDRINUSE)
	}
	return fmt.Errorf("netns: %s's %s socket on %s: %w", host, what, addr, err)
}

// vxlanConn is the kernel socket with its reader.
type vxlanConn struct {
	*kernel.Conn // Send, Queue and Flush: a vxlan.Queuer, so the Mux batches
	logf         func(format string, args ...any)
	once         sync.Once
	done         chan struct{} // closed when the reader returns; nil until Serve
}

var _ vxlan.Queuer = (*vxlanConn)(nil)

// Serve starts the socket's reader, which hands every packet to m.
func (c *vxlanConn) Serve(m *vxlan.Mux) {
	c.once.Do(func() {
		c.done = make(chan struct{})
		go c.read(m)
	})
}

// read runs the socket's reader until Close.
func (c *vxlanConn) read(m *vxlan.Mux) {
	defer close(c.done)
	if err := c.Conn.Run(m); err != nil && c.logf != nil {
		c.logf("netns: the VXLAN socket %s stopped: %v", c.LocalAddr(), err)
	}
}

// Close closes the socket and waits for its reader.
func (c *vxlanConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {}) // no reader starts after this
	if c.done != nil {
		<-c.done
	}
	return err
}

// OpenControl opens host's control plane on this machine's network.
func (u *machineUnderlay) OpenControl(c netdb.Config) (fabric.UnderlayControl, error) {
	mc := &machineControl{seeds: u.m.Join, onChange: c.OnChange, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.OnChange = mc.enqueue
	core, err := openGossip(c)
	if err != nil {
		return nil, bindError(c.Name, "gossip", c.Addr, err)
	}
	mc.core = core
	go mc.tell()
	return mc, nil
}

// controlCore is the tables and membership under a machineControl.
type controlCore interface {
	fabric.ControlPlane
	Close() error
}

// machineControl is a Docker host's control plane on this machine's
// network. It tells the fabric each change from a goroutine of its own,
// in order, as the fabric's Underlay asks: the tables call OnChange from
// wherever a change happens (inside Join, inside a call the gateway's
// loop made), and the fabric runs it on that loop and waits.
type machineControl struct {
	core     controlCore
	seeds    []netip.AddrPort // Machine.Join; nil: the seeds the fabric gives
	onChange func(netdb.Change)
	mu       sync.Mutex
	queue    []netdb.Change // guarded by mu: changes not told yet
	wake     chan struct{}  // a change is queued
	stop     chan struct{}  // closed by Close
	done     chan struct{}  // closed when tell returns
	closed   sync.Once
}

// enqueue queues a change to tell; it never waits.
func (mc *machineControl) enqueue(c netdb.Change) {
	mc.mu.Lock()
	mc.queue = append(mc.queue, c)
	mc.mu.Unlock()
	select {
	case mc.wake <- struct{}{}:
	default:
	}
}

// tell tells the queued changes in order until Close.
func (mc *machineControl) tell() {
	defer close(mc.done)
	for {
		select {
		case <-mc.wake:
		case <-mc.stop:
			return
		}
		for {
			mc.mu.Lock()
			q := mc.queue
			mc.queue = nil
			mc.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, c := range q {
				if mc.onChange != nil {
					mc.onChange(c)
				}
			}
		}
	}
}

// Join joins the cluster through Machine.Join's seeds if given, else
// through seeds.
func (mc *machineControl) Join(seeds []netip.AddrPort) {
	if len(mc.seeds) > 0 {
		seeds = mc.seeds
	}
	mc.core.Join(seeds)
}

func (mc *machineControl) JoinNetwork(nw string) error { return mc.core.JoinNetwork(nw) }
func (mc *machineControl) Put(nw, table, key string, v []byte) error {
	return mc.core.Put(nw, table, key, v)
}
func (mc *machineControl) Delete(nw, table, key string) error { return mc.core.Delete(nw, table, key) }
func (mc *machineControl) Members() []netdb.Member            { return mc.core.Members() }

// Close leaves the cluster and stops telling changes.
func (mc *machineControl) Close() error {
	var err error
	mc.closed.Do(func() {
		err = mc.core.Close()
		close(mc.stop)
		<-mc.done
	})
	return err
}

// gossipCore is netyard's own gossip (netdb.DB) on a kernel UDP socket.
// The DB runs where its clock's timers fire, the gateway's loop (the
// fabric gives the loop's clock): the fabric calls it from there, and
// what the socket reads is handed to it there.
type gossipCore struct {
	*netdb.DB
	conn *net.UDPConn
	done chan struct{} // closed when the reader returns
}

// openGossip binds c.Addr and makes the DB on it.
func openGossip(c netdb.Config) (*gossipCore, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(c.Addr))
	if err != nil {
		return nil, err
	}
	c.Send = func(dst netip.AddrPort, msg []byte) error {
		_, err := conn.WriteToUDPAddrPort(msg, dst)
		return err
	}
	db, err := netdb.New(c)
	if err != nil {
		conn.Close()
		return nil, err
	}
	g := &gossipCore{DB: db, conn: conn, done: make(chan struct{})}
	go g.read(clock.Or(c.Clock))
	return g, nil
}

// read hands each datagram to the DB on its clock's goroutine.
func (g *gossipCore) read(clk clock.Clock) {
	defer close(g.done)
	buf := make([]byte, 1<<16)
	for {
		n, src, err := g.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		msg := slices.Clone(buf[:n])
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		clk.AfterFunc(0, func() { g.DB.Input(src, msg) })
	}
}

// Close closes the socket; the DB, whose loop has stopped, says nothing
// more and the others find it gone by probing.
func (g *gossipCore) Close() error {
	err := g.conn.Close()
	<-g.done
	return err
}
