package vxlan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
)

// Defaults for Config.
const (
	DefaultMTU        = 1450              // 1500 of underlay less 50 of encapsulation, Docker's overlay MTU
	DefaultAgeing     = 300 * time.Second // Linux's vxlan ageing
	DefaultMaxEntries = 8192              // Linux's vxlan has no bound by default (maxaddress 0); netyard bounds it as its switch's FDB
)

// Config describes a VTEP.
type Config struct {
	Name string // the port's name in traces ("vx-ov"); default "vx-VNI"
	VNI  uint32 // 0 to MaxVNI; Docker's overlay allocates from 4096
	// Learn turns on flood-and-learn, as the Linux vxlan device does: the
	// VTEP behind which each remote source MAC was last heard is learned
	// from decapsulated frames (bounded by MaxEntries, aged after
	// Ageing), and unicast to it goes there.
	Learn bool
	// ProxyARP answers ARP requests for peers' addresses locally, from
	// the peer table, as Docker's overlay does.
	ProxyARP bool
	// Flood lists the VTEPs that get broadcast, multicast and unknown
	// unicast (Linux's remote, or the fdb's 00:00:00:00:00:00 entries).
	// Empty: such frames are dropped (DropNoFlood), as Docker's overlay
	// does not carry them across hosts (moby/libnetwork#552).
	Flood []netip.Addr
	// MTU is the inner MTU: the largest L3 packet an inner frame
	// carries; default DefaultMTU. A frame from the switch longer than
	// MTU plus an Ethernet header and a VLAN tag is dropped (DropTooBig),
	// as a Linux bridge drops what exceeds its port's MTU.
	MTU int
	// MaxEntries bounds the learned table; default DefaultMaxEntries.
	MaxEntries int
	// Ageing is how long a learned entry lives after the last frame
	// from it; default DefaultAgeing.
	Ageing time.Duration
}

// VTEP is one overlay network's VXLAN tunnel endpoint, a link.Endpoint:
// the peer of a switch port. Frames it receives (from the switch) are
// encapsulated and sent: unicast to the VTEP of the destination MAC
// (static, or learned), broadcast, multicast and unknown unicast to the
// flood list; super-frames are segmented first. Frames decapsulated from
// its VNI leave through the receiver attached.
type VTEP struct {
	m        *Mux
	name     string
	vni      uint32
	learn    bool
	proxy    bool
	mtu      int
	maxFrame int // the largest inner frame sent

	out     link.Out
	down    atomic.Bool // carrier down
	removed atomic.Bool

	mu      sync.Mutex                   // serialises AddPeer, RemovePeer and SetFlood
	peers   atomic.Pointer[peerView]     // copy-on-write
	flood   atomic.Pointer[[]netip.Addr] // copy-on-write
	learned learnTable
	timer   clock.Timer // guarded by learned.mu

	bufs sync.Pool // *encBuf
	ctr  counters
}

var _ link.Endpoint = (*VTEP)(nil)

// encBuf is an encapsulation buffer: room for the VXLAN header and the
// largest inner frame, and a segment emitter bound to it once, so that
// segmenting a super-frame into it allocates nothing.
type encBuf struct {
	b      []byte
	v      *VTEP
	queued bool // packets queued to a Queuer since the last flush
	emit   func(seg []byte) error
}

