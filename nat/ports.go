package nat

import (
	"math/bits"
	"net/netip"
)

// External ports without rescans. A new flow that cannot keep its source
// port gets the lowest port of 1024-65535 that no flow uses from the same
// external address towards the same peer (address and port; for ICMP the
// address, the port being the identifier). The table keeps, per external
// address and peer, the set of ports its translated flows use: a short
// list while there are few, a two-level bitmap (a bit per port, and a bit
// per 64 ports all taken) once there are many, so the lowest free port is
// found in at most 16+1 word reads whatever the number of flows. The flow
// map stays the authority: each candidate is checked there too, which
// catches the rare tuple another kind of flow holds (a published flow
// from that peer to that port).

// smallPorts is the most ports a set keeps as a list; more take a bitmap.
// A set shrinks back to a list at half that, so that sets do not flap.
const smallPorts = 64

// portKey names the ports one external address uses towards one peer.
type portKey struct {
	proto uint8
	ext   netip.Addr
	peer  netip.AddrPort // for ICMP with port 0
}

// portSet is the ports of one portKey in use.
type portSet struct {
	n     int
	small []uint16  // the ports, while n <= smallPorts (any order)
	bits  *portBits // once there were more
}

// portBits is a bitmap of the 65536 ports, with a summary of full words.
type portBits struct {
	word [1024]uint64 // bit p%64 of word p/64: port p in use
	full [16]uint64   // bit w%64 of full[w/64]: word w all ones
}

// keyOf returns the port set and port a translated flow's reply tuple (a
// packet from the peer to ext:port) occupies.
func keyOf(reply Tuple) (portKey, uint16) {
	peer := reply.Src
	if reply.Proto == ICMP {
		peer = netip.AddrPortFrom(peer.Addr(), 0)
	}
	return portKey{reply.Proto, reply.Dst.Addr(), peer}, reply.Dst.Port()
}

func (s *portSet) add(p uint16) {
	s.n++
	if s.bits != nil {
		s.bits.set(p)
		return
	}
	if s.n <= smallPorts {
		s.small = append(s.small, p)
		return
	}
	s.bits = new(portBits)
	for _, q := range s.small {
		s.bits.set(q)
	}
	s.bits.set(p)
	s.small = nil
}

// del removes p, reporting whether the set is now empty.
func (s *portSet) del(p uint16) bool {
	s.n--
	if s.bits == nil {
		for i, q := range s.small {
			if q == p {
				last := len(s.small) - 1
				s.small[i] = s.small[last]
				s.small = s.small[:last]
				break
			}
		}
		return s.n == 0
	}
	s.bits.clear(p)
	if s.n <= smallPorts/2 {
		s.small = s.bits.list(make([]uint16, 0, smallPorts))
		s.bits = nil
	}
	return s.n == 0
}

func (b *portBits) set(p uint16) {
	w := p >> 6
	b.word[w] |= 1 << (p & 63)
	if b.word[w] == ^uint64(0) {
		b.full[w>>6] |= 1 << (w & 63)
	}
}

func (b *portBits) clear(p uint16) {
	w := p >> 6
	b.word[w] &^= 1 << (p & 63)
	b.full[w>>6] &^= 1 << (w & 63)
}

// list appends the ports in use to out, ascending.
func (b *portBits) list(out []uint16) []uint16 {
	for w, word := range b.word {
		for word != 0 {
			out = append(out, uint16(w<<6+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return out
}

// next returns the lowest port from from on that is not in use.
func (b *portBits) next(from uint32) (uint16, bool) {
	if from > 65535 {
		return 0, false
	}
	w := from >> 6
	if free := ^b.word[w] &^ (1<<(from&63) - 1); free != 0 {
		return uint16(w<<6 + uint32(bits.TrailingZeros64(free))), true
	}
	for w++; w < 1024; {
		s := w >> 6
		if open := ^b.full[s] &^ (1<<(w&63) - 1); open != 0 {
			w = s<<6 + uint32(bits.TrailingZeros64(open))
			return uint16(w<<6 + uint32(bits.TrailingZeros64(^b.word[w]))), true
		}
		w = (s + 1) << 6
	}
	return 0, false
}

// portsAddLocked enters a translated flow's port in its set.
func (t *Table) portsAddLocked(f *flow) {
	k, p := keyOf(f.reply)
	s := t.ports[k]
	if s == nil {
		s = &portSet{}
		t.ports[k] = s
	}
	s.add(p)
}

// portsDelLocked takes a translated flow's port out of its set.
func (t *Table) portsDelLocked(f *flow) {
	k, p := keyOf(f.reply)
	if s := t.ports[k]; s != nil && s.del(p) {
		delete(t.ports, k)
	}
}
