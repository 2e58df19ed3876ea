package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

// Graph compiles the scenario's topology into a new topo.Graph, with MACs
// assigned. Each call returns a fresh graph, so runs do not share state.
func (f *File) Graph() (*topo.Graph, error) {
	g, errs := f.compile(newTaint(nil))
	if len(errs) > 0 {
		return nil, errs
	}
	return g, nil
}

// compile builds the graph. It returns one even with errors, with a node
// for every switch, host and container the file has (good for checking
// what the steps name, not for running). t holds the fields the decoder
// could not read; compile adds the links that name a node defined by one.
func (f *File) compile(t taint) (*topo.Graph, Errors) {
	var errs Errors
	bad := func(path, format string, a ...any) { errs = append(errs, f.errAt(path, format, a...)) }
	g := &topo.Graph{}
	dockerFailed := false
	if f.Docker() {
		g, errs = f.compileDocker()
		dockerFailed = len(errs) > 0
	}
	for i, s := range f.Switches {
		p := fmt.Sprintf("switches[%d]", i)
		ts := topo.Switch{Name: s.Name, AgeingTime: s.Ageing, MaxEntries: s.MaxEntries}
		for j, pc := range s.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			tp := topo.Port{Name: pc.Name, VLAN: pc.VLAN, Allowed: pc.Allowed, Native: pc.Native,
				STP: vswitch.PortSTP{Cost: pc.Cost, Priority: pc.Priority, BPDUGuard: pc.BPDUGuard, RootGuard: pc.RootGuard}}
			if pc.Edge != nil {
				tp.STP.Edge, tp.NotEdge = *pc.Edge, !*pc.Edge
			}
			switch pc.Mode {
			case "", "access":
				if len(pc.Allowed) > 0 || pc.Native != 0 {
					bad(pp+".mode", "allowed and native are for trunk ports (mode: trunk)")
				}
			case "trunk":
				tp.Mode = vswitch.Trunk
				if pc.VLAN != 0 {
					bad(pp+".vlan", "vlan is for access ports; a trunk has allowed and native")
				}
			default:
				bad(pp+".mode", "unknown mode %q (want access or trunk)%s", pc.Mode, f.didYouMean(pc.Mode, []string{"access", "trunk"}))
			}
			ts.Ports = append(ts.Ports, tp)
		}
		if m := s.Mirror; m != nil {
			ts.Mirror = &topo.Mirror{To: m.To, Sources: m.From}
		}
		if c := s.STP; c != nil { // topo.Validate checks the priority and the timers
			ts.STP = &vswitch.STPConfig{Priority: c.Priority, HelloTime: c.Hello, MaxAge: c.MaxAge, ForwardDelay: c.ForwardDelay}
		}
		g.Switches = append(g.Switches, ts)
	}
	for i, h := range f.Hosts {
		if f.Docker() {
			break // a Docker file's hosts are Docker hosts: compileDocker's
		}
		p := fmt.Sprintf("hosts[%d]", i)
		if h.AllowDirectRouting {
			bad(p+".allow_direct_routing", "allow_direct_routing is a Docker host's (dockerd's allow-direct-routing): for a file with networks or containers")
		}
		if h.PortRange != "" {
			bad(p+".port_range", "port_range is a Docker host's (a file with networks or containers)")
		}
		th := topo.Host{Name: h.Name}
		if len(h.DNS) > 0 {
			bad(p+".dns", "dns is a Docker host's resolvers: only a file with networks or containers has Docker hosts")
		}
		ifs := h.Interfaces
		switch {
		case h.Address != "" && len(ifs) > 0:
			bad(p, "give either address (one interface) or interfaces, not both")
		case h.Address != "":
			ifs = []IfaceConfig{{Name: "eth0", Address: h.Address, MAC: h.MAC}}
		case h.MAC != "":
			bad(p+".mac", "mac goes with address; with interfaces, give each its mac")
		}
		th.Ifaces = f.ifaces(p, ifs, h.Address != "", bad)
		th.ListenTCP, th.ListenUDP = f.listen(p, h.Listen, &errs)
		if h.Gateway != "" {
			gw, err := netip.ParseAddr(h.Gateway)
			if err != nil {
				bad(p+".gateway", "bad gateway address %q", h.Gateway)
			}
			th.Gateway = gw
		}
		g.Hosts = append(g.Hosts, th)
	}
	for i, n := range f.Nodes {
		p := fmt.Sprintf("nodes[%d]", i)
		th := topo.Host{Name: n.Name, Kind: n.Kind, Ifaces: f.ifaces(p, n.Interfaces, false, bad)}
		if k, ok := topo.LookupKind(n.Kind); ok && n.Spec != nil {
			th.Spec = k.Compile(n.Spec, th.Ifaces, func(field, format string, a ...any) { bad(p+"."+field, format, a...) })
		}
		g.Hosts = append(g.Hosts, th)
	}
	// Links: resolve shorthand ends. A switch named without a port gets the
	// lowest pN not named anywhere else for that switch.
	taken := map[string]map[string]bool{}
	for _, s := range g.Switches {
		taken[s.Name] = map[string]bool{}
		for _, p := range s.Ports {
			taken[s.Name][p.Name] = true
		}
	}
	for _, l := range f.Links {
		for _, e := range l.Ends {
			if node, port, ok := strings.Cut(e, ":"); ok && taken[node] != nil {
				taken[node][port] = true
			}
		}
	}
	ix := g.Index()
	var nodes []string
	nextPort := map[string]int{}   // switch -> where the search for a free pN starts
	defined := map[string]string{} // node -> the field that defines it, if it has a problem
	if len(t.at) > 0 && !f.Docker() {
		for i, s := range f.Switches {
			if p := fmt.Sprintf("switches[%d]", i); t.covers(p) {
				defined[s.Name] = p
			}
		}
		for i, h := range f.Hosts {
			if p := fmt.Sprintf("hosts[%d]", i); t.covers(p) {
				defined[h.Name] = p
			}
		}
	}
	for i, l := range f.Links {
		p := fmt.Sprintf("links[%d]", i)
		tl := topo.Link{Config: l.config()}
		for k, e := range l.Ends {
			node, port, _ := strings.Cut(strings.TrimSpace(e), ":")
			if defined[node] != "" {
				t.add(p) // what is wrong with it may come from its node's problem
			}
			switch ix.Kind(node) {
			case topo.None:
				if nodes == nil {
					nodes = f.nodeNames(g)
				}
				bad(fmt.Sprintf("%s.ends[%d]", p, k), "unknown node %q in link end %q%s", node, e, f.didYouMean(node, nodes))
			case topo.HostNode:
				if port == "" && len(ix.Host(node).Ifaces) > 0 {
					port = ix.Host(node).Ifaces[0].Name
				}
			case topo.SwitchNode:
				// The lowest free pN only grows: start where the last one was
				// found, or every link would scan the ports before it.
				for n := cmp.Or(nextPort[node], 1); port == ""; n++ {
					if c := "p" + strconv.Itoa(n); !taken[node][c] {
						port = c
						taken[node][c] = true
						nextPort[node] = n + 1
					}
				}
			}
			ep := topo.Endpoint{Node: node, Port: port}
			if k == 0 {
				tl.A = ep
			} else {
				tl.B = ep
			}
		}
		g.Links = append(g.Links, tl)
	}
	g.Assign()
	if !dockerFailed {
		if err := g.Validate(); err != nil {
			located := f.located(err)
			if f.Docker() {
				// The compiled graph's paths are not the file's: what the
				// compiler did not catch is the containers' doing.
				for _, e := range located {
					e.Line = f.Line("containers")
				}
			}
			errs = append(errs, newTaint(errs).keep(located)...)
		}
	}
	return g, errs
}

