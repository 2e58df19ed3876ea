package fabric

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/netdb"
	"github.com/netyard/netyard/switch/vxlan"
)

// Underlay is a Docker host's way to the other hosts of its overlays when
// the world does not hold the LAN between them: netyard up --host, where
// each machine runs one host's part (topo.Graph.DockerHostPart) and the
// machine's own network is the underlay. It opens the VTEPs' outer UDP
// and the control plane on the machine's sockets (sim/netns: a kernel UDP
// socket of switch/vxlan/kernel, and memberlist, netdb/cluster), so that
// the fabric itself touches no OS. Options.Underlay nil: both run on the
// gateway's own stack over its LAN leg, the in-topology overlay of both
// backends.
type Underlay interface {
	// OpenVXLAN opens the outer UDP of host's VTEPs at addr: the host's
	// LAN address from the plan and the VXLAN port.
	OpenVXLAN(host string, addr netip.AddrPort) (VXLANConn, error)
	// OpenControl opens host's control plane with c: c.Name the host,
	// c.Addr its LAN address and GossipPort (c.Send and c.Rand are the
	// fabric's in-stack transport's and may be ignored). It calls
	// c.Accept as netdb.StoreConfig says, and c.OnChange in order from a
	// goroutine of its own, never from inside a call of one of its
	// methods: the fabric runs each change on the gateway's loop and
	// waits for it. Join must not wait for the network: it starts
	// joining and returns.
	OpenControl(c netdb.Config) (UnderlayControl, error)
}

// VXLANConn is an underlay's outer UDP for one host's VTEPs.
type VXLANConn interface {
	vxlan.Transport
	// Serve starts handing every packet that arrives to m.Input, from the
	// conn's own goroutines (the Mux is safe for that), until Close.
	Serve(m *vxlan.Mux)
	Close() error
}

// ControlPlane is a Docker host's overlay control plane as its overlay
// uses it: the tables its peers and names come from. *netdb.DB is one,
// on the gateway's stack.
type ControlPlane interface {
	Join(seeds []netip.AddrPort)
	JoinNetwork(network string) error
	Put(network, table, key string, value []byte) error
	Delete(network, table, key string) error
	Members() []netdb.Member
}

var _ ControlPlane = (*netdb.DB)(nil)

// UnderlayControl is an Underlay's control plane, which the fabric closes
// with the world: it leaves the cluster, as a Docker host shutting down
// does, and stops.
type UnderlayControl interface {
	ControlPlane
	Close() error
}

// vxlanTransport opens the outer UDP of host's VTEPs, self its LAN
// address: through the Underlay when there is one, else a socket on UDP
// 4789 of the gateway's stack. serve hands it the Mux made on it.
func (f *Fabric) vxlanTransport(host string, self netip.Addr, st *stack.Host) (t vxlan.Transport, serve func(*vxlan.Mux), err error) {
	if u := f.opts.Underlay; u != nil {
		c, err := u.OpenVXLAN(host, netip.AddrPortFrom(self, header.VXLANPort))
		if err != nil {
			return nil, nil, fmt.Errorf("gateway %s: vxlan: %w", host, err)
		}
		f.build.OnClose(func() { _ = c.Close() })
		return c, c.Serve, nil
	}
	vx, err := st.ListenUDP(header.VXLANPort)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway %s: vxlan: %w", host, err)
	}
	return stackTransport{vx}, func(m *vxlan.Mux) { vx.OnRecv = func(src, _ netip.AddrPort, pkt []byte) { m.Input(src, pkt) } }, nil
}

// controlPlane opens the control plane of node, host c.Name: through
// the Underlay when there is one, its changes then run on the gateway's
// loop; else a netdb.DB on UDP 7946 of the gateway's stack (c.Send set
// here), on the loop already.
func (f *Fabric) controlPlane(node *Gateway, st *stack.Host, c netdb.Config) (ControlPlane, error) {
	if u := f.opts.Underlay; u != nil {
		changed := c.OnChange
		c.OnChange = func(ch netdb.Change) { node.Do(func() { changed(ch) }) }
		cp, err := u.OpenControl(c)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", c.Name, err)
		}
		f.build.OnClose(func() { _ = cp.Close() })
		return cp, nil
	}
	gc, err := st.ListenUDP(GossipPort)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: gossip: %w", c.Name, err)
	}
	c.Send = gc.SendTo
	db, err := netdb.New(c)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", c.Name, err)
	}
	gc.OnRecv = func(src, _ netip.AddrPort, msg []byte) { db.Input(src, msg) }
	return db, nil
}
