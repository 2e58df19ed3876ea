package live

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The tables of netyard inspect: one section per thing, a heading in
// capitals, then aligned columns (text/tabwriter) in the order the
// Inspection holds them, which is sorted. "-" is an empty cell.

// text writes sections, keeping the first error.
type text struct {
	out   io.Writer
	err   error
	first bool
}

// heading starts a section (a blank line before every one but the
// first).
func (t *text) heading(format string, a ...any) {
	if !t.first {
		t.printf("\n")
	}
	t.first = false
	t.printf(format+"\n", a...)
}

func (t *text) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.out, format, a...)
	}
}

// table writes a header and rows as aligned columns, indented by
// indent; no rows: "(none)".
func (t *text) table(indent string, header []string, rows [][]string) {
	if t.err != nil {
		return
	}
	if len(rows) == 0 {
		t.printf("%s(none)\n", indent)
		return
	}
	w := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		if t.err == nil {
			_, t.err = fmt.Fprintf(w, "%s%s\n", indent, strings.Join(cells, "\t"))
		}
	}
	line(slices.Clone(header))
	for _, r := range rows {
		line(r)
	}
	if err := w.Flush(); t.err == nil {
		t.err = err
	}
}

// kv writes key: value lines, aligned.
func (t *text) kv(indent string, pairs ...string) {
	if t.err != nil {
		return
	}
	w := tabwriter.NewWriter(t.out, 0, 0, 1, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if v == "" {
			v = "-"
		}
		if t.err == nil {
			_, t.err = fmt.Fprintf(w, "%s%s:\t%s\n", indent, pairs[i], v)
		}
	}
	if err := w.Flush(); t.err == nil {
		t.err = err
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// secs writes a time in seconds: 1.5s.
func secs(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) + "s" }

// counts writes a map of counters as k=v, sorted by key.
func counts(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func writeInspection(out io.Writer, in Inspection) error {
	t := &text{out: out, first: true}
	if len(in.Networks) > 0 {
		t.heading("NETWORKS")
		t.networks("", in.Networks)
	}
	if len(in.Containers) > 0 {
		t.heading("CONTAINERS")
		t.containers("", in.Containers)
	}
	for _, s := range in.Switches {
		t.switchSection(s)
	}
	for _, g := range in.Gateways {
		t.gatewaySection(g)
	}
	t.heading("HOSTS")
	t.hosts("", in.Hosts)
	t.heading("LINKS")
	t.links("", in.Links)
	return t.err
}

func writeOne(out io.Writer, o One) error {
	t := &text{out: out, first: true}
	switch o.Kind {
	case "network":
		t.networkSection(*o.Network)
		if o.Switch != nil {
			t.switchSection(*o.Switch)
		}
	case "switch":
		t.switchSection(*o.Switch)
	case "gateway":
		t.gatewaySection(*o.Gateway)
	case "container":
		t.containerSection(*o.Container)
		if o.Host != nil {
			t.heading("HOST %s", o.Host.Name)
			t.hosts("  ", []Host{*o.Host})
		}
	case "host":
		t.heading("HOST %s", o.Host.Name)
		t.hosts("  ", []Host{*o.Host})
	case "link":
		t.heading("LINK %s", o.Link.Name)
		t.links("  ", []Link{*o.Link})
	default:
		return fmt.Errorf("%w: nothing of kind %q to write", ErrBadRequest, o.Kind)
	}
	return t.err
}

func subnetGateway(n Network) (subnet, gateway string) {
	if len(n.IPAM.Config) > 0 {
		return n.IPAM.Config[0].Subnet, n.IPAM.Config[0].Gateway
	}
	return "", ""
}

func (t *text) networks(indent string, ns []Network) {
	var rows [][]string
	for _, n := range ns {
		s, g := subnetGateway(n)
		rows = append(rows, []string{n.Name, n.Host, n.Driver, n.Scope, s, g, n.Bridge, yes(n.Internal), strconv.Itoa(len(n.Containers))})
	}
	t.table(indent, []string{"NAME", "HOST", "DRIVER", "SCOPE", "SUBNET", "GATEWAY", "BRIDGE", "INTERNAL", "CONTAINERS"}, rows)
}

// networkSection is one network as docker network inspect shows it, as
// a person reads it.
func (t *text) networkSection(n Network) {
	t.heading("NETWORK %s", n.Name)
	s, g := subnetGateway(n)
	t.kv("  ", "Id", n.ID, "Driver", n.Driver, "Scope", n.Scope, "Internal", yes(n.Internal), "Subnet", s, "Gateway", g,
		"Host", n.Host, "Bridge", n.Bridge, "Options", optionText(n.Options))
	for _, c := range n.IPAM.Config[min(1, len(n.IPAM.Config)):] {
		t.kv("  ", "Subnet", c.Subnet)
	}
	var rows [][]string
	for _, e := range endpointsByName(n.Containers) {
		rows = append(rows, []string{e.Name, e.MacAddress, e.IPv4Address, e.EndpointID[:min(12, len(e.EndpointID))]})
	}
	t.printf("  Containers:\n")
	t.table("    ", []string{"NAME", "MAC", "IPV4", "ENDPOINT"}, rows)
}

func optionText(o map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(o)) {
		parts = append(parts, k+"="+o[k])
	}
	return strings.Join(parts, " ")
}

func endpointsByName(m map[string]NetworkEndpoint) []NetworkEndpoint {
	es := slices.Collect(maps.Values(m))
	slices.SortFunc(es, func(a, b NetworkEndpoint) int { return strings.Compare(a.Name, b.Name) })
	return es
}

func (t *text) containers(indent string, cs []Container) {
	var rows [][]string
	for _, c := range cs {
		nets := slices.Sorted(maps.Keys(c.Networks))
		if len(nets) == 0 {
			rows = append(rows, []string{c.Name, c.Host, c.State, "", "", "", "", "", ports(c)})
		}
		for _, n := range nets {
			e := c.Networks[n]
			ip := e.IPAddress
			if ip != "" {
				ip += "/" + strconv.Itoa(e.IPPrefixLen)
			}
			rows = append(rows, []string{c.Name, c.Host, c.State, n, ip, e.MacAddress, e.Gateway, strings.Join(e.Aliases, ","), ports(c)})
		}
	}
	t.table(indent, []string{"NAME", "HOST", "STATE", "NETWORK", "IP", "MAC", "GATEWAY", "ALIASES", "PORTS"}, rows)
}

// ports writes a container's published ports as docker ps does:
// 0.0.0.0:8080->80/tcp.
func ports(c Container) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.Ports)) {
		for _, b := range c.Ports[k] {
			parts = append(parts, b.HostIP+":"+b.HostPort+"->"+k)
		}
	}
	return strings.Join(parts, ",")
}

