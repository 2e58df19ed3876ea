package topo

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"time"

	vswitch "github.com/netyard/netyard/switch"
)

// Validate reports every problem in g: names that are not ValidName (or
// ValidIfaceName), duplicate or unknown names, addresses no host can have,
// ports used twice, STP timers outside 802.1D's ranges, impossible link
// settings. The error joins one *Error per problem (errors.Join). Its cost
// is linear in the size of the graph.
func (g *Graph) Validate() error {
	v := &validator{g: g, ix: g.Index(), names: make(map[string]string, len(g.Switches)+len(g.Hosts))}
	for i := range g.Switches {
		v.switchNode(i)
	}
	v.addrs = make(map[segAddr]string, len(g.Hosts))
	v.macs = make(map[segMAC]string, len(g.Hosts))
	v.segments()
	for i := range g.Hosts {
		v.host(i)
	}
	v.links()
	return errors.Join(v.errs...)
}

type validator struct {
	g     *Graph
	ix    *Index
	errs  []error
	names map[string]string  // node name -> what it is
	addrs map[segAddr]string // interface addresses, by segment
	macs  map[segMAC]string
	seg   map[string]int // switch -> its L2 segment
}

// An address or MAC is unique within its L2 segment (the switches joined
// by links, and what is linked to them): two Docker hosts both have a
// docker0 of 172.17.0.0/16, as real ones do.
type (
	segAddr struct {
		seg  int
		addr netip.Addr
	}
	segMAC struct {
		seg int
		mac vswitch.MAC
	}
)

// segments numbers the L2 segments: switches joined by links share one.
func (v *validator) segments() {
	v.seg = make(map[string]int, len(v.g.Switches))
	parent := make(map[string]string, len(v.g.Switches))
	find := func(s string) string {
		for parent[s] != s {
			parent[s] = parent[parent[s]]
			s = parent[s]
		}
		return s
	}
	for _, s := range v.g.Switches {
		parent[s.Name] = s.Name
	}
	for _, l := range v.g.Links {
		if _, a := parent[l.A.Node]; a {
			if _, b := parent[l.B.Node]; b {
				parent[find(l.A.Node)] = find(l.B.Node)
			}
		}
	}
	ids := map[string]int{}
	for _, s := range v.g.Switches {
		r := find(s.Name)
		if _, ok := ids[r]; !ok {
			ids[r] = len(ids) + 1
		}
		v.seg[s.Name] = ids[r]
	}
}

// segmentOf returns the segment of host h's interface iface: its switch's,
// or, linked to no switch, one of its own (-1 and down).
func (v *validator) segmentOf(h, iface string) int {
	if li := v.ix.LinkOf(Endpoint{h, iface}); li >= 0 {
		l := v.g.Links[li]
		other := l.B.Node
		if l.B == (Endpoint{h, iface}) {
			other = l.A.Node
		}
		if s, ok := v.seg[other]; ok {
			return s
		}
		return -1 - li // a host-to-host link is a segment
	}
	return 0 // unlinked: all such together, as before
}

