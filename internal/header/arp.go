package header

import (
	"encoding/binary"
	"net/netip"
)

// ARP sizes and operations (RFC 826), for Ethernet and IPv4.
const (
	ARPLen     = 28
	ARPRequest = 1
	ARPReply   = 2
)

// ARP is a view of an ARP packet for Ethernet and IPv4 (RFC 826): the
// payload of an EtherTypeARP frame. Check comes first.
type ARP []byte

// Check returns OK for an Ethernet/IPv4 ARP packet, Short for fewer than
// ARPLen bytes, Unsupported for other hardware or protocol types or
// address lengths.
func (a ARP) Check() Reason {
	switch {
	case len(a) < ARPLen:
		return Short
	case a.HType() != 1 || a.PType() != EtherTypeIPv4 || a[4] != 6 || a[5] != 4:
		return Unsupported
	}
	return OK
}

// HType returns the hardware type (1: Ethernet).
func (a ARP) HType() uint16 { return binary.BigEndian.Uint16(a[0:2]) }

// PType returns the protocol type (an EtherType: IPv4's).
func (a ARP) PType() uint16 { return binary.BigEndian.Uint16(a[2:4]) }

// Op returns the operation: ARPRequest, ARPReply.
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[6:8]) }

// SenderMAC returns the sender's hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[8:14]) }

// SenderIP returns the sender's protocol address.
func (a ARP) SenderIP() netip.Addr { return netip.AddrFrom4([4]byte(a[14:18])) }

// TargetMAC returns the target's hardware address.
func (a ARP) TargetMAC() MAC { return MAC(a[18:24]) }

// TargetIP returns the target's protocol address.
func (a ARP) TargetIP() netip.Addr { return netip.AddrFrom4([4]byte(a[24:28])) }

// PutARP writes an Ethernet/IPv4 ARP packet into b[:ARPLen].
func PutARP(b []byte, op uint16, senderMAC MAC, senderIP netip.Addr, targetMAC MAC, targetIP netip.Addr) {
	binary.BigEndian.PutUint16(b[0:2], 1)
	binary.BigEndian.PutUint16(b[2:4], EtherTypeIPv4)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:8], op)
	copy(b[8:14], senderMAC[:])
	s, t := senderIP.As4(), targetIP.As4()
	copy(b[14:18], s[:])
	copy(b[18:24], targetMAC[:])
	copy(b[24:28], t[:])
}
