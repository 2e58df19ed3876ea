package topo

import (
	"cmp"
	"fmt"
	"html"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netyard/netyard/sim"
	vswitch "github.com/netyard/netyard/switch"
)

// DOT draws the graph in Graphviz's language, for `dot -Tsvg` or
// `dot -Tpng`. It draws the configuration, not a run's result:
//
//   - a switch is a table with a row per port, in port order; its heading
//     says whether STP is on, with the bridge priority, the bridge ID and
//     the timers (or, STP off, whether the switch is on a loop of
//     switches, where a broadcast storms); a port's row gives its VLAN membership (access VLAN,
//     trunk's tagged VLANs and native VLAN), its STP settings (edge, cost,
//     priority, guards) and its part in a mirror; links end on the row of
//     their port;
//   - a host, container or client lists its interfaces with address, MAC
//     and VLAN, then its route, nameserver, listening ports and published
//     ports;
//   - a Docker host's gateway lists its legs (the LAN, and the gateway
//     address of each network) and its published ports;
//   - each Docker network is a cluster labelled with its subnet, gateway,
//     bridge device and internal flag, around its bridge and the
//     containers that are on it alone; the LAN and the none network are
//     clusters too;
//   - a link is coloured by the VLANs it carries (a trunk by one line per
//     VLAN) when the graph has VLANs, with a warning where its ends
//     disagree (untagged frames dropped, native VLANs that differ), and
//     labelled with its impairments (latency, jitter, loss, rate, queue);
//     a legend names the colours.
//
// Links are laid out left to right by hops from the first switch (from
// the LAN in a Docker graph). The output depends only on the graph: every
// list is walked in the graph's order or sorted, never in map order.
func (g *Graph) DOT() string {
	d := newDrawing(g)
	var b strings.Builder
	b.WriteString("graph netyard {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=10, nodesep=0.25, ranksep=0.9, newrank=true];\n")
	b.WriteString("  node [shape=plaintext, margin=0, fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, fontcolor=\"#7a3b00\"];\n")
	d.clusters(&b)
	for _, s := range g.Switches {
		if !d.drawn[s.Name] {
			d.switchNode(&b, "  ", &s)
		}
	}
	for i := range g.Hosts {
		if h := &g.Hosts[i]; !d.drawn[h.Name] {
			d.hostNode(&b, "  ", h)
		}
	}
	for i := range g.Links {
		d.edge(&b, i)
	}
	d.legend(&b)
	b.WriteString("}\n")
	return b.String()
}

// The colours of VLANs, in order of VLAN ID (VLAN 1 has its own grey),
// after the Okabe-Ito palette, which stays apart for colour-blind readers;
// each with a pale tint for the cells of ports and interfaces.
var (
	vlanLine = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c6d00"}
	vlanTint = []string{"#d3e6f3", "#f7dccb", "#cdeee4", "#f4e0ec", "#fbecc8", "#ddf0fb", "#eee5c8"}
)

const (
	vlan1Line   = "#777777"
	vlan1Tint   = "#e8e8e8"
	switchFill  = "#dde8f5"
	hostFill    = "#eeeeee"
	gatewayFill = "#f5e6cc"
	grey        = "#666666"
	warnColour  = "#c00000"
)

// drawing is what DOT works out before it writes: indexes of the graph,
// so that drawing stays linear in its size, and the layout.
type drawing struct {
	g      *Graph
	ix     *Index           // switches, hosts, links, ports and their settings
	adj    map[string][]int // a node's links, in link order
	portAt map[Endpoint]int // a port's index in PortNames
	conf   map[Endpoint]vswitch.PortConfig
	vlans  []uint16       // every VLAN the switches use, ascending; nil: the graph has no VLAN settings
	hue    map[uint16]int // a VLAN's colour, an index into vlanLine (VLAN 1 is grey)
	// depth is a node's distance in links from the root of its component.
	depth map[string]int
	// loop holds the switches with a link on a loop of switches.
	loop map[string]bool
	// cluster is the cluster a node is drawn in, by node name: the bridge
	// of a Docker network (or the LAN switch) it alone is linked to.
	cluster  map[string]string
	members  map[string][]*Host
	drawn    map[string]bool
	bridgeOf map[string]bridgeLeg   // a bridge switch's gateway leg
	hostAt   map[gwAddr]string      // a gateway's sandboxes, by address (Docker hosts' networks may share addresses)
	publish  map[gwAddr][]Publish   // by gateway and the address published to
	gwOf     map[string]string      // the gateway of each sandbox on its bridges
	aliases  map[[2]string][]string // by container and network
	// container holds the names of the Docker model's containers.
	container map[string]bool
}