func (v *validator) bad(path, format string, a ...any) {
	v.errs = append(v.errs, &Error{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// claim checks a node's name and makes it taken.
func (v *validator) claim(path, name, what string) {
	if name == "" {
		v.bad(path, "%s needs a name", what)
		return
	}
	if err := ValidName(name); err != nil {
		v.bad(path, "%v", err)
		return
	}
	if v.names[name] != "" {
		v.bad(path, "duplicate name %q (already a %s)", name, v.names[name])
		return
	}
	v.names[name] = what
}

func (v *validator) switchNode(i int) {
	s := &v.g.Switches[i]
	p := fmt.Sprintf("switches[%d]", i)
	v.claim(p+".name", s.Name, "switch")
	if s.AgeingTime < 0 {
		v.bad(p+".ageing", "ageing time must be positive")
	}
	if s.MaxEntries < 0 {
		v.bad(p+".max_entries", "must not be negative")
	}
	ports := map[string]bool{}
	for j, pt := range s.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", p, j)
		switch err := ValidName(pt.Name); {
		case pt.Name == "" || ports[pt.Name]:
			v.bad(pp+".name", "port name %q is empty or used twice", pt.Name)
		case err != nil:
			v.bad(pp+".name", "port %v", err)
		}
		ports[pt.Name] = true
		for _, vid := range append([]uint16{pt.VLAN, pt.Native}, pt.Allowed...) {
			if vid > 4094 {
				v.bad(pp, "VLAN %d out of range 1-4094", vid)
			}
		}
	}
	if m := s.Mirror; m != nil {
		if !v.ix.HasPort(s.Name, m.To) {
			v.bad(p+".mirror.to", "no port %q on %s", m.To, s.Name)
		}
		for _, src := range m.Sources {
			if !v.ix.HasPort(s.Name, src) || src == m.To {
				v.bad(p+".mirror.from", "bad mirror source %q on %s", src, s.Name)
			}
		}
	}
	if c := s.STP; c != nil {
		v.stp(p+".stp", c)
	}
}

// The ranges of 802.1D's bridge timers (Hello Time as in 802.1D-1998 and
// the Linux bridge, whose limit 802.1D-2004 lowered to 2 s).
var stpRanges = []struct {
	field    string
	min, max time.Duration
}{
	{"hello", time.Second, 10 * time.Second},
	{"max_age", 6 * time.Second, 40 * time.Second},
	{"forward_delay", 4 * time.Second, 30 * time.Second},
}

// stp checks a switch's spanning tree settings as 802.1D bounds them.
func (v *validator) stp(p string, c *vswitch.STPConfig) {
	if c.Priority != nil && *c.Priority%4096 != 0 {
		v.bad(p+".priority", "bridge priority %d is not a multiple of 4096 (802.1D-2004 §9.2.5)", *c.Priority)
	}
	t := []time.Duration{cmp.Or(c.HelloTime, vswitch.DefaultHelloTime), cmp.Or(c.MaxAge, vswitch.DefaultMaxAge), cmp.Or(c.ForwardDelay, vswitch.DefaultForwardDelay)}
	ok := true
	for k, r := range stpRanges {
		if t[k] < r.min || t[k] > r.max {
			v.bad(p+"."+r.field, "%s %v is outside 802.1D's range %v to %v", r.field, t[k], r.min, r.max)
			ok = false
		}
	}
	hello, maxAge, fd := t[0], t[1], t[2]
	if ok && (2*(fd-time.Second) < maxAge || maxAge < 2*(hello+time.Second)) {
		v.bad(p, "802.1D needs 2*(forward_delay-1s) >= max_age >= 2*(hello+1s); here forward_delay %v, max_age %v, hello %v", fd, maxAge, hello)
	}
}

func (v *validator) host(i int) {
	h := &v.g.Hosts[i]
	p := fmt.Sprintf("hosts[%d]", i)
	v.claim(p+".name", h.Name, "host")
	if len(h.Ifaces) == 0 && !h.Loopback {
		v.bad(p, "host %s has no interface", h.Name)
	}
	ifn := map[string]bool{}
	for j, f := range h.Ifaces {
		fp := fmt.Sprintf("%s.interfaces[%d]", p, j)
		switch err := ValidIfaceName(f.Name); {
		case f.Name == "" || ifn[f.Name]:
			v.bad(fp+".name", "interface name %q is empty or used twice", f.Name)
		case err != nil:
			v.bad(fp+".name", "%v", err)
		}
		ifn[f.Name] = true
		seg := v.segmentOf(h.Name, f.Name)
		ap := fp + ".address"
		if j == 0 && len(h.Ifaces) == 1 {
			ap = p + ".address"
		}
		switch {
		case !f.Addr.IsValid() && h.Router != nil && h.Router.Overlay(f.Name) != nil:
			// a VTEP's port: frames in, VXLAN out over the LAN leg
		case !f.Addr.IsValid() && h.Kind == NICKind:
			// a network card's port: frames only
		case !f.Addr.IsValid():
			v.bad(ap, "missing address (want CIDR like 10.0.0.1/24)")
		case HostPrefixProblem(f.Addr) != "":
			v.bad(ap, "%s", HostPrefixProblem(f.Addr))
		case v.addrs[segAddr{seg, f.Addr.Addr()}] != "":
			v.bad(ap, "duplicate address %s (also on %s)", f.Addr.Addr(), v.addrs[segAddr{seg, f.Addr.Addr()}])
		default:
			v.addrs[segAddr{seg, f.Addr.Addr()}] = h.Name + ":" + f.Name
		}
		if f.MTU != 0 && (f.MTU < 68 || f.MTU > 65535) {
			v.bad(fp+".mtu", "MTU %d is outside 68-65535", f.MTU)
		}
		if !f.MAC.IsZero() {
			if f.MAC.IsMulticast() {
				v.bad(fp+".mac", "%s is a multicast address", f.MAC)
			} else if o := v.macs[segMAC{seg, f.MAC}]; o != "" {
				v.bad(fp+".mac", "duplicate MAC %s (also on %s)", f.MAC, o)
			}
			v.macs[segMAC{seg, f.MAC}] = h.Name + ":" + f.Name
		}
	}
	if gw := h.Gateway; gw.IsValid() {
		var on *Iface
		for k := range h.Ifaces {
			if f := &h.Ifaces[k]; f.Addr.IsValid() && f.Addr.Masked().Contains(gw) {
				on = f
				break
			}
		}
		switch {
		case on == nil:
			v.bad(p+".gateway", "gateway %s is on none of %s's subnets", gw, h.Name)
		case gw == on.Addr.Addr():
			v.bad(p+".gateway", "gateway %s is %s's own address", gw, h.Name)
		case HostPrefixProblem(netip.PrefixFrom(gw, on.Addr.Bits())) != "":
			v.bad(p+".gateway", "gateway %s", HostPrefixProblem(netip.PrefixFrom(gw, on.Addr.Bits())))
		}
	}
}

func (v *validator) links() {
	used := make(map[Endpoint]int, 2*len(v.g.Links))
	for i, l := range v.g.Links {
		p := fmt.Sprintf("links[%d]", i)
		for k, e := range []Endpoint{l.A, l.B} {
			ep := fmt.Sprintf("%s.ends[%d]", p, k)
			switch v.ix.Kind(e.Node) {
			case None:
				v.bad(ep, "unknown node %q", e.Node)
				continue
			case HostNode:
				if v.ix.Host(e.Node).Iface(e.Port) == nil {
					v.bad(ep, "host %s has no interface %q", e.Node, e.Port)
					continue
				}
			case SwitchNode:
				if e.Port == "" {
					v.bad(ep, "switch %s needs a port name", e.Node)
				} else if err := ValidName(e.Port); err != nil {
					v.bad(ep, "port %v", err)
				}
			}
			if j, dup := used[e]; dup {
				v.bad(ep, "%s is already linked by links[%d]", e, j)
			}
			used[e] = i
		}
		if l.A.Node == l.B.Node {
			v.bad(p, "a link must join two different nodes")
		}
		if err := l.Config.Validate(); err != nil {
			v.bad(p, "%v", err)
		}
	}
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	reserved    = netip.MustParsePrefix("240.0.0.0/4")
)

// AddrProblem says why a cannot be a host's own address, or returns "":
// it must be IPv4 and not in 0.0.0.0/8 ("this network", RFC 1122
// §3.2.1.3), loopback (127.0.0.0/8), multicast (224.0.0.0/4), or reserved
// (240.0.0.0/4, with the limited broadcast address). Link-local addresses
// (169.254.0.0/16) are allowed: on a segment of their own they work alike
// in both worlds (Linux routes them as any other address).
func AddrProblem(a netip.Addr) string {
	switch {
	case !a.Is4():
		return fmt.Sprintf("%s: only IPv4 is supported", a)
	case thisNetwork.Contains(a):
		return fmt.Sprintf("%s is in 0.0.0.0/8, \"this network\" (RFC 1122), not a host's address", a)
	case a.IsLoopback():
		return fmt.Sprintf("%s is a loopback address (127.0.0.0/8)", a)
	case a.IsMulticast():
		return fmt.Sprintf("%s is a multicast address (224.0.0.0/4)", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Sprintf("%s is the limited broadcast address", a)
	case reserved.Contains(a):
		return fmt.Sprintf("%s is in the reserved 240.0.0.0/4", a)
	}
	return ""
}

// SubnetProblem says why p cannot be a LAN's subnet, or returns "": its
// address must pass AddrProblem, and its length be /8 to /30 (a shorter
// prefix is wider than any LAN and takes in 0/8 or 127/8; a longer one
// leaves no host addresses besides the network and broadcast ones).
func SubnetProblem(p netip.Prefix) string {
	if why := AddrProblem(p.Addr()); why != "" {
		return why
	}
	if p.Bits() < 8 || p.Bits() > 30 {
		return fmt.Sprintf("%s: want a prefix length from /8 to /30", p)
	}
	return ""
}

// HostPrefixProblem says why p cannot be a host interface's address and
// prefix, or returns "": SubnetProblem's rules, and not the subnet's
// network or broadcast address.
func HostPrefixProblem(p netip.Prefix) string {
	if why := SubnetProblem(p); why != "" {
		return why
	}
	a, sub := p.Addr(), p.Masked()
	switch {
	case a == sub.Addr():
		return fmt.Sprintf("%s is the network address of %s, not a host address", a, sub)
	case a == lastAddr(sub):
		return fmt.Sprintf("%s is the broadcast address of %s, not a host address", a, sub)
	}
	return ""
}

// lastAddr is the last address of an IPv4 prefix: its broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
