package dnsd

import (
	"bytes"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// fastReader is the reader of one UDP server (one socket): it answers the
// queries the fast path takes (fastAnswer) itself, in the goroutine that
// reads them, from buffers it reuses, and hands miekg/dns only the others,
// which it serves as before, a goroutine each. miekg/dns reads a server's
// socket from one goroutine, so the buffers need no lock.
type fastReader struct {
	dns.Reader
	s     *Server
	in    []byte // the datagram read
	out   []byte // the answer written
	batch *batchState
}

func newFastReader(s *Server, inner dns.Reader) dns.Reader {
	return &fastReader{Reader: inner, s: s, in: make([]byte, readSize), out: make([]byte, 0, dns.MinMsgSize)}
}

// ReadUDP reads datagrams from conn until one is the general path's, or
// an error, answering the fast path's on the way. It sets no read
// deadline, as miekg/dns's reader does before each read: Shutdown sets one
// in the past to stop the server, and a deadline set after it would hold
// the read (and Shutdown) until it passed.
func (f *fastReader) ReadUDP(conn *net.UDPConn, _ time.Duration) ([]byte, *dns.SessionUDP, error) {
	for {
		n, sess, err := dns.ReadFromSessionUDP(conn, f.in)
		if err != nil {
			return nil, nil, err
		}
		var src netip.Addr
		if ua, ok := sess.RemoteAddr().(*net.UDPAddr); ok {
			src, _ = netip.AddrFromSlice(ua.IP)
		}
		if out, ok := f.s.fastAnswer(f.out[:0], src.Unmap(), f.in[:n]); ok {
			// A write error is the client's loss, as in miekg/dns.
			_, _ = dns.WriteToSessionUDP(conn, out, sess)
			continue
		}
		return bytes.Clone(f.in[:n]), sess, nil
	}
}

// ReadPacketConn is ReadUDP on a net.PacketConn that is not a kernel UDP
// socket (an in-memory one), or in batches on a batchConn.
func (f *fastReader) ReadPacketConn(conn net.PacketConn, _ time.Duration) ([]byte, net.Addr, error) {
	if c, ok := conn.(batchConn); ok {
		return f.readBatch(c)
	}
	for {
		n, from, err := conn.ReadFrom(f.in)
		if err != nil {
			return nil, nil, err
		}
		if out, ok := f.s.fastAnswer(f.out[:0], addrOf(from), f.in[:n]); ok {
			_, _ = conn.WriteTo(out, from)
			continue
		}
		return bytes.Clone(f.in[:n]), from, nil
	}
}

// batchSize is how many datagrams one recvmmsg reads, and one sendmmsg
// writes, at most.
const batchSize = 32

// batchConn is a kernel UDP socket bound to one address, hidden from
// miekg/dns (which takes *net.UDPConn apart) so that it reads through
// ReadPacketConn, which reads and writes in batches (recvmmsg, sendmmsg).
// On a socket bound to one address, answers need no control message to go
// out from the address the query came to, so the datagrams the general
// path serves are written back with WriteTo, as miekg/dns writes any
// net.PacketConn's.
type batchConn struct{ *net.UDPConn }

// batcher reads and writes batches: an ipv4.PacketConn or an
// ipv6.PacketConn.
type batcher interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// batchable returns pc as a batchConn when it is a kernel UDP socket bound
// to one address (not 0.0.0.0 nor ::, whose answers need the query's
// destination as their source), else pc.
func batchable(pc net.PacketConn) net.PacketConn {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return pc
	}
	if la, ok := uc.LocalAddr().(*net.UDPAddr); !ok || la.IP.IsUnspecified() || la.IP == nil {
		return pc
	}
	return batchConn{uc}
}

// pending is a datagram read in a batch for the general path.
type pending struct {
	b    []byte
	from net.Addr
}

// batchState is a fastReader's batches, made on its first batched read.
type batchState struct {
	b     batcher
	in    []ipv4.Message
	out   []ipv4.Message
	outs  [][]byte
	queue []pending
}

func newBatchState(c batchConn) *batchState {
	st := &batchState{in: make([]ipv4.Message, batchSize), out: make([]ipv4.Message, batchSize), outs: make([][]byte, batchSize)}
	if la, _ := c.LocalAddr().(*net.UDPAddr); la != nil && la.IP.To4() != nil {
		st.b = ipv4.NewPacketConn(c.UDPConn)
	} else {
		st.b = ipv6.NewPacketConn(c.UDPConn)
	}
	for i := range st.in {
		st.in[i].Buffers = [][]byte{make([]byte, readSize)}
		st.outs[i] = make([]byte, 0, dns.MinMsgSize)
		st.out[i].Buffers = [][]byte{nil}
	}
	return st
}

// readBatch returns the next datagram for the general path, answering the
// fast path's of each batch read with one sendmmsg.
func (f *fastReader) readBatch(c batchConn) ([]byte, net.Addr, error) {
	if f.batch == nil {
		f.batch = newBatchState(c)
	}
	st := f.batch
	for len(st.queue) == 0 {
		n, err := st.b.ReadBatch(st.in, 0)
		if err != nil {
			return nil, nil, err
		}
		w := 0
		for i := range n {
			m := &st.in[i]
			var src netip.Addr
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				src, _ = netip.AddrFromSlice(ua.IP)
			}
			q := m.Buffers[0][:m.N]
			if out, ok := f.s.fastAnswer(st.outs[w][:0], src.Unmap(), q); ok {
				st.out[w].Buffers[0], st.out[w].Addr = out, m.Addr
				w++
				continue
			}
			st.queue = append(st.queue, pending{bytes.Clone(q), m.Addr})
		}
		for sent := 0; sent < w; {
			k, err := st.b.WriteBatch(st.out[sent:w], 0)
			if err != nil {
				break // the clients' loss, as a failed write in miekg/dns
			}
			sent += k
		}
		for i := range w {
			st.out[i].Addr = nil
		}
	}
	p := st.queue[0]
	st.queue[0] = pending{}
	st.queue = st.queue[1:]
	if len(st.queue) == 0 {
		st.queue = st.queue[:0:0]
	}
	return p.b, p.from, nil
}
