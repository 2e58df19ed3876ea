package netns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim/topo"
)

// dnsState is the DNS servers a network runs inside its namespaces, and
// the upstream sockets their resolvers have open, closed by Close so that
// no goroutine outlives the run.
type dnsState struct {
	mu     sync.Mutex
	conns  map[net.Conn]bool // guarded by mu: upstream queries in flight
	closed bool              // guarded by mu
	wg     sync.WaitGroup    // serving loops, queries being answered, upstream exchanges
	srvs   []*dns.Server     // the TCP and zone servers, shut down by close
}

// serveDNS starts the DNS servers of namespace h, host th of the graph:
// Docker's embedded server on sockets bound to 127.0.0.11:53 inside the
// container's namespace (UDP and TCP), answered by the same dnsd.Resolver
// as in mem, which forwards from sockets made in that namespace too; and
// a LAN client's zone on port 53.
func (n *Network) serveDNS(h *host, th topo.Host) error {
	d := &n.dns
	if th.EmbeddedDNS != "" {
		r, err := n.world.Resolver(th, nsTransport{ns: h.ns, d: d}, clock.Real)
		if err != nil {
			return err
		}
		addr := netip.AddrPortFrom(dnsd.EmbeddedAddr, 53).String()
		var pc net.PacketConn
		var l net.Listener
		if err := nsutil.Do(h.ns, func() (err error) {
			// SO_REUSEADDR, as netyard's own listeners (listenUDP): a
			// container that serves udp/53 itself keeps its socket on
			// every address, and the kernel hands 127.0.0.11's datagrams
			// to the socket bound there.
			if pc, err = listenPacketReuse(addr); err != nil {
				return err
			}
			if !slices.Contains(th.ListenTCP, 53) { // else the container's own tcp/53 has the port
				l, err = net.Listen("tcp4", addr)
			}
			return err
		}); err != nil {
			if pc != nil {
				pc.Close()
			}
			return err
		}
		n.conns = append(n.conns, pc)
		d.wg.Add(1)
		go d.serveUDP(r, pc)
		if l != nil {
			n.startDNS(&dns.Server{Listener: l, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
				got := make(chan *dns.Msg, 1)
				r.Serve(q, dnsd.Client{Addr: addrPort(w.RemoteAddr()), TCP: true}, func(m *dns.Msg) { got <- m })
				if b, err := dnsd.PackTCP(q, <-got); err == nil {
					w.Write(b)
				}
			})})
		}
	}
	if th.ServeDNS != nil {
		var pc net.PacketConn
		if err := nsutil.Do(h.ns, func() (err error) {
			pc, err = net.ListenPacket("udp4", ":53")
			return err
		}); err != nil {
			return err
		}
		n.startDNS(&dns.Server{PacketConn: pc, Handler: dnsd.NewZone(th.ServeDNS).Handler()})
	}
	return nil
}

// reuseAddr sets SO_REUSEADDR on a socket before it binds.
var reuseAddr = net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1) }); err != nil {
		return err
	}
	return serr
}}

// listenPacketReuse binds a UDP socket on addr with SO_REUSEADDR, in the
// calling thread's namespace.
func listenPacketReuse(addr string) (net.PacketConn, error) {
	return reuseAddr.ListenPacket(context.Background(), "udp4", addr)
}

// startDNS runs s until the network closes.
func (n *Network) startDNS(s *dns.Server) {
	d := &n.dns
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	d.mu.Lock()
	d.srvs = append(d.srvs, s)
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		s.ActivateAndServe()
	}()
	<-started
}

// serveUDP answers the datagrams of the embedded server's socket until
// pc is closed: the resolver answers a container's names at once, and a
// forwarded query later, from its exchange's goroutine (bounded by
// dnsd.MaxForwards).
func (d *dnsState) serveUDP(r *dnsd.Resolver, pc net.PacketConn) {
	defer d.wg.Done()
	buf := make([]byte, dns.MaxMsgSize)
	for {
		nr, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		r.ServeBytes(buf[:nr], dnsd.Client{Addr: addrPort(from)}, func(w []byte) { pc.WriteTo(w, from) })
	}
}

// close ends every upstream exchange and server, and waits for their
// goroutines.
func (d *dnsState) close() {
	d.mu.Lock()
	d.closed = true
	for c := range d.conns {
		c.Close()
	}
	srvs := d.srvs
	d.mu.Unlock()
	for _, s := range srvs {
		s.Shutdown()
	}
	d.wg.Wait()
}

// nsTransport sends a resolver's forwarded queries from a socket made
// inside the container's namespace, as Docker's resolver dials its
// upstreams there (dialExtDNS through the sandbox's ExecFunc): the query
// leaves by the container's interface and crosses its bridge.
type nsTransport struct {
	ns vnetns.NsHandle
	d  *dnsState
}

var errClosed = errors.New("netns: the network is closing")

func (t nsTransport) Exchange(q *dns.Msg, up netip.AddrPort, done func(*dns.Msg, error)) func() {
	var c net.Conn
	err := nsutil.Do(t.ns, func() (err error) {
		c, err = net.Dial("udp4", up.String())
		return err
	})
	if err != nil {
		done(nil, err)
		return func() {}
	}
	d := t.d
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		c.Close()
		done(nil, errClosed)
		return func() {}
	}
	if d.conns == nil {
		d.conns = map[net.Conn]bool{}
	}
	d.conns[c] = true
	d.wg.Add(1)
	d.mu.Unlock()
	cancel := func() {
		d.mu.Lock()
		delete(d.conns, c)
		d.mu.Unlock()
		c.Close()
	}
	go func() {
		defer d.wg.Done()
		// The resolver times the upstream out (dnsd.UpstreamTimeout) and
		// cancels; this deadline only bounds the goroutine.
		cl := &dns.Client{Net: "udp", Timeout: dnsd.UpstreamTimeout + time.Second, UDPSize: dns.MaxMsgSize}
		m, _, err := cl.ExchangeWithConn(q, &dns.Conn{Conn: c})
		cancel()
		done(m, err)
	}()
	return cancel
}

// addrPort converts a socket address.
func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	return netip.AddrPort{}
}
