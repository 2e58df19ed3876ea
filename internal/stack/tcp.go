package stack

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
)

// TCP at handshake level: enough for a scenario to ask whether a port is
// open (SYN, SYN-ACK, ACK), refused (RST) or silent (no answer), and for a
// listener to learn who connected. No data is carried.

// SYN retransmission, as Linux: 1 s, then doubling.
const synRetry = time.Second

// Connect outcomes.
const (
	TCPOpen     = "open"
	TCPRefused  = "refused"
	TCPUnreach  = "unreachable"
	TCPCanceled = "canceled"
)

type tcpKey struct {
	local  uint16
	remote netip.AddrPort
}

type tcpConn struct {
	key     tcpKey
	iss     uint32 // our initial sequence number
	client  bool
	done    func(result string)
	timer   clock.Timer
	retries int
}

// TCPListener accepts handshakes on a port.
type TCPListener struct {
	h    *Host
	port uint16
	// OnAccept, if set, hears every completed handshake, with the peer's
	// address as this host sees it.
	OnAccept func(remote netip.AddrPort)
	// Accepted lists the peers of completed handshakes, in order.
	Accepted []netip.AddrPort
}

// ListenTCP accepts handshakes on port.
func (h *Host) ListenTCP(port uint16) (*TCPListener, error) {
	if port == 0 || h.tcpL[port] != nil {
		return nil, fmt.Errorf("%w: tcp/%d", ErrPortInUse, port)
	}
	l := &TCPListener{h: h, port: port}
	h.tcpL[port] = l
	return l, nil
}

// Close stops listening.
func (l *TCPListener) Close() {
	if l.h.tcpL[l.port] == l {
		delete(l.h.tcpL, l.port)
	}
}

// ConnectTCP starts a handshake with dst; done is called once with TCPOpen,
// TCPRefused or TCPUnreach. Without an answer SYNs are retransmitted, 1 s
// then doubling, until cancel is called (which reports TCPCanceled).
func (h *Host) ConnectTCP(dst netip.AddrPort, done func(result string)) (cancel func(), err error) {
	used := map[uint16]bool{}
	for k := range h.tcpC {
		used[k.local] = true
	}
	port, err := ephemeral(func(p uint16) bool { return !used[p] && h.tcpL[p] == nil })
	if err != nil {
		return nil, err
	}
	c := &tcpConn{key: tcpKey{port, dst}, iss: h.nextISS(), client: true, done: done}
	h.tcpC[c.key] = c
	if err := h.sendSYN(c); err != nil {
		delete(h.tcpC, c.key)
		return nil, err
	}
	return func() { h.finish(c, TCPCanceled) }, nil
}

// nextISS returns a deterministic initial sequence number.
func (h *Host) nextISS() uint32 {
	h.isn += 64000
	return h.isn
}

func (h *Host) sendSYN(c *tcpConn) error {
	h.eventf("", "tcp %d -> %s: SYN", c.key.local, c.key.remote)
	err := h.sendTCP(c.key, &layers.TCP{SYN: true, Seq: c.iss, Window: 64240}, func(error) { h.finish(c, TCPUnreach) })
	d := synRetry << c.retries
	c.retries++
	if c.timer == nil {
		c.timer = h.clk.AfterFunc(d, func() {
			if h.tcpC[c.key] == c {
				_ = h.sendSYN(c)
			}
		})
	} else {
		c.timer.Reset(d)
	}
	return err
}

// finish ends a client handshake once.
func (h *Host) finish(c *tcpConn, result string) {
	if h.tcpC[c.key] != c {
		return
	}
	delete(h.tcpC, c.key)
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.done != nil {
		c.done(result)
	}
}

func (h *Host) sendTCP(k tcpKey, t *layers.TCP, fail func(error)) error {
	t.SrcPort, t.DstPort = layers.TCPPort(k.local), layers.TCPPort(k.remote.Port())
	return h.sendIP(k.remote.Addr(), layers.IPProtocolTCP, fail, t)
}

func (h *Host) inputTCP(i *Iface, src, dst netip.Addr, t *layers.TCP) {
	k := tcpKey{uint16(t.DstPort), netip.AddrPortFrom(src, uint16(t.SrcPort))}
	c := h.tcpC[k]
	switch {
	case c != nil && c.client && t.RST && t.ACK && t.Ack == c.iss+1:
		h.eventf(i.name, "tcp %d <- %s: RST: connection refused", k.local, k.remote)
		h.finish(c, TCPRefused)
	case c != nil && c.client && t.SYN && t.ACK && t.Ack == c.iss+1:
		h.eventf(i.name, "tcp %d <- %s: SYN-ACK; ACK, connected", k.local, k.remote)
		_ = h.sendTCP(k, &layers.TCP{ACK: true, Seq: c.iss + 1, Ack: t.Seq + 1, Window: 64240}, nil)
		h.finish(c, TCPOpen)
		// Handshake only: close at once with a reset.
		_ = h.sendTCP(k, &layers.TCP{RST: true, Seq: c.iss + 1}, nil)
	case c != nil && !c.client && t.ACK && !t.SYN && !t.RST && t.Ack == c.iss+1:
		delete(h.tcpC, k)
		if l := h.tcpL[k.local]; l != nil {
			h.eventf(i.name, "tcp %d <- %s: ACK, connection accepted", k.local, k.remote)
			l.Accepted = append(l.Accepted, k.remote)
			if l.OnAccept != nil {
				l.OnAccept(k.remote)
			}
		}
	case t.SYN && !t.ACK && h.tcpL[k.local] != nil:
		s := &tcpConn{key: k, iss: h.nextISS()}
		h.tcpC[k] = s
		h.eventf(i.name, "tcp %d <- %s: SYN; SYN-ACK", k.local, k.remote)
		_ = h.sendTCP(k, &layers.TCP{SYN: true, ACK: true, Seq: s.iss, Ack: t.Seq + 1, Window: 64240}, nil)
	case t.RST:
		if c != nil && !c.client {
			delete(h.tcpC, k)
		}
	case c == nil:
		// RFC 793 §3.4: a segment for no connection gets a reset.
		h.eventf(i.name, "tcp %d <- %s: nobody listening, RST", k.local, k.remote)
		rst := &layers.TCP{RST: true}
		if t.ACK {
			rst.Seq = t.Ack
		} else {
			rst.ACK, rst.Ack = true, t.Seq+uint32(len(t.Payload))
			if t.SYN || t.FIN {
				rst.Ack++
			}
		}
		_ = h.sendIPFrom(dst, src, layers.IPProtocolTCP, nil, withPorts(rst, k))
	}
}

func withPorts(t *layers.TCP, k tcpKey) gopacket.SerializableLayer {
	t.SrcPort, t.DstPort = layers.TCPPort(k.local), layers.TCPPort(k.remote.Port())
	return t
}
