package trace

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Op says which event of its Kind an Event is. The zero Op is for kinds
// with one event (the switch's, Routed, Lost, Frame). In JSON it is its
// name ("arp-request").
type Op uint8

// Host ops (Kind Host) and the fields each sets besides Port.
const (
	OpNone               Op = iota
	OpARPRequest            // an ARP request sent: DstIP asked for, SrcIP to tell, Try of Tries
	OpARPResolved           // an ARP reply received: SrcIP is at MAC
	OpARPReply              // an ARP request answered: to DstIP, SrcIP (ours) is at MAC
	OpARPFailed             // no reply to Tries requests for DstIP: host unreachable
	OpNeighbourEvicted      // the neighbour DstIP evicted from a full table
	OpEchoRequest           // an echo request sent to DstIP: ID, Seq
	OpEchoAnswered          // an echo request from SrcIP (to DstIP) answered: ID, Seq
	OpEchoReply             // an echo reply from SrcIP: ID, Seq, Dur the RTT
	OpICMPError             // an ICMP error (ICMP) from SrcIP received; Reason its name where ICMP.Known is false
	OpUDPSent               // a datagram sent from SrcPort to DstIP:DstPort, Len bytes; SrcIP when not the route's address
	OpUDPReceived           // a datagram from SrcIP:SrcPort to DstIP:DstPort delivered, Len bytes
	OpUDPUnreachable        // a datagram from SrcIP:SrcPort to DstIP:DstPort found no socket: port unreachable sent
	OpDNSQuery              // a query sent: ID, DstIP the server, QType, Name, Proto the transport
	OpTCPSent               // a segment sent SrcIP:SrcPort -> DstIP:DstPort: Flags, Len data bytes, Reason notes
	OpTCPReceived           // a segment received SrcIP:SrcPort -> DstIP:DstPort: Flags, Len data bytes, Reason what it did
	OpTCPNote               // a connection (SrcIP:SrcPort local, DstIP:DstPort remote) did Reason on its own
	OpTCPNoRoute            // a connect to DstIP:DstPort sent no SYN: Reason
	OpCarrier               // (Kinds Host and State) the port's carrier went State "up" or "down"
	OpAdmin                 // (Kind State) the port was set administratively State "up" or "down"
	OpReassembled           // fragments of datagram ID SrcIP -> DstIP, Proto, reassembled: Count fragments, Len bytes
	OpDNSAnswer             // an answer to the client DstIP:DstPort from SrcIP over Proto: Name, Answers, Rcode, TC; Upstream it came from, or Tries upstreams that did not answer; Reason when the query did not unpack
	OpDNSForwarded          // a query ID from SrcIP:SrcPort for QType Name sent to Upstream (Try of Tries) as NewID
	OpDNSUpstreamError      // query ID for Name could not be sent to Upstream: Reason
	OpDNSUpstreamTimeout    // Upstream did not answer query ID for Name within Dur
	OpDNSUpstreamFailed     // query ID to Upstream failed (an ICMP error, an unresolved hop): Reason
	OpDNSUpstreamRcode      // Upstream answered query ID for Name with Rcode: trying the next

	// Spanning tree ops (Kind STP); Reason says why where there is one.
	OpClaimsRoot        // the bridge (Bridge) claims root
	OpRoot              // the root is Root at Cost through RootPort
	OpRole              // the port's role WasRole -> Role; with Bridge, the BPDU it holds offers Root at Cost
	OpState             // the port's state WasState -> State
	OpTCNotify          // a topology change: notifying the root through RootPort
	OpTC                // (the root) a topology change: TC flag and fast ageing for Dur
	OpHello             // the root sends BPDUs claiming root
	OpBPDUGuard         // an edge port with BPDU guard heard Bridge: disabled
	OpEdgeLost          // an edge port heard a BPDU: now a normal port
	OpTCNReceived       // a topology change notice received and acknowledged
	OpRootGuard         // a root-guard port heard Bridge claim the better Root: blocked
	OpTCAck             // the topology change notice acknowledged by Bridge
	OpRootGuardReleased // a root-guard port's superior BPDUs stopped: released
	OpMaxAge            // the information from Bridge reached max age
	OpBPDUStopped       // BPDU transmission stopped (a scenario's failed root)
	OpBPDUResumed       // BPDU transmission resumed

	// Overlay ops (Kind Overlay).
	OpEncap          // a frame Src -> Dst (Len bytes) encapsulated in VNI to the VTEP
	OpDecap          // a frame Src -> Dst (Len bytes) from the VTEP decapsulated from VNI
	OpProxyARP       // an ARP request for DstIP answered locally from the peer table: at MAC
	OpPeerAdded      // Container (SrcIP, MAC) on Network is at the VTEP: learned From a member in Round, at Lamport
	OpPeerRemoved    // Container (SrcIP) on Network at the VTEP forgotten: Reason
	OpPeerLearned    // (flood-and-learn) Src on VNI is behind the VTEP
	OpMemberJoined   // Member (VTEP its address) joined; Reason how it was heard
	OpMemberSuspect  // Member did not answer a probe: suspect; Reason
	OpMemberAlive    // Member answered again (refuted suspicion)
	OpMemberDead     // Member declared dead: Reason; its entries go with it
	OpMemberLeft     // Member left the cluster
	OpNetworkJoined  // Member joined Network (it has endpoints there)
	OpNetworkLeft    // Member left Network
	OpBulkSync       // a bulk sync of Network with Member: Count entries, Reason which way
	OpGossipRejected // a gossip message From a member (VTEP its address) refused: Reason

	numOps
)

