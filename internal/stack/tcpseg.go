package stack

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/trace"
)

// Segment flags as the host sends them.
const (
	flFIN = 1 << iota
	flSYN
	flRST
	flPSH
	flACK
)

// mssOption announces TCPMSS (RFC 9293 §3.7.1). Shared and read-only.
var mssOption = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{TCPMSS >> 8, TCPMSS & 0xff}}}

// Sequence numbers compare modulo 2^32 (RFC 9293 §3.4).
func seqLT(a, b uint32) bool  { return int32(a-b) < 0 }
func seqLEQ(a, b uint32) bool { return int32(a-b) <= 0 }
func seqGT(a, b uint32) bool  { return int32(a-b) > 0 }

// flagsOf returns the flags of a segment the host acts on (the
// narration names no others). The fl constants are their header bits.
func flagsOf(t *layers.TCP) trace.TCPFlags {
	var f trace.TCPFlags
	for _, b := range [...]struct {
		on bool
		f  trace.TCPFlags
	}{{t.FIN, trace.FIN}, {t.SYN, trace.SYN}, {t.RST, trace.RST}, {t.PSH, trace.PSH}, {t.ACK, trace.ACK}} {
		if b.on {
			f |= b.f
		}
	}
	return f
}

// describe is a received segment as a drop's reason shows it: "SYN",
// "PSH-ACK, 120 bytes".
func describe(t *layers.TCP) string {
	s := flagsOf(t).String()
	if n := len(t.Payload); n > 0 {
		s += ", " + strconv.Itoa(n) + " bytes"
	}
	return s
}

// segment is an event about a segment of c: sent (from the local end) or
// received (from the remote one).
func (c *TCPStream) segment(op trace.Op, f trace.TCPFlags, n int, notes string) trace.Event {
	return segmentEvent(op, c.key, f, n, notes)
}

// segmentEvent is an event about a segment of the connection k.
func segmentEvent(op trace.Op, k tcpKey, f trace.TCPFlags, n int, notes string) trace.Event {
	from, to := k.local, k.remote
	if op == trace.OpTCPReceived {
		from, to = to, from
	}
	return trace.Event{Op: op, Proto: trace.TCP, SrcIP: from.Addr(), SrcPort: from.Port(), DstIP: to.Addr(), DstPort: to.Port(), Flags: f, Len: n, Reason: notes}
}

// heard starts the narration of a received segment.
func (c *TCPStream) heard(i *Iface, t *layers.TCP) {
	if c.h.tracer == nil {
		return
	}
	c.flushRx()
	c.rx = rxLine{pending: true, port: i.name, flags: flagsOf(t), n: len(t.Payload)}
}

// note adds what the segment being processed did to its line, or says it
// on a line of its own once that line is out.
func (c *TCPStream) note(s string) {
	if c.h.tracer == nil {
		return
	}
	if c.rx.pending {
		if c.rx.notes != "" {
			c.rx.notes += ", "
		}
		c.rx.notes += s
		return
	}
	c.h.event("", c.segment(trace.OpTCPNote, 0, 0, s))
}

// flushRx writes the pending line of a received segment.
func (c *TCPStream) flushRx() {
	if !c.rx.pending {
		return
	}
	c.rx.pending = false
	c.h.event(c.rx.port, c.segment(trace.OpTCPReceived, c.rx.flags, c.rx.n, c.rx.notes))
}

// dropRx replaces the pending line by a drop with its reason.
func (c *TCPStream) dropRx(i *Iface, t *layers.TCP, outOfOrder bool, reason string) {
	c.rx.pending = false
	if outOfOrder {
		c.h.stats.TCPOutOfOrder++
	}
	c.h.droppedf(i.name, "tcp %d <- %s: %s: %s", c.key.local.Port(), c.key.remote, describe(t), reason)
}

