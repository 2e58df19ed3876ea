package fabric

import (
	"net/netip"

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