func newVTEP(m *Mux, c Config) (*VTEP, error) {
	mtu := cmp.Or(c.MTU, DefaultMTU)
	switch {
	case mtu < 68 || mtu > 65535-28-header.VXLANLen-header.EthernetLen-header.VLANTagLen:
		return nil, fmt.Errorf("%w: VNI %d: MTU %d out of range 68-%d", ErrBadConfig, c.VNI, mtu, 65535-28-header.VXLANLen-header.EthernetLen-header.VLANTagLen)
	case c.MaxEntries < 0:
		return nil, fmt.Errorf("%w: VNI %d: MaxEntries %d is negative", ErrBadConfig, c.VNI, c.MaxEntries)
	case c.Ageing < 0:
		return nil, fmt.Errorf("%w: VNI %d: Ageing %v is negative", ErrBadConfig, c.VNI, c.Ageing)
	}
	flood, err := floodList(c.Flood)
	if err != nil {
		return nil, fmt.Errorf("%w: VNI %d: flood list: %v", ErrBadConfig, c.VNI, err)
	}
	v := &VTEP{
		m:     m,
		name:  cmp.Or(c.Name, fmt.Sprintf("vx-%d", c.VNI)),
		vni:   c.VNI,
		learn: c.Learn,
		proxy: c.ProxyARP,
		mtu:   mtu,
	}
	v.maxFrame = mtu + header.EthernetLen + header.VLANTagLen
	v.peers.Store(emptyView)
	v.flood.Store(&flood)
	v.learned.init(cmp.Or(c.MaxEntries, DefaultMaxEntries), int64(cmp.Or(c.Ageing, DefaultAgeing)), v.arm, v.disarm)
	v.bufs.New = func() any {
		e := &encBuf{b: make([]byte, header.VXLANLen+v.maxFrame), v: v}
		e.emit = e.segment
		return e
	}
	return v, nil
}

// floodList returns vteps checked, unmapped and without repeats, in
// their order.
func floodList(vteps []netip.Addr) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range vteps {
		a = a.Unmap()
		if err := checkVTEP(a); err != nil {
			return nil, err
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Name returns the VTEP's port name.
func (v *VTEP) Name() string { return v.name }

// VNI returns the VTEP's VXLAN network identifier.
func (v *VTEP) VNI() uint32 { return v.vni }

// MTU returns the inner MTU.
func (v *VTEP) MTU() int { return v.mtu }

// AddPeer adds a static entry (p.MAC -> p.VTEP) and a neighbour entry
// (p.IP -> p.MAC) for proxy ARP. A peer with the same MAC is replaced, as
// is one that had p's IP (the address is p's now); a learned entry for
// p.MAC gives way. It fails for an IP that is not unicast IPv4, a MAC
// that is not unicast, or a VTEP address that is not unicast.
func (v *VTEP) AddPeer(p Peer) error {
	p, err := p.check()
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.peers.Store(v.peers.Load().with(p))
	v.mu.Unlock()
	v.learned.forget(p.MAC.Uint64())
	return nil
}

// AddPeers adds each peer as AddPeer does, publishing the table once: a
// bulk sync's worth at the cost of one. It stops at the first bad peer,
// having added none.
func (v *VTEP) AddPeers(ps []Peer) error {
	checked := make([]Peer, len(ps))
	for i, p := range ps {
		var err error
		if checked[i], err = p.check(); err != nil {
			return err
		}
	}
	v.mu.Lock()
	view := v.peers.Load()
	for _, p := range checked {
		view = view.with(p)
	}
	v.peers.Store(view)
	v.mu.Unlock()
	for _, p := range checked {
		v.learned.forget(p.MAC.Uint64())
	}
	return nil
}

// RemovePeer removes the peer of mac, its static and neighbour entries.
func (v *VTEP) RemovePeer(mac header.MAC) {
	v.mu.Lock()
	v.peers.Store(v.peers.Load().without(mac.Uint64()))
	v.mu.Unlock()
}

// Peers returns the static peers, sorted by IP.
func (v *VTEP) Peers() []Peer { return v.peers.Load().all() }

// SetFlood replaces the flood list. Addresses that are not unicast are
// left out (Add refuses them); repeats count once.
func (v *VTEP) SetFlood(vteps []netip.Addr) {
	var ok []netip.Addr
	for _, a := range vteps {
		if checkVTEP(a.Unmap()) == nil {
			ok = append(ok, a)
		}
	}
	flood, _ := floodList(ok)
	v.mu.Lock()
	v.flood.Store(&flood)
	v.mu.Unlock()
}

// Flood returns the flood list.
func (v *VTEP) Flood() []netip.Addr { return slices.Clone(*v.flood.Load()) }

// Entry is one entry of a VTEP's forwarding table: a remote MAC and the
// VTEP it is behind.
type Entry struct {
	MAC     header.MAC
	VTEP    netip.Addr
	Learned bool // learned from traffic (flood and learn); else static, from a peer
}

// FDB returns the forwarding table, static and learned entries that have
// not aged, sorted by MAC (bridge fdb show dev vxlan0).
func (v *VTEP) FDB() []Entry {
	var out []Entry
	for _, p := range v.Peers() {
		out = append(out, Entry{MAC: p.MAC, VTEP: p.VTEP})
	}
	for _, e := range v.learned.live(v.m.now()) {
		out = append(out, Entry{MAC: header.MACFromUint64(e.mac), VTEP: e.vtep, Learned: true})
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.MAC.Uint64(), b.MAC.Uint64()) })
	return out
}

