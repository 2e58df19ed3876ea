package vswitch

import (
	"encoding/binary"
	"fmt"
	"net"
)

// Frame sizes and EtherTypes the switch looks at.
const (
	EthHdrLen     = 14     // destination, source, EtherType
	VLANTagLen    = 4      // an 802.1Q tag: TPID and TCI
	EtherTypeVLAN = 0x8100 // IEEE 802.1Q customer VLAN tag (C-tag)
	EtherTypeQinQ = 0x88a8 // IEEE 802.1ad service VLAN tag (S-tag)
	// MaxFrame is the largest frame the switch handles: a 64 KiB offload
	// super-frame plus its Ethernet header and one VLAN tag.
	MaxFrame = 65536 + EthHdrLen + VLANTagLen
)

// MAC is an Ethernet address. It is a comparable value, usable as a map key.
type MAC [6]byte

// Broadcast is ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ParseMAC parses a colon-separated 48-bit address such as 02:00:00:00:00:01.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, fmt.Errorf("vswitch: bad MAC %q", s)
	}
	if len(hw) != 6 {
		return MAC{}, fmt.Errorf("vswitch: bad MAC %q: not 48 bits", s)
	}
	return MAC(hw), nil
}

// String formats m as 02:00:00:00:00:01.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// IsMulticast reports whether m is a group address (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsLinkLocal reports whether m is one of the IEEE 802.1D reserved addresses
// 01:80:C2:00:00:00 to 01:80:C2:00:00:0F, which a bridge never forwards
// (802.1D §7.12.6): STP BPDUs, LACP, 802.1X, LLDP.
func (m MAC) IsLinkLocal() bool {
	return m[0] == 0x01 && m[1] == 0x80 && m[2] == 0xc2 && m[3] == 0 && m[4] == 0 && m[5]&0xf0 == 0
}

// EthHdr is a zero-copy view of an Ethernet II header. Callers check the
// length (at least EthHdrLen) before using the accessors.
type EthHdr []byte

// Dst returns the destination address.
func (h EthHdr) Dst() MAC { return MAC(h[0:6]) }

// Src returns the source address.
func (h EthHdr) Src() MAC { return MAC(h[6:12]) }

// EtherType returns the EtherType (or TPID, for a tagged frame).
func (h EthHdr) EtherType() uint16 { return binary.BigEndian.Uint16(h[12:14]) }

// Tag is what an 802.1Q tag says.
type Tag struct {
	Tagged bool   // the frame carries an 802.1Q tag
	VID    uint16 // VLAN ID, 0 for priority-tagged frames
	PCP    uint8  // priority code point
	DEI    bool   // drop eligible
	Inner  uint16 // EtherType after the tag (or the frame's, untagged)
}

// ParseTag reads the 802.1Q tag of frame, if any. ok is false when the frame
// is too short for its header (a runt); frames that are not tagged return a
// Tag with Tagged false.
func ParseTag(frame []byte) (t Tag, ok bool) {
	if len(frame) < EthHdrLen {
		return Tag{}, false
	}
	et := EthHdr(frame).EtherType()
	if et != EtherTypeVLAN {
		return Tag{Inner: et}, true
	}
	if len(frame) < EthHdrLen+VLANTagLen {
		return Tag{}, false
	}
	tci := binary.BigEndian.Uint16(frame[14:16])
	return Tag{
		Tagged: true,
		VID:    tci & 0x0fff,
		PCP:    uint8(tci >> 13),
		DEI:    tci&0x1000 != 0,
		Inner:  binary.BigEndian.Uint16(frame[16:18]),
	}, true
}

// AppendTagged appends to dst the frame with an 802.1Q tag for vid (keeping
// pcp), replacing any tag it had.
func AppendTagged(dst, frame []byte, tag Tag, vid uint16) []byte {
	dst = append(dst, frame[:12]...)
	dst = binary.BigEndian.AppendUint16(dst, EtherTypeVLAN)
	tci := uint16(tag.PCP)<<13 | vid&0x0fff
	if tag.DEI {
		tci |= 0x1000
	}
	dst = binary.BigEndian.AppendUint16(dst, tci)
	return append(dst, payloadFrom(frame, tag)...)
}

// AppendUntagged appends to dst the frame without its 802.1Q tag.
func AppendUntagged(dst, frame []byte, tag Tag) []byte {
	dst = append(dst, frame[:12]...)
	return append(dst, payloadFrom(frame, tag)...)
}

// payloadFrom returns the EtherType and everything after it, past any tag.
func payloadFrom(frame []byte, tag Tag) []byte {
	if tag.Tagged {
		return frame[16:]
	}
	return frame[12:]
}
