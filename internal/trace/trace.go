// Package trace is how nodes say what they did.
//
// Every node (switch, host, gateway, link) reports its decisions as Events
// to a Tracer: a MAC learned, a frame flooded and to which ports, a drop
// and its reason, an ARP resolution, a role change in the spanning tree, a
// flow translated, a loss on a link. An Event is data: a Kind, for most
// kinds an Op saying which event of the kind it is, and typed fields
// (addresses, ports, codes, roles and states), so that a program reads a
// blocked port or a translated flow from fields, never from prose.
//
// # Renderers
//
// Narrate renders an Event as the one English sentence of the --explain
// output; JSONLines renders it as a JSON line carrying every field, and
// the sentence as "detail" where one was there before the fields.
//
// # Fan-out
//
// A Bus is a Tracer that delivers each event to several subscribers
// (narration, JSON lines, a live page): synchronously, on the goroutine
// that traced it, for sinks that must see a deterministic stream; or
// through a bounded queue for a slow subscriber, which loses (and counts)
// what does not fit rather than hold up the data path.
//
// # Cost
//
// A nil Tracer costs one comparison per decision: emitters build an Event
// only when someone listens, so hot paths stay allocation-free when nobody
// does. Events are passed by value and hold no interfaces.
package trace

import (
	"net/netip"
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
	State     Kind = "state"     // a port changed state (Op: OpCarrier or OpAdmin)
	Host      Kind = "host"      // a host stack event (ARP, ICMP, UDP, TCP, DNS); Op says which
	Lost      Kind = "lost"      // a link lost a frame (impairment, full queue, link down)
	STP       Kind = "stp"       // spanning tree: root, role and state changes, BPDUs that mattered; Op says which
	Routed    Kind = "routed"    // router: a packet forwarded (and translated) to another network
	Frame     Kind = "frame"     // a link carried a frame (only to subscribers that ask for frames)
	Overlay   Kind = "overlay"   // a VTEP or the overlay's control plane (gossip, peers, members); Op says which
)

