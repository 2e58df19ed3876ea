package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/fabric"
)

func (n *Network) host(name string) (*host, error) {
	h := n.hosts[name]
	if h == nil {
		return nil, fmt.Errorf("%w host %q", fabric.ErrUnknown, name)
	}
	return h, nil
}

// owner returns the host that has address a, or nil.
func (n *Network) owner(a netip.Addr) *host {
	for _, h := range n.hosts {
		for _, ip := range h.addrs {
			if ip.Equal(a.AsSlice()) {
				return h
			}
		}
	}
	return nil
}

// Ping sends count ICMP echo requests from host from's namespace through a
// raw socket, interval apart, and waits up to timeout for each reply.
func (n *Network) Ping(from string, to netip.Addr, count int, interval, timeout time.Duration) (backend.PingStats, error) {
	if s, ok := n.stackProbe(from); ok {
		return s.Ping(uint16(n.pingID.Add(1)&0x7fff)|0x4000, to, count, interval, timeout)
	}
	h, err := n.host(from)
	if err != nil {
		return backend.PingStats{}, err
	}
	var c *icmp.PacketConn
	if err := nsutil.Do(h.ns, func() (err error) {
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		return backend.PingStats{}, fmt.Errorf("netns: ping from %s: %w", from, err)
	}
	defer c.Close()
	id := int(n.pingID.Add(1)&0x7fff) | 0x4000

	type result struct {
		reply bool
		rtt   time.Duration
		err   string
	}
	var mu sync.Mutex
	sent := make([]time.Time, count)
	results := make([]*result, count)
	left := count
	done := make(chan struct{})
	settle := func(seq int, r result) {
		mu.Lock()
		defer mu.Unlock()
		i := seq - 1
		if i < 0 || i >= count || results[i] != nil || sent[i].IsZero() {
			return
		}
		if r.reply && r.rtt > timeout {
			return // too late: that probe has timed out
		}
		results[i] = &r
		if left--; left == 0 {
			close(done)
		}
	}
	go func() { // reader: until the socket is closed
		buf := make([]byte, 1500)
		for {
			nr, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			at := time.Now()
			m, err := icmp.ParseMessage(1, buf[:nr])
			if err != nil {
				continue
			}
			switch body := m.Body.(type) {
			case *icmp.Echo:
				if m.Type == ipv4.ICMPTypeEchoReply && body.ID == id {
					mu.Lock()
					var rtt time.Duration
					if i := body.Seq - 1; i >= 0 && i < count {
						rtt = at.Sub(sent[i])
					}
					mu.Unlock()
					settle(body.Seq, result{reply: true, rtt: rtt})
				}
			case *icmp.DstUnreach:
				if qid, qseq, ok := quotedEcho(body.Data); ok && qid == id {
					settle(qseq, result{err: "destination unreachable"})
				}
			}
		}
	}()

	start := time.Now()
	payload := make([]byte, 56)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := range count {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: i + 1, Data: payload}}
		b, _ := msg.Marshal(nil)
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		if _, err := c.WriteTo(b, &net.IPAddr{IP: to.AsSlice()}); err != nil {
			settle(i+1, result{err: sendError(err)})
		}
	}
	select {
	case <-done:
	case <-time.After(time.Until(start.Add(time.Duration(count-1)*interval + timeout))):
	}
	if err := n.budgetErr(); err != nil {
		return backend.PingStats{Sent: count}, err
	}
	mu.Lock()
	defer mu.Unlock()
	st := backend.PingStats{Sent: count}
	for _, r := range results {
		switch {
		case r == nil:
			st.Errors = append(st.Errors, "no reply within the timeout")
		case r.reply:
			st.Received++
			st.RTTs = append(st.RTTs, r.rtt)
		default:
			st.Errors = append(st.Errors, r.err)
		}
	}
	return st, nil
}

// quotedEcho reads the echo identifier and sequence quoted in an ICMP error
// (RFC 792: the original IP header and 8 bytes of its data).
func quotedEcho(q []byte) (id, seq int, ok bool) {
	if !header.IsIPv4(q) {
		return 0, 0, false
	}
	ip := header.IPv4(q)
	if len(q) < ip.HeaderLen()+header.ICMPv4Len || ip.Protocol() != header.ProtocolICMP {
		return 0, 0, false
	}
	m := header.ICMPv4(ip.Payload())
	if m.Type() != header.ICMPv4EchoRequest {
		return 0, 0, false
	}
	return int(m.ID()), int(m.Seq()), true
}

func sendError(err error) string {
	switch {
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	}
	return err.Error()
}

