package stack

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/trace"
)

// PingResult is the outcome of one echo request.
type PingResult struct {
	Seq   uint16
	Reply bool          // an echo reply came back
	RTT   time.Duration // with Reply: round-trip time on the host's clock
	From  netip.Addr    // who answered (with an error: who reported it)
	Err   error         // ErrHostUnreach, ErrNoRoute, or an ICMP error received
}

// ICMPError is an ICMP destination unreachable or time exceeded received
// for something the host sent.
type ICMPError struct {
	Type, Code uint8
	From       netip.Addr
}

// Error says the error as a kernel's socket error would ("port
// unreachable"), with who sent it.
func (e *ICMPError) Error() string {
	return fmt.Sprintf("%s from %s", icmpWords(e.Type, e.Code), e.From)
}

// icmpWords names an ICMP error as a kernel's socket error would ("port
// unreachable"), or as gopacket does ("DestinationUnreachable(Port)").
func icmpWords(typ, code uint8) string {
	if m := (trace.ICMPType{Type: typ, Code: code}); m.Known() {
		return m.String()
	}
	return layers.CreateICMPv4TypeCode(typ, code).String()
}

type echoWait struct {
	sent time.Time
	done func(PingResult)
	gen  uint64 // which Ping this is, for a cancel that comes late
}

// echoReq names a waiting echo request, for the failure callback built
// when its packet has to wait for ARP.
type echoReq struct {
	key uint32
	gen uint64 // 0: not a request (a reply, which nobody waits for)
}

// failFunc returns the callback that fails r's Ping with an error.
func (h *Host) failFunc(r echoReq) func(error) {
	if r.gen == 0 {
		return nil
	}
	return func(err error) {
		if w, ok := h.echo[r.key]; ok && w.gen == r.gen {
			delete(h.echo, r.key)
			w.done(PingResult{Seq: uint16(r.key), Err: err})
		}
	}
}

// Ping sends one echo request to dst with the given identifier, sequence
// number and payload size. done is called once, with the reply or an error
// (a failed ARP resolution, an ICMP error), unless cancel is called first.
// A request that gets no answer at all never calls done: the caller keeps
// the timeout, and calls cancel.
func (h *Host) Ping(dst netip.Addr, id, seq uint16, size int, done func(PingResult)) (cancel func(), err error) {
	if err := h.Echo(dst, id, seq, size, done); err != nil {
		return func() {}, err
	}
	key, gen := uint32(id)<<16|uint32(seq), h.echoGen
	return func() {
		if w, ok := h.echo[key]; ok && w.gen == gen {
			delete(h.echo, key)
		}
	}, nil
}

// Echo is Ping without the cancel function, for callers that send many
// and allocate nothing per request: they stop waiting with CancelEcho.
func (h *Host) Echo(dst netip.Addr, id, seq uint16, size int, done func(PingResult)) error {
	key := uint32(id)<<16 | uint32(seq)
	h.echoGen++
	gen := h.echoGen
	h.echo[key] = echoWait{sent: h.clk.Now(), done: done, gen: gen}
	size = max(size, 0)
	if h.traces(trace.Host) {
		h.event("", trace.Event{Op: trace.OpEchoRequest, Proto: trace.ICMP, DstIP: dst, ID: id, Seq: seq, Len: size})
	}
	if err := h.sendEcho(netip.Addr{}, dst, header.ICMPv4EchoRequest, id, seq, echoPayload{size: size}, echoReq{key, gen}); err != nil {
		if w, ok := h.echo[key]; ok && w.gen == gen {
			delete(h.echo, key)
		}
		return err
	}
	return nil
}

// CancelEcho stops waiting for the reply to the echo request id, seq:
// done is not called for it.
func (h *Host) CancelEcho(id, seq uint16) { delete(h.echo, uint32(id)<<16|uint32(seq)) }