// send transmits one segment of the connection. seq is the segment's
// sequence number; with flACK it acknowledges rcvNxt.
func (c *TCPStream) send(flags uint8, seq uint32, data []byte, note string) error {
	h := c.h
	c.flushRx()
	t := &layers.TCP{
		SrcPort: layers.TCPPort(c.key.local.Port()), DstPort: layers.TCPPort(c.key.remote.Port()),
		Seq: seq, Window: TCPWindow,
		SYN: flags&flSYN != 0, FIN: flags&flFIN != 0, RST: flags&flRST != 0, PSH: flags&flPSH != 0, ACK: flags&flACK != 0,
	}
	if t.ACK {
		t.Ack = c.rcvNxt
		c.ackNow = false
	}
	if t.RST {
		t.Window = 0
	}
	if t.SYN && !c.probe { // a probe's SYN carries no options, as before
		t.Options = mssOption
	}
	if !t.RST && (len(data) > 0 || t.SYN || t.FIN) && seqLT(seq, c.sndMax) {
		h.stats.TCPRetransmits++
		if note == "" {
			note = "retransmitted"
		} else {
			note = "retransmitted, " + note
		}
	}
	h.event("", c.segment(trace.OpTCPSent, trace.TCPFlags(flags), len(data), note))
	var err error
	if len(data) > 0 {
		err = h.sendIPFrom(c.key.local.Addr(), c.key.remote.Addr(), layers.IPProtocolTCP, c.failFn, t, gopacket.Payload(data))
	} else {
		err = h.sendIPFrom(c.key.local.Addr(), c.key.remote.Addr(), layers.IPProtocolTCP, c.failFn, t)
	}
	return err
}

// sendSYN sends (or sends again) the SYN of a connect, or the SYN-ACK of
// an accept, and arms the retransmission.
func (c *TCPStream) sendSYN() error {
	flags := uint8(flSYN)
	if c.state == tcpSynRcvd {
		flags |= flACK
	}
	if seqLEQ(c.sndMax, c.iss) { // the first one: time it (Karn: never a retransmission)
		c.rttTiming, c.rttSeq, c.rttStart = true, c.iss+1, c.h.clk.Now()
	}
	err := c.send(flags, c.iss, nil, "")
	c.sndNxt, c.sndMax = c.iss+1, c.iss+1
	if c.probe {
		c.armRTX(min(synRetry<<min(c.retries, 8), TCPRTOMax))
	} else {
		c.armRTX(c.rto)
	}
	return err
}

// output sends what the windows allow of the data written, then the FIN
// once the data is out.
func (c *TCPStream) output() {
	switch c.state {
	case tcpEstablished, tcpCloseWait, tcpFinWait1, tcpClosing, tcpLastAck:
	default:
		return
	}
	for {
		off := int(c.sndNxt - c.bufSeq)
		if off < 0 || off > len(c.buf) { // the FIN is out
			break
		}
		if unsent := len(c.buf) - off; unsent > 0 {
			inflight := int(c.sndNxt - c.sndUna)
			room := min(int(c.sndWnd), c.cwnd) - inflight
			if room <= 0 && c.probeWnd && inflight == 0 {
				room = 1 // RFC 9293 §3.8.6.1: probe a zero window
			}
			c.probeWnd = false
			if room <= 0 {
				break
			}
			n := min(unsent, c.mss, room)
			seq := c.sndNxt
			flags := uint8(flACK)
			if n == unsent {
				flags |= flPSH
			}
			fresh := !seqLT(seq, c.sndMax)
			_ = c.send(flags, seq, c.buf[off:off+n], "")
			c.sndNxt += uint32(n)
			if fresh && !c.rttTiming {
				c.rttTiming, c.rttSeq, c.rttStart = true, c.sndNxt, c.h.clk.Now()
			}
			if seqGT(c.sndNxt, c.sndMax) {
				c.sndMax = c.sndNxt
			}
			if c.rtxAt.IsZero() {
				c.armRTX(c.rto)
			}
			continue
		}
		if c.closed && (c.state == tcpFinWait1 || c.state == tcpClosing || c.state == tcpLastAck) {
			_ = c.send(flFIN|flACK, c.sndNxt, nil, "")
			c.sndNxt++
			if seqGT(c.sndNxt, c.sndMax) {
				c.sndMax = c.sndNxt
			}
			if c.rtxAt.IsZero() {
				c.armRTX(c.rto)
			}
		}
		break
	}
	if c.unsent() > 0 && c.sndWnd == 0 && c.sndNxt == c.sndUna && c.rtxAt.IsZero() {
		c.armRTX(c.rto) // the persist timer
	}
}

// unsent returns how many bytes written have not been sent yet.
func (c *TCPStream) unsent() int {
	off := int(c.sndNxt - c.bufSeq)
	if off < 0 || off > len(c.buf) {
		return 0
	}
	return len(c.buf) - off
}

