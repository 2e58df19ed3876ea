package header

import (
	"encoding/binary"
	"net/netip"

	"github.com/netyard/netyard/internal/csum"
)

// IPv4 sizes, flags and the protocol numbers netyard reads (RFC 791).
const (
	IPv4MinLen    = 20
	IPv4MaxLen    = 60 // the longest header: IHL 15
	IPv4Version   = 4
	IPv4DF        = 0x4000 // don't fragment, in FlagsFrag
	IPv4MF        = 0x2000 // more fragments, in FlagsFrag
	IPv4OffMask   = 0x1fff // the fragment offset in 8-byte units, in FlagsFrag
	ProtocolICMP  = 1
	ProtocolTCP   = 6
	ProtocolUDP   = 17
	ipv4VerIHL    = 0
	ipv4TOS       = 1
	ipv4TotalLen  = 2
	ipv4ID        = 4
	ipv4FlagsFrag = 6
	ipv4TTL       = 8
	ipv4Protocol  = 9
	ipv4Checksum  = 10
	ipv4Src       = 12
	ipv4Dst       = 16
)

// IPv4 is a view of an IPv4 packet from its header on. The getters need
// the fixed header (IPv4MinLen bytes; Check); Payload and the checksum's
// methods need the whole header (HeaderLen bytes).
type IPv4 []byte

// IsIPv4 reports whether b is long enough for an IPv4 header and says
// version 4: the least a reader of the fixed header needs.
func IsIPv4(b []byte) bool { return len(b) >= IPv4MinLen && b[ipv4VerIHL]>>4 == IPv4Version }

// Check returns OK for a packet whose header fits its bytes, as Linux's
// ip_rcv_core checks it, else the first reason it is not: Short (under
// 20 bytes), BadVersion, BadHeaderLen (under 20 or beyond the bytes),
// Truncated (the total length beyond the bytes), BadTotalLen (the total
// length under the header's). The checksum is ChecksumValid's.
func (b IPv4) Check() Reason {
	switch {
	case len(b) < IPv4MinLen:
		return Short
	case b.Version() != IPv4Version:
		return BadVersion
	}
	hl, tl := b.HeaderLen(), b.TotalLen()
	switch {
	case hl < IPv4MinLen || hl > len(b):
		return BadHeaderLen
	case tl > len(b):
		return Truncated
	case tl < hl:
		return BadTotalLen
	}
	return OK
}

// Version returns the IP version field.
func (b IPv4) Version() uint8 { return b[ipv4VerIHL] >> 4 }

// HeaderLen returns the header's length in bytes (IHL × 4).
func (b IPv4) HeaderLen() int { return int(b[ipv4VerIHL]&0xf) * 4 }

// TOS returns the type of service (DSCP and ECN).
func (b IPv4) TOS() uint8 { return b[ipv4TOS] }

// TotalLen returns the total length field: header and payload.
func (b IPv4) TotalLen() int { return int(binary.BigEndian.Uint16(b[ipv4TotalLen:])) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4ID:]) }

// FlagsFrag returns the flags and fragment offset field as it is
// (IPv4DF, IPv4MF, IPv4OffMask).
func (b IPv4) FlagsFrag() uint16 { return binary.BigEndian.Uint16(b[ipv4FlagsFrag:]) }

// DF reports whether the don't-fragment flag is set.
func (b IPv4) DF() bool { return b.FlagsFrag()&IPv4DF != 0 }

// MF reports whether the more-fragments flag is set.
func (b IPv4) MF() bool { return b.FlagsFrag()&IPv4MF != 0 }

// FragOff returns the fragment offset in bytes.
func (b IPv4) FragOff() int { return int(b.FlagsFrag()&IPv4OffMask) * 8 }

// IsFragment reports whether the packet is a fragment: more fragments
// follow it, or it does not start at offset 0.
func (b IPv4) IsFragment() bool { return b.FlagsFrag()&(IPv4MF|IPv4OffMask) != 0 }

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[ipv4TTL] }

// Protocol returns the protocol of the payload (ProtocolTCP...).
func (b IPv4) Protocol() uint8 { return b[ipv4Protocol] }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Checksum:]) }

// Src returns the source address.
func (b IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(b[ipv4Src : ipv4Src+4])) }

// Dst returns the destination address.
func (b IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(b[ipv4Dst : ipv4Dst+4])) }

// Src32 returns the source address as a number, its first byte highest.
func (b IPv4) Src32() uint32 { return binary.BigEndian.Uint32(b[ipv4Src:]) }

// Dst32 returns the destination address as a number, its first byte
// highest.
func (b IPv4) Dst32() uint32 { return binary.BigEndian.Uint32(b[ipv4Dst:]) }

// Header returns the header, options included.
func (b IPv4) Header() []byte { return b[:b.HeaderLen()] }

// Options returns the header's options (and padding).
func (b IPv4) Options() []byte { return b[IPv4MinLen:b.HeaderLen()] }

