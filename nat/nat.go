package nat

import (
	"cmp"
	"container/list"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/netyard/netyard/internal/header"
)

// Protocols the table translates.
const (
	ICMP = 1
	TCP  = 6
	UDP  = 17
)

// Timeouts, Linux's nf_conntrack defaults.
const (
	UDPTimeout        = 30 * time.Second
	UDPStreamTimeout  = 180 * time.Second
	ICMPTimeout       = 30 * time.Second
	TCPOpeningTimeout = 120 * time.Second
	TCPEstablished    = 5 * 24 * time.Hour
	TCPClosingTimeout = 120 * time.Second
	TCPResetTimeout   = 10 * time.Second
	DefaultMax        = 65536
	firstPort         = 1024
)

// Tuple is one direction of a flow. For ICMP echo, both ports are the
// identifier.
type Tuple struct {
	Proto    uint8
	Src, Dst netip.AddrPort
}

func (t Tuple) String() string {
	p := map[uint8]string{ICMP: "icmp", TCP: "tcp", UDP: "udp"}[t.Proto]
	return fmt.Sprintf("%s %s -> %s", p, t.Src, t.Dst)
}

// Flow is a tracked connection, as reported by Dump.
type Flow struct {
	Orig, Reply Tuple // the packet as it arrived; the reply as it will arrive
	Kind        string
	State       string
	Expires     time.Time
	Replied     bool // a reply was seen (conntrack -L: no [UNREPLIED])
	Assured     bool // never dropped early to make room (conntrack -L: [ASSURED])
}

type flow struct {
	orig, reply Tuple // reply is the reply as it arrives (translated addresses)
	kind        string
	replied     bool     // a packet of the reply direction was seen
	assured     bool     // as Linux's IPS_ASSURED: never dropped early
	tcp         tcpState // for TCP
	created     time.Time
	expires     time.Time

	seq  uint64    // creation order, for ties
	due  time.Time // key in the expiry heap: never after expires
	hidx int       // index in the expiry heap; -1 once removed

	class uint8         // early-drop class (noClass: on no list)
	elem  *list.Element // on the list of its class (t.drop), oldest first
}

// Flow kinds.
const (
	kindMasquerade = "masquerade"
	kindPublished  = "published"
	kindHairpin    = "hairpin"
	kindRouted     = "routed" // tracked, not translated: direct routing to a published container port, or leaving unmasqueraded
)

// tcpState is where a TCP flow is, as Dump names it.
type tcpState uint8

const (
	tcpNone tcpState = iota
	tcpSynSent
	tcpSynRecv
	tcpEstablished
	tcpFinWait
	tcpClose
)

var tcpNames = [...]string{"", "syn-sent", "syn-recv", "established", "fin-wait", "close"}

func (s tcpState) String() string { return tcpNames[s] }

// udpStream is how long after its first packet a replied UDP flow must
// still be active to be assured (Linux: stream_ts, 2 s).
const udpStream = 2 * time.Second

// Publish is a published port: packets to Ext go to To.
type Publish struct {
	Proto uint8
	Ext   netip.AddrPort
	To    netip.AddrPort
	// Bind is the one host address it was published on (-p
	// 192.168.56.11:8080:80); zero: all of them (0.0.0.0).
	Bind netip.Addr
}

// Stats counts what the table did. Every flow created ends expired,
// dropped early, closed or purged, or is still in the table.
type Stats struct {
	Created   uint64 // flows started
	Expired   uint64 // flows removed at their timeout
	Full      uint64 // new flows refused: the table full and nothing to drop early, or no free port
	Refused   uint64 // packets of no flow that may not start one
	Malformed uint64 // packets not translatable

	// EarlyDropped counts flows evicted to make room for a new one on a
	// full table (Linux's early_drop): flows not assured, oldest first.
	EarlyDropped uint64
	// Closed counts TCP flows removed at once because a reset came before
	// any reply, as Linux does.
	Closed uint64
	// Purged counts flows removed because an address they use went
	// (Purge: a container's endpoint left its network).
	Purged uint64
}

