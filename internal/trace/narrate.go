package trace

import (
	"fmt"
	"net/netip"
	"strings"
)

// Narrate renders e as one English sentence, the --explain line: the
// node, then what it did, from the event's fields.
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
	case Frame:
		fmt.Fprintf(&b, "carried a frame of %d bytes from %s: %s", e.Len, e.Port, e.Summary)
	default:
		if e.Port != "" {
			fmt.Fprintf(&b, "%s: ", e.Port)
		}
		b.WriteString(Text(e))
	}
	return b.String()
}

// Text returns what an event of the kinds Host, STP, State and Routed
// says after its node and port: "ARP who-has 10.0.0.2? tell 10.0.0.1
// (request 1 of 3)", "role designated -> root (...)". It is Detail when
// Detail is set (an event no Op describes), and "" for other kinds.
func Text(e Event) string {
	if e.Detail != "" {
		return e.Detail
	}
	var b strings.Builder
	if e.Kind == Routed {
		routed(&b, e)
		return b.String()
	}
	if e.Member != "" && e.Kind == Host && embeddedDNSOps[e.Op] {
		// Docker's embedded DNS server answers inside the container's
		// sandbox, but it is the daemon's (a socket of dockerd).
		fmt.Fprintf(&b, "[%s's embedded DNS server, at 127.0.0.11 in this sandbox] ", e.Member)
	}
	switch e.Op {
	case OpARPRequest:
		fmt.Fprintf(&b, "ARP who-has %s? tell %s (request %d of %d)", e.DstIP, e.SrcIP, e.Try, e.Tries)
	case OpARPResolved:
		fmt.Fprintf(&b, "ARP %s is-at %s", e.SrcIP, e.MAC)
	case OpARPReply:
		fmt.Fprintf(&b, "ARP reply to %s: %s is-at %s", e.DstIP, e.SrcIP, e.MAC)
	case OpARPFailed:
		fmt.Fprintf(&b, "ARP for %s got no answer after %d requests: host unreachable", e.DstIP, e.Tries)
	case OpNeighbourEvicted:
		fmt.Fprintf(&b, "neighbour %s evicted: the table is full and it is the least recently updated", e.DstIP)
	case OpEchoRequest:
		fmt.Fprintf(&b, "ping %s: echo request id %d seq %d", e.DstIP, e.ID, e.Seq)
	case OpEchoAnswered:
		fmt.Fprintf(&b, "echo request from %s seq %d: replying", e.SrcIP, e.Seq)
	case OpEchoReply:
		fmt.Fprintf(&b, "echo reply from %s seq %d: rtt %v", e.SrcIP, e.Seq, e.Dur)
	case OpICMPError:
		what := e.Reason // the emitter's name for it, if it has one
		if what == "" {
			what = e.ICMP.String()
		}
		fmt.Fprintf(&b, "ICMP %s from %s", what, e.SrcIP)
	case OpUDPSent:
		from := fmt.Sprint(e.SrcPort)
		if e.SrcIP.IsValid() {
			from = netip.AddrPortFrom(e.SrcIP, e.SrcPort).String()
		}
		fmt.Fprintf(&b, "udp %s -> %s: %d bytes", from, dst(e), e.Len)
	case OpUDPReceived:
		fmt.Fprintf(&b, "udp from %s:%d to port %d: %d bytes delivered", e.SrcIP, e.SrcPort, e.DstPort, e.Len)
	case OpUDPUnreachable:
		fmt.Fprintf(&b, "udp from %s to port %d: nobody listening, port unreachable", e.SrcIP, e.DstPort)
	case OpDNSQuery:
		over := ""
		if e.Proto == TCP {
			over = " over TCP"
		}
		fmt.Fprintf(&b, "DNS query %d%s to %s: %s? %s", e.ID, over, e.DstIP, e.QType, e.Name)
	case OpTCPSent:
		fmt.Fprintf(&b, "tcp %d -> %s: %s", e.SrcPort, dst(e), segment(e))
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
	case OpTCPReceived:
		fmt.Fprintf(&b, "tcp %d <- %s: %s", e.DstPort, src(e), segment(e))
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
	case OpTCPNote:
		fmt.Fprintf(&b, "tcp %d <-> %s: %s", e.SrcPort, dst(e), e.Reason)
	case OpTCPNoRoute:
		fmt.Fprintf(&b, "tcp connect to %s: %s, no SYN sent", dst(e), e.Reason)
	case OpCarrier:
		b.WriteString("carrier " + e.State)
	case OpAdmin:
		b.WriteString("port " + e.State)
	case OpReassembled:
		fmt.Fprintf(&b, "reassembled datagram id %d %s -> %s (protocol %d): %d fragments, %d bytes", e.ID, e.SrcIP, e.DstIP, uint8(e.Proto), e.Count, e.Len)
	case OpDNSAnswer:
		over := ""
		if e.Proto == TCP {
			over = " over TCP"
		}
		fmt.Fprintf(&b, "DNS answer%s to %s: ", over, dst(e))
		if e.Reason != "" { // no question to say: the query did not unpack
			b.WriteString(e.Rcode)
			break
		}
		b.WriteString(e.Name)
		for _, a := range e.Answers {
			b.WriteString(" " + a)
		}
		b.WriteString(" (" + e.Rcode)
		if e.TC {
			b.WriteString(", TC")
		}
		b.WriteString(")")
		switch {
		case e.Upstream.IsValid():
			b.WriteString(" from upstream " + e.Upstream.String())
		case e.Tries > 0:
			fmt.Fprintf(&b, " (no upstream answered of %d)", e.Tries)
		}
	case OpDNSForwarded:
		fmt.Fprintf(&b, "DNS query %d from %s for %s %s forwarded to upstream %s (%d of %d)", e.ID, src(e), e.QType, e.Name, e.Upstream, e.Try, e.Tries)
		if e.NewID != 0 { // Docker's resolver keeps the client's ID
			fmt.Fprintf(&b, " as query %d", e.NewID)
		}
	case OpDNSUpstreamError:
		fmt.Fprintf(&b, "DNS query %d for %s to upstream %s: %s", e.ID, e.Name, e.Upstream, e.Reason)
	case OpDNSUpstreamTimeout:
		fmt.Fprintf(&b, "DNS upstream %s did not answer query %d for %s within %v", e.Upstream, e.ID, e.Name, e.Dur)
	case OpDNSUpstreamFailed:
		fmt.Fprintf(&b, "DNS upstream %s for query %d: %s", e.Upstream, e.ID, e.Reason)
	case OpDNSUpstreamRcode:
		fmt.Fprintf(&b, "DNS upstream %s answered query %d for %s %s: trying the next", e.Upstream, e.ID, e.Name, e.Rcode)

	case OpClaimsRoot:
		fmt.Fprintf(&b, "claims root: no better bridge heard (%s; %s)", e.Bridge, e.Reason)
	case OpRoot:
		fmt.Fprintf(&b, "root is %s at cost %d through %s (%s)", e.Root, e.Cost, e.RootPort, e.Reason)
	case OpRole:
		fmt.Fprintf(&b, "role %s -> %s (%s)", e.WasRole, e.Role, e.Reason)
		if e.Bridge != "" {
			fmt.Fprintf(&b, ": %s offers root %s at cost %d", e.Bridge, e.Root, e.Cost)
		}
	case OpState:
		fmt.Fprintf(&b, "state %s -> %s (%s)", e.WasState, e.State, e.Reason)
	case OpTCNotify:
		b.WriteString("topology change: notifying the root through " + e.RootPort)
	case OpTC:
		fmt.Fprintf(&b, "topology change (%s): TC flag and fast ageing for %v", e.Reason, e.Dur)
	case OpHello:
		b.WriteString("sends BPDUs claiming root: it has heard of no better bridge")
	case OpBPDUGuard:
		fmt.Fprintf(&b, "BPDU guard: an edge port heard a BPDU from %s; port disabled", e.Bridge)
	case OpEdgeLost:
		b.WriteString("edge port heard a BPDU: now a normal port")
	case OpTCNReceived:
		b.WriteString("topology change notice received; acknowledged")
	case OpRootGuard:
		fmt.Fprintf(&b, "root guard: %s claims a better root %s; port blocked", e.Bridge, e.Root)
	case OpTCAck:
		b.WriteString("topology change acknowledged by " + e.Bridge)
	case OpRootGuardReleased:
		b.WriteString("root guard: superior BPDUs stopped; port released")
	case OpMaxAge:
		fmt.Fprintf(&b, "information from %s reached max age and is discarded", e.Bridge)
	case OpBPDUStopped:
		b.WriteString("BPDU transmission stopped")
	case OpBPDUResumed:
		b.WriteString("BPDU transmission resumed")

	case OpEncap:
		fmt.Fprintf(&b, "encapsulated %s -> %s (%d bytes) in VXLAN %d to VTEP %s", e.Src, e.Dst, e.Len, e.VNI, e.VTEP)
	case OpDecap:
		fmt.Fprintf(&b, "decapsulated %s -> %s (%d bytes) from VXLAN %d of VTEP %s", e.Src, e.Dst, e.Len, e.VNI, e.VTEP)
	case OpProxyARP:
		fmt.Fprintf(&b, "answered ARP who-has %s itself from the peer table: %s is at %s (proxy ARP; no request crosses hosts)", e.DstIP, e.DstIP, e.MAC)
	case OpPeerAdded:
		fmt.Fprintf(&b, "learned %s %s %s on %s at VTEP %s", e.Container, e.SrcIP, e.MAC, e.Network, e.VTEP)
		switch {
		case e.From != "" && e.Round > 0:
			fmt.Fprintf(&b, " (gossip from %s, round %d)", e.From, e.Round)
		case e.From != "":
			fmt.Fprintf(&b, " (from %s, %s)", e.From, cmpOr(e.Reason, "directly"))
		}
	case OpPeerRemoved:
		fmt.Fprintf(&b, "forgot %s %s on %s at VTEP %s: %s", e.Container, e.SrcIP, e.Network, e.VTEP, e.Reason)
	case OpPeerLearned:
		fmt.Fprintf(&b, "learned %s on VXLAN %d behind VTEP %s (flood and learn)", e.Src, e.VNI, e.VTEP)
	case OpMemberJoined:
		fmt.Fprintf(&b, "member %s (%s) joined: %s", e.Member, e.VTEP, e.Reason)
	case OpMemberSuspect:
		fmt.Fprintf(&b, "member %s is suspect: %s", e.Member, e.Reason)
	case OpMemberAlive:
		fmt.Fprintf(&b, "member %s is alive again", e.Member)
	case OpMemberDead:
		fmt.Fprintf(&b, "member %s is dead: %s", e.Member, e.Reason)
	case OpMemberLeft:
		fmt.Fprintf(&b, "member %s left the cluster", e.Member)
	case OpNetworkJoined, OpNetworkLeft:
		verb := map[Op]string{OpNetworkJoined: "joined", OpNetworkLeft: "left"}[e.Op]
		if e.Member != e.Node {
			b.WriteString(e.Member + " ")
		}
		fmt.Fprintf(&b, "%s network %s", verb, e.Network)
	case OpBulkSync:
		fmt.Fprintf(&b, "bulk sync of %s with %s: %d entries (%s)", e.Network, e.Member, e.Count, e.Reason)
	case OpGossipRejected:
		fmt.Fprintf(&b, "refused gossip from %s (%s): %s", cmpOr(e.From, "?"), e.VTEP, e.Reason)
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// src and dst are an event's ends as address:port.
func src(e Event) netip.AddrPort { return netip.AddrPortFrom(e.SrcIP, e.SrcPort) }
func dst(e Event) netip.AddrPort { return netip.AddrPortFrom(e.DstIP, e.DstPort) }

// segment is a TCP segment as the host's narration shows it: "SYN-ACK",
// "PSH-ACK, 120 bytes".
func segment(e Event) string {
	s := e.Flags.String()
	if e.Len > 0 {
		s += fmt.Sprintf(", %d bytes", e.Len)
	}
	return s
}

// routed is a Routed event: the flow as it arrived, TCP's flags and data
// length as Wireshark shows them, the leg, and the packet as it left when
// NAT changed it.
func routed(b *strings.Builder, e Event) {
	fmt.Fprintf(b, "routed %s %s -> %s", e.Proto, src(e), dst(e))
	icmpErr := e.ICMP != ICMPType{}
	if e.Proto == TCP && !icmpErr {
		fmt.Fprintf(b, " [%s]", e.Flags.list())
		if e.Len > 0 {
			fmt.Fprintf(b, " len %d", e.Len)
		}
	}
	out := ""
	if len(e.Ports) > 0 {
		out = e.Ports[0]
	}
	fmt.Fprintf(b, " out of %s", out)
	if e.Via.IsValid() {
		fmt.Fprintf(b, " via %s", e.Via)
	}
	if e.TTL > 0 {
		fmt.Fprintf(b, ", TTL %d -> %d", e.TTL, e.TTL-1)
	}
	if e.NATSrc.IsValid() || e.NATDst.IsValid() {
		if (e.Proto == TCP || e.Proto == UDP) && !icmpErr {
			fmt.Fprintf(b, " as %s -> %s", e.NATSrc, e.NATDst)
		} else {
			fmt.Fprintf(b, " as %s -> %s", e.NATSrc.Addr(), e.NATDst.Addr())
		}
	}
}

// embeddedDNSOps are the ops a Docker host's embedded DNS server traces
// (with Member, its host), in a container's sandbox.
var embeddedDNSOps = map[Op]bool{OpDNSAnswer: true, OpDNSForwarded: true, OpDNSUpstreamError: true, OpDNSUpstreamTimeout: true, OpDNSUpstreamFailed: true, OpDNSUpstreamRcode: true}