// Stats returns a snapshot of the VTEP's counters.
func (v *VTEP) Stats() Stats {
	return Stats{
		RxFrames: v.ctr.rxFrames.Load(), RxBytes: v.ctr.rxBytes.Load(),
		TxFrames: v.ctr.txFrames.Load(), TxBytes: v.ctr.txBytes.Load(),
		ProxyARP: v.ctr.proxyARP.Load(),
		Learned:  v.learned.len(),
		Drops:    v.ctr.drops.snapshot(),
	}
}

// Attach sets where decapsulated frames (and proxy ARP replies) go; nil:
// nowhere (they are dropped as DropDown).
func (v *VTEP) Attach(r link.Receiver) { v.out.Attach(r) }

// Carrier hears the switch port's carrier: while it is down,
// decapsulated frames are dropped (DropDown).
func (v *VTEP) Carrier(up bool) { v.down.Store(!up) }

// Receive encapsulates a frame from the switch and sends it. Drops are
// counted and traced here, never returned: the switch must not count
// them a second time.
func (v *VTEP) Receive(frame []byte) error {
	if !v.admit(frame) {
		return nil
	}
	if v.proxy && v.proxyARP(frame) {
		return nil
	}
	if len(frame) > v.maxFrame {
		v.dropTooBig(len(frame))
		return nil
	}
	e := v.bufs.Get().(*encBuf)
	n := copy(e.b[header.VXLANLen:], frame)
	v.forward(e, e.b[:header.VXLANLen+n])
	v.flush(e)
	v.bufs.Put(e)
	return nil
}

// ReceiveOffload takes a frame with offload metadata: a super-frame is
// cut into segments of its GSO size (link.Resolve, the software
// segmentation the switch uses) straight into encapsulation buffers, and
// a pending checksum is filled in, before encapsulation.
func (v *VTEP) ReceiveOffload(frame []byte, o link.Offload) error {
	if !o.Pending() {
		return v.Receive(frame)
	}
	if !v.admit(frame) {
		return nil
	}
	e := v.bufs.Get().(*encBuf)
	err := link.Resolve(frame, o, e.b[header.VXLANLen:], e.emit)
	v.flush(e)
	v.bufs.Put(e)
	if err != nil {
		if v.segmentTooBig(frame, o) {
			v.dropTooBig(len(frame))
			return nil
		}
		v.dropFrame(DropBadOffload, frame, netip.Addr{}, func() string {
			return fmt.Sprintf("%v (GSO type %d size %d, checksum at %d+%d, in a %d-byte frame)", err, o.GSOType, o.GSOSize, o.CsumStart, o.CsumOffset, len(frame))
		})
	}
	return nil
}

