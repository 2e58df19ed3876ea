// Package trace is the public face of netyard's trace events, for
// programs and tests outside the module: every node reports its decisions
// (a MAC learned, a frame flooded or dropped and why, an STP change, a NAT
// mapping) as Events to a Tracer, and the backends take one in their
// Options. The types are those of the module's own trace package, by
// alias, so an Event here is the Event the nodes send.
package trace

import (
	"io"
	"time"

	itrace "github.com/netyard/netyard/internal/trace"
)

// Event is one decision of one node.
type Event = itrace.Event

// Tracer receives events; one used by the netns backend must be safe for
// concurrent use.
type Tracer = itrace.Tracer

// Func adapts a function to Tracer.
type Func = itrace.Func

// Kind says what an Event reports.
type Kind = itrace.Kind

// The kinds of event.
const (
	Learned   = itrace.Learned
	Moved     = itrace.Moved
	Aged      = itrace.Aged
	Flushed   = itrace.Flushed
	Forwarded = itrace.Forwarded
	Flooded   = itrace.Flooded
	Dropped   = itrace.Dropped
	Mirrored  = itrace.Mirrored
	State     = itrace.State
	Host      = itrace.Host
	Lost      = itrace.Lost
	STP       = itrace.STP
	Routed    = itrace.Routed
	Frame     = itrace.Frame
	Overlay   = itrace.Overlay
)

// Op says which event of its Kind an Event is; the typed fields each op
// sets are listed in the internal package's documentation of the ops.
type Op = itrace.Op

// The ops.
const (
	OpNone               = itrace.OpNone
	OpARPRequest         = itrace.OpARPRequest
	OpARPResolved        = itrace.OpARPResolved
	OpARPReply           = itrace.OpARPReply
	OpARPFailed          = itrace.OpARPFailed
	OpNeighbourEvicted   = itrace.OpNeighbourEvicted
	OpEchoRequest        = itrace.OpEchoRequest
	OpEchoAnswered       = itrace.OpEchoAnswered
	OpEchoReply          = itrace.OpEchoReply
	OpICMPError          = itrace.OpICMPError
	OpUDPSent            = itrace.OpUDPSent
	OpUDPReceived        = itrace.OpUDPReceived
	OpUDPUnreachable     = itrace.OpUDPUnreachable
	OpDNSQuery           = itrace.OpDNSQuery
	OpTCPSent            = itrace.OpTCPSent
	OpTCPReceived        = itrace.OpTCPReceived
	OpTCPNote            = itrace.OpTCPNote
	OpTCPNoRoute         = itrace.OpTCPNoRoute
	OpCarrier            = itrace.OpCarrier
	OpAdmin              = itrace.OpAdmin
	OpReassembled        = itrace.OpReassembled
	OpDNSAnswer          = itrace.OpDNSAnswer
	OpDNSForwarded       = itrace.OpDNSForwarded
	OpDNSUpstreamError   = itrace.OpDNSUpstreamError
	OpDNSUpstreamTimeout = itrace.OpDNSUpstreamTimeout
	OpDNSUpstreamFailed  = itrace.OpDNSUpstreamFailed
	OpDNSUpstreamRcode   = itrace.OpDNSUpstreamRcode
	OpClaimsRoot         = itrace.OpClaimsRoot
	OpRoot               = itrace.OpRoot
	OpRole               = itrace.OpRole
	OpState              = itrace.OpState
	OpTCNotify           = itrace.OpTCNotify
	OpTC                 = itrace.OpTC
	OpHello              = itrace.OpHello
	OpBPDUGuard          = itrace.OpBPDUGuard
	OpEdgeLost           = itrace.OpEdgeLost
	OpTCNReceived        = itrace.OpTCNReceived
	OpRootGuard          = itrace.OpRootGuard
	OpTCAck              = itrace.OpTCAck
	OpRootGuardReleased  = itrace.OpRootGuardReleased
	OpMaxAge             = itrace.OpMaxAge
	OpBPDUStopped        = itrace.OpBPDUStopped
	OpBPDUResumed        = itrace.OpBPDUResumed
	OpEncap              = itrace.OpEncap
	OpDecap              = itrace.OpDecap
	OpProxyARP           = itrace.OpProxyARP
	OpPeerAdded          = itrace.OpPeerAdded
	OpPeerRemoved        = itrace.OpPeerRemoved
	OpPeerLearned        = itrace.OpPeerLearned
	OpMemberJoined       = itrace.OpMemberJoined
	OpMemberSuspect      = itrace.OpMemberSuspect
	OpMemberAlive        = itrace.OpMemberAlive
	OpMemberDead         = itrace.OpMemberDead
	OpMemberLeft         = itrace.OpMemberLeft
	OpNetworkJoined      = itrace.OpNetworkJoined
	OpNetworkLeft        = itrace.OpNetworkLeft
	OpBulkSync           = itrace.OpBulkSync
	OpGossipRejected     = itrace.OpGossipRejected
)

// Ops returns every Op but OpNone, in order.
func Ops() []Op { return itrace.Ops() }

// Field types of an Event.
type (
	Proto      = itrace.Proto      // an IP protocol number
	TCPFlags   = itrace.TCPFlags   // a TCP header's flags
	ICMPType   = itrace.ICMPType   // an ICMP type and code
	FlowChange = itrace.FlowChange // what a packet did to its NAT flow
)

// The protocols, TCP flags and flow changes.
const (
	ICMP = itrace.ICMP
	TCP  = itrace.TCP
	UDP  = itrace.UDP

	FIN = itrace.FIN
	SYN = itrace.SYN
	RST = itrace.RST
	PSH = itrace.PSH
	ACK = itrace.ACK
	URG = itrace.URG
	ECE = itrace.ECE
	CWR = itrace.CWR

	FlowKept          = itrace.FlowKept
	FlowCreated       = itrace.FlowCreated
	FlowClosed        = itrace.FlowClosed
	FlowCreatedClosed = itrace.FlowCreatedClosed
)

// Bus fans events out to subscribers: synchronously, or through a bounded
// queue that drops (and counts) what a slow subscriber cannot take.
type Bus = itrace.Bus

// Queue is a queued subscription of a Bus.
type Queue = itrace.Queue

// Record is an Event as a JSON line of --trace-json carries it.
type Record = itrace.Record

// Wants reports whether t listens to events of kind k (Frame events only
// go to subscribers that ask for them).
func Wants(t Tracer, k Kind) bool { return itrace.Wants(t, k) }

// Narrate renders e as one English sentence, the --explain line.
func Narrate(e Event) string { return itrace.Narrate(e) }

// Text returns what an event of the kinds Host, STP, State and Routed
// says after its node and port.
func Text(e Event) string { return itrace.Text(e) }

// NewRecord is e as a JSON line carries it, its time in seconds since
// origin.
func NewRecord(e Event, origin time.Time, step int64) Record {
	return itrace.NewRecord(e, origin, step)
}

// JSONLines returns a subscriber that writes each event to w as one JSON
// line (a Record), its time in seconds since origin; step, if not nil,
// says the step running.
func JSONLines(w io.Writer, origin time.Time, step func() int64) func(Event) {
	return itrace.JSONLines(w, origin, step)
}
