package router

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Route is a static route: packets for To go to the neighbour Via.
type Route struct {
	To     netip.Prefix // e.g. 10.0.3.0/24; 0.0.0.0/0 is the default route
	Via    netip.Addr   // a neighbour on a connected subnet
	Metric uint32       // among routes to one prefix the lowest wins; connected routes have 0
}

// RouteEntry is a route of the table, as `ip route` shows it.
type RouteEntry struct {
	To        netip.Prefix
	Via       netip.Addr // zero for a connected route
	Iface     string     // the interface packets leave by
	Metric    uint32
	Connected bool // the subnet of an interface
}

// String says the route in ip route's words: "10.0.3.0/24 via
// 10.0.12.2 dev eth2", "10.0.1.0/24 dev eth0 proto kernel scope link".
func (e RouteEntry) String() string {
	var b strings.Builder
	to := e.To.String()
	if e.To.Bits() == 0 {
		to = "default"
	}
	b.WriteString(to)
	if e.Via.IsValid() {
		fmt.Fprintf(&b, " via %s", e.Via)
	}
	fmt.Fprintf(&b, " dev %s", e.Iface)
	if e.Connected {
		b.WriteString(" proto kernel scope link")
	}
	if e.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", e.Metric)
	}
	return b.String()
}

// route is a route of the table, as the forwarding path reads it.
type route struct {
	net32, mask32 uint32
	bits          int
	metric        uint32
	via           netip.Addr // zero: connected, the next hop is the destination
	out           *iface
	connected     bool
}

func (r *route) entry() RouteEntry {
	return RouteEntry{To: netip.PrefixFrom(addr32(r.net32), r.bits), Via: r.via, Iface: r.out.name, Metric: r.metric, Connected: r.connected}
}

// table is the routing table, in the order a lookup tries it: longest
// prefix first; for one prefix the lowest metric, a connected route
// before a static one, then the order configured. The first route that
// holds a destination is its longest prefix match. A linear scan: a
// router in a lab has a handful of routes, and it costs a compare per
// route and no allocation.
type table []route

// lookup returns the route for dst, or nil.
func (t table) lookup(dst uint32) *route {
	for i := range t {
		if dst&t[i].mask32 == t[i].net32 {
			return &t[i]
		}
	}
	return nil
}

// mask returns the netmask of a prefix length as a number.
func mask(bits int) uint32 { return ^(^uint32(0) >> bits) }

// newTable builds the table of connected routes and the routes given,
// which Check has passed.
func newTable(ifs []iface, routes []Route) table {
	var t table
	for i := range ifs {
		f := &ifs[i]
		t = append(t, route{net32: f.net32, mask32: f.mask32, bits: f.prefix.Bits(), out: f, connected: true})
	}
	for _, r := range routes {
		out := connectedTo(ifs, r.Via)
		m := mask(r.To.Bits())
		t = append(t, route{net32: v4(r.To.Addr()) & m, mask32: m, bits: r.To.Bits(), metric: r.Metric, via: r.Via, out: out})
	}
	slices.SortStableFunc(t, func(a, b route) int {
		if c := cmp.Compare(b.bits, a.bits); c != 0 {
			return c
		}
		if c := cmp.Compare(a.metric, b.metric); c != 0 {
			return c
		}
		switch {
		case a.connected && !b.connected:
			return -1
		case b.connected && !a.connected:
			return 1
		}
		return 0
	})
	return t
}

// connectedTo returns the interface whose subnet holds a (the most
// specific one), or nil.
func connectedTo(ifs []iface, a netip.Addr) *iface {
	var best *iface
	for i := range ifs {
		f := &ifs[i]
		if f.prefix.Masked().Contains(a) && (best == nil || f.prefix.Bits() > best.prefix.Bits()) {
			best = f
		}
	}
	return best
}

// A ConfigError is a problem with one setting of a Config.
type ConfigError struct {
	Iface int    // the interface's index, or -1
	Route int    // the route's index, or -1
	Field string // the setting at fault: an interface's "name", "mac", "addr" or "mtu", a route's "to", "via" or "metric"; "" for the config
	Msg   string
}

func (e *ConfigError) Error() string {
	switch {
	case e.Iface >= 0:
		return fmt.Sprintf("router: interface %d: %s: %s", e.Iface, e.Field, e.Msg)
	case e.Route >= 0:
		return fmt.Sprintf("router: route %d: %s: %s", e.Route, e.Field, e.Msg)
	}
	return "router: " + e.Msg
}

