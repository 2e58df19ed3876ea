package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/netdb"
	"github.com/netyard/netyard/netdb/cluster"
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
	core, err := openCluster(c, u.logf)
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

// clusterCore is netdb/cluster: the tables on memberlist, on TCP and UDP
// of the host's address. memberlist runs on goroutines of its own and
// the DB is safe for concurrent use.
type clusterCore struct {
	*cluster.DB
	name    string
	logf    func(format string, args ...any)
	stop    chan struct{}  // closed by Close
	joining sync.WaitGroup // the goroutine of Join
	once    sync.Once
}

// openCluster starts memberlist on c.Addr.
func openCluster(c netdb.Config, logf func(format string, args ...any)) (*clusterCore, error) {
	db, err := cluster.New(cluster.Config{Name: c.Name, Addr: c.Addr, Tracer: c.Tracer, Accept: c.Accept, OnChange: c.OnChange})
	if err != nil {
		return nil, err
	}
	return &clusterCore{DB: db, name: c.Name, logf: logf, stop: make(chan struct{})}, nil
}

// Join joins through seeds without waiting: memberlist's Join is a TCP
// push/pull with each, and a seed may not be up yet (the other machine's
// netyard up starts later), so it is tried again every second until one
// answers. After that memberlist keeps the membership, and the cluster
// asks dead members back itself.
func (c *clusterCore) Join(seeds []netip.AddrPort) {
	if len(seeds) == 0 {
		return
	}
	c.joining.Add(1)
	go func() {
		defer c.joining.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for first := true; ; {
			err := c.DB.Join(seeds)
			if err == nil {
				return
			}
			if first && c.logf != nil { // memberlist's errors come a line per seed
				c.logf("netns: %s has joined nobody yet (%s); it tries again every second", c.name, strings.Join(strings.Fields(err.Error()), " "))
			}
			first = false
			select {
			case <-t.C:
			case <-c.stop:
				return
			}
		}
	}()
}

// Close leaves the cluster, as a Docker host shutting down does: the
// others forget its containers at once.
func (c *clusterCore) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		err = c.DB.Leave() // a Join under way fails once memberlist is down
		c.joining.Wait()
	})
	return err
}
