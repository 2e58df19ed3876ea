package vswitch

import "github.com/netyard/netyard/internal/header"

// Frame sizes and EtherTypes the switch looks at.
const (
	EthHdrLen     = header.EthernetLen   // destination, source, EtherType
	VLANTagLen    = header.VLANTagLen    // an 802.1Q tag: TPID and TCI
	EtherTypeVLAN = header.EtherTypeVLAN // IEEE 802.1Q customer VLAN tag (C-tag)
	EtherTypeQinQ = header.EtherTypeQinQ // IEEE 802.1ad service VLAN tag (S-tag)
	// MaxFrame is the largest frame the switch handles: a 64 KiB offload
	// super-frame plus its Ethernet header and one VLAN tag.
	MaxFrame = 65536 + EthHdrLen + VLANTagLen
)

// MAC is an Ethernet address: header.MAC, the one MAC type of every node.
// It is a comparable value, usable as a map key.
type MAC = header.MAC

// Broadcast is ff:ff:ff:ff:ff:ff.
var Broadcast = header.Broadcast

// ParseMAC parses a colon-separated 48-bit address such as 02:00:00:00:00:01.
func ParseMAC(s string) (MAC, error) { return header.ParseMAC(s) }

// EthHdr is a zero-copy view of an Ethernet II header (header.Ethernet).
// Callers check the length (at least EthHdrLen) before using the accessors.
type EthHdr = header.Ethernet

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
		return t, false
	}
	et := EthHdr(frame).EtherType()
	if et != EtherTypeVLAN {
		return Tag{Inner: et}, true
	}
	if len(frame) < EthHdrLen+VLANTagLen {
		return t, false
	}
	tci := EthHdr(frame).TCI()
	return Tag{Tagged: true, VID: tci & 0x0fff, PCP: uint8(tci >> 13), DEI: tci&0x1000 != 0, Inner: EthHdr(frame).TagType()}, true
}

// AppendTagged appends to dst the frame with an 802.1Q tag for vid (keeping
// pcp), replacing the tag it had if tag (what ParseTag returned for it)
// says it has one.
func AppendTagged(dst, frame []byte, tag Tag, vid uint16) []byte {
	tci := uint16(tag.PCP)<<13 | vid&0x0fff
	if tag.DEI {
		tci |= 0x1000
	}
	if tag.Tagged {
		return header.Ethernet(frame).AppendTagged(dst, tci)
	}
	return header.Ethernet(frame).AppendPushTag(dst, tci)
}

// AppendUntagged appends to dst the frame without the 802.1Q tag tag (what
// ParseTag returned for it) says it has.
func AppendUntagged(dst, frame []byte, tag Tag) []byte {
	if tag.Tagged {
		return header.Ethernet(frame).AppendUntagged(dst)
	}
	return append(dst, frame...)
}