func (h *Host) inputICMP(i *Iface, src, dst netip.Addr, ip *layers.IPv4, ic *layers.ICMPv4, bcast bool) {
	switch typ := ic.TypeCode.Type(); typ {
	case layers.ICMPv4TypeEchoRequest, layers.ICMPv4TypeEchoReply:
		h.inputEchoMsg(i, src, dst, typ, ic.Id, ic.Seq, ic.Payload, bcast)
	case layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4TypeTimeExceeded:
		h.inputICMPError(i, src, ic)
	default:
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "ICMP %s ignored", ic.TypeCode)
		}
	}
}

// inputEchoMsg takes an echo request (typ 8, any code) or reply (typ 0)
// from src to dst, one of the host's addresses or (bcast) a broadcast
// one: what inputICMP and inputEcho have decoded of it.
func (h *Host) inputEchoMsg(i *Iface, src, dst netip.Addr, typ uint8, id, seq uint16, payload []byte, bcast bool) {
	if typ == header.ICMPv4EchoRequest {
		if bcast { // icmp_echo_ignore_broadcasts=1, as Linux
			h.droppedf(i.name, "echo request to a broadcast address ignored")
			return
		}
		if h.traces(trace.Host) {
			h.event(i.name, trace.Event{Op: trace.OpEchoAnswered, Proto: trace.ICMP, SrcIP: src, DstIP: dst, ID: id, Seq: seq, Len: len(payload)})
		}
		_ = h.sendEcho(dst, src, header.ICMPv4EchoReply, id, seq, echoPayload{data: payload, size: len(payload)}, echoReq{})
		return
	}
	key := uint32(id)<<16 | uint32(seq)
	w, ok := h.echo[key]
	if !ok {
		if !h.countedDrop() { // no tracer: no Sprintf, and no boxing of its arguments
			h.droppedf(i.name, "echo reply from %s seq %d matches no request", src, seq)
		}
		return
	}
	delete(h.echo, key)
	rtt := h.clk.Now().Sub(w.sent)
	if h.traces(trace.Host) {
		h.event(i.name, trace.Event{Op: trace.OpEchoReply, Proto: trace.ICMP, SrcIP: src, DstIP: dst, ID: id, Seq: seq, Dur: rtt})
	}
	w.done(PingResult{Seq: seq, Reply: true, RTT: rtt, From: src})
}

// inputEcho takes, before any decoding, what a host takes in most often
// after ARP: an ICMP echo request or reply for one of its addresses (or a
// broadcast one), in an IPv4 header without options, not a fragment, all
// of it there (no TSO length of 0). It does what input, inputIPv4 and
// inputICMP do with the frame as gopacket decodes it, and reports whether
// it did; any other frame, one to drop included, goes the whole way.
func (h *Host) inputEcho(i *Iface, frame []byte) bool {
	e := header.Ethernet(frame)
	if len(e) < header.EthernetLen+header.IPv4MinLen+header.ICMPv4Len || e.EtherType() != header.EtherTypeIPv4 {
		return false
	}
	ip := header.IPv4(e[header.EthernetLen:])
	n := ip.TotalLen()
	if ip[0] != header.IPv4Version<<4|header.IPv4MinLen/4 || n < header.IPv4MinLen+header.ICMPv4Len || n > len(ip) ||
		ip.IsFragment() || ip.Protocol() != header.ProtocolICMP {
		return false
	}
	m := header.ICMPv4(ip[header.IPv4MinLen:n])
	if !m.IsEcho() || !(e.Dst().IsMulticast() || e.Dst() == i.mac) {
		return false
	}
	dst := ip.Dst()
	bcast := dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || dst == i.broadcast()
	if !bcast && !h.owns(dst) {
		return false
	}
	h.inputEchoMsg(i, ip.Src(), dst, m.Type(), m.ID(), m.Seq(), m.Payload(), bcast)
	return true
}