// Event is one decision of one node. Node, Kind and Op say who did what;
// the other fields are set where they apply, and are zero otherwise. The
// Ops' comments say which fields each sets.
type Event struct {
	Time time.Time `json:"-"`
	Node string    `json:"node"`
	Kind Kind      `json:"kind"`
	Op   Op        `json:"op,omitzero"`

	// Switch and link fields, and the port any event happened on.
	Port   string   `json:"port,omitempty"`
	VLAN   uint16   `json:"vlan,omitempty"`
	Src    string   `json:"src,omitempty"` // source MAC (switch); source address (gateway drops)
	Dst    string   `json:"dst,omitempty"` // destination MAC (switch); destination address (gateway drops)
	Ports  []string `json:"ports,omitempty"`
	Reason string   `json:"reason,omitempty"` // a drop's, flood's, loss's or change's cause; a TCP segment's effects
	// Detail is free text, for an event no Op describes. Typed events
	// leave it empty; the JSON renderer fills it with their sentence.
	Detail string `json:"detail,omitempty"`

	// Packet fields: the IP packet, flow or neighbour concerned.
	Proto   Proto          `json:"proto,omitzero"`    // IP protocol; for DNS, the transport
	SrcIP   netip.Addr     `json:"src_ip,omitzero"`   // source address (ARP: the sender's)
	SrcPort uint16         `json:"src_port,omitzero"` // source port (NAT'd ICMP: the identifier)
	DstIP   netip.Addr     `json:"dst_ip,omitzero"`   // destination address (ARP: the target's)
	DstPort uint16         `json:"dst_port,omitzero"` // destination port
	NATSrc  netip.AddrPort `json:"nat_src,omitzero"`  // source as translated (routed: as the packet left)
	NATDst  netip.AddrPort `json:"nat_dst,omitzero"`  // destination as translated
	NATFlow FlowChange     `json:"nat_flow,omitzero"` // what the packet did to its NAT flow
	Via     netip.Addr     `json:"via,omitzero"`      // routed: the next hop, where it is not the destination
	TTL     uint8          `json:"ttl,omitzero"`      // routed: the TTL the packet arrived with (it left with one less)
	MAC     string         `json:"mac,omitempty"`     // ARP: the hardware address resolved or announced
	ICMP    ICMPType       `json:"icmp,omitzero"`     // ICMP type and code, where the event is about an ICMP message
	ID      uint16         `json:"id,omitzero"`       // ICMP echo identifier, DNS message ID, IPv4 datagram ID
	Seq     uint16         `json:"seq,omitzero"`      // ICMP echo sequence number
	Flags   TCPFlags       `json:"tcp_flags,omitzero"`
	Len     int            `json:"len,omitzero"`   // payload bytes (UDP, TCP data, a reassembled datagram, a frame)
	Count   int            `json:"count,omitzero"` // fragments reassembled
	Try     int            `json:"try,omitzero"`   // which attempt (ARP request, DNS upstream)
	Tries   int            `json:"tries,omitzero"` // attempts allowed, or made
	Dur     time.Duration  `json:"-"`              // an RTT, a timeout, a fast-ageing time (JSON: "dur", in seconds)

	// DNS fields.
	Name     string         `json:"name,omitempty"`    // the question's name
	QType    string         `json:"qtype,omitempty"`   // the question's type: "A", "PTR"
	Rcode    string         `json:"rcode,omitempty"`   // an answer's rcode: "NOERROR", "NXDOMAIN"
	Answers  []string       `json:"answers,omitempty"` // an answer's records: "A 172.17.0.3", "PTR db."
	TC       bool           `json:"tc,omitempty"`      // the answer was truncated
	Upstream netip.AddrPort `json:"upstream,omitzero"` // the upstream server concerned
	NewID    uint16         `json:"new_id,omitzero"`   // the ID a forwarded query got upstream

	// Spanning tree fields; states are also a port's or link's "up" and
	// "down".
	Role     string `json:"role,omitempty"`      // a port's role: "root", "designated", "alternate", "backup", "disabled"
	WasRole  string `json:"was_role,omitempty"`  // its role before
	State    string `json:"state,omitempty"`     // a port's STP state ("blocking" ... "forwarding"), or "up"/"down"
	WasState string `json:"was_state,omitempty"` // its state before
	Root     string `json:"root,omitempty"`      // a root bridge ID: the new root, or the one a BPDU offers
	Bridge   string `json:"bridge,omitempty"`    // the bridge ID a BPDU came from (or, claiming root, this one)
	Cost     uint32 `json:"cost,omitzero"`       // root path cost
	RootPort string `json:"root_port,omitempty"` // the root port

	// Overlay fields: a VTEP's frames and the control plane's tables.
	VNI       uint32     `json:"vni,omitzero"`        // the VXLAN network identifier
	VTEP      netip.Addr `json:"vtep,omitzero"`       // the remote VTEP (the outer address) concerned
	Network   string     `json:"network,omitempty"`   // the Docker network concerned
	Container string     `json:"container,omitempty"` // the container (endpoint) concerned
	Member    string     `json:"member,omitempty"`    // the Docker host (cluster member) concerned
	From      string     `json:"from,omitempty"`      // the member a piece of gossip came from
	Round     int        `json:"round,omitzero"`      // the sender's gossip round it came in (0: a bulk sync or a direct message)
	Lamport   uint64     `json:"lamport,omitzero"`    // the entry's Lamport time

	// Link fields.
	Link    string `json:"link,omitempty"`    // the link's name
	Summary string `json:"summary,omitempty"` // a frame, decoded in one line
	// Bytes is a Frame event's frame, a copy the subscriber may keep (a
	// live capture, a page's frame decode); not in JSON.
	Bytes []byte `json:"-"`
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

// Wants reports whether t listens to events of kind k: false for a nil
// Tracer; for a Tracer with a Wants(Kind) bool method (a Bus), what it
// says; otherwise true for every kind but Frame. Emitters of kinds that are costly to build and
// that few want (Frame) ask first.
func Wants(t Tracer, k Kind) bool {
	if t == nil {
		return false
	}
	if w, ok := t.(interface{ Wants(Kind) bool }); ok {
		return w.Wants(k)
	}
	return k != Frame
}
