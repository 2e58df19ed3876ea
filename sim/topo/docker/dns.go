package docker

import (
	"net/netip"

	"github.com/netyard/netyard/sim/topo"
)

// EmbeddedDNS is the address of Docker's embedded DNS server in every
// container's sandbox (libnetwork/resolver.go; dnsd.EmbeddedAddr, which
// the Docker model does not import).
var EmbeddedDNS = netip.MustParseAddr("127.0.0.11")

// nameserver gives sandbox s, whose first endpoint is on network n, its
// resolv.conf as Docker writes it (libnetwork/sandbox_dns_unix.go): on
// the default bridge, the host's own resolvers copied (Docker's fallback
// when it has none), which know no container; on any other network, the
// embedded DNS server at 127.0.0.11 in the container's own sandbox, with
// options ndots:0, served from this host's records.
func (h *HostPlan) nameserver(n *topo.Network, s *topo.Host) {
	if n.Name == topo.DefaultNetwork {
		s.Nameserver = h.Host.Resolvers()[0]
		return
	}
	s.Nameserver, s.EmbeddedDNS = EmbeddedDNS, h.Host.Name
}