// segmentTooBig reports whether frame's segments (or frame, for a
// checksum alone) would exceed the inner MTU.
func (v *VTEP) segmentTooBig(frame []byte, o link.Offload) bool {
	if o.GSOType&^link.GSOECN == link.GSONone {
		return len(frame) > v.maxFrame
	}
	hdr := int(o.CsumStart) + header.TCPMinLen
	if hdr <= len(frame) {
		hdr = int(o.CsumStart) + header.TCP(frame[o.CsumStart:]).DataOff()
	}
	return hdr+int(o.GSOSize) > v.maxFrame
}

// segment sends one segment link.Resolve cut into the buffer.
func (e *encBuf) segment(seg []byte) error {
	v := e.v
	if len(seg) == 0 || &seg[0] != &e.b[header.VXLANLen] {
		// Not in place (Resolve hands on a frame with nothing to do).
		if len(seg) > v.maxFrame {
			v.dropTooBig(len(seg))
			return nil
		}
		copy(e.b[header.VXLANLen:], seg)
	}
	e.queued = true // more may follow: queue, and flush at the end
	v.forward(e, e.b[:header.VXLANLen+len(seg)])
	return nil
}

// admit counts and drops runts and frames of a removed VTEP.
func (v *VTEP) admit(frame []byte) bool {
	switch {
	case len(frame) < header.EthernetLen:
		v.dropFrame(DropRunt, frame, netip.Addr{}, func() string {
			return fmt.Sprintf("a %d-byte frame, shorter than an Ethernet header", len(frame))
		})
		return false
	case v.removed.Load():
		v.dropFrame(DropDown, frame, netip.Addr{}, func() string { return "the VTEP was removed" })
		return false
	}
	return true
}

func (v *VTEP) dropTooBig(n int) {
	v.dropFrame(DropTooBig, nil, netip.Addr{}, func() string {
		return fmt.Sprintf("a %d-byte frame exceeds the inner MTU %d (%d bytes with its Ethernet header and a VLAN tag)", n, v.mtu, v.maxFrame)
	})
}

// forward encapsulates the inner frame at pkt[VXLANLen:] and sends it:
// to the VTEP of its destination, static or learned, or else to the
// flood list. With e.queued set, or several VTEPs to flood to, a Queuer
// transport queues.
func (v *VTEP) forward(e *encBuf, pkt []byte) {
	inner := header.Ethernet(pkt[header.VXLANLen:])
	header.PutVXLAN(pkt, v.vni)
	dst := inner.Dst48()
	if dst&(1<<40) == 0 { // unicast: the I/G bit of the first byte is clear
		if pe, ok := v.peers.Load().mac(dst); ok {
			v.tx(e, pe.vtep, pkt)
			return
		}
		if v.learn {
			if a, ok := v.learned.lookup(dst, v.m.now()); ok {
				v.tx(e, a, pkt)
				return
			}
		}
	}
	flood := *v.flood.Load()
	if len(flood) == 0 {
		v.dropNoFlood(inner)
		return
	}
	if len(flood) > 1 {
		e.queued = true
	}
	for _, a := range flood {
		v.tx(e, a, pkt)
	}
}

// tx sends one packet to vtep, or queues it.
func (v *VTEP) tx(e *encBuf, vtep netip.Addr, pkt []byte) {
	dst := netip.AddrPortFrom(vtep, v.m.port)
	var err error
	if e.queued && v.m.q != nil {
		err = v.m.q.Queue(dst, pkt)
	} else {
		err = v.m.t.Send(dst, pkt)
	}
	inner := pkt[header.VXLANLen:]
	if err != nil {
		v.dropFrame(DropTxError, inner, vtep, func() string { return fmt.Sprintf("to VTEP %s: %v", dst, err) })
		return
	}
	v.ctr.txFrames.Add(1)
	v.ctr.txBytes.Add(uint64(len(inner)))
	if v.m.tracer != nil {
		h := header.Ethernet(inner)
		v.event(trace.Event{Kind: trace.Overlay, Op: trace.OpEncap, Src: h.Src().String(), Dst: h.Dst().String(), Len: len(inner), VTEP: vtep})
	}
}

