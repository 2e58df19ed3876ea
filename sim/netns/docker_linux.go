package netns

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"

	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/switch/tap"
)

// sandboxes changes the namespaces when Docker does at run time
// (fabric.Sandboxes): a TAP device made in a container's namespace with
// its address, or deleted (the kernel takes its address and routes with
// it), and the default route.
type sandboxes struct{ n *Network }

var _ fabric.Sandboxes = sandboxes{}

// devices returns host's TAP devices, as the fabric knows them.
func (s sandboxes) devices(host string) (*host, tapNode, error) {
	h := s.n.hosts[host]
	devs, ok := s.n.world.Node(host).(tapNode)
	if h == nil || !ok {
		return nil, nil, fmt.Errorf("%w host %q", fabric.ErrUnknown, host)
	}
	return h, devs, nil
}

func (s sandboxes) AddIface(name string, fi topo.Iface) error {
	h, devs, err := s.devices(name)
	if err != nil {
		return err
	}
	d, err := s.n.openTAP(h, fi)
	if err != nil {
		return fmt.Errorf("netns: host %s: %w", name, err)
	}
	fail := func(err error) error {
		s.n.devs = slices.DeleteFunc(s.n.devs, func(x *tap.Device) bool { return x == d })
		_ = d.Close()
		return fmt.Errorf("netns: host %s: %s: %w", name, fi.Name, err)
	}
	if err := nsutil.Do(h.ns, func() error { return writeSettings(ifaceSettings, fi.Name) }); err != nil {
		return fail(err)
	}
	nh, err := netlink.NewHandleAt(h.ns)
	if err != nil {
		return fail(err)
	}
	defer nh.Close()
	l, err := nh.LinkByName(fi.Name)
	if err == nil && fi.MTU != 0 {
		err = nh.LinkSetMTU(l, fi.MTU)
	}
	if err == nil {
		err = nh.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: fi.Addr.Addr().AsSlice(), Mask: net.CIDRMask(fi.Addr.Bits(), 32)}})
	}
	if err != nil {
		return fail(err)
	}
	h.addrs = append(h.addrs, fi.Addr.Addr().AsSlice())
	devs[fi.Name] = d
	d.Start()
	return nil
}

func (s sandboxes) RemoveIface(name, ifname string) error {
	h, devs, err := s.devices(name)
	if err != nil {
		return err
	}
	d := devs[ifname]
	if d == nil {
		return fmt.Errorf("netns: host %s has no interface %s", name, ifname)
	}
	var addr net.IP
	if nh, err := netlink.NewHandleAt(h.ns); err == nil {
		if l, err := nh.LinkByName(ifname); err == nil {
			if as, err := nh.AddrList(l, netlink.FAMILY_V4); err == nil && len(as) > 0 {
				addr = as[0].IP
			}
		}
		nh.Close()
	}
	delete(devs, ifname)
	s.n.devs = slices.DeleteFunc(s.n.devs, func(x *tap.Device) bool { return x == d })
	if addr != nil {
		h.addrs = slices.DeleteFunc(h.addrs, func(a net.IP) bool { return a.Equal(addr) })
	}
	if err := d.Close(); err != nil { // deleting the device takes its address and routes
		return fmt.Errorf("netns: host %s: remove %s: %w", name, ifname, err)
	}
	return nil
}

func (s sandboxes) SetGateway(name string, gw netip.Addr) error {
	h, _, err := s.devices(name)
	if err != nil {
		return err
	}
	nh, err := netlink.NewHandleAt(h.ns)
	if err != nil {
		return err
	}
	defer nh.Close()
	routes, err := nh.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask) {
			if err := nh.RouteDel(&r); err != nil {
				return fmt.Errorf("netns: host %s: remove the default route: %w", name, err)
			}
		}
	}
	if !gw.IsValid() {
		return nil
	}
	if err := nh.RouteAdd(&netlink.Route{Gw: gw.AsSlice()}); err != nil {
		return fmt.Errorf("netns: host %s: default route via %s: %w", name, gw, err)
	}
	return nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}
