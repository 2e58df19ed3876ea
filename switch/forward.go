package vswitch

import (
	"fmt"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// Addresses on the hot path are 48-bit integers read straight from the
// frame: one load each, and they are most of an FDB key already.
const (
	addrMask      = 1<<48 - 1
	addrBroadcast = addrMask
	addrLinkLocal = 0x0180C200000 // 01:80:C2:00:00:0X without its last nibble
	bpduAddr48    = 0x0180C2000000
)

func addrMulticast(a uint64) bool { return a>>40&1 == 1 }

func macOf(a uint64) MAC { return header.MACFromUint64(a) }

// Input hands the switch a frame received on port in. The switch does not
// keep frame after Input returns. Input is safe for concurrent use.
func (s *Switch) Input(in int, frame []byte) { s.input(in, frame, link.Offload{}) }

// InputOffload is Input for a frame with offload metadata (a TCP
// super-frame or a checksum still to compute, from a TAP device with
// IFF_VNET_HDR). The switch passes the metadata along to ports that take it
// and resolves it in software (segments, checksums) for ports that do not.
func (s *Switch) InputOffload(in int, frame []byte, o link.Offload) { s.input(in, frame, o) }

func (s *Switch) input(in int, frame []byte, o link.Offload) {
	ports := *s.ports.Load()
	if in < 0 || in >= len(ports) {
		return
	}
	p := ports[in]
	p.ctr.rx.add(len(frame))
	st := p.state.Load()
	if st != 0 {
		switch {
		case st&stMonitor != 0:
			s.drop(p, DropMonitor, frame)
			return
		case st&(stDown|stNoCarrier) != 0:
			s.drop(p, DropPortDown, frame)
			return
		}
		// Only STP bits: BPDUs are still heard, data is held below.
	}
	tag, ok := ParseTag(frame)
	if !ok {
		s.drop(p, DropRunt, frame)
		return
	}
	dst, src := header.Ethernet(frame).Dst48(), header.Ethernet(frame).Src48()
	if addrMulticast(src) || src == 0 {
		s.drop(p, DropBadSource, frame)
		return
	}
	vlan, ok := p.classify(tag)
	if !ok {
		s.drop(p, DropVLAN, frame)
		return
	}
	if vlan == p.pvid && (tag.Inner == EtherTypeVLAN || tag.Inner == EtherTypeQinQ) {
		s.dropDoubleTag(p, frame, tag, vlan, "")
		return
	}
	if m := p.mirror.Load(); m != 0 {
		s.mirrorTo(ports, p, int(m-1), frame, o)
	}
	if dst>>4 == addrLinkLocal {
		if dst == bpduAddr48 && s.stp != nil {
			s.stpInput(p, frame)
			return
		}
		s.drop(p, DropLinkLocal, frame)
		return
	}
	if st&stNoLearn != 0 {
		s.drop(p, DropBlocked, frame)
		return
	}

	now := s.now()
	switch res, from := s.fdb.learn(uint64(vlan)<<48|src, p, now); res {
	case learnNew:
		if s.wants(trace.Learned) {
			s.emit(trace.Event{Kind: trace.Learned, Port: p.name, VLAN: vlan, Src: macOf(src).String()})
		}
	case learnMoved:
		if s.wants(trace.Moved) {
			s.emit(trace.Event{Kind: trace.Moved, Port: p.name, VLAN: vlan, Src: macOf(src).String(), Reason: "was on " + ports[from].name})
		}
	case learnFull:
		p.ctr.drops[DropFDBFull].Add(1)
		if s.wants(trace.Dropped) {
			s.emit(trace.Event{Kind: trace.Dropped, Port: p.name, VLAN: vlan, Src: macOf(src).String(), Reason: "fdb-full: " + macOf(src).String() + " not learned"})
		}
	}

	if st&stNoForward != 0 { // learning: learned, not forwarded
		s.drop(p, DropBlocked, frame)
		return
	}

	var v variants
	reason := "broadcast"
	if !addrMulticast(dst) {
		out := s.fdb.lookup(uint64(vlan)<<48|dst, now)
		switch {
		case out == in:
			s.drop(p, DropFiltered, frame)
			return
		case p.isolated && out >= 0 && out < len(ports) && ports[out].isolated:
			s.drop(p, DropIsolated, frame)
			return
		case out >= 0 && out < len(ports) && ports[out].state.Load() == 0:
			q := ports[out]
			var sent bool
			if !tag.Tagged && !o.Pending() && q.own && !q.egressTagged(vlan) {
				sent = s.forwardPlain(ports, q, frame, o)
			} else {
				sent = s.transmit(ports, q, frame, tag, vlan, &v, o)
			}
			v.release(s)
			if sent && s.wants(trace.Forwarded) { // else the drop was traced
				s.emit(trace.Event{Kind: trace.Forwarded, Port: p.name, VLAN: vlan, Src: macOf(src).String(), Dst: macOf(dst).String(), Ports: []string{q.name}})
			}
			return
		}
		reason = "destination unknown"
	} else if dst != addrBroadcast {
		reason = "multicast"
	}
	var sent []string
	flood, iso := s.wants(trace.Flooded), p.isolated
	plain := !tag.Tagged && !o.Pending() // forwardPlain's, for ports that send vlan untagged
	for _, q := range ports {
		if q == p || q.state.Load() != 0 || !q.member.has(vlan) || iso && q.isolated {
			continue
		}
		var ok bool
		if plain && q.own && !q.egressTagged(vlan) {
			ok = s.forwardPlain(ports, q, frame, o)
		} else {
			ok = s.transmit(ports, q, frame, tag, vlan, &v, o)
		}
		if ok && flood {
			sent = append(sent, q.name)
		}
	}
	v.release(s)
	if flood {
		s.emit(trace.Event{Kind: trace.Flooded, Port: p.name, VLAN: vlan, Src: macOf(src).String(), Dst: macOf(dst).String(), Ports: sent, Reason: reason})
	}
}

// dropDoubleTag drops a frame of vlan whose payload is itself a VLAN tag,
// at port p: the ingress port, whose untagged VLAN vlan is, or (egress
// says so) a trunk about to send it untagged. Forwarded, it would leave a
// port that sends vlan untagged with that inner tag outermost, and the
// next switch would put it in the inner tag's VLAN: hopping by double
// tagging. See the package documentation, VLANs.
func (s *Switch) dropDoubleTag(p *port, frame []byte, tag Tag, vlan uint16, egress string) {
	p.ctr.drops[DropDoubleTag].Add(1)
	if !s.wants(trace.Dropped) {
		return
	}
	// The inner tag, where a tag would be in the frame without the outer.
	inner, kind := header.Ethernet(frame), "802.1Q"
	if tag.Tagged {
		inner = inner[VLANTagLen:]
	}
	if tag.Inner == EtherTypeQinQ {
		kind = "802.1ad"
	}
	reason := fmt.Sprintf("%s: a VLAN %d frame carrying an %s tag", DropDoubleTag, vlan, kind)
	if len(inner) >= EthHdrLen+2 {
		reason += fmt.Sprintf(" for VLAN %d", inner.VID())
	}
	reason += egress
	h := EthHdr(frame)
	s.emit(trace.Event{Kind: trace.Dropped, Port: p.name, VLAN: vlan, Src: h.Src().String(), Dst: h.Dst().String(), Reason: reason})
}

// variants holds the retagged forms of one frame, built at most once each
// per Input call in buffers from the switch's pool.
type variants struct {
	tagged, untagged *[]byte
}

func (v *variants) release(s *Switch) {
	if v.tagged != nil {
		s.bufs.Put(v.tagged)
	}
	if v.untagged != nil {
		s.bufs.Put(v.untagged)
	}
}

// transmit sends frame (which arrived with tag, classified into vlan) out of
// q, tagged or untagged as q wants it. It reports whether the frame left:
// a frame dropped here (double-tagged, or refused by the port) is counted
// and traced as a drop, not as sent.
func (s *Switch) transmit(ports []*port, q *port, frame []byte, tag Tag, vlan uint16, v *variants, o link.Offload) bool {
	out := frame
	want := q.egressTagged(vlan)
	switch {
	case want && (!tag.Tagged || tag.VID != vlan):
		if v.tagged == nil {
			v.tagged = s.bufs.Get().(*[]byte)
			*v.tagged = AppendTagged((*v.tagged)[:0], frame, tag, vlan)
		}
		out = *v.tagged
		if !tag.Tagged {
			o = o.Shift(VLANTagLen)
		}
	case !want && tag.Tagged:
		if q.mode == Trunk && (tag.Inner == EtherTypeVLAN || tag.Inner == EtherTypeQinQ) {
			// A QinQ frame of a VLAN that is this trunk's native one:
			// untagged, its inner tag would choose the next switch's VLAN.
			s.dropDoubleTag(q, frame, tag, vlan, ", would leave untagged")
			return false
		}
		if v.untagged == nil {
			v.untagged = s.bufs.Get().(*[]byte)
			*v.untagged = AppendUntagged((*v.untagged)[:0], frame, tag)
		}
		out = *v.untagged
		o = o.Shift(-VLANTagLen)
	}
	if !s.send(q, out, o) {
		return false
	}
	if m := q.mirror.Load(); m != 0 {
		s.mirrorTo(ports, q, int(m-1), out, o)
	}
	return true
}

// forwardPlain is transmit of a frame that arrived untagged, without
// offload metadata to resolve (o is not Pending), out of q, which sends
// frames of its VLAN untagged and is its own Endpoint (q.own): the frame
// goes as it is, as transmit and send would send it, through q.ep.Out.
// It is apart because it is the commonest case (an access port's frame to
// another access port, each copy of a flood on a plain LAN), and a call
// with transmit's arguments costs more than what it does then.
func (s *Switch) forwardPlain(ports []*port, q *port, frame []byte, o link.Offload) bool {
	if err := q.ep.Out.Send(frame); err != nil {
		s.drop(q, DropTxError, frame)
		return false
	}
	q.ctr.tx.add(len(frame))
	if m := q.mirror.Load(); m != 0 {
		s.mirrorTo(ports, q, int(m-1), frame, o)
	}
	return true
}

// send puts a frame out of q, with its offload metadata if q takes it,
// resolved in software if not, and counts it. It reports success.
func (s *Switch) send(q *port, out []byte, o link.Offload) bool {
	var err error
	switch {
	case !o.Pending() && q.own:
		err = q.ep.Out.Send(out)
	case !o.Pending():
		err = q.out.Send(out)
	case q.oout != nil:
		err = q.oout.SendOffload(out, o)
	default: // resolved in software: count what went on the wire
		var frames, bytes int
		frames, bytes, err = link.ResolveTo(q.out, out, o)
		if err == nil {
			q.ctr.tx.addN(frames, bytes)
			return true
		}
	}
	if err != nil {
		s.drop(q, DropTxError, out)
		return false
	}
	q.ctr.tx.add(len(out))
	return true
}

// mirrorTo sends a copy of frame, seen on src, to the monitor port.
func (s *Switch) mirrorTo(ports []*port, src *port, monitor int, frame []byte, o link.Offload) {
	if monitor >= len(ports) {
		return
	}
	m := ports[monitor]
	if m.state.Load()&(stDown|stNoCarrier) != 0 || !s.send(m, frame, o) {
		return
	}
	if s.wants(trace.Mirrored) {
		s.emit(trace.Event{Kind: trace.Mirrored, Port: src.name, Ports: []string{m.name}})
	}
}

// wants reports whether a tracer listens to events of kind k: the events
// of frames (forwarded, flooded, dropped, mirrored) and of addresses are
// built only then, since a live world always has a tracer (its API's bus),
// mostly with nobody on it.
func (s *Switch) wants(k trace.Kind) bool { return s.tracer != nil && trace.Wants(s.tracer, k) }
