package dnsd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// DefaultTCPIdleTimeout is how long a TCP connection may stay idle between
// queries before the server closes it (RFC 7766 §6.2.3: seconds, not
// minutes; miekg/dns's and so Docker's default).
const DefaultTCPIdleTimeout = 8 * time.Second

// DefaultMaxTCPConns is how many TCP connections are served at once; one
// more is closed as soon as it is accepted, and counted (RFC 7766 §6.2.2:
// servers limit their connections).
const DefaultMaxTCPConns = 512

// readSize is the largest query read from a UDP socket (miekg/dns reads
// 512 bytes by default, and a query that carries EDNS0 options may be
// longer).
const readSize = 4096

// Stats count what the socket servers (Serve, ServeTCP, Listen) did that a
// client cannot see in an answer.
type Stats struct {
	TruncatedUDP uint64 // UDP answers sent cut, with TC
	TruncatedTCP uint64 // TCP answers over 65535 bytes sent cut, with TC
	TCPRefused   uint64 // TCP connections closed at once: MaxTCPConns were open
	PackFailed   uint64 // answers that did not pack, sent as SERVFAIL
}

// counters are the Stats, updated by many goroutines.
type counters struct {
	truncatedUDP, truncatedTCP, tcpRefused, packFailed atomic.Uint64
}

// Stats returns the socket servers' counters.
func (s *Server) Stats() Stats {
	return Stats{
		TruncatedUDP: s.stats.truncatedUDP.Load(),
		TruncatedTCP: s.stats.truncatedTCP.Load(),
		TCPRefused:   s.stats.tcpRefused.Load(),
		PackFailed:   s.stats.packFailed.Load(),
	}
}

// handler adapts a Server to miekg/dns for one transport. miekg/dns's
// ResponseWriter.WriteMsg packs an answer whole, whatever its size, so the
// handler packs it itself (PackUDP, PackTCP) and writes the bytes.
type handler struct {
	s   *Server
	tcp bool
}

func (h handler) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	r := h.s.Answer(addrOf(w.RemoteAddr()), q)
	b, err := h.pack(q, r)
	if err != nil {
		h.s.stats.packFailed.Add(1)
		if b, err = h.pack(q, ServFail(q)); err != nil {
			return
		}
	}
	switch {
	case !r.Truncated:
	case h.tcp:
		h.s.stats.truncatedTCP.Add(1)
	default:
		h.s.stats.truncatedUDP.Add(1)
	}
	_, _ = w.Write(b)
}

func (h handler) pack(q, r *dns.Msg) ([]byte, error) {
	if h.tcp {
		return PackTCP(q, r)
	}
	return PackUDP(q, r)
}

// addrOf returns the IP address of a, unmapped (an IPv4 client of a dual
// stack socket is its IPv4 address), or the zero Addr.
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// Serve answers queries arriving on pc until Shutdown is called on the
// returned server: answers cut to the size the query allows (PackUDP),
// with TC. started, if not nil, is called once it listens.
func (s *Server) Serve(pc net.PacketConn, started func()) *dns.Server {
	srv := s.udpServer(pc, started)
	go func() { _ = srv.ActivateAndServe() }()
	return srv
}

// ServeTCP answers queries arriving on connections accepted from l until
// Shutdown is called on the returned server (RFC 7766): several queries on
// one connection, answered in order, each up to 65535 bytes (PackTCP); a
// connection idle for Options.TCPIdleTimeout is closed, and at most
// Options.MaxTCPConns are open. started, if not nil, is called once it
// accepts.
func (s *Server) ServeTCP(l net.Listener, started func()) *dns.Server {
	srv := s.tcpServer(l, started)
	go func() { _ = srv.ActivateAndServe() }()
	return srv
}

func (s *Server) udpServer(pc net.PacketConn, started func()) *dns.Server {
	return &dns.Server{
		PacketConn: batchable(pc), Handler: handler{s: s}, NotifyStartedFunc: started, UDPSize: readSize,
		DecorateReader: func(r dns.Reader) dns.Reader { return newFastReader(s, r) },
	}
}

func (s *Server) tcpServer(l net.Listener, started func()) *dns.Server {
	idle, conns := s.opts.TCPIdleTimeout, s.opts.MaxTCPConns
	if idle <= 0 {
		idle = DefaultTCPIdleTimeout
	}
	if conns <= 0 {
		conns = DefaultMaxTCPConns
	}
	return &dns.Server{
		Listener:          &limitListener{Listener: l, s: s, sem: make(chan struct{}, conns)},
		Handler:           handler{s: s, tcp: true},
		NotifyStartedFunc: started,
		IdleTimeout:       func() time.Duration { return idle },
		// No bound on queries a connection: miekg/dns's default (128)
		// closes it with pipelined queries unanswered. The idle timeout
		// and MaxTCPConns bound what a client holds.
		MaxTCPQueries: -1,
	}
}

