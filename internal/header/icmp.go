package header

import (
	"encoding/binary"

	"github.com/netyard/netyard/internal/csum"
)

// ICMPv4 sizes and the types netyard reads (RFC 792).
const (
	ICMPv4Len             = 8 // type, code, checksum and the 4 bytes that depend on the type
	ICMPv4EchoReply       = 0
	ICMPv4Unreachable     = 3
	ICMPv4EchoRequest     = 8
	ICMPv4TimeExceeded    = 11
	ICMPv4ParamProblem    = 12
	ICMPv4FragNeededCode  = 4 // of ICMPv4Unreachable
	ICMPv4HostUnreachCode = 1 // of ICMPv4Unreachable
)

// ICMPv4 is a view of an ICMPv4 message. The getters need ICMPv4Len bytes
// (Check).
type ICMPv4 []byte

// Check returns OK for a message of at least ICMPv4Len bytes, else Short.
func (m ICMPv4) Check() Reason {
	if len(m) < ICMPv4Len {
		return Short
	}
	return OK
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return m[0] }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return m[1] }

// Checksum returns the checksum field.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[2:4]) }

// Sum returns the checksum, to keep while changing the message.
func (m ICMPv4) Sum() Checksum { return sumAt(m, 2) }

// IsError reports whether the message is an error that quotes a packet:
// destination unreachable, time exceeded, parameter problem.
func (m ICMPv4) IsError() bool { return IsICMPv4Error(m.Type()) }

// IsICMPv4Error reports whether typ is an error type that quotes a packet.
func IsICMPv4Error(typ uint8) bool {
	return typ == ICMPv4Unreachable || typ == ICMPv4TimeExceeded || typ == ICMPv4ParamProblem
}

// IsEcho reports whether the message is an echo request or reply.
func (m ICMPv4) IsEcho() bool { return m.Type() == ICMPv4EchoRequest || m.Type() == ICMPv4EchoReply }

// ID returns an echo's identifier.
func (m ICMPv4) ID() uint16 { return binary.BigEndian.Uint16(m[4:6]) }

// Seq returns an echo's sequence number.
func (m ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// MTU returns the next-hop MTU of a fragmentation needed message (RFC
// 1191 §4).
func (m ICMPv4) MTU() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// SetID sets an echo's identifier, keeping the checksum.
func (m ICMPv4) SetID(id uint16) { setWord(m, 4, id, m.Sum()) }

// Payload returns what follows the 8-byte header: an echo's data, or the
// packet an error quotes.
func (m ICMPv4) Payload() []byte { return m[ICMPv4Len:] }

// ChecksumValid reports whether the checksum over the whole message is
// right.
func (m ICMPv4) ChecksumValid() bool { return csum.Fold(csum.Sum(m, 0)) == 0xffff }

// FixChecksum computes the checksum over the whole message afresh.
func (m ICMPv4) FixChecksum() { fill(m, 2, 0) }