// ifaces compiles the interfaces of the host or node at p; short says
// they were written as the host's address and mac.
func (f *File) ifaces(p string, ifs []IfaceConfig, short bool, bad func(path, format string, a ...any)) []topo.Iface {
	var out []topo.Iface
	for j, ic := range ifs {
		ip := fmt.Sprintf("%s.interfaces[%d]", p, j)
		ap, mp := ip+".address", ip+".mac"
		if short {
			ap, mp = p+".address", p+".mac"
		}
		ti := topo.Iface{Name: ic.Name}
		if ic.Address != "" {
			a, err := netip.ParsePrefix(ic.Address)
			if err != nil {
				bad(ap, "bad CIDR %q: want an address with its prefix, like 10.0.0.1/24", ic.Address)
			}
			ti.Addr = a
		}
		if ic.MAC != "" {
			m, err := vswitch.ParseMAC(ic.MAC)
			if err != nil {
				bad(mp, "bad MAC %q", ic.MAC)
			}
			ti.MAC = m
		}
		out = append(out, ti)
	}
	return out
}

// nodeNames lists the switches and hosts of g, for suggestions.
func (f *File) nodeNames(g *topo.Graph) []string {
	names := make([]string, 0, len(g.Switches)+len(g.Hosts))
	for _, s := range g.Switches {
		names = append(names, s.Name)
	}
	for _, h := range g.Hosts {
		names = append(names, h.Name)
	}
	return names
}

