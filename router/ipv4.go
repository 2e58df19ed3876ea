package router

import (
	"encoding/binary"
	"net/netip"

	"github.com/netyard/netyard/internal/header"
)

// ICMPv4 types and codes the router sends or reads besides those
// internal/header names (RFC 792, RFC 1191), and the bound of an error.
const (
	icmpSourceQuench   = 4
	icmpRedirect       = 5
	codeNetUnreach     = 0
	codeProtoUnreach   = 2
	codePortUnreach    = 3
	codeTTLExceeded    = 0
	icmpErrorMaxLength = 576 // RFC 1812 §4.3.2.3: an error's datagram, at most
)

// isICMPError reports whether an ICMP type is an error message, about
// which no error is sent (RFC 1812 §4.3.2.7): those that quote a packet,
// and source quench and redirect.
func isICMPError(typ uint8) bool {
	return header.IsICMPv4Error(typ) || typ == icmpSourceQuench || typ == icmpRedirect
}

// addr32 returns a number as an IPv4 address.
func addr32(a uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b)
}

// v4 returns an IPv4 address as a number.
func v4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}