// limitListener closes, and counts, the connections accepted beyond its
// semaphore's capacity.
type limitListener struct {
	net.Listener
	s   *Server
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, sem: l.sem}, nil
		default:
			l.s.stats.tcpRefused.Add(1)
			_ = c.Close()
		}
	}
}

// limitConn gives its place back on its first Close.
type limitConn struct {
	net.Conn
	sem  chan struct{}
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.sem })
	return err
}

// Service is a Server answering on kernel UDP sockets and a TCP listener
// of one address, made by Listen.
type Service struct {
	udp    []*dns.Server // one per socket of the address
	tcp    *dns.Server
	addr   netip.AddrPort
	done   chan struct{} // closed when every server has returned
	closed sync.Once
}

// Listen answers queries over UDP and TCP on addr (host:port; port 0 picks
// a port free for both) until Close. It returns once all listen. Over
// UDP it binds one socket per core (GOMAXPROCS) on the address with
// SO_REUSEPORT where the system has it (Linux), the kernel spreading the
// clients among them, each read by its own server; the TCP listener is
// bound without it, so an address another process holds is refused.
func (s *Server) Listen(addr string) (*Service, error) {
	pcs, l, err := listenBoth(addr, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	v := &Service{addr: addrPortOf(pcs[0].LocalAddr()), done: make(chan struct{})}
	// Each server reports once: started, or why it could not.
	outcome := make(chan error, len(pcs)+1)
	var served sync.WaitGroup
	serve := func(srv *dns.Server, closer io.Closer, once *sync.Once) {
		served.Add(1)
		go func() {
			defer served.Done()
			if err := srv.ActivateAndServe(); err != nil {
				_ = closer.Close()
				once.Do(func() { outcome <- err })
			}
		}()
	}
	onces := make([]sync.Once, len(pcs)+1)
	for i, pc := range pcs {
		once := &onces[i]
		srv := s.udpServer(pc, func() { once.Do(func() { outcome <- nil }) })
		v.udp = append(v.udp, srv)
		serve(srv, pc, once)
	}
	tcpOnce := &onces[len(pcs)]
	v.tcp = s.tcpServer(l, func() { tcpOnce.Do(func() { outcome <- nil }) })
	serve(v.tcp, l, tcpOnce)
	go func() { served.Wait(); close(v.done) }()
	var errs []error
	for range onces {
		errs = append(errs, <-outcome)
	}
	if err := errors.Join(errs...); err != nil {
		// Those that started, if any, are stopped; Shutdown on the
		// others says they never started.
		for _, srv := range v.udp {
			_ = srv.Shutdown()
		}
		_ = v.tcp.Shutdown()
		<-v.done
		return nil, fmt.Errorf("dnsd: serve %s: %w", addr, err)
	}
	return v, nil
}

// listenBoth binds n UDP sockets (SO_REUSEPORT; one where the system has
// not got it) and a TCP listener on the same address (as net.ListenPacket
// takes it: "127.0.0.1:53", ":53", "localhost:53"). With port 0, the
// ports are the one the kernel gave the first UDP socket, and another is
// tried when TCP already has it.
func listenBoth(addr string, n int) ([]net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dnsd: listen %q: %w", addr, err)
	}
	if !canReusePort {
		n = 1
	}
	lc := net.ListenConfig{Control: reusePort}
	closeAll := func(pcs []net.PacketConn) {
		for _, pc := range pcs {
			_ = pc.Close()
		}
	}
	for try := 0; ; try++ {
		first, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return nil, nil, err
		}
		pcs := []net.PacketConn{first}
		bound := first.LocalAddr().String()
		for len(pcs) < max(n, 1) {
			pc, err := lc.ListenPacket(context.Background(), "udp", bound)
			if err != nil {
				closeAll(pcs)
				return nil, nil, err
			}
			pcs = append(pcs, pc)
		}
		l, err := net.Listen("tcp", bound)
		if err == nil {
			return pcs, l, nil
		}
		closeAll(pcs)
		if port != "0" || try == 7 {
			return nil, nil, err
		}
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		return ua.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// Addr returns the address the service answers on, over UDP and TCP.
func (v *Service) Addr() netip.AddrPort { return v.addr }

// Close stops both servers, closes their sockets and connections, and
// returns once their goroutines have.
func (v *Service) Close() error {
	var err error
	v.closed.Do(func() {
		errs := []error{v.tcp.Shutdown()}
		for _, srv := range v.udp {
			errs = append(errs, srv.Shutdown())
		}
		err = errors.Join(errs...)
		<-v.done
	})
	return err
}
