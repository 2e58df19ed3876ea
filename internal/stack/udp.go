package stack

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/trace"
)

// First and last ephemeral ports, Linux's ip_local_port_range.
const (
	EphemeralFirst = 32768
	EphemeralLast  = 60999
)

// UDPConn is a bound UDP socket.
type UDPConn struct {
	h    *Host
	port uint16
	addr netip.Addr // bound to this address only (ListenUDPAddr); zero: every address
	// OnRecv, if set, gets every datagram; payload is only valid during the call.
	OnRecv func(src, dst netip.AddrPort, payload []byte)
	// OnError, if set, gets ICMP errors for datagrams this socket sent.
	OnError func(err error)
}

// ephemeral returns the first port of the ephemeral range that free accepts.
func ephemeral(free func(port uint16) bool) (uint16, error) {
	for p := EphemeralFirst; p <= EphemeralLast; p++ {
		if free(uint16(p)) {
			return uint16(p), nil
		}
	}
	return 0, fmt.Errorf("%w: no ephemeral port left", ErrPortInUse)
}

// Port returns the local port.
func (c *UDPConn) Port() uint16 { return c.port }

// ListenUDP binds port (0 picks the next free ephemeral port).
func (h *Host) ListenUDP(port uint16) (*UDPConn, error) {
	if port == 0 {
		var err error
		if port, err = ephemeral(func(p uint16) bool { return h.udp[p] == nil }); err != nil {
			return nil, err
		}
	}
	if h.udp[port] != nil {
		return nil, fmt.Errorf("%w: udp/%d", ErrPortInUse, port)
	}
	c := &UDPConn{h: h, port: port}
	h.udp[port] = c
	return c, nil
}

// ListenUDPAddr binds port on the local address addr only (a loopback
// address such as Docker's 127.0.0.11, or one of the host's), as a kernel
// socket bound to addr: it gets the datagrams to addr:port, ahead of a
// socket bound to the port on every address (ListenUDP), which may exist
// beside it (with SO_REUSEADDR, in a kernel's terms) and gets the rest.
func (h *Host) ListenUDPAddr(addr netip.Addr, port uint16) (*UDPConn, error) {
	if !h.owns(addr) {
		return nil, fmt.Errorf("%w: %s", ErrNotLocal, addr)
	}
	if port == 0 {
		return nil, fmt.Errorf("stack: ListenUDPAddr %s: a port is needed", addr)
	}
	ap := netip.AddrPortFrom(addr, port)
	if h.udpAt[ap] != nil {
		return nil, fmt.Errorf("%w: udp/%s", ErrPortInUse, ap)
	}
	c := &UDPConn{h: h, port: port, addr: addr}
	h.udpAt[ap] = c
	return c, nil
}

// Close unbinds the socket.
func (c *UDPConn) Close() {
	if c.addr.IsValid() {
		if ap := netip.AddrPortFrom(c.addr, c.port); c.h.udpAt[ap] == c {
			delete(c.h.udpAt, ap)
		}
		return
	}
	if c.h.udp[c.port] == c {
		delete(c.h.udp, c.port)
	}
}

// ErrNotLocal is returned by SendFromTo for a source that is not one of
// the host's addresses.
var ErrNotLocal = errors.New("stack: not a local address")

// SendTo sends one datagram to dst, from the address of the interface it
// leaves by.
func (c *UDPConn) SendTo(dst netip.AddrPort, payload []byte) error {
	return c.SendFromTo(netip.Addr{}, dst, payload)
}

// SendFromTo sends one datagram to dst from the local address src, as a
// server answers from the address it was asked at (a socket bound to
// 0.0.0.0 replying with IP_PKTINFO): the datagram is routed by dst, and
// src only fills its source field. src must be one of the host's
// addresses; the zero Addr means the outgoing interface's, as SendTo.
func (c *UDPConn) SendFromTo(src netip.Addr, dst netip.AddrPort, payload []byte) error {
	h := c.h
	if src.IsValid() && !h.owns(src) {
		return fmt.Errorf("%w: %s", ErrNotLocal, src)
	}
	if h.traces(trace.Host) {
		e := trace.Event{Op: trace.OpUDPSent, Proto: trace.UDP, SrcPort: c.port, DstIP: dst.Addr(), DstPort: dst.Port(), Len: len(payload)}
		if i, _, err := h.route(dst.Addr()); err == nil && src.IsValid() && src != i.prefix.Addr() && i != h.lo {
			// Not the address the route would pick: say which it is.
			e.SrcIP = src
		}
		h.event("", e)
	}
	fail := func(err error) {
		if c.OnError != nil {
			c.OnError(err)
		}
	}
	return h.sendIPFrom(src, dst.Addr(), layers.IPProtocolUDP, fail,
		&layers.UDP{SrcPort: layers.UDPPort(c.port), DstPort: layers.UDPPort(dst.Port())},
		gopacket.Payload(append([]byte(nil), payload...)))
}

func (h *Host) inputUDP(i *Iface, src, dst netip.Addr, ip *layers.IPv4, u *layers.UDP, bcast bool) {
	c := h.udpAt[netip.AddrPortFrom(dst, uint16(u.DstPort))]
	if c == nil {
		c = h.udp[uint16(u.DstPort)]
	}
	if c == nil {
		if bcast {
			if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
				h.droppedf(i.name, "udp to port %d: nobody listening", u.DstPort)
			}
			return
		}
		if h.traces(trace.Host) {
			h.event(i.name, trace.Event{Op: trace.OpUDPUnreachable, Proto: trace.UDP, SrcIP: src, SrcPort: uint16(u.SrcPort), DstIP: dst, DstPort: uint16(u.DstPort), Len: len(u.Payload)})
		}
		h.sendUnreachable(ip, uint8(layers.ICMPv4CodePort))
		return
	}
	if h.traces(trace.Host) {
		h.event(i.name, trace.Event{Op: trace.OpUDPReceived, Proto: trace.UDP, SrcIP: src, SrcPort: uint16(u.SrcPort), DstIP: dst, DstPort: uint16(u.DstPort), Len: len(u.Payload)})
	}
	if c.OnRecv != nil {
		c.OnRecv(netip.AddrPortFrom(src, uint16(u.SrcPort)), netip.AddrPortFrom(dst, uint16(u.DstPort)), u.Payload)
	}
}
