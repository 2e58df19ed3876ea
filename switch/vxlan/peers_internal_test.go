package vxlan

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/netyard/netyard/internal/header"
)

// refTable is the slow reference the peer view is checked against: a
// plain map by MAC, with an IP belonging to one MAC at most.
type refTable map[header.MAC]Peer

func (r refTable) add(p Peer) {
	for m, q := range r {
		if q.IP == p.IP && m != p.MAC {
			delete(r, m)
		}
	}
	r[p.MAC] = p
}

func (r refTable) sorted() []Peer {
	var ps []Peer
	for _, p := range r {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Peer) int { return a.IP.Compare(b.IP) })
	return ps
}

// TestPeerViewAgainstReference runs random additions, replacements and
// removals through views and the reference, comparing every lookup, and
// checks old views never change (readers may hold them).
func TestPeerViewAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, space := range []int{4, 40, 400} {
		v, ref := emptyView, refTable{}
		var snaps []*peerView
		var snapRefs [][]Peer
		for i := range 20 * space {
			mac := header.MAC{2, 0, 0, 0, byte(rng.IntN(space) >> 8), byte(rng.IntN(space))}
			if rng.IntN(4) == 0 {
				v = v.without(mac.Uint64())
				delete(ref, mac)
			} else {
				p := Peer{IP: netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(space) >> 8), byte(rng.IntN(space))}),
					MAC: mac, VTEP: netip.AddrFrom4([4]byte{192, 168, 0, byte(rng.IntN(3) + 1)})}
				v = v.with(p)
				ref.add(p)
			}
			if i%97 == 0 {
				snaps, snapRefs = append(snaps, v), append(snapRefs, ref.sorted())
			}
			if v.n != len(ref) {
				t.Fatalf("space %d step %d: %d peers, want %d", space, i, v.n, len(ref))
			}
			for m := range space {
				mac := header.MAC{2, 0, 0, 0, byte(m >> 8), byte(m)}
				e, ok := v.mac(mac.Uint64())
				want, wok := ref[mac]
				if ok != wok || ok && (e.ip != want.IP || e.vtep != want.VTEP) {
					t.Fatalf("space %d step %d: mac(%s) = %v %v, want %v %v", space, i, mac, e, ok, want, wok)
				}
			}
			for _, p := range ref {
				if m, ok := v.ip(p.IP); !ok || m != p.MAC.Uint64() {
					t.Fatalf("space %d step %d: ip(%v) = %x %v, want %s", space, i, p.IP, m, ok, p.MAC)
				}
			}
		}
		if got := v.all(); !slices.Equal(got, ref.sorted()) {
			t.Errorf("space %d: all() = %v, want %v", space, got, ref.sorted())
		}
		for i, s := range snaps {
			if got := s.all(); !slices.Equal(got, snapRefs[i]) {
				t.Errorf("space %d: snapshot %d changed after publication", space, i)
			}
		}
	}
}

// TestPeerViewCost: adding peers one at a time stays well under
// quadratic in map writes (a full copy per addition would be n²/2).
func TestPeerViewCost(t *testing.T) {
	const n = 2000
	v := emptyView
	copied := 0
	for i := range n {
		before := v.base
		v = v.with(Peer{IP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), MAC: header.MAC{2, 0, 0, 1, byte(i >> 8), byte(i)}, VTEP: netip.MustParseAddr("192.168.0.1")})
		copied += len(v.delta)
		if len(before) != len(v.base) {
			copied += len(v.base)
		}
	}
	if v.n != n {
		t.Fatalf("%d peers, want %d", v.n, n)
	}
	if limit := n * n / 20; copied > limit {
		t.Errorf("%d entries copied for %d additions, want under %d", copied, n, limit)
	}
}