// Check returns every problem of c, in the order of its settings: what
// New refuses.
func (c *Config) Check() []*ConfigError {
	var errs []*ConfigError
	bad := func(ifc, rt int, field, format string, args ...any) {
		errs = append(errs, &ConfigError{Iface: ifc, Route: rt, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.Ifaces) == 0 {
		bad(-1, -1, "", "a router needs an interface")
	}
	names := map[string]int{}
	for i, f := range c.Ifaces {
		if j, dup := names[f.Name]; dup || f.Name == "" {
			bad(i, -1, "name", "interface name %q is empty or also interface %d's", f.Name, j)
		}
		names[f.Name] = i
		if f.MAC.IsZero() || f.MAC.IsMulticast() {
			bad(i, -1, "mac", "MAC %v is not a unicast address", f.MAC)
		}
		if f.MTU != 0 && (f.MTU < MinMTU || f.MTU > MaxMTU) {
			bad(i, -1, "mtu", "MTU %d is outside %d-%d (RFC 791: every link carries 68 bytes whole)", f.MTU, MinMTU, MaxMTU)
		}
		p := f.Addr
		switch {
		case !p.IsValid() || !p.Addr().Is4():
			bad(i, -1, "addr", "want an IPv4 address with its prefix, like 10.0.1.1/24, not %v", p)
			continue
		case p.Bits() < 31 && (p.Addr() == p.Masked().Addr() || p.Addr() == broadcastOf(p)):
			bad(i, -1, "addr", "%s is the network or broadcast address of %s", p.Addr(), p.Masked())
			continue
		}
		for j, g := range c.Ifaces[:i] {
			if g.Addr.IsValid() && g.Addr.Addr().Is4() && p.Masked().Overlaps(g.Addr.Masked()) {
				bad(i, -1, "addr", "subnet %s overlaps %s of interface %s: each interface needs a subnet of its own", p.Masked(), g.Addr.Masked(), c.Ifaces[j].Name)
				break
			}
		}
	}
	type key struct {
		to     netip.Prefix
		metric uint32
	}
	seen := map[key]int{}
	for i, r := range c.Routes {
		switch {
		case !r.To.IsValid() || !r.To.Addr().Is4():
			bad(-1, i, "to", "want an IPv4 prefix, like 10.0.3.0/24 or 0.0.0.0/0, not %v", r.To)
		case r.To != r.To.Masked():
			bad(-1, i, "to", "%s has host bits set: did you mean %s?", r.To, r.To.Masked())
		default:
			if j, dup := seen[key{r.To, r.Metric}]; dup {
				bad(-1, i, "to", "a route to %s with metric %d is there already (via %s): give one of them another metric", r.To, r.Metric, c.Routes[j].Via)
			}
			seen[key{r.To, r.Metric}] = i
			for _, f := range c.Ifaces {
				if !f.Addr.IsValid() || !f.Addr.Addr().Is4() {
					continue
				}
				sub := f.Addr.Masked()
				switch {
				case r.To == sub && r.Metric == 0:
					bad(-1, i, "to", "%s is %s's connected subnet already", r.To, f.Name)
				case r.To.Bits() > sub.Bits() && sub.Contains(r.To.Addr()):
					// Refused until a scenario shows it in both worlds:
					// the stack now resolves the next hop the router
					// gives it, so nothing else stands in the way.
					bad(-1, i, "to", "%s lies inside %s's connected subnet %s: routes inside a connected subnet are not supported", r.To, f.Name, sub)
				}
			}
		}
		switch on := c.ifaceFor(r.Via); {
		case !r.Via.IsValid() || !r.Via.Is4():
			bad(-1, i, "via", "want the IPv4 address of a neighbour, not %v", r.Via)
		case on < 0:
			bad(-1, i, "via", "%s is on none of the router's subnets (%s): a next hop must be a neighbour", r.Via, c.subnets())
		case r.Via == c.Ifaces[on].Addr.Addr():
			bad(-1, i, "via", "%s is the router's own address on %s", r.Via, c.Ifaces[on].Name)
		case c.Ifaces[on].Addr.Bits() < 31 && (r.Via == c.Ifaces[on].Addr.Masked().Addr() || r.Via == broadcastOf(c.Ifaces[on].Addr)):
			bad(-1, i, "via", "%s is the network or broadcast address of %s", r.Via, c.Ifaces[on].Addr.Masked())
		}
	}
	return errs
}

// ifaceFor returns the index of the interface whose subnet holds a, or -1.
func (c *Config) ifaceFor(a netip.Addr) int {
	best := -1
	for i, f := range c.Ifaces {
		if a.IsValid() && f.Addr.IsValid() && f.Addr.Masked().Contains(a) && (best < 0 || f.Addr.Bits() > c.Ifaces[best].Addr.Bits()) {
			best = i
		}
	}
	return best
}

// subnets lists the connected subnets, for messages.
func (c *Config) subnets() string {
	var s []string
	for _, f := range c.Ifaces {
		if f.Addr.IsValid() {
			s = append(s, f.Addr.Masked().String())
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// broadcastOf returns the directed broadcast address of p's subnet.
func broadcastOf(p netip.Prefix) netip.Addr {
	return addr32(v4(p.Masked().Addr()) | ^mask(p.Bits()))
}
