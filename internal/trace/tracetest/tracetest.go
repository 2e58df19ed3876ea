// Package tracetest checks trace events in tests: that each carries the
// fields its kind and op promise, so a program never has to read a
// sentence to learn them.
package tracetest

import (
	"reflect"

	"github.com/netyard/netyard/internal/trace"
)

// required lists, by op, the fields an event of that op always sets.
// Fields that may be zero in a valid event (an RTT of 0 in virtual time,
// an ICMP code 0, a segment with no flags) are not listed.
var required = map[trace.Op][]string{
	trace.OpARPRequest:         {"DstIP", "SrcIP", "Try", "Tries"},
	trace.OpARPResolved:        {"SrcIP", "MAC"},
	trace.OpARPReply:           {"DstIP", "SrcIP", "MAC"},
	trace.OpARPFailed:          {"DstIP", "Tries"},
	trace.OpNeighbourEvicted:   {"DstIP"},
	trace.OpEchoRequest:        {"Proto", "DstIP"},
	trace.OpEchoAnswered:       {"Proto", "SrcIP", "DstIP"},
	trace.OpEchoReply:          {"Proto", "SrcIP", "DstIP"},
	trace.OpICMPError:          {"Proto", "SrcIP", "ICMP"},
	trace.OpUDPSent:            {"Proto", "SrcPort", "DstIP", "DstPort"},
	trace.OpUDPReceived:        {"Proto", "SrcIP", "SrcPort", "DstIP", "DstPort"},
	trace.OpUDPUnreachable:     {"Proto", "SrcIP", "DstIP", "DstPort"},
	trace.OpDNSQuery:           {"Proto", "DstIP", "DstPort", "QType", "Name"},
	trace.OpTCPSent:            {"Proto", "SrcIP", "SrcPort", "DstIP", "DstPort"},
	trace.OpTCPReceived:        {"Proto", "SrcIP", "SrcPort", "DstIP", "DstPort"},
	trace.OpTCPNote:            {"Proto", "SrcIP", "SrcPort", "DstIP", "DstPort", "Reason"},
	trace.OpTCPNoRoute:         {"Proto", "DstIP", "DstPort", "Reason"},
	trace.OpCarrier:            {"Port", "State"},
	trace.OpAdmin:              {"Port", "State"},
	trace.OpReassembled:        {"SrcIP", "DstIP", "Proto", "Count", "Len"},
	trace.OpDNSAnswer:          {"Proto", "SrcIP", "DstIP", "DstPort", "Rcode"},
	trace.OpDNSForwarded:       {"SrcIP", "SrcPort", "QType", "Name", "Upstream", "Try", "Tries"},
	trace.OpDNSUpstreamError:   {"Name", "Upstream", "Reason"},
	trace.OpDNSUpstreamTimeout: {"Name", "Upstream", "Dur"},
	trace.OpDNSUpstreamFailed:  {"Name", "Upstream", "Reason"},
	trace.OpDNSUpstreamRcode:   {"Name", "Upstream", "Rcode"},
	trace.OpClaimsRoot:         {"Bridge", "Root", "Reason"},
	trace.OpRoot:               {"Port", "Root", "RootPort", "Bridge", "Reason"},
	trace.OpRole:               {"Port", "WasRole", "Role", "Reason"},
	trace.OpState:              {"Port", "WasState", "State", "Role", "Reason"},
	trace.OpTCNotify:           {"Port", "RootPort"},
	trace.OpTC:                 {"Dur", "Reason"},
	trace.OpHello:              {"Bridge", "Root"},
	trace.OpBPDUGuard:          {"Port", "Bridge"},
	trace.OpEdgeLost:           {"Port"},
	trace.OpTCNReceived:        {"Port"},
	trace.OpRootGuard:          {"Port", "Bridge", "Root"},
	trace.OpTCAck:              {"Port", "Bridge"},
	trace.OpRootGuardReleased:  {"Port"},
	trace.OpMaxAge:             {"Port", "Bridge"},
	trace.OpBPDUStopped:        {},
	trace.OpBPDUResumed:        {},
	trace.OpEncap:              {"Port", "Src", "Dst", "Len", "VNI", "VTEP"},
	trace.OpDecap:              {"Port", "Src", "Dst", "Len", "VNI", "VTEP"},
	trace.OpProxyARP:           {"Port", "DstIP", "MAC"},
	trace.OpPeerAdded:          {"Network", "Container", "SrcIP", "MAC", "VTEP", "From"},
	trace.OpPeerRemoved:        {"Network", "Container", "SrcIP", "VTEP", "Reason"},
	trace.OpPeerLearned:        {"Port", "Src", "VNI", "VTEP"},
	trace.OpMemberJoined:       {"Member", "VTEP", "Reason"},
	trace.OpMemberSuspect:      {"Member", "Reason"},
	trace.OpMemberAlive:        {"Member"},
	trace.OpMemberDead:         {"Member", "Reason"},
	trace.OpMemberLeft:         {"Member"},
	trace.OpNetworkJoined:      {"Member", "Network"},
	trace.OpNetworkLeft:        {"Member", "Network"},
	trace.OpBulkSync:           {"Member", "Network", "Reason"},
	trace.OpGossipRejected:     {"Reason"},
}

// byKind lists the fields events of the kinds without ops always set.
var byKind = map[trace.Kind][]string{
	trace.Learned:   {"Port", "VLAN", "Src"},
	trace.Moved:     {"Port", "VLAN", "Src", "Reason"},
	trace.Aged:      {"Port", "VLAN", "Src"},
	trace.Flushed:   {"Port", "VLAN", "Src", "Reason"},
	trace.Forwarded: {"Port", "VLAN", "Src", "Dst", "Ports"},
	trace.Flooded:   {"Port", "VLAN", "Src", "Dst", "Reason"},
	trace.Dropped:   {"Reason"},
	trace.Mirrored:  {"Port", "Ports"},
	trace.Lost:      {"Link", "Port", "Reason"},
	trace.Routed:    {"Proto", "SrcIP", "DstIP", "Ports"},
	trace.Frame:     {"Link", "Port", "Len", "Summary"},
}

// Missing returns the names of the fields e should set and does not: its
// op's, or for a kind without ops its kind's; "Op" for an event of a kind
// with ops (Host, STP, State) that has none, or that says its sentence in
// Detail instead. Node and Kind are always required.
func Missing(e trace.Event) []string {
	var miss []string
	if e.Node == "" {
		miss = append(miss, "Node")
	}
	if e.Kind == "" {
		miss = append(miss, "Kind")
	}
	fields, ok := required[e.Op]
	if e.Op == trace.OpNone {
		fields, ok = byKind[e.Kind]
	}
	if !ok || e.Detail != "" {
		return append(miss, "Op")
	}
	v := reflect.ValueOf(e)
	for _, f := range fields {
		if v.FieldByName(f).IsZero() {
			miss = append(miss, f)
		}
	}
	return miss
}