// hostNamed returns the host named name, unless a switch has the name
// (as Graph.Kind decides), or nil.
func (d *drawing) hostNamed(name string) *Host {
	if d.ix.Kind(name) != HostNode {
		return nil
	}
	return d.ix.Host(name)
}

// gwAddr is an address on the bridges of one gateway.
type gwAddr struct {
	gw   string
	addr netip.Addr
}

// bridgeLeg is a Docker network as its gateway sees it.
type bridgeLeg struct {
	gw   string // the gateway's node
	rb   RouterBridge
	addr netip.Prefix // the gateway's address, with the subnet's length
}

func newDrawing(g *Graph) *drawing {
	d := &drawing{g: g, ix: g.Index(), adj: map[string][]int{}, portAt: map[Endpoint]int{}, conf: map[Endpoint]vswitch.PortConfig{},
		hue: map[uint16]int{}, depth: map[string]int{}, loop: map[string]bool{}, cluster: map[string]string{},
		members: map[string][]*Host{}, drawn: map[string]bool{}, bridgeOf: map[string]bridgeLeg{},
		hostAt: map[gwAddr]string{}, publish: map[gwAddr][]Publish{}, gwOf: map[string]string{}, aliases: map[[2]string][]string{}, container: map[string]bool{}}
	for i, l := range g.Links {
		d.adj[l.A.Node] = append(d.adj[l.A.Node], i)
		if l.B.Node != l.A.Node {
			d.adj[l.B.Node] = append(d.adj[l.B.Node], i)
		}
	}
	for _, s := range g.Switches {
		if d.ix.Switch(s.Name) == nil {
			continue
		}
		for i, p := range d.ix.PortNames(s.Name) {
			e := Endpoint{s.Name, p}
			if _, ok := d.portAt[e]; !ok {
				d.portAt[e] = i
				d.conf[e] = d.ix.PortConfig(s.Name, p)
			}
		}
	}
	d.findVLANs()
	d.layout()
	d.findLoops()
	d.indexDocker()
	return d
}

// indexDocker finds each Docker network's bridge and gateway leg, the
// cluster of each sandbox, addresses, published ports and aliases.
func (d *drawing) indexDocker() {
	g := d.g
	if g.Docker != nil {
		for _, c := range g.Docker.Containers {
			d.container[c.Name] = true
		}
	}
	for i := range g.Hosts {
		h := &g.Hosts[i]
		if h.Router == nil {
			continue
		}
		for _, rb := range h.Router.Bridges {
			f := h.Iface(rb.Iface)
			peer, ok := d.peer(Endpoint{h.Name, rb.Iface})
			if f == nil || !ok || d.ix.Switch(peer.Node) == nil {
				continue
			}
			d.bridgeOf[peer.Node] = bridgeLeg{gw: h.Name, rb: rb, addr: f.Addr}
			for _, li := range d.adj[peer.Node] { // the sandboxes on the bridge
				l := g.Links[li]
				other := l.A
				if other.Node == peer.Node {
					other = l.B
				}
				sb := d.hostNamed(other.Node)
				if sb == nil || sb.Router != nil {
					continue
				}
				d.gwOf[sb.Name] = cmp.Or(d.gwOf[sb.Name], h.Name)
				if sf := sb.Iface(other.Port); sf != nil {
					if k := (gwAddr{h.Name, sf.Addr.Addr()}); d.hostAt[k] == "" {
						d.hostAt[k] = sb.Name
					}
				}
			}
		}
		for _, p := range h.Router.Publish {
			k := gwAddr{h.Name, p.To.Addr()}
			d.publish[k] = append(d.publish[k], p)
		}
		for _, n := range h.Router.DNS {
			k := [2]string{n.Container, n.Network}
			if _, ok := d.aliases[k]; !ok {
				d.aliases[k] = n.Aliases
			}
		}
	}
	for i := range g.Hosts {
		h := &g.Hosts[i]
		if h.Router != nil || h.Loopback {
			continue
		}
		// A sandbox joins the cluster of the one bridge (or the LAN) it
		// is on; one on several networks stays between them.
		sw := ""
		for _, f := range h.Ifaces {
			peer, ok := d.peer(Endpoint{h.Name, f.Name})
			if !ok || (sw != "" && peer.Node != sw) {
				sw = ""
				break
			}
			sw = peer.Node
		}
		if _, ok := d.bridgeOf[sw]; ok || (sw == LANSwitch && g.Docker != nil) {
			d.cluster[h.Name] = sw
			d.members[sw] = append(d.members[sw], h)
		}
	}
}

