package mem

import (
	"net/netip"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/sim/topo"
)

// serveDNS starts the DNS servers of sandbox h on its stack: Docker's
// embedded server at 127.0.0.11:53 (a socket bound there on the stack,
// so a query reaches it by the stack's loopback and no frame crosses a
// link; upstream queries leave from the sandbox's own ephemeral ports,
// across its bridge), and a LAN client's zone on port 53.
func (n *Network) serveDNS(h topo.Host, host *stack.Host) error {
	if h.EmbeddedDNS != "" {
		r, err := n.world.Resolver(h, host, n.Engine)
		if err != nil {
			return err
		}
		c, err := host.ListenUDPAddr(dnsd.EmbeddedAddr, stack.DNSPort)
		if err != nil {
			return err
		}
		c.OnRecv = func(src, _ netip.AddrPort, b []byte) {
			r.ServeBytes(b, dnsd.Client{Addr: src}, func(w []byte) { c.SendFromTo(dnsd.EmbeddedAddr, src, w) })
		}
	}
	if h.ServeDNS != nil {
		z := dnsd.NewZone(h.ServeDNS)
		c, err := host.ListenUDP(stack.DNSPort)
		if err != nil {
			return err
		}
		c.OnRecv = func(src, dst netip.AddrPort, b []byte) {
			if w, err := z.AnswerBytes(b); err == nil {
				c.SendFromTo(dst.Addr(), src, w)
			}
		}
	}
	return nil
}