// finSent reports whether our FIN has been sent: it comes right after the
// data written.
func (c *TCPStream) finSent() bool {
	return c.closed && seqGT(c.sndMax, c.bufSeq+uint32(len(c.buf)))
}

// sendAck acknowledges what has been received.
func (c *TCPStream) sendAck() { _ = c.send(flACK, c.sndNxt, nil, "") }

func (c *TCPStream) armRTX(d time.Duration) {
	c.rtxAt = c.h.clk.Now().Add(d)
	if c.rtx == nil {
		c.rtx = c.h.clk.AfterFunc(d, c.onRTX)
	} else {
		c.rtx.Reset(d)
	}
}

func (c *TCPStream) stopRTX() {
	c.rtxAt = time.Time{}
	if c.rtx != nil {
		c.rtx.Stop()
	}
}

// resendSYN retransmits the SYN (or SYN-ACK) with the timeout backed off,
// or gives the connection up after limit retransmissions, saying so with
// why (which takes the number of segments sent).
func (c *TCPStream) resendSYN(limit int, why string) {
	if c.retries >= limit {
		c.h.stats.TCPTimeouts++
		c.note(fmt.Sprintf(why, c.retries+1))
		c.finish(ErrTimedOut)
		return
	}
	c.retries++
	c.rto = min(2*c.rto, TCPRTOMax)
	c.rttTiming = false
	_ = c.sendSYN()
}

// onRTX runs when the retransmission timer fires.
func (c *TCPStream) onRTX() {
	if c.rtxAt.IsZero() || c.state == tcpClosed || c.h.clk.Now().Before(c.rtxAt) {
		return // stopped, or re-armed after this call was due
	}
	c.rtxAt = time.Time{}
	h := c.h
	switch c.state {
	case tcpSynSent:
		if c.probe {
			c.retries++
			_ = c.sendSYN()
			return
		}
		c.resendSYN(TCPSynRetries, "no answer to %d SYNs: connect timed out")
	case tcpSynRcvd:
		c.resendSYN(TCPSynAckRetries, "no ACK for %d SYN-ACKs: half-open connection dropped")
	default:
		if c.sndMax == c.sndUna { // nothing outstanding: a zero-window probe is due
			if c.unsent() > 0 && c.sndWnd == 0 {
				c.probeWnd = true
				c.rto = min(2*c.rto, TCPRTOMax)
				c.output()
			}
			return
		}
		if c.retries >= TCPRetries {
			h.stats.TCPTimeouts++
			c.note("no ACK after " + strconv.Itoa(c.retries) + " retransmissions: connection timed out")
			c.finish(ErrTimedOut)
			return
		}
		c.retries++
		// RFC 5681 §3.1 and RFC 6298 §5.5: back off, restart from one
		// segment, and go back to the oldest byte not acknowledged.
		c.ssthresh = max(int(c.sndMax-c.sndUna)/2, 2*c.mss)
		c.cwnd = c.mss
		c.rto = min(2*c.rto, TCPRTOMax)
		c.rttTiming = false
		c.dupAcks = 0
		c.sndNxt = c.sndUna
		c.output()
	}
}

