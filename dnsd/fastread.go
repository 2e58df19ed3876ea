package dnsd

import (
	"bytes"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// fastReader is the reader of one UDP server (one socket): it answers the
// queries the fast path takes (fastAnswer) itself, in the goroutine that
// reads them, from buffers it reuses, and hands miekg/dns only the others,
// which it serves as before, a goroutine each. miekg/dns reads a server's
// socket from one goroutine, so the buffers need no lock.
type fastReader struct {
	dns.Reader
	s   *Server
	in  []byte // the datagram read
	out []byte // the answer written
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
// socket (an in-memory one).
func (f *fastReader) ReadPacketConn(conn net.PacketConn, _ time.Duration) ([]byte, net.Addr, error) {
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
