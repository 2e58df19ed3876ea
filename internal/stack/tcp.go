package stack

import (
	"container/list"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/trace"
)

// TCP: a small endpoint (RFC 9293) for servers such as DNS over TCP and for
// the scenario steps that ask whether a port is open.
//
// A connection is accepted (SYN, SYN-ACK with an MSS, ACK), carries data
// in order both ways, and closes with FIN in both directions or with RST.
// What it leaves out, as RFC 9293 allows: options other than the MSS
// (window scaling, SACK and timestamps offered by a peer are not echoed,
// so they are not used), urgent data, and a reassembly queue: a segment
// that does not start at the next expected byte has its data dropped and
// is answered with an ACK, and the peer retransmits. Data received is
// handed on at once (TCPStream.OnData), so the window announced never
// shrinks. Data sent is cut at the peer's MSS, limited by its window and a
// small congestion window (RFC 5681 slow start; fast retransmit on three
// duplicate ACKs), and retransmitted on the host's clock (RFC 6298 RTO,
// Linux's 200 ms floor, doubling, bounded retries).
//
// ConnectTCP and ListenTCP keep the handshake-level use: ConnectTCP opens
// a connection and resets it as soon as it is established.

// Limits and timers, after Linux's defaults where Linux has one.
const (
	TCPMSS           = 1460                   // the MSS a host announces (a 1500-byte MTU)
	TCPWindow        = 64240                  // the window a host announces (it never holds data back)
	TCPMaxConns      = 256                    // default TCPListener.MaxConns
	TCPSendBuffer    = 128 << 10              // default bytes written and not yet acknowledged, per connection
	TCPIdleTimeout   = 60 * time.Second       // default TCPListener.IdleTimeout
	TCPSynRetries    = 6                      // SYN retransmissions before a connect fails (tcp_syn_retries)
	TCPSynAckRetries = 5                      // SYN-ACK retransmissions before a half-open connection goes (tcp_synack_retries)
	TCPRetries       = 8                      // data and FIN retransmissions before a connection is given up (about 100 s at the minimum RTO, RFC 1122's R2)
	TCPTimeWait      = 60 * time.Second       // TIME-WAIT (TCP_TIMEWAIT_LEN)
	TCPFinTimeout    = 60 * time.Second       // FIN-WAIT-2 without the peer's FIN (tcp_fin_timeout)
	TCPRTOMin        = 200 * time.Millisecond // TCP_RTO_MIN
	TCPRTOMax        = 120 * time.Second      // TCP_RTO_MAX

	tcpRTOInitial = time.Second // RFC 6298 §2.1
	tcpDefaultMSS = 536         // RFC 9293 §3.7.1: the peer announced none
	tcpMinMSS     = 48          // tcp_min_snd_mss
	maxAccepted   = 1024        // TCPListener.Accepted keeps the first ones
)

// SYN retransmission of ConnectTCP, as Linux: 1 s, then doubling.
const synRetry = time.Second

// Connect outcomes.
const (
	TCPOpen     = "open"
	TCPRefused  = "refused"
	TCPUnreach  = "unreachable"
	TCPCanceled = "canceled"
)

// Errors a TCPStream reports through OnClose or Write.
var (
	ErrConnRefused    = errors.New("stack: connection refused")
	ErrConnReset      = errors.New("stack: connection reset by peer")
	ErrTimedOut       = errors.New("stack: connection timed out")
	ErrConnAborted    = errors.New("stack: connection aborted")
	ErrClosed         = errors.New("stack: connection closed")
	ErrSendBufferFull = errors.New("stack: send buffer full")
)

// How ConnectTCP's probe ends, mapped to its outcome strings.
var (
	errProbeOpen     = errors.New("stack: open")
	errProbeCanceled = errors.New("stack: canceled")
)

type tcpKey struct {
	local  netip.AddrPort
	remote netip.AddrPort
}

// tcpState is a connection's state, with RFC 9293's names.
type tcpState uint8

const (
	tcpClosed tcpState = iota
	tcpSynSent
	tcpSynRcvd
	tcpEstablished
	tcpFinWait1
	tcpFinWait2
	tcpCloseWait
	tcpClosing
	tcpLastAck
	tcpTimeWait
)

