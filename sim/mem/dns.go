package mem

import (
	"net/netip"
	"slices"

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
		if !slices.Contains(h.ListenTCP, stack.DNSPort) { // else the container's own server has tcp/53, as a kernel would refuse ours
			l, err := host.ListenTCPStream(stack.DNSPort, func(s *stack.TCPStream) { serveDNSTCP(r, s) })
			if err != nil {
				return err
			}
			l.IdleTimeout, l.MaxConns = dnsd.DefaultTCPIdleTimeout, dnsd.DefaultMaxTCPConns
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

// serveDNSTCP answers the queries of one TCP connection to port 53 of a
// container's stack, each when its answer is known (RFC 7766 §6.2.1.1:
// out of order when one waits for an upstream), and closes it once the
// client has finished and every answer is out. A connection to another
// address than 127.0.0.11 is reset: the embedded server listens there
// only.
func serveDNSTCP(r *dnsd.Resolver, s *stack.TCPStream) {
	if s.Local().Addr() != dnsd.EmbeddedAddr {
		s.Abort()
		return
	}
	var fr stack.Framer
	pending, eof := 0, false
	done := func() {
		if pending--; eof && pending == 0 {
			s.Close()
		}
	}
	s.OnData = func(b []byte) {
		fr.Feed(b, func(m []byte) {
			pending++
			if !r.ServeBytes(m, dnsd.Client{Addr: s.Peer(), TCP: true}, func(w []byte) {
				if framed, err := stack.AppendFramed(nil, w); err == nil {
					s.Write(framed)
				}
				done()
			}) {
				done()
			}
		})
	}
	s.OnEOF = func() {
		eof = true
		if pending == 0 {
			s.Close()
		}
	}
}
