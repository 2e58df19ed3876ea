package stack

import (
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
)

// minFrame is the shortest Ethernet frame without its FCS: shorter frames
// are padded with zeros, as gopacket's Ethernet serialisation does (the
// bytes on the wire stay what they were).
const minFrame = 60

// frameBuf returns n zeroed bytes to build a frame in: the host's own
// buffer, or a new one when that is in use (a synchronous link re-entered
// the host while it was sending).
func (h *Host) frameBuf(n int) []byte {
	n = max(n, minFrame)
	if h.building {
		return make([]byte, n)
	}
	if cap(h.obuf) < n {
		h.obuf = make([]byte, n, max(n, 2048))
	}
	b := h.obuf[:n]
	clear(b)
	return b
}

// sendFrame sends a frame built in frameBuf out of i.
func (h *Host) sendFrame(i *Iface, frame []byte) error {
	was := h.building
	h.building = true
	err := i.out.Send(frame)
	h.building = was
	return err
}

// resolved returns the MAC a packet to hop out of i goes to without waiting
// (a NOARP interface's own, the broadcast address, a fresh neighbour's):
// resolveAndSend's decision and sendEcho's. ok is false when the packet
// would have to wait for ARP, and for lo.
func (h *Host) resolved(i *Iface, hop netip.Addr) (mac net.HardwareAddr, ok bool) {
	switch {
	case i == h.lo:
		return nil, false
	case i.noARP: // Linux's NUD_NOARP neighbour: the device's own address
		return i.hw, true
	case hop == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || hop == i.broadcast():
		return broadcastMAC, true
	}
	n := h.arp.get(hop)
	if n != nil && len(n.mac) == 6 && h.clk.Now().Sub(n.confirmed) < ARPLifetime {
		return n.mac, true
	}
	return nil, false
}

// source returns the source address of a packet to dst out of i: src, or
// when that is the zero Addr the interface's address.
func (h *Host) source(i *Iface, src, dst netip.Addr) netip.Addr {
	if src.IsValid() {
		return src
	}
	if i != h.lo {
		return i.prefix.Addr()
	}
	if isLoopback(dst) {
		// Linux's local 127.0.0.0/8 route has src 127.0.0.1: a query
		// to 127.0.0.11 comes from 127.0.0.1, as in Docker.
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return dst // a local route's source is the address itself
}

// echoPayload is an echo message's payload: data, or when data is nil
// size bytes of their offsets (byte(i)), as Ping sends.
type echoPayload struct {
	data []byte // the payload, or nil for a pattern of size bytes
	size int
}

func (p echoPayload) len() int {
	if p.data != nil {
		return len(p.data)
	}
	return p.size
}

// offsets is the pattern of echoPayload, byte(i), for 256 bytes: it
// repeats from there.
var offsets = func() (b [256]byte) {
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// fillOffsets writes byte(i) at every b[i], copying the pattern rather
// than storing a byte at a time: every Ping's request is made so.
func fillOffsets(b []byte) {
	for off := 0; off < len(b); off += len(offsets) {
		copy(b[off:], offsets[:])
	}
}

// sendEcho sends an ICMP echo message (request or reply) from src to dst,
// building the frame in place when the next hop is known; otherwise (lo,
// an unresolved neighbour) it goes the general way, through gopacket. The
// bytes are the same either way.
func (h *Host) sendEcho(src, dst netip.Addr, typ uint8, id, seq uint16, p echoPayload, r echoReq) error {
	i, hop, err := h.route(dst)
	if err != nil {
		return err
	}
	mac, ok := h.resolved(i, hop)
	if !ok {
		return h.sendEchoLayers(src, dst, typ, id, seq, p, h.failFunc(r))
	}
	src = h.source(i, src, dst)
	h.ipID++
	if !i.up {
		return ErrDown
	}
	ipLen := header.IPv4MinLen + header.ICMPv4Len + p.len()
	f := h.frameBuf(header.EthernetLen + ipLen)
	header.PutEthernet(f, header.MAC(mac), i.mac, header.EtherTypeIPv4)
	m := header.ICMPv4(f[header.EthernetLen+header.IPv4MinLen : header.EthernetLen+ipLen])
	m[0], m[1] = typ, 0
	m[4], m[5], m[6], m[7] = byte(id>>8), byte(id), byte(seq>>8), byte(seq)
	if pl := m[header.ICMPv4Len:]; p.data != nil {
		copy(pl, p.data)
	} else {
		fillOffsets(pl)
	}
	m.FixChecksum()
	header.PutIPv4(f[header.EthernetLen:], header.IPv4Fields{
		TotalLen: ipLen, ID: h.ipID, FlagsFrag: header.IPv4DF, TTL: DefaultTTL,
		Protocol: header.ProtocolICMP, Src: src, Dst: dst,
	})
	return h.sendFrame(i, f)
}

// sendARPReply answers sender (at mac) for our address on i, built in
// place.
func (h *Host) sendARPReply(i *Iface, mac header.MAC, sender netip.Addr) error {
	if !i.up {
		return ErrDown
	}
	f := h.frameBuf(header.EthernetLen + header.ARPLen)
	header.PutEthernet(f, mac, i.mac, header.EtherTypeARP)
	header.PutARP(f[header.EthernetLen:], header.ARPReply, i.mac, i.prefix.Addr(), mac, sender)
	return h.sendFrame(i, f)
}

// sendQueued sends a packet that waited for its next hop (pkt from its
// IPv4 header on) to mac out of i, built in place.
func (h *Host) sendQueued(i *Iface, mac header.MAC, pkt []byte) error {
	if !i.up {
		return ErrDown
	}
	f := h.frameBuf(header.EthernetLen + len(pkt))
	header.PutEthernet(f, mac, i.mac, header.EtherTypeIPv4)
	copy(f[header.EthernetLen:], pkt)
	return h.sendFrame(i, f)
}

// sendEchoLayers sends an echo message through gopacket's serialisation
// and the neighbour queue: the way for lo and for a next hop not resolved
// yet.
func (h *Host) sendEchoLayers(src, dst netip.Addr, typ uint8, id, seq uint16, p echoPayload, fail func(error)) error {
	data := p.data
	if data == nil {
		data = make([]byte, p.size)
		fillOffsets(data)
	}
	return h.sendIPFrom(src, dst, layers.IPProtocolICMPv4, fail,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq},
		gopacket.Payload(data))
}
