package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// Reassembly bounds and timer, after Linux's net.ipv4.ipfrag_* defaults.
const (
	ReasmTime         = 30 * time.Second // ipfrag_time
	MaxReasmBytes     = 4 << 20          // ipfrag_high_thresh
	MaxReasmDatagrams = 1024             // datagrams in reassembly at once
	MaxFragments      = 64               // fragments per datagram (FreeBSD's maxfragsperpacket is 16)
	// fragOverhead is what a fragment costs beyond its data in the byte
	// bound, as Linux counts an skb's truesize and not only its data.
	fragOverhead = 256
	maxDatagram  = 65535
)

// fragKey identifies the fragments of one datagram (RFC 791 §3.2).
type fragKey struct {
	src, dst uint32
	id       uint16
	proto    uint8
}

// piece is the data of one fragment: bytes [off, off+len(data)) of its
// datagram's payload.
type piece struct {
	off  int
	data []byte
}

func (p piece) end() int { return p.off + len(p.data) }

// reasm is a datagram in reassembly.
type reasm struct {
	key     fragKey
	pieces  []piece // sorted by offset, never overlapping
	hdr     []byte  // the first fragment's header, once it came
	size    int     // the payload's length as far as known: the highest end seen
	last    bool    // the last fragment (MF clear) came: size is exact
	have    int     // payload bytes held
	held    int     // bytes accounted against MaxReasmBytes
	maxFrag int     // the largest fragment, header included
	allDF   bool    // every fragment had DF set
	timer   clock.Timer
}

// fragState is the gateway's reassembly table and its scratch space.
type fragState struct {
	byKey     map[fragKey]*reasm
	bytes     int
	whole     []byte // a reassembled datagram, after room for an Ethernet header
	wholeBusy bool   // whole is in use
	cut       []byte // a fragment being sent, after room for an Ethernet header
	cutBusy   bool   // cut is in use
}

func (f *fragState) init() { f.byKey = map[fragKey]*reasm{} }

// defrag takes one fragment (header checked, addresses not martian).
func (g *Gateway) defrag(l *leg, pkt []byte) {
	g.stats.ReasmReqds++
	f := &g.frag
	ip := header.IPv4(pkt)
	hl, off, mf := ip.HeaderLen(), ip.FragOff(), ip.MF()
	data := ip.Payload()
	end := off + len(data)
	if mf {
		end &^= 7 // all but the last fragment carry multiples of 8 bytes
	}
	k := fragKey{src: ip.Src32(), dst: ip.Dst32(), id: ip.ID(), proto: ip.Protocol()}
	r := f.byKey[k]
	if r == nil {
		if len(f.byKey) >= MaxReasmDatagrams || f.bytes+len(data)+fragOverhead > MaxReasmBytes {
			g.stats.ReasmFails++
			g.stats.ReasmFull++
			g.dropFragf(k, "reassembly full (%d datagrams, %d bytes held): fragment dropped", len(f.byKey), f.bytes)
			return
		}
		r = &reasm{key: k, allDF: true}
		f.byKey[k] = r
		r.timer = g.clk.AfterFunc(ReasmTime, func() { g.expire(r) })
	}
	// The checks of Linux's ip_frag_queue: an end that contradicts the
	// last fragment's, an empty fragment, a datagram over 64 KiB.
	switch {
	case hl+end > maxDatagram:
		g.killReasm(r, &g.stats.ReasmMalformed, "a fragment ends at %d: the datagram would exceed %d bytes", end, maxDatagram)
		return
	case !mf && (end < r.size || r.last && end != r.size):
		g.killReasm(r, &g.stats.ReasmMalformed, "a last fragment ending at %d contradicts the %d bytes known", end, r.size)
		return
	case mf && end > r.size && r.last:
		g.killReasm(r, &g.stats.ReasmMalformed, "a fragment ends at %d, beyond the last fragment's end %d", end, r.size)
		return
	case end <= off:
		g.killReasm(r, &g.stats.ReasmMalformed, "an empty fragment at offset %d", off)
		return
	}
	// Where it goes: after every piece that ends before it.
	at := len(r.pieces)
	for at > 0 && r.pieces[at-1].end() > off {
		at--
	}
	switch {
	case at < len(r.pieces) && r.pieces[at].off < end:
		if covered(r.pieces[at:], off, end) {
			g.stats.ReasmDuplicates++ // what Linux calls IPFRAG_DUP: ignored, the datagram kept
			return
		}
		g.killReasm(r, &g.stats.ReasmOverlaps, "fragment %d-%d overlaps another: the datagram is dropped", off, end)
		return
	case len(r.pieces) >= MaxFragments:
		g.killReasm(r, &g.stats.ReasmFull, "more than %d fragments", MaxFragments)
		return
	case f.bytes+end-off+fragOverhead > MaxReasmBytes:
		g.killReasm(r, &g.stats.ReasmFull, "reassembly full (%d bytes held)", f.bytes)
		return
	}
	if !mf {
		r.last = true
	}
	r.size = max(r.size, end)
	p := piece{off: off, data: append([]byte(nil), data[:end-off]...)}
	r.pieces = append(r.pieces, piece{})
	copy(r.pieces[at+1:], r.pieces[at:])
	r.pieces[at] = p
	r.have += len(p.data)
	r.held += len(p.data) + fragOverhead
	f.bytes += len(p.data) + fragOverhead
	r.maxFrag = max(r.maxFrag, hl+len(p.data))
	r.allDF = r.allDF && ip.DF()
	if off == 0 {
		r.hdr = append([]byte(nil), ip.Header()...)
	}
	if r.last && r.hdr != nil && r.have == r.size {
		g.reassembled(l, r)
	}
}

