package gateway

import (
	"cmp"
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
	l := b.Leg
	mtu := cmp.Or(l.MTU, DefaultMTU)
	if mtu < 68 || mtu > 65535 {
		return 0, fmt.Errorf("gateway %s: %s: MTU %d outside 68-65535", g.name, l.Name, mtu)
	}
	out := &legOut{g: g, out: l.Out, mtu: mtu}
	ifc, err := g.host.AddIface(l.Name, l.MAC, l.Addr, out)
	if err != nil {
		return 0, fmt.Errorf("gateway %s: %w", g.name, err)
	}
	bp := &b
	lg := leg{ifc: ifc, idx: ifc.Index(), addr: l.Addr.Addr(), subnet: l.Addr.Masked(), mtu: mtu, bridge: bp}
	lg.a32, lg.net32 = v4(lg.addr), v4(lg.subnet.Addr())
	lg.mask32 = ^(^uint32(0) >> l.Addr.Bits())
	if l.Addr.Bits() < 31 {
		lg.bcast32, lg.hasBcast = lg.net32|^lg.mask32, true
		lg.bcastWhy = "the broadcast address of " + lg.subnet.String()
	}
	if lg.idx != len(g.legs) {
		return 0, fmt.Errorf("gateway %s: %s: interface index %d, want %d", g.name, l.Name, lg.idx, len(g.legs))
	}
	g.legs = append(g.legs, lg)
	return lg.idx, nil
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
