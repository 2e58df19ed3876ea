package netns

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/netyard/netyard/sim/topo"
)

// defaultDev gives th's namespace a default route out of its interface
// th.DefaultDev with no gateway, as Docker gives an ipvlan l3 child
// ("default dev eth0"): with the interface NOARP, the kernel sends every
// packet to the interface's own MAC, the parent's, and the card routes it.
func defaultDev(nh *netlink.Handle, th topo.Host) error {
	l, err := nh.LinkByName(th.DefaultDev)
	if err == nil {
		err = nh.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Scope: netlink.SCOPE_LINK, Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}})
	}
	if err != nil {
		return fmt.Errorf("default route dev %s: %w", th.DefaultDev, err)
	}
	return nil
}
