package gateway

import (
	"encoding/binary"
	"net/netip"

	"github.com/netyard/netyard/internal/header"
)

// The checks every packet passes before the gateway looks further: its
// header as Linux's ip_rcv_core checks it, and its addresses as
// ip_route_input_slow and RFC 1812 §5.3.7 ("Martian Address Filtering")
// do. They are cheap: a few comparisons and a 20-byte checksum.

// checkHeader checks pkt's IPv4 header and returns the packet without
// link-layer padding. It counts, traces and reports false for a packet it
// drops.
func (g *Gateway) checkHeader(l *leg, pkt []byte) ([]byte, bool) {
	ip := header.IPv4(pkt)
	r := ip.Check()
	if r == header.OK && !ip.ChecksumValid() {
		r = header.BadChecksum
	}
	switch r {
	case header.OK:
		return pkt[:ip.TotalLen()], true
	case header.Short:
		g.stats.HeaderErrors++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropLegf(l, "IPv4 packet of %d bytes is shorter than its header", len(pkt))
		}
	case header.BadVersion:
		g.stats.HeaderErrors++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropLegf(l, "IP version %d in an IPv4 frame", ip.Version())
		}
	case header.BadHeaderLen:
		g.stats.HeaderErrors++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropPktf(pkt, "IPv4 header length %d outside 20-%d", ip.HeaderLen(), min(len(pkt), header.IPv4MaxLen))
		}
	case header.Truncated:
		g.stats.Truncated++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropPktf(pkt, "total length %d beyond the %d bytes received", ip.TotalLen(), len(pkt))
		}
	case header.BadTotalLen:
		g.stats.HeaderErrors++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropPktf(pkt, "total length %d shorter than its %d-byte header", ip.TotalLen(), ip.HeaderLen())
		}
	default: // header.BadChecksum
		g.stats.BadChecksum++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropPktf(pkt, "IPv4 header checksum %#04x is wrong", ip.Checksum())
		}
	}
	return nil, false
}

// checkAddrs drops (counted, traced) and reports false for a packet with
// a martian source or destination.
func (g *Gateway) checkAddrs(l *leg, src, dst uint32) bool {
	if why := g.martianSource(src, dst); why != "" {
		g.stats.MartianSource++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropf(addr(src), addr(dst), "martian source %s on %s: %s", addr(src), l.ifc.Name(), why)
		}
		return false
	}
	if why := header.MartianDest(dst); why != "" {
		g.stats.MartianDest++
		if g.tracer != nil { // the arguments would be boxed even untraced
			g.dropf(addr(src), addr(dst), "martian destination %s on %s: %s", addr(dst), l.ifc.Name(), why)
		}
		return false
	}
	return true
}

// addr returns a number as an IPv4 address.
func addr(a uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b)
}

// martianSource says why src cannot be the source of a packet to dst, or
// returns "" when it can. Linux takes any source but multicast and the
// limited broadcast towards 255.255.255.255 (a DHCP client has none yet).
func (g *Gateway) martianSource(src, dst uint32) string {
	if why := header.MartianSource(src, dst); why != "" || dst == header.LimitedBroadcast {
		return why
	}
	for i := range g.legs {
		l := &g.legs[i]
		switch {
		case src == l.a32:
			return "one of the gateway's own addresses"
		case l.hasBcast && src == l.bcast32:
			return l.bcastWhy
		}
	}
	return ""
}

// notRouted reports whether dst is a broadcast or multicast address: a
// router forwards neither (no directed broadcasts, RFC 2644; no multicast
// routing), and takes a broadcast as its own.
func (g *Gateway) notRouted(dst uint32) bool {
	if !header.Routable(dst) {
		return true
	}
	for i := range g.legs {
		if g.legs[i].hasBcast && dst == g.legs[i].bcast32 {
			return true
		}
	}
	return false
}

// dropPktf traces the drop of a packet that has addresses.
func (g *Gateway) dropPktf(pkt []byte, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	if g.tracer != nil { // the arguments would be boxed even untraced
		g.dropf(header.IPv4(pkt).Src(), header.IPv4(pkt).Dst(), format, args...)
	}
}

// dropLegf traces a drop of a packet whose addresses cannot be read.
func (g *Gateway) dropLegf(l *leg, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	if g.tracer != nil { // the arguments would be boxed even untraced
		g.dropf(netip.Addr{}, netip.Addr{}, "on "+l.ifc.Name()+": "+format, args...)
	}
}