func (t *text) containerSection(c Container) {
	t.heading("CONTAINER %s", c.Name)
	t.kv("  ", "Id", c.ID, "Host", c.Host, "State", c.State, "Ports", ports(c))
	var rows [][]string
	for _, n := range slices.Sorted(maps.Keys(c.Networks)) {
		e := c.Networks[n]
		rows = append(rows, []string{n, e.IPAddress, strconv.Itoa(e.IPPrefixLen), e.MacAddress, e.Gateway, strings.Join(e.Aliases, ",")})
	}
	t.printf("  Networks:\n")
	t.table("    ", []string{"NETWORK", "IPADDRESS", "PREFIXLEN", "MAC", "GATEWAY", "ALIASES"}, rows)
}

func (t *text) switchSection(s Switch) {
	if s.Network != "" {
		t.heading("SWITCH %s (bridge of network %s)", s.Name, s.Network)
	} else {
		t.heading("SWITCH %s", s.Name)
	}
	t.printf("  FDB (ageing %s):\n", secs(s.AgeingTime))
	var rows [][]string
	for _, e := range s.FDB {
		rows = append(rows, []string{e.MAC, strconv.Itoa(int(e.VLAN)), e.Port, secs(e.Age), yes(e.Static), e.Host})
	}
	t.table("    ", []string{"MAC", "VLAN", "PORT", "AGE", "STATIC", "HOST"}, rows)
	if !s.STP.Enabled {
		t.printf("  STP: off\n")
	} else {
		st := s.STP
		t.printf("  STP: bridge %s, root %s, root port %s, cost %d", st.Bridge, st.Root, cmpOr(st.RootPort, "none (this is the root)"), st.Cost)
		if st.TopologyChange {
			t.printf(", topology change")
		}
		t.printf(":\n")
		rows = nil
		for _, p := range st.Ports {
			rows = append(rows, []string{p.Name, p.Role, p.State, strconv.Itoa(int(p.Cost)), yes(p.Edge)})
		}
		t.table("    ", []string{"PORT", "ROLE", "STATE", "COST", "EDGE"}, rows)
	}
	t.printf("  Ports:\n")
	rows = nil
	for _, p := range s.Ports {
		vlan := strconv.Itoa(int(p.VLAN))
		if p.Mode == "trunk" {
			vlan = "native " + vlan
			if p.VLAN == 0 {
				vlan = "no native"
			}
			if len(p.Allowed) > 0 {
				var vs []string
				for _, v := range p.Allowed {
					vs = append(vs, strconv.Itoa(int(v)))
				}
				vlan += ", allowed " + strings.Join(vs, ",")
			}
		}
		rows = append(rows, []string{p.Name, yes(p.Up), p.Mode, vlan, u64(p.Rx), u64(p.Tx), u64(p.RxBytes), u64(p.TxBytes), counts(p.Drops)})
	}
	t.table("    ", []string{"PORT", "UP", "MODE", "VLAN", "RX", "TX", "RX BYTES", "TX BYTES", "DROPS"}, rows)
}

func cmpOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func (t *text) gatewaySection(g Gateway) {
	t.heading("GATEWAY %s (Docker host, %s)", g.Name, cmpOr(g.Address, "no LAN address"))
	t.printf("  NAT (conntrack):\n")
	var rows [][]string
	for _, f := range g.NAT {
		flags := ""
		if !f.Replied {
			flags = "[UNREPLIED]"
		} else if f.Assured {
			flags = "[ASSURED]"
		}
		rows = append(rows, []string{f.Kind, f.Proto, f.OrigSrc + " -> " + f.OrigDst, f.ReplySrc + " -> " + f.ReplyDst, f.State, secs(f.Expires), flags})
	}
	t.table("    ", []string{"KIND", "PROTO", "ORIGINAL", "REPLY", "STATE", "EXPIRES", "FLAGS"}, rows)
	t.printf("  Published:\n")
	rows = nil
	for _, p := range g.Published {
		rows = append(rows, []string{p.Proto, p.Host, cmpOr(p.Bind, "0.0.0.0"), p.To, p.Container})
	}
	t.table("    ", []string{"PROTO", "HOST", "BIND", "TO", "CONTAINER"}, rows)
	t.printf("  DNS (embedded, 127.0.0.11):\n")
	rows = nil
	for _, d := range g.DNS {
		rows = append(rows, []string{d.Network, d.Name, d.Addr, strings.Join(d.Aliases, ",")})
	}
	t.table("    ", []string{"NETWORK", "NAME", "ADDR", "ALIASES"}, rows)
	t.printf("  IPAM:\n")
	rows = nil
	for _, a := range g.IPAM {
		rows = append(rows, []string{a.Network, a.Subnet, a.Gateway, a.IPRange, strings.Join(a.Allocated, ",")})
	}
	t.table("    ", []string{"NETWORK", "SUBNET", "GATEWAY", "RANGE", "ALLOCATED"}, rows)
	t.printf("  ARP:\n")
	rows = nil
	for _, n := range g.ARP {
		rows = append(rows, []string{n.Addr, n.MAC, n.Host})
	}
	t.table("    ", []string{"ADDR", "MAC", "HOST"}, rows)
	t.printf("  Forwarded %d; dropped: %s\n", g.Forwarded, cmpOr(counts(g.Drops), "none"))
}

func (t *text) hosts(indent string, hs []Host) {
	var rows [][]string
	for _, h := range hs {
		if len(h.Ifaces) == 0 {
			rows = append(rows, []string{h.Name, h.Kind, "", "", "", "", h.Gateway, h.Nameserver})
		}
		for _, i := range h.Ifaces {
			rows = append(rows, []string{h.Name, h.Kind, i.Name, i.Addr, i.MAC, i.Network, h.Gateway, h.Nameserver})
		}
	}
	t.table(indent, []string{"NAME", "KIND", "IFACE", "ADDR", "MAC", "NETWORK", "GATEWAY", "NAMESERVER"}, rows)
}

func (t *text) links(indent string, ls []Link) {
	var rows [][]string
	for _, l := range ls {
		loss := strconv.FormatFloat(l.Loss*100, 'f', -1, 64) + "%"
		rate := ""
		if l.Rate > 0 {
			rate = u64(l.Rate) + "bit"
		}
		rows = append(rows, []string{l.Name, yes(l.Up), secs(l.Latency), secs(l.Jitter), loss, rate,
			u64(l.AToB.Sent), u64(l.BToA.Sent), u64(l.AToB.Lost + l.BToA.Lost), u64(l.AToB.Dropped + l.BToA.Dropped)})
	}
	t.table(indent, []string{"LINK", "UP", "LATENCY", "JITTER", "LOSS", "RATE", "SENT A>B", "SENT B>A", "LOST", "DROPPED"}, rows)
}