// findVLANs collects the VLANs of every port, if any port is set to
// other than an access port in VLAN 1, and gives each its colour.
func (d *drawing) findVLANs() {
	var all []uint16
	used := false
	for _, s := range d.g.Switches {
		for _, p := range d.ix.PortNames(s.Name) {
			c := d.conf[Endpoint{s.Name, p}]
			if c.Mode == vswitch.Trunk {
				used = true
				all = append(all, c.Allowed...)
				if c.Native != 0 {
					all = append(all, c.Native)
				}
				continue
			}
			v := cmp.Or(c.PVID, 1)
			used = used || v != 1
			all = append(all, v)
		}
	}
	if !used {
		return
	}
	slices.Sort(all)
	d.vlans = slices.Compact(all)
	n := 0
	for _, v := range d.vlans {
		if v != 1 {
			d.hue[v] = n % len(vlanLine)
			n++
		}
	}
}

// layout gives each node its depth: breadth first from the LAN (in a
// Docker graph), then from each switch not yet reached, then from each
// host, walking links in their order.
func (d *drawing) layout() {
	g := d.g
	var roots []string
	if g.Docker != nil && d.ix.Switch(LANSwitch) != nil {
		roots = append(roots, LANSwitch)
	}
	for _, s := range g.Switches {
		roots = append(roots, s.Name)
	}
	for _, h := range g.Hosts {
		roots = append(roots, h.Name)
	}
	for _, r := range roots {
		if _, ok := d.depth[r]; ok {
			continue
		}
		d.depth[r] = 0
		for queue := []string{r}; len(queue) > 0; queue = queue[1:] {
			n := queue[0]
			for _, i := range d.adj[n] {
				l := g.Links[i]
				next := l.A.Node
				if next == n {
					next = l.B.Node
				}
				if _, ok := d.depth[next]; !ok {
					d.depth[next] = d.depth[n] + 1
					queue = append(queue, next)
				}
			}
		}
	}
}

// switchLink reports whether link i joins two switches.
func (d *drawing) switchLink(i int) bool {
	l := d.g.Links[i]
	return d.ix.Switch(l.A.Node) != nil && d.ix.Switch(l.B.Node) != nil
}

// findLoops marks the switches with a link on a loop of switches: a link
// that is not a bridge of the graph of switches (Tarjan's bridge-finding
// depth-first search, over link indexes so that parallel links count).
func (d *drawing) findLoops() {
	disc, low := map[string]int{}, map[string]int{}
	bridge := map[int]bool{}
	t := 0
	var visit func(u string, via int)
	visit = func(u string, via int) {
		t++
		disc[u], low[u] = t, t
		for _, i := range d.adj[u] {
			if i == via || !d.switchLink(i) {
				continue
			}
			l := d.g.Links[i]
			v := l.A.Node
			if v == u {
				v = l.B.Node
			}
			if disc[v] == 0 {
				visit(v, i)
				low[u] = min(low[u], low[v])
				if low[v] > disc[u] {
					bridge[i] = true
				}
			} else {
				low[u] = min(low[u], disc[v])
			}
		}
	}
	for _, s := range d.g.Switches {
		if disc[s.Name] == 0 {
			visit(s.Name, -1)
		}
	}
	for i, l := range d.g.Links {
		if d.switchLink(i) && !bridge[i] {
			d.loop[l.A.Node], d.loop[l.B.Node] = true, true
		}
	}
}

// peer returns the far end of the link at e.
func (d *drawing) peer(e Endpoint) (Endpoint, bool) {
	i := d.ix.LinkOf(e)
	ok := i >= 0
	if !ok {
		return Endpoint{}, false
	}
	if l := d.g.Links[i]; l.A == e {
		return l.B, true
	} else {
		return l.A, true
	}
}