// flush sends what tx queued for e's frame.
func (v *VTEP) flush(e *encBuf) {
	if e.queued && v.m.q != nil {
		// A batch the transport could not send is its to count: the
		// packets are no longer ours to name.
		_ = v.m.q.Flush()
	}
	e.queued = false
}

// dropNoFlood drops a frame nothing in the tables sends anywhere.
func (v *VTEP) dropNoFlood(inner header.Ethernet) {
	v.dropFrame(DropNoFlood, inner, netip.Addr{}, func() string {
		what := "unknown unicast"
		switch d := inner.Dst(); {
		case d.IsBroadcast():
			what = "broadcast"
		case d.IsMulticast():
			what = "multicast"
		}
		return what + " with no flood list: Docker's overlay does not carry broadcast, multicast or unknown unicast across hosts (moby/libnetwork#552)"
	})
}

// proxyARP answers an ARP request for a peer's address from the peer
// table, back through the receiver attached, and reports whether the
// frame is done with: answered, or dropped as a request no peer answers
// and no flood list carries.
//
// As Linux's vxlan with proxy (arp_reduce): the reply goes to the
// requester's hardware address, from the peer's; gratuitous ARP (sender
// and target the same address) is not a question and passes.
func (v *VTEP) proxyARP(frame []byte) bool {
	eth := header.Ethernet(frame)
	if eth.EtherType() != header.EtherTypeARP {
		return false
	}
	a := header.ARP(frame[header.EthernetLen:])
	if a.Check() != header.OK || a.Op() != header.ARPRequest {
		return false
	}
	tip, sip, sha := a.TargetIP(), a.SenderIP(), a.SenderMAC()
	if tip == sip || sha.IsMulticast() || sha.IsZero() {
		return false
	}
	m, ok := v.peers.Load().ip(tip)
	if !ok {
		if len(*v.flood.Load()) > 0 {
			return false // flooded, as any broadcast
		}
		v.dropFrame(DropNoFlood, frame, netip.Addr{}, func() string {
			return fmt.Sprintf("ARP who-has %s tell %s: no peer has that address, and broadcasts do not cross hosts in Docker's overlay (moby/libnetwork#552)", tip, sip)
		})
		return true
	}
	mac := header.MACFromUint64(m)
	e := v.bufs.Get().(*encBuf)
	reply := e.b[:header.EthernetLen+header.ARPLen]
	header.PutEthernet(reply, sha, mac, header.EtherTypeARP)
	header.PutARP(reply[header.EthernetLen:], header.ARPReply, mac, tip, sha, sip)
	v.ctr.proxyARP.Add(1)
	if v.m.tracer != nil {
		v.event(trace.Event{Kind: trace.Overlay, Op: trace.OpProxyARP, Src: sha.String(), SrcIP: sip, DstIP: tip, MAC: mac.String()})
	}
	if err := v.out.Send(reply); err != nil {
		v.dropFrame(DropDown, reply, netip.Addr{}, func() string { return "the proxy ARP reply has nowhere to go: " + err.Error() })
	}
	v.bufs.Put(e)
	return true
}

