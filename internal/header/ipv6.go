package header

import (
	"encoding/binary"
	"net/netip"

	"github.com/netyard/netyard/internal/csum"
)

// IPv6 sizes (RFC 8200).
const (
	IPv6Len     = 40 // the fixed header
	IPv6Version = 6
)

// IPv6 is a view of an IPv6 packet from its fixed header on (extension
// headers are the payload's). Check comes first.
type IPv6 []byte

// Check returns OK for a fixed header that fits its bytes with the payload
// length it says, else Short, BadVersion or Truncated.
func (b IPv6) Check() Reason {
	switch {
	case len(b) < IPv6Len:
		return Short
	case b.Version() != IPv6Version:
		return BadVersion
	case IPv6Len+b.PayloadLen() > len(b):
		return Truncated
	}
	return OK
}

// Version returns the IP version field.
func (b IPv6) Version() uint8 { return b[0] >> 4 }

// TrafficClass returns the traffic class (DSCP and ECN).
func (b IPv6) TrafficClass() uint8 { return uint8(binary.BigEndian.Uint16(b[0:2]) >> 4) }

// FlowLabel returns the 20-bit flow label.
func (b IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(b[0:4]) & 0xfffff }

// PayloadLen returns the payload length field: what follows the fixed
// header, extension headers included.
func (b IPv6) PayloadLen() int { return int(binary.BigEndian.Uint16(b[4:6])) }

// NextHeader returns the protocol of what follows the fixed header.
func (b IPv6) NextHeader() uint8 { return b[6] }

// HopLimit returns the hop limit.
func (b IPv6) HopLimit() uint8 { return b[7] }

// Src returns the source address.
func (b IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(b[8:24])) }

// Dst returns the destination address.
func (b IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(b[24:40])) }

// Payload returns what follows the fixed header, to the end of b.
func (b IPv6) Payload() []byte { return b[IPv6Len:] }

// SetPayloadLen sets the payload length (IPv6 has no header checksum).
func (b IPv6) SetPayloadLen(n int) { binary.BigEndian.PutUint16(b[4:6], uint16(n)) }

// SetHopLimit sets the hop limit.
func (b IPv6) SetHopLimit(h uint8) { b[7] = h }

// PseudoSum returns the sum of the pseudo-header (RFC 8200 §8.1) of an
// upper-layer header of proto and length bytes carried by b, the start of
// its checksum.
func (b IPv6) PseudoSum(proto uint8, length int) uint64 {
	return csum.Sum(b[8:40], uint64(proto)+uint64(length))
}