// covered reports whether the pieces, from the first one on, cover
// [off, end) without a gap.
func covered(ps []piece, off, end int) bool {
	if ps[0].off > off {
		return false
	}
	at := ps[0].end()
	for _, p := range ps[1:] {
		if at >= end || p.off != at {
			break
		}
		at = p.end()
	}
	return at >= end
}

// reassembled sends a whole datagram on as if it had come in one piece.
func (g *Gateway) reassembled(l *leg, r *reasm) {
	f := &g.frag
	g.forget(r)
	g.stats.ReasmOKs++
	hl := len(r.hdr)
	n := hl + r.size
	whole := f.whole
	if whole == nil || f.wholeBusy { // first use, or re-entered by a synchronous link
		whole = make([]byte, stack.Headroom+maxDatagram)
		if f.whole == nil {
			f.whole = whole
		}
	}
	busy := f.wholeBusy
	f.wholeBusy = true
	defer func() { f.wholeBusy = busy }()
	frame := whole[:stack.Headroom+n]
	pkt := frame[stack.Headroom:]
	copy(pkt, r.hdr)
	for _, p := range r.pieces {
		copy(pkt[hl+p.off:], p.data)
	}
	ip := header.IPv4(pkt)
	ip.SetTotalLen(n)
	var ff uint16
	if r.allDF {
		ff = header.IPv4DF // Linux keeps DF when every fragment had it (IPSKB_FRAG_PMTU)
	}
	ip.SetFlagsFrag(ff)
	ip.FixChecksum()
	if g.tracer != nil {
		g.event(trace.Event{Kind: trace.Host, Op: trace.OpReassembled, ID: r.key.id, SrcIP: addr(r.key.src), DstIP: addr(r.key.dst),
			Proto: trace.Proto(r.key.proto), Count: len(r.pieces), Len: n})
	}
	if g.route(l, pkt, link.Offload{}, r.maxFrag) {
		return
	}
	// The gateway's own: its stack takes the datagram as a frame, past
	// the Forward hook.
	header.PutEthernet(frame, l.ifc.MAC(), header.MAC{}, header.EtherTypeIPv4)
	g.host.Deliver(l.idx, frame)
}

// expire runs ReasmTime after a datagram's first fragment came.
func (g *Gateway) expire(r *reasm) {
	if g.frag.byKey[r.key] != r {
		return
	}
	g.forget(r)
	g.stats.ReasmFails++
	g.stats.ReasmTimeout++
	g.dropFragf(r.key, "not whole after %v (%d of %d bytes): dropped", ReasmTime, r.have, r.size)
	// Only the datagram's destination answers, and only when it has the
	// first fragment to quote (RFC 792; Linux's ip_expire skips routers'
	// conntrack defrag).
	if r.hdr != nil && len(r.pieces) > 0 && r.pieces[0].off == 0 && g.owns(r.key.dst) {
		q := append(append([]byte(nil), r.hdr...), r.pieces[0].data[:min(8, len(r.pieces[0].data))]...)
		header.IPv4(q).SetTotalLen(len(r.hdr) + len(r.pieces[0].data))
		g.host.SendICMPError(q, 11, 1)
	}
}

// killReasm drops a datagram in reassembly for why, counted in c.
func (g *Gateway) killReasm(r *reasm, c *uint64, format string, args ...any) {
	g.forget(r)
	g.stats.ReasmFails++
	*c++
	if g.tracer != nil {
		g.dropFragf(r.key, format, args...)
	}
}

// forget removes r from the table and releases what it held.
func (g *Gateway) forget(r *reasm) {
	delete(g.frag.byKey, r.key)
	g.frag.bytes -= r.held
	r.held = 0
	if r.timer != nil {
		r.timer.Stop()
	}
}

func describeKey(k fragKey) string {
	return fmt.Sprintf("datagram id %d %s -> %s (protocol %d)", k.id, addr(k.src), addr(k.dst), k.proto)
}

