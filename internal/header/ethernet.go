package header

import "encoding/binary"

// Ethernet sizes and the EtherTypes netyard reads.
const (
	EthernetLen   = 14 // destination, source, EtherType
	VLANTagLen    = 4  // an 802.1Q tag: TPID and TCI
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeVLAN = 0x8100 // IEEE 802.1Q customer VLAN tag (C-tag)
	EtherTypeQinQ = 0x88a8 // IEEE 802.1ad service VLAN tag (S-tag)
	EtherTypeIPv6 = 0x86dd
)

// Ethernet is a view of an Ethernet II frame (no FCS), with or without
// one 802.1Q tag after the source address. Check, or a length of at least
// EthernetLen (EthernetLen+VLANTagLen when Tagged), comes first.
type Ethernet []byte

// Check returns OK for a frame long enough for its header and tag, else
// Short.
func (e Ethernet) Check() Reason {
	if len(e) < EthernetLen || e.Tagged() && len(e) < EthernetLen+VLANTagLen {
		return Short
	}
	return OK
}

// Dst returns the destination address.
func (e Ethernet) Dst() MAC { return MAC(e[0:6]) }

// Src returns the source address.
func (e Ethernet) Src() MAC { return MAC(e[6:12]) }

// Dst48 returns the destination address as a number (MAC.Uint64), read
// in one load. The frame must have at least 8 bytes.
func (e Ethernet) Dst48() uint64 { return binary.BigEndian.Uint64(e[0:8]) >> 16 }

// Src48 returns the source address as a number (MAC.Uint64), read in one
// load. The frame must have at least 12 bytes.
func (e Ethernet) Src48() uint64 { return binary.BigEndian.Uint64(e[4:12]) & (1<<48 - 1) }

// SetDst sets the destination address.
func (e Ethernet) SetDst(m MAC) { copy(e[0:6], m[:]) }

// SetSrc sets the source address.
func (e Ethernet) SetSrc(m MAC) { copy(e[6:12], m[:]) }

// EtherType returns the frame's EtherType: the TPID for a tagged frame.
func (e Ethernet) EtherType() uint16 { return binary.BigEndian.Uint16(e[12:]) }

// SetEtherType sets the EtherType (the TPID, for a tagged frame).
func (e Ethernet) SetEtherType(t uint16) { binary.BigEndian.PutUint16(e[12:14], t) }

// Tagged reports whether the frame carries an 802.1Q tag. The frame must
// have at least EthernetLen bytes.
func (e Ethernet) Tagged() bool { return e.EtherType() == EtherTypeVLAN }

// TCI returns the tag's control information (PCP, DEI, VID); the frame
// must be Tagged.
func (e Ethernet) TCI() uint16 { return binary.BigEndian.Uint16(e[14:]) }

// VID returns the tag's VLAN ID, 0 for a priority-tagged frame; the frame
// must be Tagged.
func (e Ethernet) VID() uint16 { return e.TCI() & 0x0fff }

// PCP returns the tag's priority code point; the frame must be Tagged.
func (e Ethernet) PCP() uint8 { return uint8(e.TCI() >> 13) }

// DEI reports whether the tag's drop-eligible bit is set; the frame must
// be Tagged.
func (e Ethernet) DEI() bool { return e.TCI()&0x1000 != 0 }

// TagType returns the EtherType after the tag; the frame must be Tagged.
func (e Ethernet) TagType() uint16 { return binary.BigEndian.Uint16(e[16:]) }

// Tag returns the tag's control information and the EtherType after it,
// in one read; the frame must be Tagged.
func (e Ethernet) Tag() (tci, etherType uint16) {
	return binary.BigEndian.Uint16(e[14:16]), binary.BigEndian.Uint16(e[16:18])
}

// InnerType returns the EtherType after the tag, or the frame's own when
// it has none: the protocol of what L3 holds.
func (e Ethernet) InnerType() uint16 {
	if e.Tagged() {
		return e.TagType()
	}
	return e.EtherType()
}

// L3Off returns where the L3 header starts: after the tag, if any.
func (e Ethernet) L3Off() int {
	if e.Tagged() {
		return EthernetLen + VLANTagLen
	}
	return EthernetLen
}

// L3 returns the bytes after the header and tag: the L3 packet, with any
// padding.
func (e Ethernet) L3() []byte { return e[e.L3Off():] }

// TypeAndPayload returns the frame from its inner EtherType on: what an
// untagged copy of it carries after its addresses.
func (e Ethernet) TypeAndPayload() []byte {
	if e.Tagged() {
		return e[EthernetLen+VLANTagLen-2:]
	}
	return e[EthernetLen-2:]
}

// AppendTagged appends to dst e's addresses, an 802.1Q tag with tci, and
// e's inner EtherType and payload: e with its tag replaced, or added.
func (e Ethernet) AppendTagged(dst []byte, tci uint16) []byte {
	dst = append(dst, e[:12]...)
	dst = binary.BigEndian.AppendUint16(dst, EtherTypeVLAN)
	dst = binary.BigEndian.AppendUint16(dst, tci)
	return append(dst, e.TypeAndPayload()...)
}

// AppendPushTag appends to dst e with an 802.1Q tag for tci in front of
// its EtherType: a tag added to an untagged frame, an outer one to a
// tagged frame (whose tag stays, as payload).
func (e Ethernet) AppendPushTag(dst []byte, tci uint16) []byte {
	dst = append(dst, e[:12]...)
	dst = binary.BigEndian.AppendUint16(dst, EtherTypeVLAN)
	dst = binary.BigEndian.AppendUint16(dst, tci)
	return append(dst, e[12:]...)
}

// AppendUntagged appends to dst e without its 802.1Q tag.
func (e Ethernet) AppendUntagged(dst []byte) []byte {
	dst = append(dst, e[:12]...)
	return append(dst, e.TypeAndPayload()...)
}

// PutEthernet writes an untagged Ethernet header into b[:EthernetLen].
func PutEthernet(b []byte, dst, src MAC, etherType uint16) {
	e := Ethernet(b)
	e.SetDst(dst)
	e.SetSrc(src)
	e.SetEtherType(etherType)
}
