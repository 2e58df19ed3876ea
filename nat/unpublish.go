package nat

import (
	"fmt"
	"net/netip"
)

// RemovePublish takes a published port away (its container stopped, as
// Docker removes its DNAT rule and stops its proxy): packets to it are
// no longer translated. Flows it made stay until they expire.
func (t *Table) RemovePublish(proto uint8, ext netip.AddrPort) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := Tuple{Proto: proto, Dst: ext}
	if _, ok := t.published[k]; !ok {
		return fmt.Errorf("nat: %s is not published", ext)
	}
	delete(t.published, k)
	return nil
}

// Purge removes every flow that has address a at either end, in either
// direction, and returns how many: what Docker's bridge driver does when
// an endpoint leaves (clearEndpointConnections, moby#8795), so that a
// client's next packet is decided afresh rather than sent to an address
// that is gone, or to whoever gets it next.
func (t *Table) Purge(a netip.Addr) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []*flow
	for _, f := range t.heap {
		for _, k := range [2]Tuple{f.orig, f.reply} {
			if k.Src.Addr() == a || k.Dst.Addr() == a {
				gone = append(gone, f)
				break
			}
		}
	}
	for _, f := range gone {
		t.removeLocked(f)
		t.stats.Purged++
	}
	return len(gone)
}
