package mem

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
)

// sandboxes changes the simulated hosts when Docker does at run time
// (fabric.Sandboxes): an interface added to or removed from a host's
// stack, its default route set.
type sandboxes struct{ n *Network }

var _ fabric.Sandboxes = sandboxes{}

func (s sandboxes) AddIface(host string, i topo.Iface) error {
	h := s.n.hosts[host]
	if h == nil {
		return fmt.Errorf("%w host %q", ErrUnknown, host)
	}
	ifc, err := h.AddIface(i.Name, i.MAC, i.Addr, nil)
	if err != nil {
		return err
	}
	ifc.SetUp(false) // until the fabric links it
	return nil
}

func (s sandboxes) RemoveIface(host, name string) error {
	h := s.n.hosts[host]
	if h == nil {
		return fmt.Errorf("%w host %q", ErrUnknown, host)
	}
	return h.RemoveIface(name)
}

func (s sandboxes) SetGateway(host string, gw netip.Addr) error {
	h := s.n.hosts[host]
	if h == nil {
		return fmt.Errorf("%w host %q", ErrUnknown, host)
	}
	h.SetGateway(gw)
	return nil
}
