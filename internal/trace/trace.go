// Package trace is how nodes say what they did.
//
// Every node (switch, host, link) reports its decisions as Events to a
// Tracer: a MAC learned, a frame flooded and to which ports, a drop and its
// reason, an ARP resolution, a loss on a link. The scenario runner turns the
// stream into the narrated --explain output and into JSON lines. A nil Tracer
// costs one comparison per decision, so hot paths stay allocation-free when
// nobody listens.
package trace

import (
	"fmt"
	"strings"
	"time"
)

// Kind says what an Event reports.
type Kind string

// The kinds of event.
const (
	Learned   Kind = "learned"   // switch: a source address was learned
	Moved     Kind = "moved"     // switch: a known address appeared on another port
	Aged      Kind = "aged"      // switch: an address aged out
	Flushed   Kind = "flushed"   // switch: addresses removed because a port went down
	Forwarded Kind = "forwarded" // switch: known unicast sent to one port
	Flooded   Kind = "flooded"   // switch: unknown, broadcast or multicast sent to many
	Dropped   Kind = "dropped"   // any node: a frame was dropped, Reason says why
	Mirrored  Kind = "mirrored"  // switch: a copy went to a monitor port
	State     Kind = "state"     // a port or link changed state
	Host      Kind = "host"      // a host stack event (ARP, ICMP, UDP), Detail says which
	Lost      Kind = "lost"      // a link lost a frame (impairment or full queue)
	STP       Kind = "stp"       // spanning tree: root, role and state changes, BPDUs that mattered
	Routed    Kind = "routed"    // router: a packet forwarded (and translated) to another network
)

// Event is one decision of one node.
type Event struct {
	Time   time.Time `json:"-"`
	Node   string    `json:"node"`
	Kind   Kind      `json:"kind"`
	Port   string    `json:"port,omitempty"`
	VLAN   uint16    `json:"vlan,omitempty"`
	Src    string    `json:"src,omitempty"`
	Dst    string    `json:"dst,omitempty"`
	Ports  []string  `json:"ports,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Tracer receives events. Implementations used by the netns backend must be
// safe for concurrent use.
type Tracer interface {
	Trace(e Event)
}

// Func adapts a function to Tracer.
type Func func(Event)

// Trace calls f(e).
func (f Func) Trace(e Event) { f(e) }

// Narrate renders e as one English sentence, the --explain line.
func Narrate(e Event) string {
	var b strings.Builder
	b.WriteString(e.Node)
	b.WriteString(" ")
	switch e.Kind {
	case Learned:
		fmt.Fprintf(&b, "learned %s on %s vlan %d", e.Src, e.Port, e.VLAN)
	case Moved:
		fmt.Fprintf(&b, "saw %s move to %s vlan %d (%s)", e.Src, e.Port, e.VLAN, e.Reason)
	case Aged:
		fmt.Fprintf(&b, "forgot %s on %s vlan %d: aged out", e.Src, e.Port, e.VLAN)
	case Flushed:
		fmt.Fprintf(&b, "forgot %s on %s vlan %d: %s", e.Src, e.Port, e.VLAN, e.Reason)
	case Forwarded:
		fmt.Fprintf(&b, "%s -> %s vlan %d: destination known on %s, forwarded", e.Src, e.Dst, e.VLAN, strings.Join(e.Ports, " "))
	case Flooded:
		to := strings.Join(e.Ports, " ")
		if to == "" {
			to = "no port"
		}
		fmt.Fprintf(&b, "%s -> %s vlan %d from %s: %s, flooded to %s", e.Src, e.Dst, e.VLAN, e.Port, e.Reason, to)
	case Dropped:
		if e.Port != "" {
			fmt.Fprintf(&b, "%s: ", e.Port)
		}
		b.WriteString("dropped")
		if e.Src != "" && e.Dst != "" {
			fmt.Fprintf(&b, " %s -> %s", e.Src, e.Dst)
		}
		fmt.Fprintf(&b, ": %s", e.Reason)
	case Mirrored:
		fmt.Fprintf(&b, "mirrored a frame of %s to %s", e.Port, strings.Join(e.Ports, " "))
	case Lost:
		fmt.Fprintf(&b, "lost a frame to %s: %s", e.Port, e.Reason)
	default:
		if e.Port != "" {
			fmt.Fprintf(&b, "%s: ", e.Port)
		}
		b.WriteString(e.Detail)
	}
	return b.String()
}