// sample takes a round-trip time measurement (RFC 6298 §2).
func (c *TCPStream) sample(r time.Duration) {
	if c.srtt == 0 {
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	c.rto = min(max(c.srtt+max(time.Millisecond, 4*c.rttvar), TCPRTOMin), TCPRTOMax)
}

// armLife arms the second timer for kind, due d from now.
func (c *TCPStream) armLife(kind lifeKind, d time.Duration) {
	c.lifeKind = kind
	c.lifeAt = c.h.clk.Now().Add(d)
	if c.life == nil {
		c.life = c.h.clk.AfterFunc(d, c.onLife)
	} else {
		c.life.Reset(d)
	}
}

// onLife runs when the idle, FIN-WAIT-2 or TIME-WAIT timer fires.
func (c *TCPStream) onLife() {
	if c.state == tcpClosed || c.lifeKind == lifeNone {
		return
	}
	now := c.h.clk.Now()
	due := c.lifeAt
	if c.lifeKind == lifeIdle {
		due = c.lastActive.Add(c.idle)
	}
	if now.Before(due) { // activity since: wait for the rest
		c.lifeAt = due
		c.life.Reset(due.Sub(now))
		return
	}
	switch c.lifeKind {
	case lifeIdle:
		c.lifeKind = lifeNone
		if c.state == tcpEstablished || c.state == tcpCloseWait {
			c.h.stats.TCPIdleClosed++
			c.note("idle for " + c.idle.String() + ": closing")
			c.Close()
		}
	case lifeFinWait2:
		c.h.stats.TCPTimeouts++
		c.note("no FIN from the peer within " + TCPFinTimeout.String() + ": connection dropped")
		c.finish(nil)
	case lifeTimeWait:
		c.note("TIME-WAIT over: connection closed")
		c.finish(nil)
	}
}

// established completes a handshake.
func (c *TCPStream) established() {
	c.state = tcpEstablished
	c.stopRTX()
	c.retries = 0
	c.cwnd = min(10*c.mss, max(2*c.mss, 14600)) // RFC 6928
	c.lastActive = c.h.clk.Now()
	if c.idle > 0 {
		c.armLife(lifeIdle, c.idle)
	}
	if c.closed { // Close came before the handshake completed
		c.state = tcpFinWait1
	}
}

// enterTimeWait waits 2 MSL before forgetting the connection.
func (c *TCPStream) enterTimeWait() {
	c.state = tcpTimeWait
	c.stopRTX()
	c.armLife(lifeTimeWait, TCPTimeWait)
	if c.l != nil {
		c.l.twPush(c)
	}
	c.tell(nil)
}

// peerMSS takes the MSS option of a SYN.
func (c *TCPStream) peerMSS(t *layers.TCP) {
	c.mss = tcpDefaultMSS
	for _, o := range t.Options {
		if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
			c.mss = int(o.OptionData[0])<<8 | int(o.OptionData[1])
		}
	}
	c.mss = min(max(c.mss, tcpMinMSS), TCPMSS)
}

