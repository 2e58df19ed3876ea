package vswitch

import (
	"github.com/netyard/netyard/internal/trace"
)

// Input hands the switch a frame received on port in. The switch does not
// keep frame after Input returns. Input is safe for concurrent use.
func (s *Switch) Input(in int, frame []byte) {
	ports := *s.ports.Load()
	if in < 0 || in >= len(ports) {
		return
	}
	p := ports[in]
	p.ctr.rxFrames.Add(1)
	p.ctr.rxBytes.Add(uint64(len(frame)))
	if p.monitor.Load() {
		s.drop(p, DropMonitor, frame)
		return
	}
	if !p.usable() {
		s.drop(p, DropPortDown, frame)
		return
	}
	tag, ok := ParseTag(frame)
	if !ok {
		s.drop(p, DropRunt, frame)
		return
	}
	h := EthHdr(frame)
	src, dst := h.Src(), h.Dst()
	if src.IsMulticast() || src.IsZero() {
		s.drop(p, DropBadSource, frame)
		return
	}
	vlan, ok := p.classify(tag)
	if !ok {
		s.drop(p, DropVLAN, frame)
		return
	}
	if m := p.mirror.Load(); m != 0 {
		s.mirrorTo(ports, p, int(m-1), frame)
	}
	if dst.IsLinkLocal() {
		s.drop(p, DropLinkLocal, frame)
		return
	}

	now := s.now()
	switch res, from := s.fdb.learn(vlan, src, in, now, s.armLocked); res {
	case learnNew:
		if s.tracer != nil {
			s.emit(trace.Event{Kind: trace.Learned, Port: p.name, VLAN: vlan, Src: src.String()})
		}
	case learnMoved:
		if s.tracer != nil {
			s.emit(trace.Event{Kind: trace.Moved, Port: p.name, VLAN: vlan, Src: src.String(), Reason: "was on " + ports[from].name})
		}
	case learnFull:
		p.ctr.drops[DropFDBFull].Add(1)
		if s.tracer != nil {
			s.emit(trace.Event{Kind: trace.Dropped, Port: p.name, VLAN: vlan, Src: src.String(), Reason: "fdb-full: " + src.String() + " not learned"})
		}
	}

	var v variants
	reason := "broadcast"
	if !dst.IsMulticast() {
		out := s.fdb.lookup(vlan, dst, now)
		switch {
		case out == in:
			s.drop(p, DropFiltered, frame)
			return
		case out >= 0 && out < len(ports) && ports[out].usable():
			q := ports[out]
			s.transmit(ports, q, frame, tag, vlan, &v)
			v.release(s)
			if s.tracer != nil {
				s.emit(trace.Event{Kind: trace.Forwarded, Port: p.name, VLAN: vlan, Src: src.String(), Dst: dst.String(), Ports: []string{q.name}})
			}
			return
		}
		reason = "destination unknown"
	} else if dst != Broadcast {
		reason = "multicast"
	}
	var sent []string
	for _, q := range ports {
		if q == p || !q.usable() || q.monitor.Load() || !q.member.has(vlan) {
			continue
		}
		s.transmit(ports, q, frame, tag, vlan, &v)
		if s.tracer != nil {
			sent = append(sent, q.name)
		}
	}
	v.release(s)
	if s.tracer != nil {
		s.emit(trace.Event{Kind: trace.Flooded, Port: p.name, VLAN: vlan, Src: src.String(), Dst: dst.String(), Ports: sent, Reason: reason})
	}
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
// q, tagged or untagged as q wants it.
func (s *Switch) transmit(ports []*port, q *port, frame []byte, tag Tag, vlan uint16, v *variants) {
	out := frame
	want := q.egressTagged(vlan)
	switch {
	case want && (!tag.Tagged || tag.VID != vlan):
		if v.tagged == nil {
			v.tagged = s.bufs.Get().(*[]byte)
			*v.tagged = AppendTagged((*v.tagged)[:0], frame, tag, vlan)
		}
		out = *v.tagged
	case !want && tag.Tagged:
		if v.untagged == nil {
			v.untagged = s.bufs.Get().(*[]byte)
			*v.untagged = AppendUntagged((*v.untagged)[:0], frame, tag)
		}
		out = *v.untagged
	}
	if err := q.out.Send(out); err != nil {
		s.drop(q, DropTxError, out)
		return
	}
	q.ctr.txFrames.Add(1)
	q.ctr.txBytes.Add(uint64(len(out)))
	if m := q.mirror.Load(); m != 0 {
		s.mirrorTo(ports, q, int(m-1), out)
	}
}

// mirrorTo sends a copy of frame, seen on src, to the monitor port.
func (s *Switch) mirrorTo(ports []*port, src *port, monitor int, frame []byte) {
	if monitor >= len(ports) {
		return
	}
	m := ports[monitor]
	if !m.usable() {
		return
	}
	if err := m.out.Send(frame); err != nil {
		s.drop(m, DropTxError, frame)
		return
	}
	m.ctr.txFrames.Add(1)
	m.ctr.txBytes.Add(uint64(len(frame)))
	if s.tracer != nil {
		s.emit(trace.Event{Kind: trace.Mirrored, Port: src.name, Ports: []string{m.name}})
	}
}
