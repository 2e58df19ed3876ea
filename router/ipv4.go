package router

import (
	"encoding/binary"
	"net/netip"

	"github.com/netyard/netyard/internal/csum"
)

// The views the router reads packets through. They have the names and
// meanings of internal/header's IPv4 and ICMPv4 views, so that the router
// moves to that package by deleting this file once it is on main.

// IPv4 sizes, flags and protocol numbers (RFC 791).
const (
	ipv4MinLen   = 20
	ipv4DF       = 0x4000
	ipv4MF       = 0x2000
	ipv4OffMask  = 0x1fff
	protocolICMP = 1
	protocolTCP  = 6
	protocolUDP  = 17
)

// ipv4 is a view of an IPv4 packet from its header on. The getters need
// the fixed header (checked before any is called).
type ipv4 []byte

func (b ipv4) Version() uint8    { return b[0] >> 4 }
func (b ipv4) HeaderLen() int    { return int(b[0]&0xf) * 4 }
func (b ipv4) TOS() uint8        { return b[1] }
func (b ipv4) TotalLen() int     { return int(binary.BigEndian.Uint16(b[2:4])) }
func (b ipv4) FlagsFrag() uint16 { return binary.BigEndian.Uint16(b[6:8]) }
func (b ipv4) DF() bool          { return b.FlagsFrag()&ipv4DF != 0 }
func (b ipv4) MF() bool          { return b.FlagsFrag()&ipv4MF != 0 }
func (b ipv4) FragOff() int      { return int(b.FlagsFrag()&ipv4OffMask) * 8 }
func (b ipv4) IsFragment() bool  { return b.FlagsFrag()&(ipv4MF|ipv4OffMask) != 0 }
func (b ipv4) TTL() uint8        { return b[8] }
func (b ipv4) Protocol() uint8   { return b[9] }
func (b ipv4) Src() netip.Addr   { return netip.AddrFrom4([4]byte(b[12:16])) }
func (b ipv4) Dst() netip.Addr   { return netip.AddrFrom4([4]byte(b[16:20])) }
func (b ipv4) Src32() uint32     { return binary.BigEndian.Uint32(b[12:16]) }
func (b ipv4) Dst32() uint32     { return binary.BigEndian.Uint32(b[16:20]) }
func (b ipv4) Options() []byte   { return b[ipv4MinLen:b.HeaderLen()] }
func (b ipv4) Payload() []byte   { return b[b.HeaderLen():] }

// ChecksumValid reports whether the header sums to all ones.
func (b ipv4) ChecksumValid() bool { return csum.Fold(csum.Sum(b[:b.HeaderLen()], 0)) == 0xffff }

// FixChecksum computes the header's checksum afresh.
func (b ipv4) FixChecksum() {
	hl := b.HeaderLen()
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:12], ^csum.Fold(csum.Sum(b[:hl], 0)))
}

// DecTTL takes one from the TTL and updates the checksum to match
// (RFC 1624).
func (b ipv4) DecTTL() {
	old := binary.BigEndian.Uint16(b[8:10])
	b[8]--
	csum.Update(b[10:12], old, binary.BigEndian.Uint16(b[8:10]))
}

// ipv4Fields are the fields putIPv4 writes.
type ipv4Fields struct {
	TOS       uint8
	TotalLen  int
	ID        uint16
	FlagsFrag uint16
	TTL       uint8
	Protocol  uint8
	Src, Dst  netip.Addr
}

// putIPv4 writes a 20-byte header with its checksum into b.
func putIPv4(b []byte, f ipv4Fields) {
	b[0], b[1] = 0x45, f.TOS
	binary.BigEndian.PutUint16(b[2:4], uint16(f.TotalLen))
	binary.BigEndian.PutUint16(b[4:6], f.ID)
	binary.BigEndian.PutUint16(b[6:8], f.FlagsFrag)
	b[8], b[9] = f.TTL, f.Protocol
	s, d := f.Src.As4(), f.Dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	ipv4(b).FixChecksum()
}

// ICMPv4 types and codes the router sends or reads (RFC 792, RFC 1191).
const (
	icmpEchoReply      = 0
	icmpDestUnreach    = 3
	icmpSourceQuench   = 4
	icmpRedirect       = 5
	icmpEchoRequest    = 8
	icmpTimeExceeded   = 11
	icmpParamProblem   = 12
	codeNetUnreach     = 0
	codeHostUnreach    = 1
	codeProtoUnreach   = 2
	codePortUnreach    = 3
	codeFragNeeded     = 4
	codeTTLExceeded    = 0
	icmpHeaderLen      = 8
	icmpErrorMaxLength = 576 // RFC 1812 §4.3.2.3: an error's datagram, at most
)

// isICMPError reports whether an ICMP type is an error message, about
// which no error is sent (RFC 1812 §4.3.2.7).
func isICMPError(typ uint8) bool {
	switch typ {
	case icmpDestUnreach, icmpSourceQuench, icmpRedirect, icmpTimeExceeded, icmpParamProblem:
		return true
	}
	return false
}

// icmpChecksum fills the checksum of the ICMP message m.
func icmpChecksum(m []byte) {
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:4], ^csum.Fold(csum.Sum(m, 0)))
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