var opNames = [numOps]string{
	"", "arp-request", "arp-resolved", "arp-reply", "arp-failed", "neighbour-evicted",
	"echo-request", "echo-answered", "echo-reply", "icmp-error",
	"udp-sent", "udp-received", "udp-unreachable", "dns-query",
	"tcp-sent", "tcp-received", "tcp-note", "tcp-no-route",
	"carrier", "admin", "reassembled",
	"dns-answer", "dns-forwarded", "dns-upstream-error", "dns-upstream-timeout", "dns-upstream-failed", "dns-upstream-rcode",
	"claims-root", "root", "role", "state", "tc-notify", "tc", "hello", "bpdu-guard", "edge-lost",
	"tcn-received", "root-guard", "tc-ack", "root-guard-released", "max-age", "bpdu-stopped", "bpdu-resumed",
	"encap", "decap", "proxy-arp", "peer-added", "peer-removed", "peer-learned",
	"member-joined", "member-suspect", "member-alive", "member-dead", "member-left",
	"network-joined", "network-left", "bulk-sync", "gossip-rejected",
}

// String returns the Op's name: "arp-request".
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "op" + strconv.Itoa(int(o))
}

// Ops returns every Op but OpNone, in order.
func Ops() []Op {
	ops := make([]Op, 0, numOps-1)
	for o := OpNone + 1; o < numOps; o++ {
		ops = append(ops, o)
	}
	return ops
}

// MarshalText returns the Op's name.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText takes an Op's name.
func (o *Op) UnmarshalText(b []byte) error {
	for i, n := range opNames {
		if n == string(b) {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("trace: unknown op %q", b)
}

// Proto is an IP protocol number. In JSON it is "icmp", "tcp" or "udp",
// or the number in a string.
type Proto uint8

// The protocols netyard's nodes speak.
const (
	ICMP Proto = 1
	TCP  Proto = 6
	UDP  Proto = 17
)

// String returns "icmp", "tcp" or "udp", or the number.
func (p Proto) String() string {
	switch p {
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return strconv.Itoa(int(p))
}

// MarshalText returns the protocol's name.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText takes a protocol's name or number.
func (p *Proto) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "icmp":
		*p = ICMP
	case "tcp":
		*p = TCP
	case "udp":
		*p = UDP
	default:
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return fmt.Errorf("trace: bad protocol %q", b)
		}
		*p = Proto(n)
	}
	return nil
}

