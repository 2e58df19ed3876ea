package gateway

import (
	"fmt"
	"net/netip"
)

// A Docker host's networks change while it runs (docker network create
// and rm): a leg is added on a new bridge, and a removed network's leg
// goes. Both run on the gateway's own goroutine (its Loop), as its input
// does.

// AddBridge adds a leg on a bridge network while the gateway runs, after
// every other (docker network create). It returns the leg's interface
// index, what Input takes for it. The leg is built as New builds one.
func (g *Gateway) AddBridge(b Bridge) (int, error) {
	for i := 1; i < len(g.legs); i++ {
		if l := &g.legs[i]; !l.gone && l.bridge.Network == b.Network {
			return 0, fmt.Errorf("gateway %s: a leg on %s exists", g.name, b.Network)
		}
	}
	return g.addLeg(b.Leg, &b)
}

// RemoveBridge takes away the leg on network (docker network rm). The leg
// stays as a tombstone, down and without an address, so that the other
// legs keep their interface indexes: it owns, routes and answers nothing,
// and the subnet may be given to another network.
func (g *Gateway) RemoveBridge(network string) error {
	for i := 1; i < len(g.legs); i++ {
		l := &g.legs[i]
		if l.gone || l.bridge.Network != network {
			continue
		}
		none := netip.PrefixFrom(netip.IPv4Unspecified(), 32)
		l.ifc.SetUp(false)
		l.ifc.SetPrefix(none)
		l.gone, l.addr, l.subnet = true, none.Addr(), none
		l.a32, l.net32, l.mask32, l.hasBcast = 0, 0, ^uint32(0), false
		return nil
	}
	return fmt.Errorf("gateway %s: no leg on %s", g.name, network)
}
