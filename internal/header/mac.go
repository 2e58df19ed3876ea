package header

import (
	"errors"
	"fmt"
	"net"
)

// MAC is a 48-bit Ethernet address: a comparable value, usable as a map
// key, and the one MAC type of every node.
type MAC [6]byte

// Broadcast is ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ErrBadMAC is returned by ParseMAC.
var ErrBadMAC = errors.New("header: bad MAC")

// ParseMAC parses a 48-bit address in any form net.ParseMAC takes
// (02:00:00:00:00:01, 02-00-00-00-00-01, 0200.0000.0001).
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, fmt.Errorf("%w %q", ErrBadMAC, s)
	}
	if len(hw) != 6 {
		return MAC{}, fmt.Errorf("%w %q: not 48 bits", ErrBadMAC, s)
	}
	return MAC(hw), nil
}

// MACFrom returns the address in hw, which must be 6 bytes long (a
// net.HardwareAddr of Ethernet), and reports whether it was.
func MACFrom(hw []byte) (MAC, bool) {
	if len(hw) != 6 {
		return MAC{}, false
	}
	return MAC(hw), true
}

// String formats m as 02:00:00:00:00:01.
func (m MAC) String() string {
	const hex = "0123456789abcdef"
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i], b[3*i+1] = hex[x>>4], hex[x&0xf]
	}
	return string(b[:])
}

// HardwareAddr returns m as a new net.HardwareAddr, for APIs that take one.
func (m MAC) HardwareAddr() net.HardwareAddr { return net.HardwareAddr(m[:]) }

// IsMulticast reports whether m is a group address (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == Broadcast }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsLocal reports whether m is locally administered (the U/L bit set), as
// the addresses netyard and Docker make are.
func (m MAC) IsLocal() bool { return m[0]&2 == 2 }

// IsLinkLocal reports whether m is one of the IEEE 802.1D reserved addresses
// 01:80:C2:00:00:00 to 01:80:C2:00:00:0F, which a bridge never forwards
// (802.1D §7.12.6): STP BPDUs, LACP, 802.1X, LLDP.
func (m MAC) IsLinkLocal() bool {
	return m[0] == 0x01 && m[1] == 0x80 && m[2] == 0xc2 && m[3] == 0 && m[4] == 0 && m[5]&0xf0 == 0
}

// Uint64 returns m as a number, its first byte highest: 48 bits, as the
// switch keys its table.
func (m MAC) Uint64() uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// MACFromUint64 returns the address whose Uint64 is a (its low 48 bits).
func MACFromUint64(a uint64) MAC {
	return MAC{byte(a >> 40), byte(a >> 32), byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}
}