// Table is a connection tracking table.
type Table struct {
	mu  sync.Mutex
	max int
	// guarded by mu:
	flows     map[Tuple]*flow      // by either direction's tuple as it arrives
	heap      []*flow              // every flow, a min-heap by expiry (expiry.go)
	drop      [nClasses]list.List  // of *flow, by early-drop class, oldest first
	ports     map[portKey]*portSet // external ports in use (ports.go)
	published map[Tuple]Publish
	seq       uint64
	stats     Stats
	onDrop    func(victim Flow)
	// publishedTo holds the containers' ends of published ports, by
	// protocol: what direct routing may reach (Routed).
	publishedTo map[Tuple]bool
}

// New returns a table holding at most max flows (0: DefaultMax).
func New(max int) *Table {
	return &Table{max: cmp.Or(max, DefaultMax), flows: map[Tuple]*flow{},
		ports: map[portKey]*portSet{}, published: map[Tuple]Publish{}, publishedTo: map[Tuple]bool{}}
}

// OnEarlyDrop sets a function to hear of every flow dropped early to make
// room for a new one (nil: none). It is called after the table's lock is
// released, on the goroutine whose packet made the new flow, before that
// packet's Translate returns.
func (t *Table) OnEarlyDrop(fn func(victim Flow)) {
	t.mu.Lock()
	t.onDrop = fn
	t.mu.Unlock()
}

// Len returns the number of flows the table holds, expired ones not yet
// collected included.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.heap)
}

// Errors.
var (
	errICMPError = errors.New("nat: an ICMP error")
	ErrFull      = errors.New("nat: connection table full")
	ErrRefused   = errors.New("nat: no flow and no published port")
	ErrMalformed = errors.New("nat: not a translatable IPv4 packet")
	ErrPublished = errors.New("nat: port already published")
)

// AddPublish publishes a port.
func (t *Table) AddPublish(p Publish) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := Tuple{Proto: p.Proto, Dst: p.Ext}
	if _, dup := t.published[k]; dup {
		return fmt.Errorf("%w: %s", ErrPublished, p.Ext)
	}
	t.published[k] = p
	t.publishedTo[Tuple{Proto: p.Proto, Dst: p.To}] = true
	return nil
}

// PublishedTo reports whether a port published for proto leads to the
// container's address and port to.
func (t *Table) PublishedTo(proto uint8, to netip.AddrPort) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.publishedTo[Tuple{Proto: proto, Dst: to}]
}

// packet is a parsed IPv4 packet's translatable fields.
type packet struct {
	ip       header.IPv4
	proto    uint8
	src, dst netip.Addr
	sport    uint16 // or ICMP id
	dport    uint16
	icmpEcho bool
	icmpType uint8
	tcpFlags uint8
	partial  bool // the L4 checksum field holds the pseudo-header sum only
}

func parse(b []byte) (packet, error) {
	var p packet
	if !header.IsIPv4(b) {
		return p, ErrMalformed
	}
	ip := header.IPv4(b)
	p.ip = ip
	hl := ip.HeaderLen()
	if hl < header.IPv4MinLen || len(b) < hl+8 || ip.FlagsFrag()&header.IPv4OffMask != 0 {
		return p, ErrMalformed // too short, or a non-first fragment
	}
	p.proto, p.src, p.dst = ip.Protocol(), ip.Src(), ip.Dst()
	l4 := b[hl:]
	switch p.proto {
	case TCP:
		t := header.TCP(l4)
		if len(t) < header.TCPMinLen {
			return p, ErrMalformed
		}
		p.tcpFlags = t.Flags()
		p.sport, p.dport = t.SrcPort(), t.DstPort()
	case UDP:
		u := header.UDP(l4)
		p.sport, p.dport = u.SrcPort(), u.DstPort()
	case ICMP:
		m := header.ICMPv4(l4)
		p.icmpType = m.Type()
		if m.IsError() {
			return p, errICMPError
		}
		if !m.IsEcho() {
			return p, ErrMalformed
		}
		p.icmpEcho = true
		p.sport, p.dport = m.ID(), m.ID()
	default:
		return p, ErrMalformed
	}
	return p, nil
}