// unicastSource reports whether a segment's source may open or hold a
// connection (RFC 1122 §4.2.3.10).
func unicastSource(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func (h *Host) inputTCP(i *Iface, src, dst netip.Addr, t *layers.TCP) {
	k := tcpKey{netip.AddrPortFrom(dst, uint16(t.DstPort)), netip.AddrPortFrom(src, uint16(t.SrcPort))}
	if !unicastSource(src) || i.broadcast() == src && i != h.lo {
		h.droppedf(i.name, "tcp %d <- %s: %s: not from a unicast address", k.local.Port(), k.remote, describe(t))
		return
	}
	l := h.tcpL[k.local.Port()]
	if c := h.tcpC[k]; c != nil {
		// RFC 6191, as Linux: a new SYN ends a TIME-WAIT connection.
		if !(c.state == tcpTimeWait && t.SYN && !t.ACK && !t.RST && l != nil && seqGT(t.Seq, c.rcvNxt)) {
			c.input(i, t)
			return
		}
		h.stats.TCPTimeWaitEnd++
		c.note("new SYN: TIME-WAIT ended")
		c.finish(nil)
	}
	if t.RST { // RFC 9293 §3.10.7.1: never answer a reset
		h.droppedf(i.name, "tcp %d <- %s: %s: no such connection", k.local.Port(), k.remote, describe(t))
		return
	}
	if l != nil && t.SYN && !t.ACK {
		l.syn(i, k, t)
		return
	}
	why := "no such connection"
	if l == nil {
		why = "nobody listening"
	}
	h.event(i.name, segmentEvent(trace.OpTCPReceived, k, flagsOf(t), len(t.Payload), why))
	// RFC 9293 §3.10.7.1: a segment for no connection gets a reset.
	rst := &layers.TCP{RST: true, SrcPort: t.DstPort, DstPort: t.SrcPort}
	if t.ACK {
		rst.Seq = t.Ack
	} else {
		rst.ACK, rst.Ack = true, t.Seq+uint32(len(t.Payload))
		if t.SYN {
			rst.Ack++
		}
		if t.FIN {
			rst.Ack++
		}
	}
	if rst.ACK {
		h.event("", segmentEvent(trace.OpTCPSent, k, trace.RST|trace.ACK, 0, ""))
	} else {
		h.event("", segmentEvent(trace.OpTCPSent, k, trace.RST, 0, ""))
	}
	_ = h.sendIPFrom(dst, src, layers.IPProtocolTCP, nil, rst)
}

// syn answers a SYN for the listener with a SYN-ACK, within its bound.
func (l *TCPListener) syn(i *Iface, k tcpKey, t *layers.TCP) {
	h := l.h
	if l.conns >= l.maxConns() {
		var tw *TCPStream
		if e := l.tw.Front(); e != nil {
			tw = e.Value.(*TCPStream)
		}
		if tw == nil {
			h.stats.TCPListenDrops++
			h.droppedf(i.name, "tcp %d <- %s: %s: listener full (%d connections)", k.local.Port(), k.remote, describe(t), l.conns)
			return
		}
		h.stats.TCPTimeWaitEnd++
		tw.note("TIME-WAIT ended early: the listener is full")
		tw.finish(nil)
	}
	c := h.newStream(k, l)
	c.state = tcpSynRcvd
	c.irs, c.rcvNxt = t.Seq, t.Seq+1
	c.peerMSS(t)
	c.sndWnd, c.sndWl1, c.sndWl2 = uint32(t.Window), t.Seq, c.iss
	c.heard(i, t)
	_ = c.sendSYN()
}

// input processes a segment for the connection (RFC 9293 §3.10.7.4).
func (c *TCPStream) input(i *Iface, t *layers.TCP) {
	if c.state == tcpSynSent {
		c.inputSynSent(i, t)
		return
	}
	c.heard(i, t)
	defer c.flushRx()
	if c.state == tcpSynRcvd && t.SYN && !t.ACK && !t.RST && t.Seq == c.irs {
		c.note("SYN again: SYN-ACK again")
		_ = c.sendSYN()
		return
	}
	segLen := len(t.Payload)
	if t.SYN {
		segLen++
	}
	if t.FIN {
		segLen++
	}
	// First: the sequence number.
	if !c.acceptable(t.Seq, segLen) {
		if t.RST {
			c.dropRx(i, t, false, "RST outside the window")
			return
		}
		if c.state == tcpTimeWait && t.FIN { // our last ACK was lost: again, and wait again
			c.note("FIN again: ACK again, TIME-WAIT restarted")
			c.armLife(lifeTimeWait, TCPTimeWait)
			c.sendAck()
			return
		}
		c.dropRx(i, t, false, "outside the window (seq "+c.relSeq(t.Seq)+", expected "+c.relSeq(c.rcvNxt)+"): re-ACKed")
		c.sendAck()
		return
	}
	// Second: RST (RFC 5961 §3.2: only at exactly the next sequence number).
	if t.RST {
		if t.Seq != c.rcvNxt {
			c.note("RST not at the expected sequence number: challenge ACK")
			c.sendAck()
			return
		}
		c.h.stats.TCPResets++
		switch c.state {
		case tcpTimeWait, tcpClosing, tcpLastAck:
			c.note("connection closed")
			c.finish(nil)
		default:
			c.note("connection reset by peer")
			c.finish(ErrConnReset)
		}
		return
	}
	// Fourth: a SYN in a synchronised state (RFC 5961 §4.2).
	if t.SYN {
		c.note("unexpected SYN: challenge ACK")
		c.sendAck()
		return
	}
	// Fifth: the ACK.
	if !t.ACK {
		c.dropRx(i, t, false, "no ACK")
		return
	}
	if c.state == tcpSynRcvd {
		if t.Ack != c.iss+1 {
			c.dropRx(i, t, false, "does not acknowledge our SYN: RST")
			_ = c.send(flRST, t.Ack, nil, "")
			return
		}
		c.sndUna = t.Ack
		if c.rttTiming && c.retries == 0 {
			c.sample(c.h.clk.Now().Sub(c.rttStart))
		}
		c.rttTiming = false
		c.sndWnd, c.sndWl1, c.sndWl2 = uint32(t.Window), t.Seq, t.Ack
		if c.h.tcpL[c.key.local.Port()] != c.l {
			c.note("listener closed: RST")
			_ = c.send(flRST, c.sndNxt, nil, "")
			c.finish(ErrConnAborted)
			return
		}
		c.note("connection accepted")
		c.established()
		if !c.accept() {
			return
		}
	} else if !c.ackSegment(t, segLen) {
		return
	}
	// Seventh: the data.
	seq, data := t.Seq, t.Payload
	fin := t.FIN
	if len(data) > 0 {
		switch c.state {
		case tcpEstablished, tcpFinWait1, tcpFinWait2:
			if seqLT(seq, c.rcvNxt) { // partly seen before: keep what is new
				skip := int(c.rcvNxt - seq)
				data = data[min(skip, len(data)):]
				seq = c.rcvNxt
			}
			if seq != c.rcvNxt {
				c.dropRx(i, t, true, "out of order (seq "+c.relSeq(t.Seq)+", expected "+c.relSeq(c.rcvNxt)+"): data dropped, re-ACKed")
				c.sendAck()
				return
			}
			if len(data) > TCPWindow {
				data, fin = data[:TCPWindow], false
			}
			c.ackNow = true
			if len(data) > 0 {
				c.rcvNxt += uint32(len(data))
				c.lastActive = c.h.clk.Now()
				if c.OnData != nil {
					c.flushRx()
					c.OnData(data)
					if c.state == tcpClosed {
						return
					}
				}
			}
		default:
			fin = false // RFC 9293: data after the peer's FIN is ignored
		}
	}
	// Eighth: the FIN.
	if fin && t.Seq+uint32(len(t.Payload)) != c.rcvNxt {
		c.note("FIN out of order: re-ACKed")
		c.ackNow = true
		fin = false
	}
	if fin {
		c.rcvNxt++
		c.ackNow = true
		switch c.state {
		case tcpEstablished:
			c.state = tcpCloseWait
			c.note("the peer has finished sending")
			if c.OnEOF != nil {
				c.flushRx()
				c.OnEOF()
				if c.state == tcpClosed {
					return
				}
			} else {
				c.Close()
			}
		case tcpFinWait1: // our FIN not yet acknowledged
			c.state = tcpClosing
			c.note("simultaneous close")
		case tcpFinWait2:
			c.note("connection closed, TIME-WAIT")
			c.sendAck()
			c.enterTimeWait()
			return
		}
	}
	c.output()
	if c.ackNow {
		c.sendAck()
	}
}

// accept hands an established connection to its listener's application.
// It reports whether the connection is still there.
func (c *TCPStream) accept() bool {
	l, h := c.l, c.h
	h.stats.TCPAccepted++
	c.app = true
	c.flushRx()
	if l.handshake && len(l.Accepted) < maxAccepted {
		l.Accepted = append(l.Accepted, c.key.remote)
	}
	if l.OnAccept != nil {
		l.OnAccept(c.key.remote)
	}
	if l.accept != nil && c.state != tcpClosed {
		l.accept(c)
	}
	return c.state != tcpClosed
}

// ackSegment processes the ACK field of a segment in a synchronised
// state; it reports whether the segment's processing goes on.
func (c *TCPStream) ackSegment(t *layers.TCP, segLen int) bool {
	ack := t.Ack
	if seqGT(ack, c.sndMax) {
		c.note("acknowledges what was never sent: re-ACKed")
		c.sendAck()
		return false
	}
	now := c.h.clk.Now()
	switch {
	case seqGT(ack, c.sndUna):
		acked := int(ack - c.sndUna)
		if n := int(int32(ack - c.bufSeq)); n > 0 {
			n = min(n, len(c.buf))
			c.buf = c.buf[n:] // no shift: Write's append compacts when it reallocates
			c.bufSeq += uint32(n)
		}
		c.sndUna = ack
		if seqLT(c.sndNxt, c.sndUna) {
			c.sndNxt = c.sndUna
		}
		c.retries, c.dupAcks = 0, 0
		if c.rttTiming && seqLEQ(c.rttSeq, ack) {
			c.rttTiming = false
			c.sample(now.Sub(c.rttStart))
		}
		if c.cwnd < c.ssthresh { // RFC 5681 §3.1
			c.cwnd += min(acked, c.mss)
		} else {
			c.cwnd += max(1, c.mss*c.mss/c.cwnd)
		}
		c.cwnd = min(c.cwnd, 1<<20)
		if c.sndUna == c.sndMax {
			c.stopRTX()
		} else {
			c.armRTX(c.rto)
		}
		c.lastActive = now
	case ack == c.sndUna && segLen == 0 && c.sndMax != c.sndUna && uint32(t.Window) == c.sndWnd && c.sndWnd > 0:
		// RFC 5681 §3.2: three duplicate ACKs, retransmit the first
		// segment not acknowledged.
		if c.dupAcks++; c.dupAcks == 3 {
			c.ssthresh = max(int(c.sndMax-c.sndUna)/2, 2*c.mss)
			c.cwnd = c.ssthresh
			c.note("third duplicate ACK: fast retransmit")
			c.rttTiming = false
			c.retransmitFirst()
		}
	case ack == c.sndUna && c.sndWnd == 0:
		c.retries = 0 // the peer is there, its window shut
	}
	// The send window (RFC 9293 §3.10.7.4, SND.WL1 and SND.WL2).
	if seqLT(c.sndWl1, t.Seq) || c.sndWl1 == t.Seq && seqLEQ(c.sndWl2, ack) {
		c.sndWnd, c.sndWl1, c.sndWl2 = uint32(t.Window), t.Seq, ack
	}
	if c.closed && c.sndUna == c.sndMax && c.finSent() { // our FIN is acknowledged
		switch c.state {
		case tcpFinWait1:
			c.state = tcpFinWait2
			if !t.FIN {
				c.note("our FIN acknowledged, FIN-WAIT-2")
			}
			c.armLife(lifeFinWait2, TCPFinTimeout)
		case tcpClosing:
			c.note("our FIN acknowledged, TIME-WAIT")
			c.enterTimeWait()
			return false
		case tcpLastAck:
			c.note("connection closed")
			c.finish(nil)
			return false
		}
	}
	return c.state != tcpTimeWait || t.FIN
}

// retransmitFirst sends again the first segment not acknowledged.
func (c *TCPStream) retransmitFirst() {
	if n := min(len(c.buf), c.mss); n > 0 && c.bufSeq == c.sndUna {
		_ = c.send(flACK, c.sndUna, c.buf[:n], "")
	} else if c.finSent() {
		_ = c.send(flFIN|flACK, c.sndUna, nil, "")
	}
	c.armRTX(c.rto)
}

// acceptable is RFC 9293's test of a segment's sequence number against the
// receive window.
func (c *TCPStream) acceptable(seq uint32, segLen int) bool {
	in := func(s uint32) bool { return seqLEQ(c.rcvNxt, s) && seqLT(s, c.rcvNxt+TCPWindow) }
	if segLen == 0 {
		return in(seq)
	}
	return in(seq) || in(seq+uint32(segLen)-1)
}

// relSeq is a peer's sequence number relative to its initial one, as
// tcpdump shows it.
func (c *TCPStream) relSeq(s uint32) string { return strconv.FormatUint(uint64(s-c.irs), 10) }

// inputSynSent processes a segment for a connect in progress (RFC 9293
// §3.10.7.3).
func (c *TCPStream) inputSynSent(i *Iface, t *layers.TCP) {
	c.heard(i, t)
	defer c.flushRx()
	if t.ACK && t.Ack != c.iss+1 {
		if t.RST {
			c.dropRx(i, t, false, "RST for another connection attempt")
			return
		}
		c.dropRx(i, t, false, "does not acknowledge our SYN: RST")
		_ = c.send(flRST, t.Ack, nil, "")
		return
	}
	if t.RST {
		if !t.ACK {
			c.dropRx(i, t, false, "RST without ACK")
			return
		}
		c.note("connection refused")
		c.finish(ErrConnRefused)
		return
	}
	if !t.SYN {
		c.dropRx(i, t, false, "no SYN")
		return
	}
	c.irs, c.rcvNxt = t.Seq, t.Seq+1
	c.peerMSS(t)
	if !t.ACK { // simultaneous open
		c.state = tcpSynRcvd
		c.note("simultaneous open")
		c.sndMax = c.iss // send the SYN-ACK as a new segment
		_ = c.sendSYN()
		return
	}
	c.sndUna = t.Ack
	c.sndWnd, c.sndWl1, c.sndWl2 = uint32(t.Window), t.Seq, t.Ack
	if c.rttTiming && c.retries == 0 {
		c.sample(c.h.clk.Now().Sub(c.rttStart))
	}
	c.rttTiming = false
	c.note("connected")
	if c.probe {
		c.sendAck()
		_ = c.send(flRST, c.iss+1, nil, "handshake done, closing")
		c.finish(errProbeOpen)
		return
	}
	c.established()
	c.ackNow = true
	c.output()
	if c.ackNow {
		c.sendAck()
	}
}
