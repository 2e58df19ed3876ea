package fabric

import (
	"fmt"

	"github.com/netyard/netyard/switch/vxlan"
)

// OverlayStats is what a Docker host's overlay counted: its VXLAN
// socket's (what no VTEP took, by reason) and one network's VTEP's.
type OverlayStats struct {
	Mux  vxlan.MuxStats
	VTEP vxlan.Stats
}

// OverlayStats returns Docker host host's counters for overlay network.
func (f *Fabric) OverlayStats(host, network string) (OverlayStats, error) {
	g := f.Gateway(host)
	if g == nil || g.overlay == nil || g.overlay.vteps[network] == nil {
		return OverlayStats{}, fmt.Errorf("%w overlay %q on Docker host %q", ErrUnknown, network, host)
	}
	var s OverlayStats
	g.Do(func() { s = OverlayStats{Mux: g.overlay.mux.Stats(), VTEP: g.overlay.vteps[network].Stats()} })
	return s, nil
}