func (p packet) tuple() Tuple {
	return Tuple{p.proto, netip.AddrPortFrom(p.src, p.sport), netip.AddrPortFrom(p.dst, p.dport)}
}

// Origin says where a packet comes from, and so how a packet without a
// flow may start one.
type Origin int

// Origins.
const (
	FromInside  Origin = iota // leaving: masqueraded behind the external address
	FromOutside               // arriving from outside: only to a published port
	Hairpinned                // from inside to a published port: DNAT and SNAT
	// Routed is a packet from outside addressed straight to a container
	// (direct routing): only to a container's published port, tracked
	// and not translated, so that its replies leave as they are rather
	// than masqueraded.
	Routed
	// FromHost is a packet the Docker host itself sends to a published
	// port: DNAT and SNAT as Hairpinned, but the port it is masqueraded
	// behind is never its own source port, which the host's stack may
	// use again for a connection of its own to the container, as
	// docker-proxy's connection has a port of its own.
	FromHost
	// Unmasqueraded is a packet leaving from a network that does not
	// masquerade (Docker's enable_ip_masquerade false): to anywhere,
	// tracked and not translated, so that its replies (from a host with
	// a route back) come in.
	Unmasqueraded
)

// Outbound translates a packet (an IPv4 packet, starting at its header)
// leaving through the external address ext, in place: a new flow is
// masqueraded behind ext. It returns the flow's tuple as it arrived.
func (t *Table) Outbound(b []byte, ext netip.Addr, now time.Time) (Tuple, error) {
	k, _, err := t.TranslateFlow(b, FromInside, ext, now, false)
	return k, err
}

// Inbound translates a packet arriving on the external side, in place: a
// reply of a tracked flow, or a new flow to a published port.
func (t *Table) Inbound(b []byte, now time.Time) (Tuple, error) {
	k, _, err := t.TranslateFlow(b, FromOutside, netip.Addr{}, now, false)
	return k, err
}

// Hairpin translates a packet from inside (a container) to a published
// port, in place: its destination becomes the container behind the port,
// and its source the address via (the gateway's address on that
// container's network), so that the reply comes back through the gateway
// rather than straight to the sender, which would not recognise it. This
// is what Docker's userland proxy does for connections from the host's own
// containers. A packet of a tracked flow is translated as its flow says.
func (t *Table) Hairpin(b []byte, via netip.Addr, now time.Time) (Tuple, error) {
	k, _, err := t.TranslateFlow(b, Hairpinned, via, now, false)
	return k, err
}

// Untranslate rewrites a packet this table translated back to how it
// arrived, in place (for an ICMP error about it, sent to its sender). It
// reports false for a packet of no live flow.
func (t *Table) Untranslate(b []byte, now time.Time) bool {
	p, err := parse(b)
	if err != nil {
		return false
	}
	k := p.tuple()
	back := Tuple{k.Proto, k.Dst, k.Src} // translated, a packet looks like the other direction reversed
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.liveLocked(back, now)
	if f == nil {
		return false
	}
	was := f.orig
	if back == f.orig {
		was = f.reply
	}
	rewriteTo(p, was.Src, was.Dst)
	return true
}

// Published returns the published port for packets of proto to dst.
func (t *Table) Published(proto uint8, dst netip.AddrPort) (Publish, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.published[Tuple{Proto: proto, Dst: dst}]
	return p, ok
}

// Translate is Outbound (FromInside, ext the external address), Inbound
// (FromOutside) or Hairpin (Hairpinned, ext the address to masquerade
// behind). With partial, the packet's L4 checksum is still to be computed
// (a TCP super-frame from a TAP with offloads): its field holds only the
// pseudo-header sum, which changes with the addresses and not with the
// ports.
func (t *Table) Translate(b []byte, o Origin, ext netip.Addr, now time.Time, partial bool) (Tuple, error) {
	k, _, err := t.TranslateFlow(b, o, ext, now, partial)
	return k, err
}