func (g *Gateway) dropFragf(k fragKey, format string, args ...any) {
	if g.tracer == nil {
		return
	}
	g.dropf(addr(k.src), addr(k.dst), "fragments of "+describeKey(k)+": "+format, args...)
}

var errTooSmall = errors.New("gateway: MTU too small for the header")

// fragment cuts the IPv4 packet pkt into fragments of at most size bytes
// (RFC 791 §3.2's procedure) and calls emit with each as a frame with
// room for an Ethernet header in front; emit must not keep it. The first
// fragment keeps every option, the others those with the copied flag.
// With clearDF the fragments have DF clear, as Linux's local output
// fragments; otherwise they keep the packet's DF.
func (g *Gateway) fragment(pkt []byte, size int, clearDF bool, emit func(frame []byte) error) error {
	f := &g.frag
	buf := f.cut
	if f.cutBusy || len(buf) < stack.Headroom+size { // re-entered by a synchronous link, or first use
		buf = make([]byte, stack.Headroom+max(size, DefaultMTU))
		if !f.cutBusy {
			f.cut = buf
		}
	}
	busy := f.cutBusy
	f.cutBusy = true
	defer func() { f.cutBusy = busy }()
	ip := header.IPv4(pkt)
	ff, base := ip.FlagsFrag(), ip.FragOff()
	flags := ff & header.IPv4DF
	if clearDF {
		flags = 0
	}
	var rest [header.IPv4MaxLen]byte // the header of the fragments after the first
	rhl := copiedHeader(ip.Header(), rest[:])
	data := ip.Payload()
	g.stats.FragOKs++
	for off, first := 0, true; off < len(data); first = false {
		h := ip.Header()
		if !first {
			h = rest[:rhl]
		}
		room := (size - len(h)) &^ 7
		if room <= 0 {
			return errTooSmall
		}
		n := min(room, len(data)-off)
		fr := buf[:stack.Headroom+len(h)+n]
		b := header.IPv4(fr[stack.Headroom:])
		copy(b, h)
		copy(b[len(h):], data[off:off+n])
		mf := ff & header.IPv4MF // the last piece keeps the packet's own MF
		if off+n < len(data) {
			mf = header.IPv4MF
		}
		b.SetTotalLen(len(b))
		b.SetFlagsFrag(flags | mf | uint16((base+off)/8))
		b.FixChecksum() // the header anew: the options of a later fragment are fewer
		g.stats.FragCreates++
		if err := emit(fr); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// copiedHeader writes into dst the header of a non-first fragment of a
// packet with header hdr: the fixed part and the options whose copied
// flag is set (RFC 791 §3.1), padded to 32 bits. It returns its length.
func copiedHeader(hdr, dst []byte) int {
	n := copy(dst, hdr[:header.IPv4MinLen])
	for opts := header.IPv4(hdr).Options(); len(opts) > 0; {
		t := opts[0]
		if t == 0 { // end of options
			break
		}
		if t == 1 { // no-operation: not copied
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			break // malformed: copy no more
		}
		if t&0x80 != 0 {
			n += copy(dst[n:], opts[:opts[1]])
		}
		opts = opts[opts[1]:]
	}
	for n%4 != 0 {
		dst[n] = 0
		n++
	}
	header.IPv4(dst).SetVersionIHL(n)
	return n
}

// legOut is where a leg's stack interface transmits: it passes frames to
// the leg, cutting IPv4 packets bigger than the leg's MTU into fragments
// (the gateway's own; forwarded packets come already cut).
type legOut struct {
	g   *Gateway
	out link.Sender
	mtu int
}

var _ link.OffloadSender = (*legOut)(nil)

// Send transmits frame, in fragments when it must.
func (w *legOut) Send(frame []byte) error {
	if len(frame) <= stack.Headroom+w.mtu || header.Ethernet(frame).EtherType() != header.EtherTypeIPv4 || len(frame) < stack.Headroom+header.IPv4MinLen {
		return w.out.Send(frame)
	}
	pkt := frame[stack.Headroom:]
	if ip := header.IPv4(pkt); ip.TotalLen() != len(pkt) || ip.HeaderLen() < header.IPv4MinLen || ip.HeaderLen() > len(pkt) {
		return w.out.Send(frame)
	}
	return w.g.fragment(pkt, w.mtu, true, func(f []byte) error {
		copy(f, frame[:stack.Headroom])
		return w.out.Send(f)
	})
}

// SendOffload transmits a frame with offload metadata: as it is where the
// leg takes offloads, else resolved in software.
func (w *legOut) SendOffload(frame []byte, o link.Offload) error {
	if out, ok := w.out.(link.OffloadSender); ok {
		return out.SendOffload(frame, o)
	}
	_, _, err := link.ResolveTo(w, frame, o)
	return err
}
