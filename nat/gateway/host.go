package gateway

import (
	"net/netip"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat"
)

// The Docker host's own traffic. The gateway's stack is the host's: what
// a process on the host (or a container on the host network) sends leaves
// from it. Three things Docker adds to the host's own stack are here:
//
//   - To a published port on the host's own address or on 127.0.0.1,
//     the host reaches the container: Docker's nat OUTPUT rule (-m
//     addrtype --dst-type LOCAL -j DOCKER) DNATs it, and for loopback
//     docker-proxy, listening on 0.0.0.0, relays it. Here both are one
//     translation on the way out (the stack's Output hook), masqueraded
//     behind the gateway's address on the container's network as the
//     proxy's connection is, so that the container answers the gateway,
//     which turns the answer back into the reply the host's socket waits
//     for (deliverLocal).
//   - To a container's address, the host reaches it directly over its
//     bridge leg: nothing to do, the stack routes on-link.
//   - From outside straight to a container (a LAN host with a route to
//     the bridge's subnet via this host): with AllowDirectRouting, to a
//     published port only (routeDirect).

// loopback is the address a loopback twin of a published port has.
var loopback = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// publishLoopback publishes every port published on the host's LAN
// address on 127.0.0.1 too (docker run -p 8080:80 binds 0.0.0.0, so
// curl 127.0.0.1:8080 on the host reaches the container). A port
// published on 127.0.0.1 itself wins.
func (g *Gateway) publishLoopback(ps []nat.Publish) {
	lan := g.legs[0].addr
	for _, p := range ps {
		if p.Ext.Addr() != lan || p.Bind.IsValid() {
			continue // published on one address only: not on loopback
		}
		// ErrPublished: published on 127.0.0.1 itself, which was added first.
		_ = g.nat.AddPublish(nat.Publish{Proto: p.Proto, Ext: netip.AddrPortFrom(loopback, p.Ext.Port()), To: p.To})
	}
}

// output is the stack's Output hook: a packet the host made for one of
// its own addresses. One to a published port is translated to the
// container and sent out of its bridge leg; anything else goes round
// loopback (false).
func (g *Gateway) output(pkt []byte) bool {
	ip := header.IPv4(pkt)
	p, ok := g.nat.Published(ip.Protocol(), dstPort(pkt))
	if !ok {
		return false
	}
	b := g.bridgeFor(v4(p.To.Addr()))
	if b == nil {
		return false
	}
	return g.translate(pkt, link.Offload{}, nat.FromHost, b.addr, true, 0)
}

// deliverLocal hands the host's own stack a packet translate turned into
// one for a local address: a container's answer to the host's connection
// to a published port, now looking as the host's socket expects it
// (from 127.0.0.1:8080). It goes round loopback, as Linux delivers it.
func (g *Gateway) deliverLocal(k nat.Tuple, was, frame []byte, out *stack.Iface, hop netip.Addr, ch nat.Change) bool {
	g.stats.Forwarded++
	if trace.Wants(g.tracer, trace.Routed) {
		g.traceRouted(k, was, frame[stack.Headroom:], out, flowChanges[ch])
	}
	if err := g.host.SendFrame(out, hop, frame, link.Offload{}, nil); err != nil {
		g.stats.SendErrors++
		g.dropPktf(was, "%v", err)
	}
	return true
}

// routeDirect decides a packet from outside addressed straight to a
// container on bridge leg b, with direct routing allowed: to a published
// port of the container it is routed as it is, tracked so that the
// replies leave untranslated; to any other port it is dropped, as
// Docker's filter rules drop direct access to unpublished ports.
func (g *Gateway) routeDirect(b *leg, pkt []byte, o link.Offload, maxFrag int) bool {
	to := dstPort(pkt)
	if header.IPv4(pkt).Protocol() != nat.ICMP && g.nat.PublishedTo(header.IPv4(pkt).Protocol(), to) {
		return g.translate(pkt, o, nat.Routed, netip.Addr{}, false, maxFrag)
	}
	g.stats.Direct++
	g.dropPktf(pkt, "from outside straight to %s on %s, which no published port leads to: direct routing reaches published ports only", to, b.bridge.Network)
	return true
}