// TCPFlags are a TCP header's flags, with its bits (byte 13). In JSON they
// are a list of names in bit order: ["SYN","ACK"].
type TCPFlags uint8

// The TCP flags.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

var flagNames = [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// String names the flags as the host's narration does: "SYN", "SYN-ACK",
// "PSH-ACK", "FIN-ACK", "RST-ACK", or "no flags"; SYN first, then FIN,
// RST, PSH, ACK, URG, ECE, CWR.
func (f TCPFlags) String() string {
	var b strings.Builder
	for _, bit := range [...]TCPFlags{SYN, FIN, RST, PSH, ACK, URG, ECE, CWR} {
		if f&bit != 0 {
			if b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString(bit.name())
		}
	}
	if b.Len() == 0 {
		return "no flags"
	}
	return b.String()
}

// name is the name of a single flag.
func (f TCPFlags) name() string {
	for i, n := range flagNames {
		if f == 1<<i {
			return n
		}
	}
	return ""
}

// list names the flags in bit order, as Wireshark shows them: "SYN, ACK".
func (f TCPFlags) list() string {
	var b strings.Builder
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// MarshalJSON returns the flags' names in bit order.
func (f TCPFlags) MarshalJSON() ([]byte, error) {
	names := []string{}
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return json.Marshal(names)
}

// UnmarshalJSON takes a list of flag names.
func (f *TCPFlags) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	*f = 0
	for _, n := range names {
		i := 0
		for i < len(flagNames) && flagNames[i] != n {
			i++
		}
		if i == len(flagNames) {
			return fmt.Errorf("trace: unknown TCP flag %q", n)
		}
		*f |= 1 << i
	}
	return nil
}

// ICMPType is an ICMP message's type and code.
type ICMPType struct {
	Type uint8 `json:"type"`
	Code uint8 `json:"code"`
}

// String says the message as a kernel's socket error would ("port
// unreachable", "TTL exceeded"), or gives its type and code ("type 3 code
// 13") when Known reports false.
func (m ICMPType) String() string {
	switch m {
	case ICMPType{3, 0}:
		return "network unreachable"
	case ICMPType{3, 1}:
		return "host unreachable"
	case ICMPType{3, 3}:
		return "port unreachable"
	case ICMPType{11, 0}:
		return "TTL exceeded"
	}
	return fmt.Sprintf("type %d code %d", m.Type, m.Code)
}

// Known reports whether String has words for m.
func (m ICMPType) Known() bool {
	switch m {
	case ICMPType{3, 0}, ICMPType{3, 1}, ICMPType{3, 3}, ICMPType{11, 0}:
		return true
	}
	return false
}

// FlowChange says what a packet did to its NAT flow. In JSON it is
// "created", "closed" or "created-closed".
type FlowChange uint8

// What a packet did to its flow.
const (
	FlowKept          FlowChange = iota // it belonged to a flow that goes on
	FlowCreated                         // it started a flow
	FlowClosed                          // it ended its flow (a TCP reset before any reply)
	FlowCreatedClosed                   // it started a flow and ended it at once (a reset first)
)

var flowNames = [...]string{"", "created", "closed", "created-closed"}

// String returns the change's name.
func (c FlowChange) String() string {
	if int(c) < len(flowNames) {
		return flowNames[c]
	}
	return "flow" + strconv.Itoa(int(c))
}

// MarshalText returns the change's name.
func (c FlowChange) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText takes a change's name.
func (c *FlowChange) UnmarshalText(b []byte) error {
	for i, n := range flowNames {
		if n == string(b) {
			*c = FlowChange(i)
			return nil
		}
	}
	return fmt.Errorf("trace: unknown flow change %q", b)
}
