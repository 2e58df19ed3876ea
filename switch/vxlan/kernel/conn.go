package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/netyard/netyard/switch/vxlan"
)

const (
	// BatchSize is the most packets one sendmmsg or recvmmsg moves, and
	// the most that wait to be written.
	BatchSize = 64
	// MaxPacket is the largest packet Send takes: a UDP payload over
	// IPv4 (65535 less the IPv4 and UDP headers).
	MaxPacket = 65535 - 20 - 8
	// readBuf holds any datagram, so none is ever cut short.
	readBuf = 1 << 16
	// socketBuffer is asked of the kernel for each direction (it caps
	// it at net.core.rmem_max and wmem_max), so a burst is not lost
	// while the reader hands a batch to the Mux.
	socketBuffer = 4 << 20
)

// OpError is a failed socket operation.
type OpError struct {
	Op  string // what was being done, e.g. "listen 10.0.0.1:4789"
	Err error
}

func (e *OpError) Error() string { return "kernel: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Err: err}
}

// Errors of Send, Queue, Flush and Run.
var (
	ErrClosed  = errors.New("kernel: connection closed")
	ErrRunning = errors.New("kernel: Run called twice")
	errFamily  = errors.New("destination of another address family than the socket's")
	errSize    = fmt.Errorf("packet of 0 bytes, or more than %d", MaxPacket)
)

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// Conn is a kernel UDP socket carrying VXLAN packets: a vxlan.Transport
// (and vxlan.Queuer) for sending, and a reader (Run) feeding a Mux. Its
// methods may be called from several goroutines at once.
type Conn struct {
	pc    *net.UDPConn
	bc    batchConn
	v6    bool
	local netip.AddrPort

	mu      sync.Mutex
	room    sync.Cond // on mu: the pending batch was taken
	pending *batch    // guarded by mu: filled by senders
	spare   *batch    // guarded by mu: the other batch; nil while being written
	writing bool      // guarded by mu: a goroutine is writing batches
	closed  bool      // guarded by mu

	running  atomic.Bool
	isClosed atomic.Bool

	sent, writes, writeErrors  atomic.Uint64
	received, reads, readError atomic.Uint64
}

var _ vxlan.Queuer = (*Conn)(nil)

// batch is BatchSize messages, their buffers and addresses, made once and
// reused: writing a batch allocates nothing.
type batch struct {
	msgs  []ipv4.Message
	bufs  [][]byte
	addrs []net.UDPAddr
	n     int
}

func newBatch() *batch {
	b := &batch{msgs: make([]ipv4.Message, BatchSize), bufs: make([][]byte, BatchSize), addrs: make([]net.UDPAddr, BatchSize)}
	ips := make([]byte, 16*BatchSize)
	for i := range b.msgs {
		b.addrs[i].IP = ips[16*i : 16*i+16]
		b.msgs[i].Buffers = b.bufs[i : i+1]
		b.msgs[i].Addr = &b.addrs[i]
	}
	return b
}

// add copies pkt for dst into the next message.
func (b *batch) add(dst netip.AddrPort, pkt []byte) {
	i := b.n
	b.bufs[i] = append(b.bufs[i][:0], pkt...)
	a := &b.addrs[i]
	ip := a.IP[:16]
	if d := dst.Addr(); d.Is4() {
		a4 := d.As4()
		a.IP = ip[:copy(ip, a4[:])]
	} else {
		a16 := d.As16()
		a.IP = ip[:copy(ip, a16[:])]
	}
	a.Port = int(dst.Port())
	b.n++
}

// Stats counts a Conn's traffic.
type Stats struct {
	Sent, Received          uint64 // datagrams written and read
	Writes, Reads           uint64 // sendmmsg and recvmmsg calls
	WriteErrors, ReadErrors uint64 // datagrams that failed to go; failed reads
}

// Listen opens a UDP socket bound to addr: IPv4 for an IPv4 address
// (0.0.0.0 for any), IPv6 for an IPv6 one. Port 0 takes a free port
// (LocalAddr says which).
func Listen(addr netip.AddrPort) (*Conn, error) {
	a := addr.Addr()
	if a.Is4In6() {
		a = a.Unmap()
	}
	op := "listen " + addr.String()
	if !a.IsValid() {
		return nil, opError(op, errors.New("no address"))
	}
	network := "udp4"
	if a.Is6() {
		network = "udp6"
	}
	pc, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, addr.Port())))
	if err != nil {
		return nil, opError(op, err)
	}
	// The kernel caps these at rmem_max and wmem_max; less is no error.
	_ = pc.SetReadBuffer(socketBuffer)
	_ = pc.SetWriteBuffer(socketBuffer)
	c := &Conn{pc: pc, v6: a.Is6(), pending: newBatch(), spare: newBatch()}
	c.room.L = &c.mu
	if c.v6 {
		if err := acceptZeroChecksum6(pc); err != nil {
			pc.Close()
			return nil, opError(op+": accept zero checksums", err)
		}
		c.bc = ipv6.NewPacketConn(pc)
	} else {
		c.bc = ipv4.NewPacketConn(pc)
	}
	la := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	c.local = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	return c, nil
}

