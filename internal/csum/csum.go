// Package csum is the Internet checksum: sums of 16-bit words in one's
// complement (RFC 1071) and incremental updates of a checksum field when a
// word it covers changes (RFC 1624). The NAT and the software offloads both
// use it.
package csum

import "encoding/binary"

// Sum adds b to acc as big-endian 16-bit words, a trailing odd byte as the
// high half of a word (RFC 1071). Fold the result for a checksum.
func Sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// Fold reduces a sum to 16 bits with end-around carries; the checksum is
// its complement.
func Fold(acc uint64) uint16 {
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return uint16(acc)
}

// Update fixes the checksum stored big-endian in field for a covered 16-bit
// word that changed from old to nu: HC' = ~(~HC + ~m + m') (RFC 1624,
// equation 3).
func Update(field []byte, old, nu uint16) {
	hc := binary.BigEndian.Uint16(field)
	s := uint32(^hc) + uint32(^old) + uint32(nu)
	s = s>>16 + s&0xffff
	s += s >> 16
	binary.BigEndian.PutUint16(field, ^uint16(s))
}

// Update32 is Update for a covered 32-bit field (an IPv4 address) that
// changed from old to nu: both halves in one sum, one fold.
func Update32(field []byte, old, nu uint32) {
	hc := binary.BigEndian.Uint16(field)
	s := uint64(^hc) + uint64(^uint16(old>>16)) + uint64(^uint16(old)) + uint64(nu>>16) + uint64(nu&0xffff)
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	binary.BigEndian.PutUint16(field, ^uint16(s))
}
