package dnsd

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// Record is one container's endpoint on one network as the server
// holds it: the names it answers (the container's, then its aliases) and
// the address.
type Record struct {
	Network   string
	Container string
	Addr      netip.Addr
	Aliases   []string
}

// Records returns every endpoint the server answers for, sorted by
// network then container: what a live inspect shows. Safe for concurrent
// use.
func (s *Server) Records() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Record
	for network, x := range s.index {
		for _, e := range x.eps {
			out = append(out, Record{Network: network, Container: e.container, Addr: e.addr, Aliases: slices.Clone(e.aliases)})
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(strings.Compare(a.Network, b.Network), strings.Compare(a.Container, b.Container))
	})
	return out
}
