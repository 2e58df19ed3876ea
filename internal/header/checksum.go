package header

import (
	"encoding/binary"

	"github.com/netyard/netyard/internal/csum"
)

// Checksum is a transport checksum field to keep right when what it
// covers changes (RFC 1624), as returned by TCP.Sum, UDP.Sum and
// ICMPv4.Sum. The zero Checksum is none (a UDP datagram sent without
// one): updates do nothing. A partial Checksum (Partial) is one an
// offload is still to compute: its field holds the pseudo-header sum
// itself, not the complement of a whole sum, so it follows changes to
// the pseudo-header and ignores the rest, which the final sum covers.
type Checksum struct {
	field   []byte
	partial bool
}

// sumAt returns the checksum field at b[off:off+2].
func sumAt(b []byte, off int) Checksum { return Checksum{field: b[off : off+2 : off+2]} }

// None reports whether there is no checksum to keep.
func (c Checksum) None() bool { return c.field == nil }

// Partial returns c as a partial checksum (see Checksum).
func (c Checksum) Partial() Checksum {
	c.partial = true
	return c
}

// IsPartial reports whether c is partial.
func (c Checksum) IsPartial() bool { return c.partial }

// Update fixes c for a covered 16-bit word, not of the pseudo-header,
// that changed from old to nu.
func (c Checksum) Update(old, nu uint16) {
	if c.field != nil && !c.partial {
		csum.Update(c.field, old, nu)
	}
}

// UpdatePseudo fixes c for a 16-bit word of the pseudo-header (an
// address's half) that changed from old to nu.
func (c Checksum) UpdatePseudo(old, nu uint16) {
	switch {
	case c.field == nil:
	case c.partial:
		// The field is the sum itself: add ~old + nu to it, as
		// csum.Update does to the complement of a checksum.
		s := uint32(binary.BigEndian.Uint16(c.field)) + uint32(^old) + uint32(nu)
		s = s>>16 + s&0xffff
		s += s >> 16
		binary.BigEndian.PutUint16(c.field, uint16(s))
	default:
		csum.Update(c.field, old, nu)
	}
}

// updateAddr fixes c for a pseudo-header address that changed.
func (c Checksum) updateAddr(old, nu [4]byte) {
	switch {
	case c.field == nil:
	case c.partial:
		c.UpdatePseudo(binary.BigEndian.Uint16(old[0:]), binary.BigEndian.Uint16(nu[0:]))
		c.UpdatePseudo(binary.BigEndian.Uint16(old[2:]), binary.BigEndian.Uint16(nu[2:]))
	default:
		csum.Update32(c.field, binary.BigEndian.Uint32(old[:]), binary.BigEndian.Uint32(nu[:]))
	}
}

// update32 fixes c for a covered 32-bit field (not of the pseudo-header).
func (c Checksum) update32(old, nu uint32) {
	c.Update(uint16(old>>16), uint16(nu>>16))
	c.Update(uint16(old), uint16(nu))
}

// setWord writes v at b[off:] and fixes c for it.
func setWord(b []byte, off int, v uint16, c Checksum) {
	old := binary.BigEndian.Uint16(b[off:])
	binary.BigEndian.PutUint16(b[off:], v)
	c.Update(old, v)
}

// fill computes the checksum of b into its field at b[off:], the field
// counted as zero, starting from acc (a pseudo-header's sum).
func fill(b []byte, off int, acc uint64) {
	b[off], b[off+1] = 0, 0
	binary.BigEndian.PutUint16(b[off:], ^csum.Fold(csum.Sum(b, acc)))
}
