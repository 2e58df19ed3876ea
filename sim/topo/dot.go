package topo

import (
	"fmt"
	"strings"
)

// DOT draws the graph in Graphviz's language: switches as boxes, sandboxes
// as ellipses, a Docker host's gateway as a rounded box listing its legs and published ports,
// links as edges labelled with the ends' ports and addresses. Render it
// with `dot -Tsvg`. The output depends only on the graph.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("graph netyard {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\"];\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, s := range g.Switches {
		label := s.Name
		if s.STP != nil {
			label += "\\n(STP)"
		}
		fmt.Fprintf(&b, "  %s [shape=box, style=filled, fillcolor=\"#dde8f5\", label=%s];\n", dotQuote(s.Name), dotQuote(label))
	}
	for _, h := range g.Hosts {
		switch {
		case h.Router != nil:
			lines := []string{h.Name + " (gateway)"}
			for _, i := range h.Ifaces {
				lines = append(lines, i.Name+" "+i.Addr.String())
			}
			for _, p := range h.Router.Publish {
				lines = append(lines, fmt.Sprintf("%s/%s -> %s", p.Ext, p.Proto, p.To))
			}
			fmt.Fprintf(&b, "  %s [shape=box, style=\"rounded,filled\", fillcolor=\"#f5e6cc\", label=%s];\n", dotQuote(h.Name), dotQuote(strings.Join(lines, "\\n")))
		case h.Loopback:
			fmt.Fprintf(&b, "  %s [shape=ellipse, style=dashed, label=%s];\n", dotQuote(h.Name), dotQuote(h.Name+"\\nlo only"))
		default:
			fmt.Fprintf(&b, "  %s [shape=ellipse];\n", dotQuote(h.Name))
		}
	}
	for _, l := range g.Links {
		fmt.Fprintf(&b, "  %s -- %s [taillabel=%s, headlabel=%s];\n", dotQuote(l.A.Node), dotQuote(l.B.Node), dotQuote(g.endLabel(l.A)), dotQuote(g.endLabel(l.B)))
	}
	b.WriteString("}\n")
	return b.String()
}

// endLabel names a link's end: a switch port, or an interface and its
// address.
func (g *Graph) endLabel(e Endpoint) string {
	if h := g.Host(e.Node); h != nil {
		if i := h.Iface(e.Port); i != nil && h.Router == nil {
			return e.Port + "\\n" + i.Addr.String()
		}
	}
	return e.Port
}

// dotQuote quotes s as a DOT string; \n in s stays DOT's line break.
func dotQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