// UDP sends one datagram from host from's namespace to to:port; the host
// owning to listens on the port meanwhile, unless it has a socket there.
func (n *Network) UDP(from string, to netip.Addr, port uint16, timeout time.Duration) (backend.UDPResult, error) {
	s, fromStack := n.stackProbe(from)
	src, err := n.host(from)
	if err != nil && !fromStack {
		return backend.UDPResult{}, err
	}
	dst := netip.AddrPortFrom(to, port)
	payload := fmt.Appendf(nil, "netyard udp probe %d", n.udpSeq.Add(1))
	res := make(chan backend.UDPResult, 2)
	deadline := time.Now().Add(timeout)
	n.udpMu.Lock()
	n.udpWant[string(payload)] = false
	n.udpMu.Unlock()
	defer func() {
		n.udpMu.Lock()
		delete(n.udpWant, string(payload))
		n.udpMu.Unlock()
	}()
	if owner := n.owner(to); owner != nil {
		var l net.PacketConn
		err := nsutil.Do(owner.ns, func() (err error) {
			l, err = net.ListenPacket("udp4", dst.String())
			return err
		})
		if err == nil { // else a socket of the run is bound there, and records
			defer l.Close()
			go n.readUDP(l, payload)
		}
	}
	arrived := func() bool {
		n.udpMu.Lock()
		defer n.udpMu.Unlock()
		return n.udpWant[string(payload)]
	}
	if fromStack {
		r, err := s.UDP(dst, payload, arrived, timeout)
		if err == nil {
			err = n.budgetErr()
		}
		return r, err
	}
	var c net.Conn
	if err := nsutil.Do(src.ns, func() (err error) {
		c, err = net.Dial("udp4", dst.String())
		return err
	}); err != nil {
		return backend.UDPResult{Err: sendError(err)}, nil
	}
	defer c.Close()
	_ = c.SetReadDeadline(deadline)
	go func() { // a connected socket reports ICMP port unreachable as ECONNREFUSED
		buf := make([]byte, 64)
		if _, err := c.Read(buf); errors.Is(err, syscall.ECONNREFUSED) {
			res <- backend.UDPResult{Err: "port unreachable"}
		}
	}()
	if _, err := c.Write(payload); err != nil {
		return backend.UDPResult{Err: sendError(err)}, nil
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	r := backend.UDPResult{Err: "timeout"}
wait:
	for !arrived() {
		select {
		case r = <-res:
			break wait
		case <-n.udpWake:
		case <-timer.C:
			break wait
		}
	}
	if arrived() {
		r = backend.UDPResult{Delivered: true}
	}
	return r, n.budgetErr()
}

// Dial tries a TCP handshake from host from's namespace. With open, it
// waits (up to a second) for the listener's accept, to report the client
// as the listener saw it.
func (n *Network) Dial(from string, to netip.AddrPort, timeout time.Duration) (backend.ConnectResult, error) {
	s, fromStack := n.stackProbe(from)
	h, err := n.host(from)
	if err != nil && !fromStack {
		return backend.ConnectResult{}, err
	}
	for len(n.accepted) > 0 {
		<-n.accepted
	}
	if fromStack {
		return s.Dial(to, timeout, n.stackAccepted)
	}
	var c net.Conn
	err = nsutil.Do(h.ns, func() (err error) {
		c, err = net.DialTimeout("tcp4", to.String(), timeout)
		return err
	})
	if berr := n.budgetErr(); berr != nil {
		return backend.ConnectResult{}, berr
	}
	switch {
	case err == nil:
		c.Close()
		r := backend.ConnectResult{Result: backend.Open}
		select {
		case r.Peer = <-n.accepted:
		case <-time.After(time.Second):
		}
		return r, nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return backend.ConnectResult{Result: backend.Refused}, nil
	}
	return backend.ConnectResult{Result: backend.TimedOut}, nil
}

// Resolve asks host from's nameserver for name's records of type qtype,
// with a query sent from inside its namespace (as its resolver would).
func (n *Network) Resolve(from, name string, qtype uint16, timeout time.Duration) (backend.Resolved, error) {
	if s, ok := n.stackProbe(from); ok {
		return s.Resolve(n.stackNameserver(from), name, qtype, timeout)
	}
	h, err := n.host(from)
	if err != nil {
		return backend.Resolved{}, err
	}
	if !h.nameserver.IsValid() {
		return backend.Resolved{Err: "no nameserver"}, nil
	}
	var c net.Conn
	if err := nsutil.Do(h.ns, func() (err error) {
		c, err = net.Dial("udp4", netip.AddrPortFrom(h.nameserver, 53).String())
		return err
	}); err != nil {
		return backend.Resolved{Err: sendError(err)}, nil
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	cl := &dns.Client{Net: "udp", Timeout: timeout}
	m, _, err := cl.ExchangeWithConn(q, &dns.Conn{Conn: c})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return backend.Resolved{Err: "timeout"}, n.budgetErr()
		}
		return backend.Resolved{Err: sendError(err)}, n.budgetErr()
	}
	return backend.Answer(m), n.budgetErr()
}