// LocalAddr returns the address and port the socket is bound to.
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Send sends pkt to dst: now, in a batch of its own or with what other
// goroutines are sending, or, if another goroutine is writing, with its
// next batch, as soon as its write returns. pkt may be reused once Send
// returns. The error is that of a batch Send wrote, or of pkt itself (a
// closed socket, a destination of the other family, a size out of
// range).
func (c *Conn) Send(dst netip.AddrPort, pkt []byte) error {
	if err := c.Queue(dst, pkt); err != nil {
		return err
	}
	return c.Flush()
}

// Queue copies pkt for dst into the pending batch, which the next Flush
// or Send writes; if the batch is full, it waits for a writer to take
// it, or writes it itself.
func (c *Conn) Queue(dst netip.AddrPort, pkt []byte) error {
	d := dst.Addr()
	if d.Is4In6() {
		d = d.Unmap()
		dst = netip.AddrPortFrom(d, dst.Port())
	}
	switch {
	case !d.IsValid() || d.Is4() == c.v6:
		return opError("send to "+dst.String(), errFamily)
	case len(pkt) == 0 || len(pkt) > MaxPacket:
		return opError("send to "+dst.String(), errSize)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.closed {
			return ErrClosed
		}
		if c.pending.n < BatchSize {
			break
		}
		if !c.writing {
			c.writing = true
			_ = c.writeLocked() // others' packets: counted, not ours to report
			c.writing = false
			continue
		}
		c.room.Wait()
	}
	c.pending.add(dst, pkt)
	return nil
}

// Flush writes what is queued, unless another goroutine is writing (it
// will write it next).
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.writing || c.pending.n == 0 {
		return nil
	}
	c.writing = true
	err := c.writeLocked()
	c.writing = false
	return err
}

// writeLocked writes the pending batch, and those that fill while it
// writes, until none is pending: senders meanwhile only queue. c.mu is
// held, and released during each write.
func (c *Conn) writeLocked() error {
	var first error
	for c.pending.n > 0 && !c.closed {
		b := c.pending
		c.pending, c.spare = c.spare, nil
		c.room.Broadcast()
		c.mu.Unlock()
		err := c.write(b)
		c.mu.Lock()
		b.n = 0
		c.spare = b
		if first == nil {
			first = err
		}
	}
	return first
}

// write sends a batch with as few sendmmsg calls as the kernel allows. A
// message that fails is counted and skipped.
func (c *Conn) write(b *batch) error {
	var first error
	msgs := b.msgs[:b.n]
	for len(msgs) > 0 {
		n, err := c.bc.WriteBatch(msgs, 0)
		c.writes.Add(1)
		n = max(n, 0)
		c.sent.Add(uint64(n))
		msgs = msgs[n:]
		switch {
		case err != nil && (errors.Is(err, net.ErrClosed) || c.isClosed.Load()):
			c.writeErrors.Add(uint64(len(msgs)))
			return ErrClosed
		case err != nil:
			// sendmmsg fails only for the first message it could not
			// send: skip it, go on with the rest.
			c.writeErrors.Add(1)
			msgs = msgs[1:]
			if first == nil {
				first = opError("write", err)
			}
		case n == 0:
			c.writeErrors.Add(uint64(len(msgs)))
			return opError("write", errors.New("sendmmsg sent nothing"))
		}
	}
	return first
}

// Run reads batches of datagrams until Close, handing each to m.Input
// with its source. It returns nil after Close, or the read error that
// stopped it. The buffer passed to Input is reused once Input returns.
func (c *Conn) Run(m *vxlan.Mux) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	msgs := make([]ipv4.Message, BatchSize)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, readBuf)}
	}
	for {
		n, err := c.bc.ReadBatch(msgs, 0)
		if err != nil {
			if c.isClosed.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			c.readError.Add(1)
			return opError("read", err)
		}
		c.reads.Add(1)
		for i := range msgs[:n] {
			ms := &msgs[i]
			ua, ok := ms.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			src := ua.AddrPort()
			c.received.Add(1)
			m.Input(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), ms.Buffers[0][:ms.N])
		}
	}
}

// Close closes the socket: Run returns, and sends fail with ErrClosed.
// Packets still queued are dropped.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.isClosed.Store(true)
	c.room.Broadcast()
	c.mu.Unlock()
	return opError("close", c.pc.Close())
}

// Stats returns the Conn's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		Sent: c.sent.Load(), Received: c.received.Load(),
		Writes: c.writes.Load(), Reads: c.reads.Load(),
		WriteErrors: c.writeErrors.Load(), ReadErrors: c.readError.Load(),
	}
}
