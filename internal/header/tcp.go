package header

import "encoding/binary"

// TCP sizes and flags (RFC 9293).
const (
	TCPMinLen = 20
	TCPFin    = 0x01
	TCPSyn    = 0x02
	TCPRst    = 0x04
	TCPPsh    = 0x08
	TCPAck    = 0x10
	TCPUrg    = 0x20
	TCPEce    = 0x40
	TCPCwr    = 0x80
)

// TCP is a view of a TCP segment. The ports and the sequence number need
// 8 bytes (what an ICMP error quotes); the rest needs TCPMinLen bytes
// (Check), Payload the whole header.
type TCP []byte

// Check returns OK for a segment whose header fits its bytes, else Short
// (under TCPMinLen bytes) or BadHeaderLen (a data offset under 20 bytes or
// beyond the segment).
func (t TCP) Check() Reason {
	switch {
	case len(t) < TCPMinLen:
		return Short
	case t.DataOff() < TCPMinLen || t.DataOff() > len(t):
		return BadHeaderLen
	}
	return OK
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:2]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:4]) }

// Seq returns the sequence number.
func (t TCP) Seq() uint32 { return binary.BigEndian.Uint32(t[4:8]) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() uint32 { return binary.BigEndian.Uint32(t[8:12]) }

// DataOff returns the header's length in bytes (the data offset × 4).
func (t TCP) DataOff() int { return int(t[12]>>4) * 4 }

// Flags returns the flags (TCPFin...).
func (t TCP) Flags() uint8 { return t[13] }

// Window returns the window field.
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[14:16]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:18]) }

// Sum returns the checksum, to keep while changing the segment or its
// pseudo-header.
func (t TCP) Sum() Checksum { return sumAt(t, 16) }

// Payload returns the data after the header, to the end of t.
func (t TCP) Payload() []byte { return t[t.DataOff():] }

// SetSrcPort sets the source port, keeping the checksum.
func (t TCP) SetSrcPort(p uint16) { setWord(t, 0, p, t.Sum()) }

// SetDstPort sets the destination port, keeping the checksum.
func (t TCP) SetDstPort(p uint16) { setWord(t, 2, p, t.Sum()) }

// SetSrcPortSum sets the source port, keeping c (a partial checksum, or
// none where only the first 8 bytes of a segment are at hand).
func (t TCP) SetSrcPortSum(p uint16, c Checksum) { setWord(t, 0, p, c) }

// SetDstPortSum sets the destination port, keeping c.
func (t TCP) SetDstPortSum(p uint16, c Checksum) { setWord(t, 2, p, c) }

// SetSeq sets the sequence number, keeping the checksum.
func (t TCP) SetSeq(s uint32) {
	old := t.Seq()
	binary.BigEndian.PutUint32(t[4:8], s)
	t.Sum().update32(old, s)
}

// SetFlags sets the flags, keeping the checksum.
func (t TCP) SetFlags(f uint8) {
	old := binary.BigEndian.Uint16(t[12:14])
	t[13] = f
	t.Sum().Update(old, binary.BigEndian.Uint16(t[12:14]))
}

// FixChecksum computes the checksum afresh from pseudo, the sum of the
// pseudo-header (IPv4.PseudoSum, IPv6.PseudoSum).
func (t TCP) FixChecksum(pseudo uint64) { fill(t, 16, pseudo) }

// FlagNames returns the set flags as Wireshark names them, lowest bit
// first, into dst: FIN, SYN, RST, PSH, ACK, URG, ECE, CWR.
func (t TCP) FlagNames(dst []string) []string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	for i, n := range names {
		if t.Flags()&(1<<i) != 0 {
			dst = append(dst, n)
		}
	}
	return dst
}
