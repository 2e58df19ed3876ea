package fabric

import (
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/sim/topo"
)

// DNS returns the records of the gateway's Docker host's daemon: what the
// embedded resolvers of its containers answer from, scoped by container.
// Add and Remove on it (a network connect or disconnect, the overlay's
// control plane) change what a container resolves at once; nothing else
// is needed. Safe for concurrent use.
func (g *Gateway) DNS() *dnsd.Server { return g.dns }

// Resolver returns the embedded DNS server of sandbox s (s.EmbeddedDNS
// set), the one Docker runs at 127.0.0.11 in each container's namespace:
// the records of its Docker host's daemon for the networks s is on, and
// the host's resolvers (topo.DockerHost.DNS) asked through t, which sends
// from the sandbox itself, for the rest; timed on clk, narrated to the
// fabric's tracer as the embedded server of that host's daemon.
func (f *Fabric) Resolver(s topo.Host, t dnsd.Transport, clk clock.Clock) (*dnsd.Resolver, error) {
	g := f.Gateway(s.EmbeddedDNS)
	if g == nil {
		return nil, fmt.Errorf("%w Docker host %q (the embedded DNS of %s)", ErrUnknown, s.EmbeddedDNS, s.Name)
	}
	var ups []netip.AddrPort
	if d := f.graph.Docker; d != nil {
		for _, h := range d.Hosts {
			if h.Name == s.EmbeddedDNS {
				for _, a := range h.DNS {
					ups = append(ups, netip.AddrPortFrom(a, 53))
				}
			}
		}
	}
	return dnsd.NewResolver(dnsd.ResolverOptions{Server: g.dns, Container: s.Name, Host: s.EmbeddedDNS, Upstreams: ups, Transport: t, Clock: clk, Tracer: f.opts.Tracer}), nil
}
