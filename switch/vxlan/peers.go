package vxlan

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/internal/header"
)

// Peer is a remote endpoint the control plane knows: its IP and MAC,
// behind the VTEP at VTEP.
type Peer struct {
	IP   netip.Addr
	MAC  header.MAC
	VTEP netip.Addr
}

// ErrBadPeer is returned by AddPeer for a peer that cannot be one.
var ErrBadPeer = errors.New("vxlan: bad peer")

// check returns p with its addresses unmapped, or why it is no peer.
func (p Peer) check() (Peer, error) {
	p.IP, p.VTEP = p.IP.Unmap(), p.VTEP.Unmap()
	switch {
	case !p.IP.Is4():
		return p, fmt.Errorf("%w %s: the address %v is not IPv4 (proxy ARP answers IPv4)", ErrBadPeer, p.MAC, p.IP)
	case p.IP.IsUnspecified() || p.IP.IsMulticast() || p.IP.IsLoopback() || p.IP == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return p, fmt.Errorf("%w %s: %v is not a unicast address", ErrBadPeer, p.MAC, p.IP)
	case p.MAC.IsMulticast() || p.MAC.IsZero():
		return p, fmt.Errorf("%w %v: the MAC %s is not a unicast address", ErrBadPeer, p.IP, p.MAC)
	}
	if err := checkVTEP(p.VTEP); err != nil {
		return p, fmt.Errorf("%w %v %s: %v", ErrBadPeer, p.IP, p.MAC, err)
	}
	return p, nil
}

// checkVTEP says why a is no VTEP address, or returns nil.
func checkVTEP(a netip.Addr) error {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("VTEP %v is not a unicast address", a)
	}
	return nil
}

// peerView is one published state of the static table, read without
// locks: MAC -> (IP, VTEP) and IP -> MAC. A writer publishes a new view
// rather than change one. To keep that cheap when peers arrive one at a
// time (a gossip event each), a view is a large base and a small delta
// over it, each immutable once published: a change copies the delta
// only, and the delta is merged into a new base when its square exceeds
// the base, so n additions cost O(n√n) map writes, not O(n²); a lookup
// is at most two map reads.
type peerView struct {
	base, delta     map[uint64]peerEntry // by MAC (MAC.Uint64); a delta entry may be gone
	baseIP, deltaIP map[netip.Addr]ipEntry
	n               int // peers in the view
}

// peerEntry is a MAC's static entry; gone marks a removal in a delta.
type peerEntry struct {
	ip, vtep netip.Addr
	gone     bool
}

// ipEntry is an IP's neighbour entry; gone marks a removal in a delta.
type ipEntry struct {
	mac  uint64
	gone bool
}

var emptyView = &peerView{}

// mac returns the static entry for MAC m.
func (v *peerView) mac(m uint64) (peerEntry, bool) {
	if e, ok := v.delta[m]; ok {
		return e, !e.gone
	}
	e, ok := v.base[m]
	return e, ok
}

// ip returns the MAC whose peer has address a.
func (v *peerView) ip(a netip.Addr) (uint64, bool) {
	if e, ok := v.deltaIP[a]; ok {
		return e.mac, !e.gone
	}
	e, ok := v.baseIP[a]
	return e.mac, ok
}

// edit returns a copy of v whose delta is ready to change.
func (v *peerView) edit() *peerView {
	nv := &peerView{base: v.base, baseIP: v.baseIP, n: v.n,
		delta:   make(map[uint64]peerEntry, len(v.delta)+2),
		deltaIP: make(map[netip.Addr]ipEntry, len(v.deltaIP)+2),
	}
	for k, e := range v.delta {
		nv.delta[k] = e
	}
	for k, e := range v.deltaIP {
		nv.deltaIP[k] = e
	}
	return nv
}

// delMAC removes MAC m and its IP from an edited view.
func (v *peerView) delMAC(m uint64) {
	e, ok := v.mac(m)
	if !ok {
		return
	}
	v.set(m, peerEntry{gone: true})
	v.setIP(e.ip, ipEntry{gone: true})
	v.n--
}

// set records e for m in the delta, or drops the delta entry where the
// base already says the same.
func (v *peerView) set(m uint64, e peerEntry) {
	if b, ok := v.base[m]; ok == !e.gone && (e.gone || b == e) {
		delete(v.delta, m)
		return
	}
	v.delta[m] = e
}

func (v *peerView) setIP(a netip.Addr, e ipEntry) {
	if b, ok := v.baseIP[a]; ok == !e.gone && (e.gone || b == e) {
		delete(v.deltaIP, a)
		return
	}
	v.deltaIP[a] = e
}

// with returns the view with p added (p checked). A peer of the same MAC
// is replaced; a peer of another MAC that has p's IP is removed, as the
// address now belongs to p.
func (v *peerView) with(p Peer) *peerView {
	nv := v.edit()
	m := p.MAC.Uint64()
	if old, ok := nv.ip(p.IP); ok && old != m {
		nv.delMAC(old)
	}
	nv.delMAC(m)
	nv.set(m, peerEntry{ip: p.IP, vtep: p.VTEP})
	nv.setIP(p.IP, ipEntry{mac: m})
	nv.n++
	return nv.settle()
}

// without returns the view with MAC m's peer removed.
func (v *peerView) without(m uint64) *peerView {
	if _, ok := v.mac(m); !ok {
		return v
	}
	nv := v.edit()
	nv.delMAC(m)
	return nv.settle()
}

// settle merges the delta into a new base when it has grown enough.
func (v *peerView) settle() *peerView {
	if d := max(len(v.delta), len(v.deltaIP)); d <= 8 || d*d <= len(v.base) {
		return v
	}
	nv := &peerView{base: make(map[uint64]peerEntry, v.n), baseIP: make(map[netip.Addr]ipEntry, v.n), n: v.n}
	for k, e := range v.base {
		if _, ok := v.delta[k]; !ok {
			nv.base[k] = e
		}
	}
	for k, e := range v.delta {
		if !e.gone {
			nv.base[k] = e
		}
	}
	for k, e := range v.baseIP {
		if _, ok := v.deltaIP[k]; !ok {
			nv.baseIP[k] = e
		}
	}
	for k, e := range v.deltaIP {
		if !e.gone {
			nv.baseIP[k] = e
		}
	}
	return nv
}

// all returns the view's peers sorted by IP.
func (v *peerView) all() []Peer {
	ps := make([]Peer, 0, v.n)
	add := func(m uint64, e peerEntry) {
		ps = append(ps, Peer{IP: e.ip, MAC: header.MACFromUint64(m), VTEP: e.vtep})
	}
	for m, e := range v.base {
		if _, ok := v.delta[m]; !ok {
			add(m, e)
		}
	}
	for m, e := range v.delta {
		if !e.gone {
			add(m, e)
		}
	}
	slices.SortFunc(ps, func(a, b Peer) int {
		return cmp.Or(a.IP.Compare(b.IP), cmp.Compare(a.MAC.Uint64(), b.MAC.Uint64()))
	})
	return ps
}