// clusters draws each Docker network, the none network and the LAN as a
// cluster around its nodes.
func (d *drawing) clusters(b *strings.Builder) {
	g := d.g
	n := 0
	open := func(label, colour, fill, style string) {
		fmt.Fprintf(b, "  subgraph cluster_%d {\n    graph [label=<<table border=\"0\"><tr><td align=\"left\" balign=\"left\">%s</td></tr></table>>, labeljust=l, color=%q, bgcolor=%q, style=%q];\n", n, label, colour, fill, style)
		n++
	}
	members := func(sw string) {
		for _, h := range d.members[sw] {
			d.hostNode(b, "    ", h)
		}
	}
	if g.Docker != nil {
		if lan := d.ix.Switch(LANSwitch); lan != nil {
			label := "<b>the hosts' LAN</b>"
			if gw := d.lanGateway(); gw != nil {
				label += " " + esc(gw.Iface(gw.Router.LAN).Addr.Masked().String())
			}
			open(label, grey, "#fbfbf4", "rounded")
			d.switchNode(b, "    ", lan)
			members(LANSwitch)
			b.WriteString("  }\n")
		}
	}
	for _, s := range g.Switches {
		leg, ok := d.bridgeOf[s.Name]
		if !ok {
			continue
		}
		rb := leg.rb
		var ov *Network // an overlay: its gateway leg is internal whatever the network is
		if g.Docker != nil {
			if n := g.Docker.Network(leg.gw, rb.Network); n != nil && n.Scope == ScopeSwarm {
				ov = n
			}
		}
		label := fmt.Sprintf("<b>network %s</b> · bridge %s", esc(rb.Network), esc(rb.Iface))
		if ov != nil {
			label = fmt.Sprintf("<b>network %s</b> · overlay, VXLAN %d, MTU %d · switch %s", esc(rb.Network), ov.VNI, ov.MTU, esc(rb.Iface))
		}
		if g.Docker != nil && len(g.Docker.Hosts) > 1 {
			label += " on " + esc(leg.gw)
		}
		label += fmt.Sprintf("<br/>subnet %s · gateway %s", esc(leg.addr.Masked().String()), esc(leg.addr.Addr().String()))
		if r := d.ipRange(leg.gw, rb.Network); r.IsValid() && r != leg.addr.Masked() {
			label += " · ip-range " + esc(r.String())
		}
		colour, style := "#4a6fa5", "rounded"
		switch {
		case ov != nil && ov.Internal:
			label += fmt.Sprintf("<br/><font color=%q><b>internal</b>: no way out</font>", warnColour)
			colour, style = warnColour, "rounded,dashed"
		case ov != nil:
			label += "<br/>the way out: docker_gwbridge"
		case rb.Internal:
			label += fmt.Sprintf("<br/><font color=%q><b>internal</b>: no default route, nothing leaves the host</font>", warnColour)
			colour, style = warnColour, "rounded,dashed"
		}
		if ov != nil {
			label += fmt.Sprintf("<br/>hosts %s: one segment, joined by VXLAN over the LAN", esc(strings.Join(ov.Hosts, ", ")))
		}
		if rb.Network == DefaultNetwork {
			label += "<br/>default network: no name resolution"
		}
		open(label, colour, "#f4f8fc", style)
		d.switchNode(b, "    ", &s)
		members(s.Name)
		b.WriteString("  }\n")
	}
	if g.Docker != nil && slices.ContainsFunc(g.Hosts, func(h Host) bool { return h.Loopback }) {
		open("<b>network none</b><br/>loopback only: no interface, route or nameserver", grey, "#f7f7f7", "rounded,dashed")
		for i := range g.Hosts {
			if h := &g.Hosts[i]; h.Loopback {
				d.hostNode(b, "    ", h)
			}
		}
		b.WriteString("  }\n")
	}
}

// lanGateway returns the first gateway with a leg on the LAN, or nil.
func (d *drawing) lanGateway() *Host {
	for i := range d.g.Hosts {
		if h := &d.g.Hosts[i]; h.Router != nil && h.Iface(h.Router.LAN) != nil {
			return h
		}
	}
	return nil
}

// ipRange returns the IP range of a Docker network, if the model has one.
func (d *drawing) ipRange(gw, network string) netip.Prefix {
	if d.g.Docker != nil {
		if n := d.g.Docker.Network(gw, network); n != nil {
			return n.IPRange
		}
	}
	return netip.Prefix{}
}