// Payload returns what follows the header, to the end of b: trim b to
// TotalLen first to leave link-layer padding out.
func (b IPv4) Payload() []byte { return b[b.HeaderLen():] }

// ChecksumValid reports whether the header checksum is right.
func (b IPv4) ChecksumValid() bool { return csum.Fold(csum.Sum(b[:b.HeaderLen()], 0)) == 0xffff }

// FixChecksum computes the header checksum afresh: for a header built or
// cut anew.
func (b IPv4) FixChecksum() { fill(b[:b.HeaderLen()], ipv4Checksum, 0) }

// SetChecksum sets the header checksum field as it is.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[ipv4Checksum:], v) }

// sum is the header checksum, for the setters.
func (b IPv4) sum() Checksum { return sumAt(b, ipv4Checksum) }

// SetVersionIHL sets version 4 and a header length of hl bytes (a
// multiple of 4, 20 to 60), keeping the checksum.
func (b IPv4) SetVersionIHL(hl int) {
	old := binary.BigEndian.Uint16(b[ipv4VerIHL:])
	b[ipv4VerIHL] = IPv4Version<<4 | byte(hl/4)&0xf
	b.sum().Update(old, binary.BigEndian.Uint16(b[ipv4VerIHL:]))
}

// SetTotalLen sets the total length, keeping the checksum.
func (b IPv4) SetTotalLen(n int) { setWord(b, ipv4TotalLen, uint16(n), b.sum()) }

// SetID sets the identification, keeping the checksum.
func (b IPv4) SetID(id uint16) { setWord(b, ipv4ID, id, b.sum()) }

// SetFlagsFrag sets the flags and fragment offset field (see FlagsFrag),
// keeping the checksum.
func (b IPv4) SetFlagsFrag(v uint16) { setWord(b, ipv4FlagsFrag, v, b.sum()) }

// SetTTL sets the time to live, keeping the checksum.
func (b IPv4) SetTTL(ttl uint8) {
	old := binary.BigEndian.Uint16(b[ipv4TTL:])
	b[ipv4TTL] = ttl
	b.sum().Update(old, binary.BigEndian.Uint16(b[ipv4TTL:]))
}

// SetSrc sets the source address, keeping the header checksum (not a
// transport checksum: see SetSrcL4).
func (b IPv4) SetSrc(a netip.Addr) { b.setAddr(ipv4Src, a, Checksum{}) }

// SetDst sets the destination address, keeping the header checksum (not
// a transport checksum: see SetDstL4).
func (b IPv4) SetDst(a netip.Addr) { b.setAddr(ipv4Dst, a, Checksum{}) }

// SetSrcL4 sets the source address, keeping the header checksum and l4,
// the checksum of a transport header that covers the address through its
// pseudo-header (TCP.Sum, UDP.Sum; the zero Checksum for none).
func (b IPv4) SetSrcL4(a netip.Addr, l4 Checksum) { b.setAddr(ipv4Src, a, l4) }

// SetDstL4 sets the destination address as SetSrcL4 sets the source.
func (b IPv4) SetDstL4(a netip.Addr, l4 Checksum) { b.setAddr(ipv4Dst, a, l4) }

func (b IPv4) setAddr(off int, a netip.Addr, l4 Checksum) {
	old, nu := [4]byte(b[off:off+4]), a.As4()
	b.sum().updateAddr(old, nu)
	l4.updateAddr(old, nu)
	copy(b[off:off+4], nu[:])
}

// PseudoSum returns the sum of the pseudo-header (RFC 793, RFC 768) of a
// transport header of proto and length bytes carried by b, the start of
// its checksum.
func (b IPv4) PseudoSum(proto uint8, length int) uint64 {
	return csum.Sum(b[ipv4Src:ipv4Dst+4], uint64(proto)+uint64(length))
}

// IPv4Fields are the fields PutIPv4 writes.
type IPv4Fields struct {
	TOS       uint8
	TotalLen  int
	ID        uint16
	FlagsFrag uint16
	TTL       uint8
	Protocol  uint8
	Src, Dst  netip.Addr
}

// PutIPv4 writes a 20-byte IPv4 header with f's fields and its checksum
// into b[:IPv4MinLen].
func PutIPv4(b []byte, f IPv4Fields) {
	h := IPv4(b[:IPv4MinLen])
	h[ipv4VerIHL] = IPv4Version<<4 | IPv4MinLen/4
	h[ipv4TOS] = f.TOS
	binary.BigEndian.PutUint16(h[ipv4TotalLen:], uint16(f.TotalLen))
	binary.BigEndian.PutUint16(h[ipv4ID:], f.ID)
	binary.BigEndian.PutUint16(h[ipv4FlagsFrag:], f.FlagsFrag)
	h[ipv4TTL], h[ipv4Protocol] = f.TTL, f.Protocol
	s, d := f.Src.As4(), f.Dst.As4()
	copy(h[ipv4Src:], s[:])
	copy(h[ipv4Dst:], d[:])
	h.FixChecksum()
}
