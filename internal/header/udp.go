package header

import (
	"encoding/binary"

	"github.com/netyard/netyard/internal/csum"
)

// UDPLen is the size of a UDP header (RFC 768).
const UDPLen = 8

// UDP is a view of a UDP datagram. The getters need UDPLen bytes (Check).
type UDP []byte

// Check returns OK for a datagram of at least UDPLen bytes, else Short.
func (u UDP) Check() Reason {
	if len(u) < UDPLen {
		return Short
	}
	return OK
}

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(u[0:2]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return binary.BigEndian.Uint16(u[2:4]) }

// Length returns the length field: header and data.
func (u UDP) Length() int { return int(binary.BigEndian.Uint16(u[4:6])) }

// Checksum returns the checksum field (0: sent without one).
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:8]) }

// Sum returns the checksum to keep while changing the datagram or its
// pseudo-header: none for a datagram sent without one (RFC 768).
func (u UDP) Sum() Checksum {
	if u.Checksum() == 0 {
		return Checksum{}
	}
	return sumAt(u, 6)
}

// Payload returns the data after the header, to the end of u.
func (u UDP) Payload() []byte { return u[UDPLen:] }

// SetSrcPort sets the source port, keeping the checksum.
func (u UDP) SetSrcPort(p uint16) { setWord(u, 0, p, u.Sum()) }

// SetDstPort sets the destination port, keeping the checksum.
func (u UDP) SetDstPort(p uint16) { setWord(u, 2, p, u.Sum()) }

// SetSrcPortSum sets the source port, keeping c (a partial checksum, or
// none where only the first 8 bytes of a datagram are at hand).
func (u UDP) SetSrcPortSum(p uint16, c Checksum) { setWord(u, 0, p, c) }

// SetDstPortSum sets the destination port, keeping c.
func (u UDP) SetDstPortSum(p uint16, c Checksum) { setWord(u, 2, p, c) }

// SetLength sets the length field, keeping the checksum.
func (u UDP) SetLength(n int) { setWord(u, 4, uint16(n), u.Sum()) }

// FixChecksum computes the checksum afresh from pseudo, the sum of the
// pseudo-header (IPv4.PseudoSum); a result of 0 is sent as 0xffff (RFC
// 768).
func (u UDP) FixChecksum(pseudo uint64) {
	u[6], u[7] = 0, 0
	s := ^csum.Fold(csum.Sum(u, pseudo))
	if s == 0 {
		s = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:8], s)
}
