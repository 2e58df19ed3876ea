package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

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
		return nil, fmt.Errorf("netns: %s's VTEPs on %s: %w%s", host, addr, err, notMine(addr.Addr(), err))
	}
	return &vxlanConn{Conn: c, logf: u.logf}, nil
}

// notMine explains a socket that could not be bound because its address
// is not this machine's.
func notMine(a netip.Addr, err error) string {
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return ""
	}
	mine := ""
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range addrs {
			if p, ok := ia.(*net.IPNet); ok && !p.IP.IsLoopback() {
				if x, ok := netip.AddrFromSlice(p.IP); ok && x.Unmap().Is4() == a.Is4() {
					mine += " " + x.Unmap().String()
				}
			}
		}
	}
	if mine == "" {
		mine = " none but loopback"
	}
	return fmt.Sprintf(" (%s is not an address of this machine, whose addresses are%s: netyard up --host binds the host's address from the file, so give this machine that address, or the file this machine's)", a, mine)
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

// OpenControl opens host's control plane on memberlist (netdb/cluster).
func (u *machineUnderlay) OpenControl(c netdb.Config) (fabric.UnderlayControl, error) {
	return nil, fmt.Errorf("netns: %s's control plane: memberlist (netdb/cluster) is not built yet", c.Name)
}