// Change says what a translated packet did to its flow.
type Change uint8

// What a packet did to its flow.
const (
	Kept          Change = iota // it belonged to a flow that goes on
	Created                     // it started a flow
	Closed                      // it ended its flow
	CreatedClosed               // it started a flow that it ended at once (a reset)
)

// TranslateFlow is Translate, and says what the packet did to its flow.
// It is the translation itself: Translate and the others are wrappers the
// compiler inlines, so a packet costs one call.
func (t *Table) TranslateFlow(b []byte, o Origin, ext netip.Addr, now time.Time, partial bool) (Tuple, Change, error) {
	p, err := parse(b)
	if err == errICMPError {
		k, err := t.icmpError(p, now)
		return k, Kept, err
	}
	p.partial = partial
	if err != nil {
		t.count(&t.stats.Malformed)
		return Tuple{}, Kept, err
	}
	k := p.tuple()
	t.mu.Lock()
	f := t.liveLocked(k, now)
	fresh := f == nil
	var victim *flow
	if fresh {
		if f, victim, err = t.newFlowLocked(p, k, o, ext, now); err != nil {
			t.mu.Unlock()
			return k, Kept, err
		}
	}
	reply := k != f.orig
	ends := f.track(p, reply, now)
	ch := Kept
	switch {
	case fresh && ends: // a reset starting a flow: translated, never entered
		t.stats.Created++
		t.stats.Closed++
		ch = CreatedClosed
	case fresh:
		t.addLocked(f)
		ch = Created
	case ends:
		t.removeLocked(f)
		t.stats.Closed++
		ch = Closed
	default:
		t.refileLocked(f)
		t.classifyLocked(f)
	}
	// A packet of one direction leaves looking like the reverse of the
	// other direction's tuple, as conntrack's NAT does.
	other := f.reply
	if reply {
		other = f.orig
	}
	onDrop := t.onDrop
	t.mu.Unlock()
	rewriteTo(p, other.Dst, other.Src)
	if victim != nil && onDrop != nil {
		onDrop(victim.export())
	}
	return k, ch, nil
}

// newFlowLocked returns a flow for k, to enter once its first packet is
// tracked. Leaving, it is masqueraded behind ext keeping the port if free.
// Arriving, only to a published port, and the container then sees the
// client's real address. From inside to a published port (hairpin), the
// source is masqueraded behind ext too. On a full table it drops a flow
// early to make room, and returns it.
func (t *Table) newFlowLocked(p packet, k Tuple, o Origin, ext netip.Addr, now time.Time) (f, victim *flow, err error) {
	kind, reply := kindMasquerade, Tuple{}
	switch o {
	case Unmasqueraded:
		kind, reply = kindRouted, Tuple{p.proto, k.Dst, k.Src}
	case Routed:
		if !t.publishedTo[Tuple{Proto: p.proto, Dst: k.Dst}] || p.proto == ICMP {
			t.stats.Refused++
			return nil, nil, ErrRefused
		}
		kind, reply = kindRouted, Tuple{p.proto, k.Dst, k.Src}
		if t.liveLocked(reply, now) != nil { // a flow of the container's has that tuple
			t.stats.Refused++
			return nil, nil, ErrRefused
		}
	case FromInside:
		port, ok := t.freePortLocked(p.proto, ext, k.Dst, p.sport, now)
		if !ok {
			t.stats.Full++
			return nil, nil, ErrFull
		}
		dst := k.Dst
		if p.proto == ICMP {
			dst = netip.AddrPortFrom(k.Dst.Addr(), port)
		}
		reply = Tuple{p.proto, dst, netip.AddrPortFrom(ext, port)}
	default:
		pub, ok := t.published[Tuple{Proto: p.proto, Dst: k.Dst}]
		if !ok || p.proto == ICMP {
			t.stats.Refused++
			return nil, nil, ErrRefused
		}
		if o == FromOutside {
			kind, reply = kindPublished, Tuple{p.proto, pub.To, k.Src}
			if t.liveLocked(reply, now) != nil { // another flow has the tuple its replies would come as
				t.stats.Refused++
				return nil, nil, ErrRefused
			}
			break
		}
		want := p.sport
		if o == FromHost {
			want = 0
		}
		port, ok := t.freePortLocked(p.proto, ext, pub.To, want, now)
		if !ok {
			t.stats.Full++
			return nil, nil, ErrFull
		}
		kind, reply = kindHairpin, Tuple{p.proto, pub.To, netip.AddrPortFrom(ext, port)}
	}
	t.collectLocked(now, gcSteps, false)
	if len(t.heap) >= t.max && !t.collectLocked(now, roomSteps, true) {
		if victim = t.earlyDropLocked(); victim == nil {
			t.stats.Full++
			return nil, nil, ErrFull
		}
	}
	return &flow{orig: k, reply: reply, kind: kind, created: now, hidx: -1, class: noClass}, victim, nil
}

