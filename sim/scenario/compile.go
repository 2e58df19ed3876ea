package scenario

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Graph compiles the scenario's topology into a new topo.Graph, with MACs
// assigned. Each call returns a fresh graph, so runs do not share state.
func (f *File) Graph() (*topo.Graph, error) {
	g, errs := f.compile()
	if len(errs) > 0 {
		return nil, errs
	}
	return g, nil
}

func (f *File) compile() (*topo.Graph, Errors) {
	var errs Errors
	bad := func(path, format string, a ...any) { errs = append(errs, f.errAt(path, format, a...)) }
	g := &topo.Graph{}
	if f.Docker() {
		errs = f.compileDocker(g)
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
				bad(pp+".mode", "unknown mode %q (want access or trunk)", pc.Mode)
			}
			ts.Ports = append(ts.Ports, tp)
		}
		if m := s.Mirror; m != nil {
			ts.Mirror = &topo.Mirror{To: m.To, Sources: m.From}
		}
		if c := s.STP; c != nil {
			ts.STP = &vswitch.STPConfig{Priority: c.Priority, HelloTime: c.Hello, MaxAge: c.MaxAge, ForwardDelay: c.ForwardDelay}
			if c.Priority != nil && *c.Priority%4096 != 0 {
				bad(p+".stp.priority", "bridge priority %d is not a multiple of 4096 (802.1D-2004 §9.2.5)", *c.Priority)
			}
			if c.Hello < 0 || c.MaxAge < 0 || c.ForwardDelay < 0 {
				bad(p+".stp", "STP timers must not be negative")
			}
		}
		g.Switches = append(g.Switches, ts)
	}
	for i, h := range f.Hosts {
		if f.Docker() {
			break
		}
		p := fmt.Sprintf("hosts[%d]", i)
		th := topo.Host{Name: h.Name}
		ifs := h.Interfaces
		switch {
		case h.Address != "" && len(ifs) > 0:
			bad(p, "give either address (one interface) or interfaces, not both")
		case h.Address != "":
			ifs = []IfaceConfig{{Name: "eth0", Address: h.Address, MAC: h.MAC}}
		case h.MAC != "":
			bad(p+".mac", "mac goes with address; with interfaces, give each its mac")
		}
		for j, ic := range ifs {
			ip := fmt.Sprintf("%s.interfaces[%d]", p, j)
			ap, mp := ip+".address", ip+".mac"
			if h.Address != "" {
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
			th.Ifaces = append(th.Ifaces, ti)
		}
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
	for i, l := range f.Links {
		p := fmt.Sprintf("links[%d]", i)
		tl := topo.Link{Config: sim.LinkConfig{Latency: l.Latency, Jitter: l.Jitter, Loss: l.Loss, Rate: l.Rate, Queue: l.Queue}}
		for k, e := range l.Ends {
			node, port, _ := strings.Cut(strings.TrimSpace(e), ":")
			switch g.Kind(node) {
			case topo.None:
				bad(p, "unknown node %q in link end %q", node, e)
			case topo.HostNode:
				if port == "" && len(g.Host(node).Ifaces) > 0 {
					port = g.Host(node).Ifaces[0].Name
				}
			case topo.SwitchNode:
				for n := 1; port == ""; n++ {
					if c := "p" + strconv.Itoa(n); !taken[node][c] {
						port = c
						taken[node][c] = true
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
	if len(errs) > 0 {
		return nil, errs
	}
	g.Assign()
	if err := g.Validate(); err != nil {
		return nil, append(errs, f.located(err)...)
	}
	return g, nil
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

// compileDocker compiles networks, containers and Docker hosts into g.
func (f *File) compileDocker(g *topo.Graph) Errors {
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
	d := &topo.Docker{}
	for i, h := range f.Hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		if h.MAC != "" || h.Gateway != "" || len(h.Interfaces) > 0 || len(h.Listen) > 0 {
			bad(p, "in a Docker scenario a host is a Docker host: name and address only")
		}
		d.Hosts = append(d.Hosts, topo.DockerHost{Name: h.Name, Address: prefix(p+".address", h.Address)})
	}
	for i, n := range f.Networks {
		p := fmt.Sprintf("networks[%d]", i)
		d.Networks = append(d.Networks, topo.Network{Name: n.Name, Driver: n.Driver, Internal: n.Internal,
			Subnet: prefix(p+".subnet", n.Subnet), Gateway: addr(p+".gateway", n.Gateway), IPRange: prefix(p+".ip_range", n.IPRange)})
	}
	for i, c := range f.Containers {
		p := fmt.Sprintf("containers[%d]", i)
		tc := topo.Container{Name: c.Name, Attach: c.Attach, Address: prefix(p+".address", c.Address)}
		if c.Attach == "" && c.Address != "" {
			bad(p+".address", "a container's address comes from its networks (give ip there); address is for attach: lan")
		}
		for j, e := range c.Networks {
			tc.Endpoints = append(tc.Endpoints, topo.EndpointConfig{Network: e.Name, IP: addr(fmt.Sprintf("%s.networks[%d].ip", p, j), e.IP), Aliases: e.Aliases})
		}
		for j, s := range c.Publish {
			m, err := topo.ParsePortMapping(s)
			if err != nil {
				bad(fmt.Sprintf("%s.publish[%d]", p, j), "%v", err)
			}
			tc.Publish = append(tc.Publish, m)
		}
		tc.ListenTCP, tc.ListenUDP = f.listen(p, c.Listen, &errs)
		d.Containers = append(d.Containers, tc)
	}
	if len(errs) > 0 {
		return errs
	}
	if _, err := d.Compile(g); err != nil {
		errs = append(errs, f.located(err)...)
	}
	return errs
}

// oneOf checks that v is one of allowed ("" among them: it may be left
// out), and reports "field must be a, b or c, not "v"" at path otherwise.
func (f *File) oneOf(errs *Errors, path, field, v string, allowed ...string) {
	if slices.Contains(allowed, v) {
		return
	}
	named := slices.DeleteFunc(slices.Clone(allowed), func(a string) bool { return a == "" })
	list := strings.Join(named[:len(named)-1], ", ") + " or " + named[len(named)-1]
	*errs = append(*errs, f.errAt(path, "%s must be %s, not %q", field, list, v))
}

// validate checks the whole file: topology and steps.
func (f *File) validate() error {
	g, errs := f.compile()
	if g != nil {
		errs = append(errs, f.checkSteps(g)...)
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	return errs
}

// checkSteps checks every step against the compiled graph g.
func (f *File) checkSteps(g *topo.Graph) Errors {
	var errs Errors
	bad := func(path, format string, a ...any) { errs = append(errs, f.errAt(path, format, a...)) }
	host := func(path, name string) {
		switch h := g.Host(name); {
		case h == nil:
			bad(path, "unknown host %q", name)
		case h.Router != nil:
			bad(path, "%q is a Docker host: steps run from containers and clients", name)
		}
	}
	addr := func(path, s string) {
		if _, err := g.ResolveAddr(s); err != nil && (g.Docker == nil || s == "" || strings.Contains(s, ":")) {
			bad(path, "%q is neither a host nor an IPv4 address", s)
		}
	}
	endpoint := func(path, s string) (topo.Endpoint, bool) {
		node, port, ok := strings.Cut(s, ":")
		if !ok {
			bad(path, "want node:port, like s1:p1, not %q", s)
			return topo.Endpoint{}, false
		}
		return topo.Endpoint{Node: node, Port: port}, true
	}
	switchPort := func(path, s string) {
		if e, ok := endpoint(path, s); ok && (g.Switch(e.Node) == nil || !slices.Contains(g.PortNames(e.Node), e.Port)) {
			bad(path, "no switch port %q", s)
		}
	}
	state := func(path, s string) { f.oneOf(&errs, path, "state", s, "up", "down") }
	for i, s := range f.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		kinds := 0
		for _, set := range []bool{s.Ping != nil, s.UDP != nil, s.Wait != nil, s.Link != nil, s.Port != nil, s.Move != nil, s.BPDUs != nil, s.Connect != nil, s.Resolve != nil, s.Expect != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			bad(p, "a step has exactly one of ping, udp, connect, resolve, wait, link, port, move, bpdus, expect (found %d)", kinds)
			continue
		}
		switch {
		case s.Ping != nil:
			q := p + ".ping"
			host(q+".from", s.Ping.From)
			addr(q+".to", s.Ping.To)
			if s.Ping.Count < 0 || s.Ping.Count > 10000 {
				bad(q+".count", "count must be 1-10000")
			}
			if s.Ping.Interval < 0 || s.Ping.Timeout < 0 {
				bad(q, "interval and timeout must not be negative")
			}
			f.oneOf(&errs, q+".expect", "expect", s.Ping.Expect, "", "reply", "no-reply", "storm")
		case s.UDP != nil:
			q := p + ".udp"
			host(q+".from", s.UDP.From)
			addr(q+".to", s.UDP.To)
			if s.UDP.Port == 0 {
				bad(q+".port", "udp needs a port (1-65535)")
			}
			f.oneOf(&errs, q+".expect", "expect", s.UDP.Expect, "", "delivered", "not-delivered")
		case s.Connect != nil:
			q := p + ".connect"
			host(q+".from", s.Connect.From)
			addr(q+".to", s.Connect.To)
			if s.Connect.Port == 0 {
				bad(q+".port", "connect needs a port (1-65535)")
			}
			f.oneOf(&errs, q+".expect", "expect", s.Connect.Expect, "", "open", "refused", "timeout")
			if w := s.Connect.SeenFrom; w != "" {
				if _, err := g.ResolveAddr(w); err != nil {
					bad(q+".seen_from", "%q is neither a host nor an IPv4 address", w)
				}
			}
		case s.Resolve != nil:
			q := p + ".resolve"
			host(q+".from", s.Resolve.From)
			if s.Resolve.Name == "" {
				bad(q+".name", "resolve needs a name")
			}
			if s.Resolve.Expect.Rcode == "" && len(s.Resolve.Expect.Addrs) == 0 {
				bad(q+".expect", "resolve needs expect: a list of addresses, or nxdomain, servfail, no-answer, timeout")
			}
			t := strings.ToUpper(s.Resolve.Type)
			f.oneOf(&errs, q+".type", "type", t, "", "A", "AAAA", "PTR")
			for _, a := range s.Resolve.Expect.Addrs {
				if t == "PTR" {
					continue // names, as the answer gives them
				}
				if _, err := g.ResolveAddr(a); err != nil {
					bad(q+".expect", "%q is neither a host nor an IPv4 address", a)
				}
			}
		case s.Wait != nil:
			if *s.Wait < 0 {
				bad(p+".wait", "cannot wait a negative time")
			}
		case s.Link != nil:
			q := p + ".link"
			if e, ok := endpoint(q+".at", s.Link.At); ok && g.LinkOf(e) < 0 {
				bad(q+".at", "no link at %q", s.Link.At)
			}
			state(q+".state", s.Link.State)
		case s.Port != nil:
			switchPort(p+".port.at", s.Port.At)
			state(p+".port.state", s.Port.State)
		case s.Move != nil:
			q := p + ".move"
			if e, ok := endpoint(q+".iface", s.Move.Iface); ok && (g.Kind(e.Node) != topo.HostNode || g.LinkOf(e) < 0) {
				bad(q+".iface", "%q is not a linked host interface", s.Move.Iface)
			}
			switchPort(q+".to", s.Move.To)
		case s.BPDUs != nil:
			if sw := g.Switch(s.BPDUs.Switch); sw == nil || sw.STP == nil {
				bad(p+".bpdus.switch", "%q is not a switch running STP", s.BPDUs.Switch)
			}
			f.oneOf(&errs, p+".bpdus.state", "state", s.BPDUs.State, "on", "off")
		case s.Expect != nil:
			errs = append(errs, f.checkExpect(g, p+".expect", s.Expect, host, switchPort)...)
		}
	}
	return errs
}

func (f *File) checkExpect(g *topo.Graph, p string, x *ExpectStep, host func(string, string), switchPort func(string, string)) Errors {
	var errs Errors
	bad := func(path, format string, a ...any) { errs = append(errs, f.errAt(path, format, a...)) }
	if x.FDB == nil && x.Counters == nil && x.Reach == nil && x.STP == nil && x.NAT == nil && x.IPAM == nil {
		bad(p, "expect needs fdb, counters, reach, stp, nat or ipam")
	}
	if c := x.NAT; c != nil {
		if h := g.Host(c.Host); h == nil || h.Router == nil {
			bad(p+".nat.host", "%q is not a Docker host", c.Host)
		}
		for _, m := range c.Has {
			f.oneOf(&errs, p+".nat.has", "kind", m.Kind, "", "masquerade", "published", "hairpin")
			f.oneOf(&errs, p+".nat.has", "proto", m.Proto, "", "tcp", "udp", "icmp")
			for _, a := range []string{m.From, m.To} {
				if _, err := g.ResolveAddr(a); a != "" && err != nil {
					bad(p+".nat.has", "%q is neither a host nor an IPv4 address", a)
				}
			}
		}
	}
	if c := x.IPAM; c != nil {
		if g.Docker == nil {
			bad(p+".ipam", "ipam is for Docker scenarios (networks, containers)")
		} else if c.Network != topo.DefaultNetwork && !slices.ContainsFunc(g.Docker.Networks, func(n topo.Network) bool { return n.Name == c.Network }) {
			bad(p+".ipam.network", "unknown network %q", c.Network)
		}
	}
	if c := x.STP; c != nil {
		sw := g.Switch(c.Switch)
		if sw == nil || sw.STP == nil {
			bad(p+".stp.switch", "%q is not a switch running STP", c.Switch)
		}
		if c.Root != "" && g.Switch(c.Root) == nil {
			bad(p+".stp.root", "unknown switch %q", c.Root)
		}
		for _, ps := range c.Ports {
			if sw != nil && !slices.Contains(g.PortNames(c.Switch), ps.Port) {
				bad(p+".stp.ports", "no port %q on %s", ps.Port, c.Switch)
			}
			f.oneOf(&errs, p+".stp.ports", "role", ps.Role, "", "root", "designated", "alternate", "backup", "disabled")
			f.oneOf(&errs, p+".stp.ports", "state", ps.State, "", "forwarding", "learning", "listening", "blocking", "disabled")
		}
	}
	if d := x.FDB; d != nil {
		if g.Switch(d.Switch) == nil {
			bad(p+".fdb.switch", "unknown switch %q", d.Switch)
		}
		for _, m := range append(slices.Clone(d.Has), d.Lacks...) {
			if m.MAC == "" {
				bad(p+".fdb", "an fdb entry needs a mac (an address or a host name)")
			} else if _, err := g.ResolveMAC(m.MAC); err != nil {
				bad(p+".fdb", "%q is neither a MAC nor a host", m.MAC)
			}
		}
	}
	if c := x.Counters; c != nil {
		switchPort(p+".counters.at", c.At)
		for _, name := range slices.Sorted(maps.Keys(c.Drops)) {
			if _, ok := vswitch.ParseDropReason(name); !ok {
				bad(p+".counters.drops", "unknown drop reason %q", name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(x.Reach)) {
		host(p+".reach."+name, name)
		for _, peer := range x.Reach[name] {
			if _, ok := x.Reach[peer]; !ok {
				bad(p+".reach."+name, "%q is not one of the hosts of this reach matrix", peer)
			}
		}
	}
	return errs
}
