package scenario

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/sim/topo/docker"
)

// vlanNetwork reads what a network has besides docker network create's
// common flags: aux_addresses (for every driver) and more subnets.
func (f *File) vlanNetwork(p string, n NetworkConfig, d *docker.Network, prefix func(path, s string) netip.Prefix, addr func(path, s string) netip.Addr, bad func(path, format string, a ...any)) {
	for _, k := range slices.Sorted(maps.Keys(n.AuxAddresses)) {
		if d.Aux == nil {
			d.Aux = map[string]netip.Addr{}
		}
		d.Aux[k] = addr(p+".aux_addresses."+k, n.AuxAddresses[k])
	}
	if len(n.Subnets) > 0 && n.Driver != "ipvlan" && n.Driver != "macvlan" {
		bad(p+".subnets", "several subnets are modelled for ipvlan l3 only, where the parent routes between them: give one subnet")
	}
	for i, s := range n.Subnets {
		d.Subnets = append(d.Subnets, prefix(fmt.Sprintf("%s.subnets[%d]", p, i), s))
	}
}