// switchNode draws a switch: a heading, then a row per port.
func (d *drawing) switchNode(b *strings.Builder, indent string, s *Switch) {
	d.drawn[s.Name] = true
	g := d.g
	var head []string
	switch leg, ok := d.bridgeOf[s.Name]; {
	case ok:
		head = append(head, "Linux bridge of network "+esc(leg.rb.Network))
	case s.Name == LANSwitch && g.Docker != nil:
		head = append(head, "switch: the hosts' LAN")
	default:
		head = append(head, "switch")
	}
	if c := s.STP; c != nil {
		prio := uint16(vswitch.DefaultBridgePriority)
		def := " (default)"
		if c.Priority != nil {
			prio, def = *c.Priority, ""
		}
		head[0] += fmt.Sprintf(" · <b>STP on</b>, priority %d%s", prio, def)
		if !s.MAC.IsZero() {
			head = append(head, fmt.Sprintf("bridge ID %d.%s", prio, s.MAC))
		}
		head = append(head, fmt.Sprintf("hello %s · max age %s · forward delay %s",
			cmp.Or(c.HelloTime, vswitch.DefaultHelloTime), cmp.Or(c.MaxAge, vswitch.DefaultMaxAge), cmp.Or(c.ForwardDelay, vswitch.DefaultForwardDelay)))
		head = append(head, fmt.Sprintf("ports: cost %d, priority %d unless shown", vswitch.DefaultPathCost, vswitch.DefaultPortPriority))
	} else if d.loop[s.Name] {
		head[0] += fmt.Sprintf(" · <font color=%q><b>STP off, in a loop</b>: a broadcast storms</font>", warnColour)
	} else if slices.ContainsFunc(d.adj[s.Name], d.switchLink) {
		head[0] += " · STP off"
	}
	if s.AgeingTime != 0 {
		head = append(head, "ageing "+s.AgeingTime.String())
	}
	if s.MaxEntries != 0 {
		head = append(head, fmt.Sprintf("at most %d addresses", s.MaxEntries))
	}
	fmt.Fprintf(b, "%s%s [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">", indent, dotQuote(s.Name))
	fmt.Fprintf(b, "<tr><td bgcolor=%q><b>%s</b><br/><font point-size=\"8\">%s</font></td></tr>", switchFill, esc(s.Name), strings.Join(head, "<br/>"))
	for i, p := range d.ix.PortNames(s.Name) {
		text, fill := d.portText(s, p)
		fmt.Fprintf(b, "<tr><td port=\"p%d\" align=\"left\" bgcolor=%q>%s</td></tr>", i, fill, text)
	}
	b.WriteString("</table>>];\n")
}

// portText describes a port: its name, VLANs, STP settings and mirror
// part, with the tint of its VLAN for an access port.
func (d *drawing) portText(s *Switch, name string) (text, fill string) {
	c := d.conf[Endpoint{s.Name, name}]
	parts := []string{"<b>" + esc(name) + "</b>"}
	fill = "#ffffff"
	if d.vlans != nil {
		if c.Mode == vswitch.Trunk {
			parts = append(parts, "trunk", "tagged "+d.vlanList(c.Allowed))
			switch peer, _ := d.peer(Endpoint{s.Name, name}); {
			case c.Native != 0:
				parts = append(parts, fmt.Sprintf("native %d", c.Native))
			case peer.Node != "" && d.ix.Switch(peer.Node) == nil:
				parts = append(parts, fmt.Sprintf("<font color=%q>no native VLAN</font>", warnColour))
			default:
				parts = append(parts, "no native VLAN")
			}
		} else {
			v := cmp.Or(c.PVID, 1)
			parts = append(parts, fmt.Sprintf("VLAN %d", v))
			_, fill = d.colour(v)
		}
	}
	if s.STP != nil {
		if c.STP.Edge {
			parts = append(parts, "edge")
		}
		if c.STP.Cost != 0 {
			parts = append(parts, fmt.Sprintf("cost %d", c.STP.Cost))
		}
		if c.STP.Priority != 0 {
			parts = append(parts, fmt.Sprintf("priority %d", c.STP.Priority))
		}
		if c.STP.BPDUGuard {
			parts = append(parts, "BPDU guard")
		}
		if c.STP.RootGuard {
			parts = append(parts, "root guard")
		}
	}
	if m := s.Mirror; m != nil {
		if m.To == name {
			parts = append(parts, "<b>monitor</b>: copies of "+esc(strings.Join(m.Sources, ", "))+", forwards nothing")
			fill = "#fff3b0"
		} else if slices.Contains(m.Sources, name) {
			parts = append(parts, "mirrored to "+esc(m.To))
		}
	}
	if peer, ok := d.peer(Endpoint{s.Name, name}); ok {
		if h := d.hostNamed(peer.Node); h != nil && h.Router != nil {
			if o := h.Router.Overlay(peer.Port); o != nil {
				parts = append(parts, fmt.Sprintf("the VTEP: VXLAN %d to the other hosts", o.VNI))
			} else {
				parts = append(parts, "to the Docker host")
			}
		}
	} else {
		parts = append(parts, fmt.Sprintf("<font color=%q>unplugged</font>", grey))
	}
	return strings.Join(parts, " · "), fill
}

// vlanList writes a trunk's tagged VLANs; empty means all.
func (d *drawing) vlanList(vs []uint16) string {
	if len(vs) == 0 {
		return "all VLANs"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ", ")
}

// colour returns a VLAN's line colour and tint.
func (d *drawing) colour(v uint16) (line, tint string) {
	if v == 1 {
		return vlan1Line, vlan1Tint
	}
	i := d.hue[v]
	return vlanLine[i], vlanTint[i]
}

// hostNode draws a sandbox (host, container, client) or a gateway.
func (d *drawing) hostNode(b *strings.Builder, indent string, h *Host) {
	d.drawn[h.Name] = true
	kind, fill := d.hostKind(h)
	style := ""
	if h.Loopback {
		style = ` style="dashed"`
	}
	fmt.Fprintf(b, "%s%s [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\"%s>", indent, dotQuote(h.Name), style)
	fmt.Fprintf(b, "<tr><td bgcolor=%q><b>%s</b><br/><font point-size=\"8\">%s</font></td></tr>", fill, esc(h.Name), kind)
	for i, f := range h.Ifaces {
		text, tint := d.ifaceText(h, &f)
		fmt.Fprintf(b, "<tr><td port=\"i%d\" align=\"left\" bgcolor=%q>%s</td></tr>", i, tint, text)
	}
	if h.Loopback {
		b.WriteString("<tr><td align=\"left\">lo 127.0.0.1/8 only</td></tr>")
	}
	var notes []string
	if h.Router != nil {
		for _, p := range h.Router.Publish {
			to := esc(p.To.String())
			if c := d.hostAt[gwAddr{h.Name, p.To.Addr()}]; c != "" {
				to = esc(c) + " " + to
			}
			notes = append(notes, fmt.Sprintf("publishes %s/%s → %s", esc(p.Ext.String()), esc(p.Proto), to))
		}
		notes = append(notes, d.hostNotes(h)...)
	} else {
		if h.Gateway.IsValid() {
			notes = append(notes, "default route via "+esc(h.Gateway.String()))
		} else if len(h.Ifaces) > 0 && d.g.Docker != nil && d.cluster[h.Name] != LANSwitch {
			notes = append(notes, "no default route")
		}
		for _, r := range h.Routes {
			notes = append(notes, fmt.Sprintf("route %s via %s", esc(r.To.String()), esc(r.Via.String())))
		}
		if h.Nameserver.IsValid() {
			notes = append(notes, "nameserver "+esc(h.Nameserver.String()))
		}
		if l := listening(h); l != "" {
			notes = append(notes, "listens "+l)
		}
		if p := d.published(h); p != "" {
			notes = append(notes, "published "+p)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, "<tr><td align=\"left\" balign=\"left\"><font point-size=\"8\">%s</font></td></tr>", strings.Join(notes, "<br/>"))
	}
	b.WriteString("</table>>];\n")
}

// hostKind says what a host node is, with its heading's fill.
func (d *drawing) hostKind(h *Host) (string, string) {
	switch {
	case h.Router != nil:
		return "Docker host: routes, NAT, DNS on each gateway address", gatewayFill
	case !h.Sandbox():
		return h.Kind, gatewayFill
	case h.Loopback:
		return "container, --network none", hostFill
	case d.g.Docker != nil && d.cluster[h.Name] == LANSwitch:
		return "outside client on the LAN", hostFill
	case d.container[h.Name]:
		return "container", hostFill
	}
	return "host", hostFill
}

// ifaceText describes an interface: name, address, MAC, and what it is
// on: a gateway leg's network, a container's network and aliases, or the
// VLAN its switch port puts it in.
func (d *drawing) ifaceText(h *Host, f *Iface) (text, tint string) {
	parts := []string{"<b>" + esc(f.Name) + "</b> " + esc(f.Addr.String())}
	if !f.Addr.IsValid() { // a VTEP's port
		parts = []string{"<b>" + esc(f.Name) + "</b>"}
	}
	if f.MTU != 0 {
		parts = append(parts, fmt.Sprintf("MTU %d", f.MTU))
	}
	tint = "#ffffff"
	if r := h.Router; r != nil {
		o := r.Overlay(f.Name)
		switch {
		case f.Name == r.LAN:
			parts = append(parts, "on the LAN")
		case o != nil:
			parts = append(parts, fmt.Sprintf("VTEP of network %s: VXLAN %d over UDP 4789 of the LAN address", esc(o.Network), o.VNI))
		default:
			for _, rb := range r.Bridges {
				if rb.Iface == f.Name {
					what := "gateway of network " + esc(rb.Network)
					if rb.Internal {
						what += fmt.Sprintf(" <font color=%q>(internal)</font>", warnColour)
					}
					parts = append(parts, what)
				}
			}
		}
	} else if peer, ok := d.peer(Endpoint{h.Name, f.Name}); ok {
		if leg, ok := d.bridgeOf[peer.Node]; ok {
			parts = append(parts, esc(leg.rb.Network))
			if a := d.aliases[[2]string{h.Name, leg.rb.Network}]; len(a) > 0 {
				parts = append(parts, "aliases "+esc(strings.Join(a, ", ")))
			}
		}
		if d.vlans != nil && d.ix.Switch(peer.Node) != nil {
			c := d.conf[peer]
			v := cmp.Or(c.PVID, 1)
			if c.Mode == vswitch.Trunk {
				v = c.Native
			}
			if v == 0 {
				parts = append(parts, fmt.Sprintf("<font color=%q>in no VLAN: untagged frames dropped</font>", warnColour))
			} else {
				parts = append(parts, fmt.Sprintf("VLAN %d", v))
				_, tint = d.colour(v)
			}
		}
	}
	line := strings.Join(parts, " · ")
	if !f.MAC.IsZero() {
		line += fmt.Sprintf("<br/><font point-size=\"8\" color=%q>%s</font>", grey, f.MAC)
	}
	return line, tint
}

// listening writes a host's listening ports, "tcp/80, udp/53".
func listening(h *Host) string {
	var s []string
	for _, p := range h.ListenTCP {
		s = append(s, fmt.Sprintf("tcp/%d", p))
	}
	for _, p := range h.ListenUDP {
		s = append(s, fmt.Sprintf("udp/%d", p))
	}
	return strings.Join(s, ", ")
}

// published writes the ports gateways publish to h, "8080→80/tcp".
func (d *drawing) published(h *Host) string {
	var s []string
	for _, f := range h.Ifaces {
		for _, p := range d.publish[gwAddr{d.gwOf[h.Name], f.Addr.Addr()}] {
			s = append(s, fmt.Sprintf("%d→%d/%s", p.Ext.Port(), p.To.Port(), esc(p.Proto)))
		}
	}
	return strings.Join(s, ", ")
}

// edge draws link i from the end nearer the root to the far end, each end
// on its port's row, coloured by the VLANs it carries and labelled with
// its impairments.
func (d *drawing) edge(b *strings.Builder, i int) {
	l := d.g.Links[i]
	tail, head := l.A, l.B
	if d.depth[head.Node] < d.depth[tail.Node] {
		tail, head = head, tail
	}
	sameRank := d.depth[head.Node] == d.depth[tail.Node]
	attrs := []string{}
	var label []string
	if sameRank {
		attrs = append(attrs, "constraint=false")
	}
	if d.vlans != nil {
		vs, warn := d.carried(l)
		if len(vs) == 0 {
			attrs = append(attrs, fmt.Sprintf("color=%q, style=dashed", warnColour))
		} else {
			cs := make([]string, len(vs))
			for k, v := range vs {
				cs[k], _ = d.colour(v)
			}
			attrs = append(attrs, fmt.Sprintf("color=%q, penwidth=2", strings.Join(cs, ":")))
		}
		if warn != "" {
			label = append(label, fmt.Sprintf("<font color=%q>%s</font>", warnColour, warn))
		}
	}
	if imp := impairments(l.Config); imp != "" {
		label = append(label, imp)
	}
	if len(label) > 0 {
		attrs = append(attrs, "label=<"+strings.Join(label, "<br/>")+">")
	}
	// The ports as attributes rather than "node":port, so that the edge
	// reads "a" -- "b" as it always did.
	var ports []string
	if p := d.port(tail, !sameRank, "e"); p != "" {
		ports = append(ports, fmt.Sprintf("tailport=%q", p))
	}
	if p := d.port(head, !sameRank, "w"); p != "" {
		ports = append(ports, fmt.Sprintf("headport=%q", p))
	}
	attrs = append(ports, attrs...)
	fmt.Fprintf(b, "  %s -- %s", dotQuote(tail.Node), dotQuote(head.Node))
	if len(attrs) > 0 {
		fmt.Fprintf(b, " [%s]", strings.Join(attrs, ", "))
	}
	b.WriteString(";\n")
}

// port names a link's end on its node's table ("p2", "i0"), with a
// compass point when the link runs between ranks; "" if the end is not
// one the graph declares.
func (d *drawing) port(e Endpoint, compass bool, side string) string {
	port := ""
	if d.ix.Switch(e.Node) != nil {
		if k, ok := d.portAt[e]; ok {
			port = fmt.Sprintf("p%d", k)
		}
	} else if h := d.hostNamed(e.Node); h != nil {
		if k := slices.IndexFunc(h.Ifaces, func(f Iface) bool { return f.Name == e.Port }); k >= 0 {
			port = fmt.Sprintf("i%d", k)
		}
	}
	if port != "" && compass {
		port += ":" + side
	}
	return port
}

// vlanEnd is a VLAN setting as a link's end sees it: the VLAN untagged
// frames join (0: dropped), and the VLANs it carries tagged (all: every
// VLAN; a host carries none).
type vlanEnd struct {
	host     bool
	untagged uint16
	tagged   []uint16
	all      bool
}

func (d *drawing) vlanEnd(e Endpoint) vlanEnd {
	if d.ix.Switch(e.Node) == nil {
		return vlanEnd{host: true}
	}
	c := d.conf[e]
	if c.Mode != vswitch.Trunk {
		return vlanEnd{untagged: cmp.Or(c.PVID, 1)}
	}
	return vlanEnd{untagged: c.Native, tagged: c.Allowed, all: len(c.Allowed) == 0}
}

// carried returns the VLANs a link carries, ascending, and a warning
// where its ends disagree.
func (d *drawing) carried(l Link) ([]uint16, string) {
	a, b := d.vlanEnd(l.A), d.vlanEnd(l.B)
	if a.host && b.host {
		return nil, ""
	}
	if a.host || b.host {
		sw := a
		if a.host {
			sw = b
		}
		if sw.untagged == 0 {
			return nil, "untagged frames dropped: no native VLAN"
		}
		return []uint16{sw.untagged}, ""
	}
	var vs []uint16
	switch {
	case a.all && b.all:
		vs = slices.Clone(d.vlans)
	case a.all:
		vs = slices.Clone(b.tagged)
	case b.all:
		vs = slices.Clone(a.tagged)
	default:
		for _, v := range a.tagged {
			if slices.Contains(b.tagged, v) {
				vs = append(vs, v)
			}
		}
	}
	warn := ""
	switch {
	case a.untagged != 0 && a.untagged == b.untagged:
		vs = append(vs, a.untagged)
	case a.untagged != 0 && b.untagged != 0:
		vs = append(vs, a.untagged, b.untagged)
		warn = fmt.Sprintf("untagged: VLAN %d at %s, VLAN %d at %s", a.untagged, esc(l.A.String()), b.untagged, esc(l.B.String()))
	case a.untagged != 0 || b.untagged != 0:
		has, hasnt, v := l.A, l.B, a.untagged
		if v == 0 {
			has, hasnt, v = l.B, l.A, b.untagged
		}
		warn = fmt.Sprintf("native VLAN %d at %s only: %s drops its untagged frames", v, esc(has.String()), esc(hasnt.String()))
	}
	slices.Sort(vs)
	return slices.Compact(vs), warn
}

// impairments writes a link's impairments, "latency 10ms · loss 10%".
func impairments(c sim.LinkConfig) string {
	var s []string
	if c.Latency != 0 {
		s = append(s, "latency "+c.Latency.String())
	}
	if c.Jitter != 0 {
		s = append(s, "jitter "+c.Jitter.String())
	}
	if c.Loss != 0 {
		s = append(s, "loss "+strconv.FormatFloat(c.Loss*100, 'g', 4, 64)+"%")
	}
	if c.Rate != 0 {
		s = append(s, rate(c.Rate))
	}
	if c.Queue != 0 {
		s = append(s, fmt.Sprintf("queue %d", c.Queue))
	}
	return strings.Join(s, " · ")
}

// rate writes bits per second in the largest unit that divides them.
func rate(r uint64) string {
	for _, u := range []struct {
		n    uint64
		name string
	}{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}} {
		if r%u.n == 0 {
			return fmt.Sprintf("%d %s", r/u.n, u.name)
		}
	}
	return fmt.Sprintf("%d bit/s", r)
}

// legend names the VLAN colours, as the graph's label.
func (d *drawing) legend(b *strings.Builder) {
	if d.vlans == nil {
		return
	}
	b.WriteString("  graph [labelloc=b, labeljust=l, label=<<table border=\"0\" cellspacing=\"4\"><tr><td><b>VLANs</b></td>")
	for _, v := range d.vlans {
		line, tint := d.colour(v)
		fmt.Fprintf(b, "<td bgcolor=%q border=\"1\" color=%q>&nbsp;&nbsp;VLAN %d&nbsp;&nbsp;</td>", tint, line, v)
	}
	b.WriteString("<td>a trunk is drawn with one line per VLAN it carries; hosts hear only hosts of their own VLAN</td></tr></table>>];\n")
}

// esc escapes s for an HTML-like label.
func esc(s string) string { return html.EscapeString(s) }

// dotQuote quotes s as a DOT identifier. DOT escapes only the double
// quote; a backslash is doubled so that one at the end cannot escape the
// closing quote (Graphviz then shows both).
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`).Replace(s) + `"`
}