// addLocked enters a new flow, its first packet tracked: under both its
// tuples, in the expiry heap at its expiry, on the early-drop list of its
// class, and in the port set of its external address and peer.
func (t *Table) addLocked(f *flow) {
	t.flows[f.orig], t.flows[f.reply] = f, f
	t.seq++
	f.seq, f.due = t.seq, f.expires
	t.heapPush(f)
	t.classifyLocked(f)
	if f.kind != kindPublished && f.kind != kindRouted {
		t.portsAddLocked(f)
	}
	t.stats.Created++
}

func (t *Table) count(c *uint64) {
	t.mu.Lock()
	*c++
	t.mu.Unlock()
}

// liveLocked returns the flow of k unless it has expired (then removed).
func (t *Table) liveLocked(k Tuple, now time.Time) *flow {
	f := t.flows[k]
	if f != nil && !now.Before(f.expires) {
		t.removeLocked(f)
		t.stats.Expired++
		return nil
	}
	return f
}

// removeLocked forgets f everywhere it is entered.
func (t *Table) removeLocked(f *flow) {
	for _, k := range [2]Tuple{f.orig, f.reply} {
		if t.flows[k] == f {
			delete(t.flows, k)
		}
	}
	t.heapRemove(f)
	t.unlistLocked(f)
	if f.kind != kindPublished && f.kind != kindRouted {
		t.portsDelLocked(f)
	}
}

// freePortLocked picks the external port (or ICMP id) for a new flow to dst:
// want if no flow uses (proto, ext:port) towards dst, else the lowest free
// port from 1024 on.
func (t *Table) freePortLocked(proto uint8, ext netip.Addr, dst netip.AddrPort, want uint16, now time.Time) (uint16, bool) {
	used := func(port uint16) bool {
		rdst := dst
		if proto == ICMP {
			rdst = netip.AddrPortFrom(dst.Addr(), port)
		}
		return t.liveLocked(Tuple{proto, rdst, netip.AddrPortFrom(ext, port)}, now) != nil
	}
	if want >= firstPort || proto == ICMP {
		if !used(want) {
			return want, true
		}
	}
	k, _ := keyOf(Tuple{proto, dst, netip.AddrPortFrom(ext, 0)})
	if s := t.ports[k]; s != nil && s.bits != nil {
		// Many ports taken: candidates from the bitmap, checked against
		// the flows for the odd tuple another kind of flow holds.
		for p, ok := s.bits.next(firstPort); ok; p, ok = s.bits.next(uint32(p) + 1) {
			if !used(p) {
				return p, true
			}
		}
		return 0, false
	}
	// Few ports taken (at most smallPorts): the lowest free is among the
	// first few from 1024.
	for p := uint32(firstPort); p <= 65535; p++ {
		if !used(uint16(p)) {
			return uint16(p), true
		}
	}
	return 0, false
}