// input takes a decapsulated frame from the VTEP at from.
func (v *VTEP) input(from netip.Addr, frame []byte) {
	if len(frame) < header.EthernetLen {
		v.dropFrame(DropRunt, frame, from, func() string {
			return fmt.Sprintf("a %d-byte inner frame from VTEP %s, shorter than an Ethernet header", len(frame), from)
		})
		return
	}
	eth := header.Ethernet(frame)
	src := eth.Src48()
	if src&(1<<40) != 0 || src == 0 {
		v.dropFrame(DropBadSource, frame, from, func() string {
			return fmt.Sprintf("inner source %s from VTEP %s is multicast or zero", eth.Src(), from)
		})
		return
	}
	if pe, ok := v.peers.Load().mac(src); ok {
		// Linux's vxlan_snoop: a static entry never moves, learning or
		// not; the frame is dropped.
		if pe.vtep != from {
			v.dropFrame(DropWrongVTEP, frame, from, func() string {
				return fmt.Sprintf("VTEP %s sent a frame from %s, which the peer table puts behind VTEP %s: a peer claiming another host's container", from, eth.Src(), pe.vtep)
			})
			return
		}
	} else if v.learn && from.IsValid() {
		v.learnFrom(src, from)
	}
	if v.down.Load() || v.removed.Load() {
		v.dropFrame(DropDown, frame, from, func() string {
			if v.removed.Load() {
				return "the VTEP was removed"
			}
			return "the port's carrier is down"
		})
		return
	}
	if v.m.tracer != nil {
		v.event(trace.Event{Kind: trace.Overlay, Op: trace.OpDecap, Src: eth.Src().String(), Dst: eth.Dst().String(), Len: len(frame), VTEP: from})
	}
	if err := v.out.Send(frame); err != nil {
		v.dropFrame(DropDown, frame, from, func() string { return "not delivered: " + err.Error() })
		return
	}
	v.ctr.rxFrames.Add(1)
	v.ctr.rxBytes.Add(uint64(len(frame)))
}

// learnFrom learns (or refreshes, or moves) src behind from.
func (v *VTEP) learnFrom(src uint64, from netip.Addr) {
	r, was := v.learned.learn(src, from, v.m.now())
	switch r {
	case learnRefreshed:
		return
	case learnFull:
		v.dropFrame(DropLearnFull, nil, from, func() string {
			return fmt.Sprintf("%s behind VTEP %s not learned: the table holds its maximum of %d", header.MACFromUint64(src), from, v.learned.max)
		})
		return
	}
	if v.m.tracer != nil {
		_ = was // the narration has no room for where it was
		v.event(trace.Event{Kind: trace.Overlay, Op: trace.OpPeerLearned, Src: header.MACFromUint64(src).String(), VTEP: from})
	}
}

// arm and disarm run the ageing timer; learned.mu is held.
func (v *VTEP) arm(d int64) {
	if v.timer == nil {
		v.timer = v.m.clk.AfterFunc(time.Duration(d), v.age)
		return
	}
	v.timer.Reset(time.Duration(d))
}

func (v *VTEP) disarm() {
	if v.timer != nil {
		v.timer.Stop()
	}
}

// age removes the learned entries whose time has come.
func (v *VTEP) age() {
	gone := v.learned.expire(v.m.now())
	if v.m.tracer == nil {
		return
	}
	for _, e := range gone {
		// Kind Aged, as the switch's: "forgot MAC on PORT ...: aged out".
		v.event(trace.Event{Kind: trace.Aged, Src: header.MACFromUint64(e.mac).String(), VTEP: e.vtep})
	}
}

// event traces e, stamped with the node, the port, the VNI and the time.
func (v *VTEP) event(e trace.Event) {
	e.Time, e.Node, e.Port, e.VNI = v.m.clk.Now(), v.m.node, v.name, v.vni
	v.m.tracer.Trace(e)
}

// dropFrame counts a drop and traces it with the frame's addresses, if
// it has them, and the VTEP concerned.
func (v *VTEP) dropFrame(r DropReason, frame []byte, vtep netip.Addr, why func() string) {
	v.ctr.drops[r].Add(1)
	if v.m.tracer == nil {
		return
	}
	e := trace.Event{Kind: trace.Dropped, Reason: r.String() + ": " + why(), VTEP: vtep}
	if len(frame) >= header.EthernetLen {
		h := header.Ethernet(frame)
		e.Src, e.Dst = h.Src().String(), h.Dst().String()
	}
	v.event(e)
}
