package scenario

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/sim/topo"
)

// hostDNS reads a Docker host's dns: its resolvers, IPv4 addresses, at
// most dnsd.MaxUpstreams (as resolv.conf's MAXNS, which Docker's
// resolver keeps to).
func (f *File) hostDNS(p string, list []string, bad func(path, format string, a ...any)) []netip.Addr {
	var out []netip.Addr
	for i, s := range list {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			bad(fmt.Sprintf("%s[%d]", p, i), "bad IPv4 address %q: a host's dns lists its resolvers' addresses", s)
			continue
		}
		if why := topo.AddrProblem(a); why != "" {
			bad(fmt.Sprintf("%s[%d]", p, i), "resolver %s: %s", a, why)
			continue
		}
		out = append(out, a)
	}
	if len(list) > dnsd.MaxUpstreams {
		bad(p, "%d resolvers: a resolv.conf has %d at most (the rest would never be asked)", len(list), dnsd.MaxUpstreams)
	}
	return out
}

// serveDNS reads a container's serve: a LAN client's DNS server's names.
func (f *File) serveDNS(p string, c ContainerConfig, bad func(path, format string, a ...any)) map[string]netip.Addr {
	if c.Serve == nil {
		return nil
	}
	p += ".serve"
	if c.Attach == "" {
		bad(p, "serve is for a client attached to the LAN (attach: lan); a container's names are the embedded DNS server's")
		return nil
	}
	if len(c.Serve.DNS) == 0 {
		bad(p+".dns", "serve needs dns: a map of names to their addresses (outside.test: 192.168.56.12)")
		return nil
	}
	out := map[string]netip.Addr{}
	for _, name := range slices.Sorted(maps.Keys(c.Serve.DNS)) {
		if err := topo.ValidDNSName(name); err != nil {
			bad(p+".dns", "%v", err)
			continue
		}
		a, err := netip.ParseAddr(c.Serve.DNS[name])
		if err != nil || !a.Is4() {
			bad(p+".dns", "%s: bad IPv4 address %q", name, c.Serve.DNS[name])
			continue
		}
		out[name] = a
	}
	return out
}