var tcpStateNames = [...]string{"CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

func (s tcpState) String() string { return tcpStateNames[s] }

// What the second timer of a connection waits for.
type lifeKind uint8

const (
	lifeNone lifeKind = iota
	lifeIdle
	lifeFinWait2
	lifeTimeWait
)

// TCPStream is one TCP connection. Set its callbacks in the listener's
// accept function, or right after ConnectTCPStream returns; they run on
// the host's caller (the simulation engine, or the goroutine feeding the
// host) and may call Write, Close and Abort.
type TCPStream struct {
	// OnData, if set, gets the bytes received, in order, as they arrive;
	// b is valid only during the call. Without OnData they are
	// acknowledged and discarded.
	OnData func(b []byte)
	// OnEOF, if set, hears the peer's FIN: nothing more will be received,
	// and the stream stays open for writing until Close. Without OnEOF
	// the stream closes its own side at once (after the data written).
	OnEOF func()
	// OnClose, if set, is called once when the connection is over for the
	// application: err is nil after an orderly close (the side that closed
	// first then keeps TIME-WAIT on its own), else ErrConnReset,
	// ErrConnRefused, ErrTimedOut, ErrHostUnreach, ErrConnAborted or an
	// *ICMPError.
	OnClose func(err error)

	h     *Host
	key   tcpKey
	l     *TCPListener // the listener that accepted it; nil for a client
	state tcpState
	probe bool // ConnectTCP: reset as soon as established
	app   bool // the application has seen it (a client, or accepted)
	told  bool // OnClose has been called

	// Send sequence space (RFC 9293 §3.3.1). buf holds the bytes written
	// and not yet acknowledged; buf[0] has sequence number bufSeq.
	iss, sndUna, sndNxt, sndMax uint32
	sndWnd, sndWl1, sndWl2      uint32
	buf                         []byte
	bufSeq                      uint32
	maxBuf                      int
	mss                         int
	closed                      bool // Close was called: a FIN follows the data
	cwnd, ssthresh, dupAcks     int
	probeWnd                    bool // send one byte into a zero window

	// Receive sequence space.
	irs, rcvNxt uint32
	ackNow      bool

	// Retransmission (RFC 6298).
	rtx          clock.Timer
	rtxAt        time.Time // when rtx is due; zero when stopped
	rto          time.Duration
	srtt, rttvar time.Duration
	rttTiming    bool
	rttSeq       uint32
	rttStart     time.Time
	retries      int

	// Idle, FIN-WAIT-2 and TIME-WAIT.
	life       clock.Timer
	lifeKind   lifeKind
	lifeAt     time.Time
	idle       time.Duration
	lastActive time.Time
	tw         *list.Element // on the listener's TIME-WAIT list; nil if not
	failFn     func(error)
	rx         rxLine
}

// rxLine is the narration of the segment being processed, written once
// what it did is known (or before anything it causes is sent).
type rxLine struct {
	pending bool
	port    string
	flags   trace.TCPFlags
	n       int // data bytes
	notes   string
}

// Local returns the connection's local address and port (the address the
// peer sent to).
func (c *TCPStream) Local() netip.AddrPort { return c.key.local }

// Peer returns the remote address and port.
func (c *TCPStream) Peer() netip.AddrPort { return c.key.remote }

// State returns the connection's state by RFC 9293's name ("ESTABLISHED").
func (c *TCPStream) State() string { return c.state.String() }

// Buffered returns how many bytes were written and are not yet
// acknowledged by the peer.
func (c *TCPStream) Buffered() int { return len(c.buf) }

// Write queues b to be sent; the stream copies it. It refuses all of b
// with ErrSendBufferFull when the bytes not yet acknowledged would exceed
// the stream's bound, and with ErrClosed after Close or once the
// connection is gone.
func (c *TCPStream) Write(b []byte) error {
	switch {
	case c.closed || c.state == tcpClosed || c.state > tcpCloseWait:
		return ErrClosed
	case len(c.buf)+len(b) > c.maxBuf:
		c.h.stats.TCPSendFull++
		c.h.tracedrop("", "tcp %d -> %s: write of %d bytes refused: %d of %d buffered", c.key.local.Port(), c.key.remote, len(b), len(c.buf), c.maxBuf)
		return ErrSendBufferFull
	}
	c.buf = append(c.buf, b...)
	c.lastActive = c.h.clk.Now()
	c.output()
	return nil
}

// Close sends a FIN once the data written has been sent. Before the
// connection is established the FIN waits for it.
func (c *TCPStream) Close() {
	if c.closed || c.state == tcpClosed {
		return
	}
	c.closed = true
	switch c.state {
	case tcpEstablished:
		c.state = tcpFinWait1
	case tcpCloseWait:
		c.state = tcpLastAck
	default: // SYN-SENT, SYN-RECEIVED: after the handshake
		return
	}
	c.output()
}

// Abort resets the connection at once (RST) and reports ErrConnAborted to
// OnClose.
func (c *TCPStream) Abort() {
	if c.state == tcpClosed {
		return
	}
	if c.state != tcpSynSent {
		c.send(flRST|flACK, c.sndNxt, nil, "aborted")
	}
	c.finish(ErrConnAborted)
}

// TCPListener accepts connections on a port, on every address of its host.
type TCPListener struct {
	h      *Host
	port   uint16
	accept func(c *TCPStream)
	// OnAccept, if set, hears every completed handshake, with the peer's
	// address as this host sees it.
	OnAccept func(remote netip.AddrPort)
	// Accepted lists the peers of the first 1024 completed handshakes of
	// a ListenTCP listener, in order.
	Accepted []netip.AddrPort

	// MaxConns bounds the connections of the listener in any state,
	// half-open and TIME-WAIT included (default TCPMaxConns). At the
	// bound the oldest TIME-WAIT connection makes room; without one a SYN
	// is dropped and counted, as Linux drops it when its queues are full,
	// and the client retransmits.
	MaxConns int
	// IdleTimeout closes (FIN) a connection that has received and sent
	// nothing for that long (default TCPIdleTimeout; negative: never).
	IdleTimeout time.Duration
	// SendBuffer bounds the bytes written and not yet acknowledged per
	// connection (default TCPSendBuffer).
	SendBuffer int

	handshake bool
	conns     int
	tw        list.List // of *TCPStream in TIME-WAIT, oldest first
}

// ListenTCP accepts handshakes on port and discards any data.
func (h *Host) ListenTCP(port uint16) (*TCPListener, error) {
	l, err := h.ListenTCPStream(port, nil)
	if err == nil {
		l.handshake = true
	}
	return l, err
}

// ListenTCPStream accepts connections on port: accept is called with each
// connection once its handshake completes, to set the stream's callbacks.
func (h *Host) ListenTCPStream(port uint16, accept func(c *TCPStream)) (*TCPListener, error) {
	if port == 0 || h.tcpL[port] != nil {
		return nil, fmt.Errorf("%w: tcp/%d", ErrPortInUse, port)
	}
	l := &TCPListener{h: h, port: port, accept: accept}
	h.tcpL[port] = l
	return l, nil
}

// Port returns the port listened on.
func (l *TCPListener) Port() uint16 { return l.port }

// Conns reports how many connections of the listener exist, in any state.
func (l *TCPListener) Conns() int { return l.conns }

// Close stops listening; connections already accepted go on.
func (l *TCPListener) Close() {
	if l.h.tcpL[l.port] == l {
		delete(l.h.tcpL, l.port)
	}
}

func (l *TCPListener) maxConns() int {
	if l.MaxConns > 0 {
		return l.MaxConns
	}
	return TCPMaxConns
}

func (l *TCPListener) twPush(c *TCPStream) { c.tw = l.tw.PushBack(c) }

func (l *TCPListener) twRemove(c *TCPStream) {
	if c.tw != nil {
		l.tw.Remove(c.tw)
		c.tw = nil
	}
}

// ConnectTCPStream opens a connection to dst from an ephemeral port and
// returns it in SYN-SENT. Data written before the handshake completes is
// sent after it; a failed connect is reported to OnClose (ErrConnRefused,
// ErrTimedOut after TCPSynRetries retransmissions, ErrHostUnreach).
func (h *Host) ConnectTCPStream(dst netip.AddrPort) (*TCPStream, error) {
	c, err := h.newClient(dst)
	if err != nil {
		return nil, err
	}
	c.app = true
	if err := c.sendSYN(); err != nil {
		c.finish(err)
		return nil, err
	}
	return c, nil
}

// ConnectTCP starts a handshake with dst; done is called once with TCPOpen,
// TCPRefused or TCPUnreach. Without an answer SYNs are retransmitted, 1 s
// then doubling, until cancel is called (which reports TCPCanceled). Once
// open, the connection is reset at once.
func (h *Host) ConnectTCP(dst netip.AddrPort, done func(result string)) (cancel func(), err error) {
	c, err := h.newClient(dst)
	if err != nil {
		return nil, err
	}
	c.probe, c.app = true, true
	c.OnClose = func(err error) {
		if done == nil {
			return
		}
		switch {
		case errors.Is(err, errProbeOpen):
			done(TCPOpen)
		case errors.Is(err, ErrConnRefused):
			done(TCPRefused)
		case errors.Is(err, errProbeCanceled):
			done(TCPCanceled)
		default:
			done(TCPUnreach)
		}
	}
	if err := c.sendSYN(); err != nil {
		c.OnClose = nil
		c.finish(err)
		return nil, err
	}
	return func() { c.finish(errProbeCanceled) }, nil
}

// newClient makes a connection to dst in SYN-SENT, not yet sent.
func (h *Host) newClient(dst netip.AddrPort) (*TCPStream, error) {
	i, _, err := h.route(dst.Addr())
	if err != nil {
		if h.tracer != nil {
			h.event("", trace.Event{Op: trace.OpTCPNoRoute, Proto: trace.TCP, DstIP: dst.Addr(), DstPort: dst.Port(), Reason: strings.TrimPrefix(err.Error(), "stack: ")})
		}
		return nil, err
	}
	src := i.prefix.Addr()
	if i == h.lo {
		src = dst.Addr()
	}
	port, err := ephemeral(func(p uint16) bool { return h.tcpPorts[p] == 0 && h.tcpL[p] == nil })
	if err != nil {
		return nil, err
	}
	c := h.newStream(tcpKey{netip.AddrPortFrom(src, port), dst}, nil)
	c.state = tcpSynSent
	return c, nil
}

// newStream registers a connection with a fresh initial sequence number.
func (h *Host) newStream(k tcpKey, l *TCPListener) *TCPStream {
	c := &TCPStream{h: h, key: k, l: l, iss: h.nextISS(), rto: tcpRTOInitial, mss: tcpDefaultMSS, maxBuf: TCPSendBuffer, ssthresh: 1 << 30}
	c.sndUna, c.sndNxt, c.sndMax, c.bufSeq = c.iss, c.iss, c.iss, c.iss+1
	c.failFn = c.sendFailed
	if l != nil {
		if l.SendBuffer > 0 {
			c.maxBuf = l.SendBuffer
		}
		c.idle = l.IdleTimeout
		if c.idle == 0 {
			c.idle = TCPIdleTimeout
		}
		l.conns++
	}
	h.tcpC[k] = c
	h.tcpPorts[k.local.Port()]++
	return c
}

// nextISS returns a deterministic initial sequence number.
func (h *Host) nextISS() uint32 {
	h.isn += 64000
	return h.isn
}

// finish removes the connection, stops its timers and tells OnClose, once.
func (c *TCPStream) finish(err error) {
	if c.state == tcpClosed {
		return
	}
	h := c.h
	c.state = tcpClosed
	c.flushRx()
	if h.tcpC[c.key] == c {
		delete(h.tcpC, c.key)
	}
	if h.tcpPorts[c.key.local.Port()]--; h.tcpPorts[c.key.local.Port()] <= 0 {
		delete(h.tcpPorts, c.key.local.Port())
	}
	if c.l != nil {
		c.l.conns--
		c.l.twRemove(c)
	}
	c.stopRTX()
	c.lifeKind = lifeNone
	if c.life != nil {
		c.life.Stop()
	}
	c.buf = nil
	c.tell(err)
}

// tell reports the end of the connection to the application, once.
func (c *TCPStream) tell(err error) {
	if c.told || !c.app {
		return
	}
	c.told = true
	if c.OnClose != nil {
		c.flushRx()
		c.OnClose(err)
	}
}

// sendFailed hears that a segment could not be sent (its next hop did not
// resolve). Only a connect gives up on it; later, the retransmissions
// decide, as a soft error.
func (c *TCPStream) sendFailed(err error) {
	if c.state == tcpSynSent {
		c.finish(err)
	}
}

// TCPConns reports how many TCP connections the host holds, in any state.
func (h *Host) TCPConns() int { return len(h.tcpC) }