// maxSuggest bounds the "did you mean" searches over long lists of names
// in one file, so that a file of 10 000 mistakes is not 10^8 comparisons.
const maxSuggest = 100

// didYouMean returns "; did you mean X?" for the one name in names near
// word, or "".
func (f *File) didYouMean(word string, names []string) string {
	if len(names) > 50 {
		if f.suggested >= maxSuggest {
			return ""
		}
		f.suggested++
	}
	return topo.DidYouMean(word, names)
}

// located turns topo's errors (each a *topo.Error with a field path, or
// several joined) into file:line errors.
func (f *File) located(err error) Errors {
	all := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	}
	var errs Errors
	for _, e := range all {
		if te := (*topo.Error)(nil); errors.As(e, &te) {
			errs = append(errs, f.errAt(te.Path, "%s", te.Msg))
		} else {
			errs = append(errs, f.errAt("", "%v", e))
		}
	}
	return errs
}

// listen reads listen: [tcp/80, udp/53].
func (f *File) listen(p string, ls []string, errs *Errors) (tcp, udp []uint16) {
	for j, l := range ls {
		proto, port, _ := strings.Cut(l, "/")
		n, err := strconv.ParseUint(port, 10, 16)
		switch {
		case err != nil || n == 0:
			*errs = append(*errs, f.errAt(fmt.Sprintf("%s.listen[%d]", p, j), "listen %q: want tcp/PORT or udp/PORT", l))
		case proto == "tcp":
			tcp = append(tcp, uint16(n))
		case proto == "udp":
			udp = append(udp, uint16(n))
		default:
			*errs = append(*errs, f.errAt(fmt.Sprintf("%s.listen[%d]", p, j), "listen %q: want tcp/PORT or udp/PORT", l))
		}
	}
	return tcp, udp
}

// Docker reports whether the file describes the Docker model (networks
// and containers) rather than switches and links.
func (f *File) Docker() bool { return len(f.Networks) > 0 || len(f.Containers) > 0 }

