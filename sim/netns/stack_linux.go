package netns

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/topo"
)

// Steps from a Docker host (from: host1) and from its containers on the
// host network run on the host's own stack, which in netns too is the
// gateway node's userspace stack on its loop: the same probes as mem's
// (backend.Stack), run on the loop, on the wall clock.

// stackProbe returns the probes of the Docker host whose stack from runs
// on, if it is one.
func (n *Network) stackProbe(from string) (backend.Stack, bool) {
	gw := n.world.Gateway(n.world.Graph().StackOf(from))
	if gw == nil {
		return backend.Stack{}, false
	}
	return backend.Stack{Host: gw.Host(), Clock: gw.Clock(), Do: gw.Do, Run: func(done func() bool, d time.Duration) error {
		deadline := time.Now().Add(d)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ok bool
			gw.Do(func() { ok = done() })
			if ok || !time.Now().Before(deadline) {
				return n.budgetErr()
			}
			select {
			case <-tick.C:
			case <-n.udpWake: // a datagram a probe waits for arrived
			}
		}
	}}, true
}

// stackAccepted returns, for a probe from a stack, the client of the
// connection a listener accepted, if one did.
func (n *Network) stackAccepted() (netip.AddrPort, bool) {
	select {
	case p := <-n.accepted:
		return p, true
	default:
		return netip.AddrPort{}, false
	}
}

// stackNameserver is the resolver of the Docker host whose stack from
// runs on: the host's resolv.conf (none until Docker hosts have
// upstream resolvers).
func (n *Network) stackNameserver(from string) netip.Addr {
	g := n.world.Graph()
	if h := g.Host(g.StackOf(from)); h != nil {
		return h.Nameserver
	}
	return netip.Addr{}
}

// listenOnHosts opens the ports the Docker hosts' own stacks listen on
// (their containers' on the host network), on the gateways' loops.
func (n *Network) listenOnHosts(g *topo.Graph) error {
	for _, h := range g.Hosts {
		gw := n.world.Gateway(h.Name)
		if h.Router == nil || gw == nil {
			continue
		}
		var err error
		gw.Do(func() {
			for _, port := range h.Router.ListenTCP {
				l, lerr := gw.Host().ListenTCP(port)
				if lerr != nil {
					err = fmt.Errorf("netns: host %s: listen tcp/%d: %w", h.Name, port, lerr)
					return
				}
				l.OnAccept = func(peer netip.AddrPort) {
					select {
					case n.accepted <- peer:
					default:
					}
				}
			}
			for _, port := range h.Router.ListenUDP {
				c, lerr := gw.Host().ListenUDP(port)
				if lerr != nil {
					err = fmt.Errorf("netns: host %s: listen udp/%d: %w", h.Name, port, lerr)
					return
				}
				c.OnRecv = func(_, _ netip.AddrPort, p []byte) { n.gotUDP(p) }
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// gotUDP notes a datagram a probe waits for, as readUDP does.
func (n *Network) gotUDP(p []byte) {
	n.udpMu.Lock()
	_, waited := n.udpWant[string(p)]
	if waited {
		n.udpWant[string(p)] = true
	}
	n.udpMu.Unlock()
	if waited {
		select {
		case n.udpWake <- struct{}{}:
		default:
		}
	}
}