// inputICMPError matches an ICMP error to the echo or UDP socket whose
// packet it quotes (RFC 792: the original IP header and 8 bytes of data).
func (h *Host) inputICMPError(i *Iface, from netip.Addr, ic *layers.ICMPv4) {
	q := header.IPv4(ic.Payload)
	e := &ICMPError{Type: ic.TypeCode.Type(), Code: ic.TypeCode.Code(), From: from}
	if !header.IsIPv4(q) || len(q) < q.HeaderLen()+8 {
		h.stats.Malformed++
		h.droppedf(i.name, "ICMP error quoting a malformed packet")
		return
	}
	inner := q.Payload() // its first 8 bytes
	if h.traces(trace.Host) {
		ev := trace.Event{Op: trace.OpICMPError, Proto: trace.ICMP, SrcIP: from, ICMP: trace.ICMPType{Type: e.Type, Code: e.Code}}
		if !ev.ICMP.Known() {
			ev.Reason = icmpWords(e.Type, e.Code)
		}
		h.event(i.name, ev)
	}
	switch q.Protocol() {
	case header.ProtocolICMP:
		m := header.ICMPv4(inner)
		key := uint32(m.ID())<<16 | uint32(m.Seq())
		if w, ok := h.echo[key]; ok && m.Type() == header.ICMPv4EchoRequest {
			delete(h.echo, key)
			w.done(PingResult{Seq: uint16(key), From: from, Err: e})
		}
	case header.ProtocolUDP:
		c := h.udpAt[netip.AddrPortFrom(q.Src(), header.UDP(inner).SrcPort())]
		if c == nil {
			c = h.udp[header.UDP(inner).SrcPort()]
		}
		if c != nil && c.OnError != nil {
			c.OnError(e)
		}
	case header.ProtocolTCP:
		// As Linux's tcp_v4_err: a destination unreachable about our SYN
		// ends the connect; later ones are soft errors, left to the
		// retransmissions. ConnectTCP's probe keeps waiting, as before.
		t := header.TCP(inner)
		k := tcpKey{netip.AddrPortFrom(q.Src(), t.SrcPort()), netip.AddrPortFrom(q.Dst(), t.DstPort())}
		if c := h.tcpC[k]; c != nil && c.state == tcpSynSent && !c.probe && e.Type == uint8(layers.ICMPv4TypeDestinationUnreachable) &&
			e.Code != uint8(layers.ICMPv4CodeFragmentationNeeded) && t.Seq() == c.iss {
			c.finish(e)
		}
	}
}

// sendIPFrom sends from src, or from the outgoing interface's address when
// src is the zero Addr (a reply goes out from the address the request was
// sent to).
func (h *Host) sendIPFrom(src, dst netip.Addr, proto layers.IPProtocol, fail func(error), ls ...gopacket.SerializableLayer) error {
	i, hop, err := h.route(dst)
	if err != nil {
		return err
	}
	src = h.source(i, src, dst)
	h.ipID++
	ip := &layers.IPv4{
		Version: 4, IHL: 5, TTL: DefaultTTL, Id: h.ipID, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(),
	}
	if t, ok := ls[0].(interface {
		SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
	}); ok {
		_ = t.SetNetworkLayerForChecksum(ip)
	}
	ls = append([]gopacket.SerializableLayer{ip}, ls...)
	if i == h.lo && h.output != nil {
		if pkt, err := serialize(ls); err == nil && h.output(pkt) {
			return nil
		}
	}
	return h.resolveAndSend(i, hop, ls, fail)
}

// sendUnreachable answers a packet with ICMP destination unreachable,
// quoting its IP header and first 8 bytes of payload (RFC 792).
func (h *Host) sendUnreachable(ip *layers.IPv4, code uint8) {
	src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
	dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
	quote := append([]byte(nil), ip.Contents...)
	p := ip.Payload
	quote = append(quote, p[:min(8, len(p))]...)
	_ = h.sendIPFrom(dst, src, layers.IPProtocolICMPv4, nil,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)},
		gopacket.Payload(quote))
}