// compileDocker compiles networks, containers and Docker hosts into a
// graph.
func (f *File) compileDocker() (*topo.Graph, Errors) {
	var errs Errors
	bad := func(path, format string, a ...any) { errs = append(errs, f.errAt(path, format, a...)) }
	if len(f.Switches) > 0 || len(f.Links) > 0 {
		bad("switches", "a Docker scenario (networks, containers) builds its own switches and links: leave switches and links out")
	}
	prefix := func(path, s string) netip.Prefix {
		if s == "" {
			return netip.Prefix{}
		}
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			bad(path, "bad IPv4 CIDR %q", s)
		}
		return p
	}
	addr := func(path, s string) netip.Addr {
		if s == "" {
			return netip.Addr{}
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			bad(path, "bad IPv4 address %q", s)
		}
		return a
	}
	d := &docker.Model{}
	for i, h := range f.Hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		if h.MAC != "" || h.Gateway != "" || len(h.Interfaces) > 0 || len(h.Listen) > 0 {
			bad(p, "in a Docker scenario a host is a Docker host: name, address, allow_direct_routing and port_range only")
		}
		d.Hosts = append(d.Hosts, docker.Host{Name: h.Name, Address: prefix(p+".address", h.Address), AllowDirectRouting: h.AllowDirectRouting, PortRange: f.portRange(p+".port_range", h.PortRange, &errs)})
		d.Hosts[len(d.Hosts)-1].DNS = f.hostDNS(p+".dns", h.DNS, bad)
	}
	for i, n := range f.Networks {
		p := fmt.Sprintf("networks[%d]", i)
		d.Networks = append(d.Networks, docker.Network{Name: n.Name, Driver: n.Driver, Internal: n.Internal,
			Subnet: prefix(p+".subnet", n.Subnet), Gateway: addr(p+".gateway", n.Gateway), IPRange: prefix(p+".ip_range", n.IPRange),
			Hosts: n.Hosts, VNI: n.VNI, DriverOpts: n.DriverOpts})
		f.vlanNetwork(p, n, &d.Networks[len(d.Networks)-1], prefix, addr, bad)
	}
	for i, c := range f.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		tc := docker.Container{Name: c.Name, Host: c.Host, Attach: c.Attach, Address: prefix(p+".address", c.Address), VLAN: c.VLAN}
		if c.Attach == "" && c.Address != "" {
			bad(p+".address", "a container's address comes from its networks (give ip there); address is for attach: lan")
		}
		for j, e := range c.Networks {
			tc.Endpoints = append(tc.Endpoints, docker.Endpoint{Network: e.Name, IP: addr(fmt.Sprintf("%s.networks[%d].ip", p, j), e.IP), Aliases: e.Aliases, GwPriority: e.GwPriority})
		}
		for j, s := range c.Publish {
			ms, err := topo.ParsePortSpec(s)
			if err != nil {
				bad(fmt.Sprintf("%s.publish[%d]", p, j), "%v", err)
				continue
			}
			for _, m := range ms {
				tc.Publish = append(tc.Publish, m)
				tc.PublishFrom = append(tc.PublishFrom, j)
			}
		}
		tc.ListenTCP, tc.ListenUDP = f.listen(p, c.Listen, &errs)
		for j, r := range c.Routes {
			tc.Routes = append(tc.Routes, docker.Route{To: prefix(fmt.Sprintf("%s.routes[%d].to", p, j), r.To), Via: r.Via})
		}
		tc.ServeDNS = f.serveDNS(p, c, bad)
		d.Containers = append(d.Containers, tc)
	}
	g, err := docker.Compile(d)
	if err != nil {
		errs = append(errs, newTaint(errs).keep(f.located(err))...)
	}
	return g, errs
}

// oneOf checks that v is one of allowed ("" among them: it may be left
// out), and reports "field must be a, b or c, not "v"" at path otherwise.
func (f *File) oneOf(errs *Errors, path, field, v string, allowed ...string) {
	if slices.Contains(allowed, v) {
		return
	}
	named := slices.DeleteFunc(slices.Clone(allowed), func(a string) bool { return a == "" })
	list := strings.Join(named[:len(named)-1], ", ") + " or " + named[len(named)-1]
	*errs = append(*errs, f.errAt(path, "%s must be %s, not %q%s", field, list, v, f.didYouMean(v, named)))
}

// validate checks the whole file: topology and steps. errs are the
// problems the decoder found; what follows from them is left out.
func (f *File) validate(errs Errors) error {
	t := newTaint(errs)
	g, cerrs := f.compile(t)
	cerrs = t.keep(cerrs)
	for _, e := range cerrs {
		t.add(e.path)
	}
	errs = append(errs, cerrs...)
	errs = append(errs, t.keep(f.checkSteps(g, len(errs) > 0))...)
	if len(errs) == 0 && len(f.Switches)+len(f.Hosts)+len(f.Networks)+len(f.Containers)+len(f.Steps) == 0 {
		errs = append(errs, &Error{File: f.path, Line: 1, Msg: "nothing to run: no switches, hosts, networks, containers or steps (is the file cut short?)"})
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	return errs
}

// portRange reads a Docker host's port_range, "32768-60999" (as Linux's
// ip_local_port_range is written, with a space or a '-').
func (f *File) portRange(path, s string, errs *Errors) [2]uint16 {
	if s == "" {
		return [2]uint16{}
	}
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		a, b, ok = strings.Cut(strings.TrimSpace(s), " ")
	}
	first, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 16)
	last, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 16)
	if !ok || err1 != nil || err2 != nil || first == 0 || last < first {
		*errs = append(*errs, f.errAt(path, "port range %q: want FIRST-LAST with 1 <= FIRST <= LAST <= 65535, like Linux's 32768-60999", s))
		return [2]uint16{}
	}
	return [2]uint16{uint16(first), uint16(last)}
}
