package stack

import (
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
)

// What a router built on a Host (see Options.Forward) needs: its routing
// decision, sending a packet it did not make, and ICMP errors about packets
// it could not deliver.

// Route returns the interface a packet to dst leaves by and its next hop:
// dst itself when on-link, else the default gateway.
func (h *Host) Route(dst netip.Addr) (*Iface, netip.Addr, error) { return h.route(dst) }

// Owns reports whether a is one of the host's addresses.
func (h *Host) Owns(a netip.Addr) bool { return h.owns(a) }

// ErrMalformed is returned for a packet that is not IPv4.
var ErrMalformed = errors.New("stack: not an IPv4 packet")

// sendVia sends an IPv4 packet as it is (the caller has set its TTL and
// checksums) out of i to the next hop hop, resolving the hop's MAC first
// if needed. The host copies pkt. fail, if not nil, is called later with
// the host's copy if the next hop cannot be resolved.
func (h *Host) sendVia(i *Iface, hop netip.Addr, pkt []byte, fail func(pkt []byte, err error)) error {
	cp := append([]byte(nil), pkt...)
	var f func(error)
	if fail != nil {
		f = func(err error) { fail(cp, err) }
	}
	return h.resolveAndSend(i, hop, []gopacket.SerializableLayer{gopacket.Payload(cp)}, f)
}

// Headroom is the room SendFrame wants before a packet: an Ethernet header.
const Headroom = 14

// SendFrame sends the IPv4 packet frame[Headroom:] (TTL and checksums set
// by the caller) out of i to the next hop hop, as Route gave them, with o
// its offload metadata (offsets counted from the frame's start, as a frame
// with a 14-byte Ethernet header arrived). When the next hop is resolved,
// the Ethernet header is written into frame[:Headroom] and the frame
// leaves at once, without a copy: with its metadata if the interface
// takes offloads, else segmented and checksummed in software. Otherwise
// the packet is copied and queued for ARP of hop on i: the hop and the
// interface are the caller's (a router's own table), not the host's.
func (h *Host) SendFrame(i *Iface, hop netip.Addr, frame []byte, o link.Offload, fail func(pkt []byte, err error)) error {
	if len(frame) < Headroom || !header.IsIPv4(frame[Headroom:]) {
		return ErrMalformed
	}
	pkt := frame[Headroom:]
	n := h.arp.get(hop)
	if i == h.lo || n == nil || n.mac == nil || h.clk.Now().Sub(n.confirmed) >= ARPLifetime {
		if !o.Pending() {
			return h.sendVia(i, hop, pkt, fail)
		}
		header.Ethernet(frame).SetEtherType(header.EtherTypeIPv4)
		buf := make([]byte, len(frame)) // enough for the frame, or any of its segments
		return link.Resolve(frame, o, buf, func(seg []byte) error { return h.sendVia(i, hop, seg[Headroom:], fail) })
	}
	if !i.up {
		return ErrDown
	}
	header.PutEthernet(frame, header.MAC(n.mac), i.mac, header.EtherTypeIPv4)
	if !o.Pending() {
		return i.out.Send(frame)
	}
	if out, ok := i.out.(link.OffloadSender); ok {
		return out.SendOffload(frame, o)
	}
	_, _, err := link.ResolveTo(i.out, frame, o)
	return err
}

// SendICMPError answers the IPv4 packet pkt with an ICMP error of the given
// type and code (destination unreachable, time exceeded), quoting its IP
// header and first 8 bytes of payload (RFC 792), from the address of the
// interface the error leaves by. As RFC 1812 §4.3.2.7 requires, no error
// is sent about an ICMP error, a broadcast or a non-first fragment.
func (h *Host) SendICMPError(pkt []byte, typ, code uint8) { h.sendICMPError(pkt, typ, code, 0) }

// SendFragNeeded answers pkt, too big for the next hop and not to be
// fragmented, with ICMP fragmentation needed (type 3 code 4) carrying the
// next hop's MTU (RFC 1191 §4), as SendICMPError does.
func (h *Host) SendFragNeeded(pkt []byte, mtu uint16) { h.sendICMPError(pkt, 3, 4, mtu) }

// sendICMPError is SendICMPError with the error's next-hop MTU field.
func (h *Host) sendICMPError(pkt []byte, typ, code uint8, mtu uint16) {
	if !header.IsIPv4(pkt) {
		return
	}
	ip := header.IPv4(pkt)
	hl := ip.HeaderLen()
	if hl < header.IPv4MinLen || len(pkt) < hl {
		return
	}
	src, dst := ip.Src(), ip.Dst()
	if ip.FragOff() != 0 || !src.IsValid() || src.IsUnspecified() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return
	}
	if ip.Protocol() == header.ProtocolICMP && len(pkt) > hl && header.ICMPv4(ip.Payload()).IsError() {
		return
	}
	quote := append([]byte(nil), pkt[:min(len(pkt), hl+8)]...)
	_ = h.sendIPFrom(netip.Addr{}, src, layers.IPProtocolICMPv4, nil,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Seq: mtu},
		gopacket.Payload(quote))
}

// Route is a static route: packets to To go by the next hop Via, which
// must be on a connected prefix when they are sent (ip route add TO via
// VIA).
type Route struct {
	To  netip.Prefix
	Via netip.Addr
}

// AddRoute adds a static route, consulted after the connected prefixes
// and before the default gateway, longest prefix first (the first added
// first among equals), as Linux's main table chooses.
func (h *Host) AddRoute(r Route) {
	r.To = r.To.Masked()
	i := len(h.routes)
	for i > 0 && h.routes[i-1].To.Bits() < r.To.Bits() {
		i--
	}
	h.routes = append(h.routes, Route{})
	copy(h.routes[i+1:], h.routes[i:])
	h.routes[i] = r
}

// loopback takes in the frames sent through lo so far, in order; what
// they make the host send through lo waits for the next round.
func (h *Host) loopback() {
	q := h.loq
	h.loq = nil
	for _, f := range q {
		h.input(h.lo, f, link.Offload{}, false)
	}
}