// track advances a flow's state and expiry (the table then files it
// again: refileLocked, classifyLocked). It reports whether the flow ends
// at once: a TCP reset before any reply
// (nf_conntrack_proto_tcp.c: "if only reply is a RST, ... delete the
// conntrack immediately").
func (f *flow) track(p packet, reply bool, now time.Time) bool {
	wasReplied := f.replied
	if reply {
		f.replied = true
	}
	switch p.proto {
	case UDP:
		d := UDPTimeout
		if f.replied {
			d = UDPStreamTimeout
			if wasReplied && !f.assured && now.Sub(f.created) > udpStream {
				f.assured = true
			}
		}
		f.expires = now.Add(d)
	case ICMP:
		f.expires = now.Add(ICMPTimeout)
	case TCP:
		const fin, syn, rst, ack = 0x01, 0x02, 0x04, 0x10
		if p.tcpFlags&rst != 0 && !wasReplied {
			return true
		}
		switch {
		case p.tcpFlags&rst != 0:
			f.tcp = tcpClose
		case p.tcpFlags&fin != 0:
			f.tcp = tcpFinWait
		case f.tcp == tcpNone:
			f.tcp = tcpSynSent
		case f.tcp == tcpSynSent && reply && p.tcpFlags&(syn|ack) == syn|ack:
			f.tcp = tcpSynRecv
		case f.tcp == tcpSynRecv && !reply && p.tcpFlags&ack != 0:
			f.tcp = tcpEstablished
			f.assured = true
		}
		d := TCPOpeningTimeout
		switch f.tcp {
		case tcpEstablished:
			d = TCPEstablished
		case tcpFinWait:
			d = TCPClosingTimeout
		case tcpClose:
			d = TCPResetTimeout
		}
		f.expires = now.Add(d)
	}
	return false
}

// rewriteTo sets the packet's source to src and destination to dst (for
// ICMP echo, the identifier to src's port), touching only what changes
// and updating checksums incrementally (RFC 1624).
func rewriteTo(p packet, src, dst netip.AddrPort) {
	ip := p.ip
	l4 := ip.Payload()
	var ck header.Checksum // the L4 checksum, if it covers addresses and ports
	switch p.proto {
	case TCP:
		ck = header.TCP(l4).Sum()
	case UDP:
		ck = header.UDP(l4).Sum() // none when sent without one
	}
	if p.partial {
		// A pending checksum: the field is the pseudo-header sum. It
		// follows the addresses, and leaves the ports to the final sum.
		ck = ck.Partial()
	}
	if p.src != src.Addr() {
		ip.SetSrcL4(src.Addr(), ck)
	}
	if p.dst != dst.Addr() {
		ip.SetDstL4(dst.Addr(), ck)
	}
	switch p.proto {
	case ICMP:
		if p.sport != src.Port() { // the identifier, covered by the ICMP checksum
			header.ICMPv4(l4).SetID(src.Port())
		}
	case TCP:
		if p.sport != src.Port() {
			header.TCP(l4).SetSrcPortSum(src.Port(), ck)
		}
		if p.dport != dst.Port() {
			header.TCP(l4).SetDstPortSum(dst.Port(), ck)
		}
	case UDP:
		if p.sport != src.Port() {
			header.UDP(l4).SetSrcPortSum(src.Port(), ck)
		}
		if p.dport != dst.Port() {
			header.UDP(l4).SetDstPortSum(dst.Port(), ck)
		}
	}
}

// Dump returns the live flows, sorted by original tuple.
func (t *Table) Dump(now time.Time) []Flow {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Flow
	for _, f := range t.heap {
		if now.Before(f.expires) {
			out = append(out, f.export())
		}
	}
	slices.SortFunc(out, func(a, b Flow) int { return cmp.Compare(a.Orig.String(), b.Orig.String()) })
	return out
}

// export is f as Dump reports it.
func (f *flow) export() Flow {
	return Flow{Orig: f.orig, Reply: f.reply, Kind: f.kind, State: f.tcp.String(), Expires: f.expires,
		Replied: f.replied, Assured: f.assured}
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}
