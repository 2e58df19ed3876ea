package gateway_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/nat/gateway"
)

// A world is a gateway running on a mem engine: its LAN and bridge legs
// are hubs (every frame to every other member, 1 ms later), with stack
// hosts on them, so that timers (ARP, upstream timeouts, reassembly) run
// on virtual time.

const hop = time.Millisecond

// hub is a shared segment: a frame sent by one member reaches every other
// one after hop.
type hub struct {
	e      *clock.Manual
	recv   []func([]byte)
	frames [][]byte // everything sent on the hub, oldest first
}

// attach adds a member receiving through recv and returns where it sends.
func (h *hub) attach(recv func([]byte)) link.Sender {
	i := len(h.recv)
	h.recv = append(h.recv, recv)
	return link.Func(func(fr []byte) error {
		cp := append([]byte(nil), fr...)
		h.frames = append(h.frames, cp)
		for j, r := range h.recv {
			if j != i {
				h.e.AfterFunc(hop, func() { r(cp) })
			}
		}
		return nil
	})
}

// drain returns and forgets the frames sent on the hub so far.
func (h *hub) drain() [][]byte {
	f := h.frames
	h.frames = nil
	return f
}

type world struct {
	t       testing.TB
	e       *clock.Manual
	gw      *gateway.Gateway
	dns     *dnsd.Server
	lan, br *hub
	client  *stack.Host // 172.18.0.2 on net1
	events  []trace.Event
	// sent, if set, sees every frame the gateway sends, with its leg.
	sent func(leg int, fr []byte)
}

// watch wraps a gateway leg's sender so that w.sent sees its frames.
func (w *world) watch(leg int, out link.Sender) link.Sender {
	return link.Func(func(fr []byte) error {
		if w.sent != nil {
			w.sent(leg, fr)
		}
		return out.Send(fr)
	})
}

var (
	lanPrefix = netip.MustParsePrefix("192.168.56.11/24")
	net1      = netip.MustParsePrefix("172.18.0.1/16")
	net2      = netip.MustParsePrefix("172.19.0.1/16")
	gw2Addr   = net2.Addr()
	lanAddr   = lanPrefix.Addr()
)

// newWorld builds a world whose DNS server forwards to upstreams, with
// the client container on net1 and a second network net2.
func newWorld(t testing.TB, c gateway.Config, upstreams ...string) *world {
	t.Helper()
	w := &world{t: t, e: clock.NewManual()}
	w.lan, w.br = &hub{e: w.e}, &hub{e: w.e}
	w.dns = dnsd.New(dnsd.Options{Upstreams: upstreams})
	w.dns.Add("net1", "a", ctr)
	c.Name = "host1"
	c.LAN = gateway.Leg{Name: "eth0", MAC: header.MAC(lanMAC), Addr: lanPrefix, Out: w.watch(0, w.lan.attach(func(f []byte) { w.gw.Input(0, f) }))}
	c.Bridges = []gateway.Bridge{
		{Leg: gateway.Leg{Name: "br-net1", MAC: header.MAC(gwMAC), Addr: net1, Out: w.watch(1, w.br.attach(func(f []byte) { w.gw.Input(1, f) }))}, Network: "net1"},
		{Leg: gateway.Leg{Name: "br-net2", MAC: header.MAC{2, 0x42, 0xac, 0x13, 0, 1}, Addr: net2, Out: w.watch(2, link.Discard)}, Network: "net2"},
	}
	c.DNS = w.dns
	var err error
	w.gw, err = gateway.New(c, gateway.Options{Clock: w.e, Tracer: trace.Func(func(ev trace.Event) { w.events = append(w.events, ev) })})
	if err != nil {
		t.Fatal(err)
	}
	w.client = w.host("a", w.br, ctrMAC, netip.PrefixFrom(ctr, 16))
	w.client.SetGateway(gwAddr)
	return w
}

// host adds a stack host on h.
func (w *world) host(name string, h *hub, mac net.HardwareAddr, addr netip.Prefix) *stack.Host {
	w.t.Helper()
	s := stack.New(stack.Options{Name: name, Clock: w.e})
	out := h.attach(func(f []byte) { s.Input(0, f) })
	if _, err := s.AddIface("eth0", header.MAC(mac), addr, out); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// upstream behaviours.
const (
	answers  = "answers"  // with outside.test A 10.1.2.3
	silent   = "silent"   // takes the query, never answers
	servfail = "servfail" // answers SERVFAIL
	closed   = "closed"   // a host with nothing on port 53: port unreachable
)

// upstream adds a LAN host at addr:53 behaving as b; answer, if set,
// answers instead, through reply (the message, and how much later).
func (w *world) upstream(addr string, b string, answer func(q *dns.Msg, reply func(*dns.Msg, time.Duration))) *stack.Host {
	w.t.Helper()
	a := netip.MustParseAddr(addr)
	h := w.host("dns-"+addr, w.lan, net.HardwareAddr{2, 0, 0, 0, 0x53, a.As4()[3]}, netip.PrefixFrom(a, 24))
	if b == closed {
		return h
	}
	conn, err := h.ListenUDP(53)
	if err != nil {
		w.t.Fatal(err)
	}
	conn.OnRecv = func(src, _ netip.AddrPort, payload []byte) {
		q := new(dns.Msg)
		if q.Unpack(payload) != nil || q.Response || len(q.Question) != 1 {
			return // a server answers queries only
		}
		reply := func(r *dns.Msg, after time.Duration) {
			wire, err := r.Pack()
			if err != nil {
				w.t.Fatal(err)
			}
			w.e.AfterFunc(after, func() { _ = conn.SendTo(src, wire) })
		}
		if answer != nil {
			answer(q, reply)
			return
		}
		var r *dns.Msg
		switch {
		case b == answers:
			r = new(dns.Msg)
			r.SetReply(q)
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 10.1.2.3")
			r.Answer = append(r.Answer, rr)
		case b == servfail:
			r = new(dns.Msg)
			r.SetRcode(q, dns.RcodeServerFailure)
		}
		if r != nil {
			reply(r, 0)
		}
	}
	return h
}

// query has the client ask server for name's A records and runs the world
// until the answer comes (at most a minute); it returns the answer and how
// long it took.
func (w *world) query(server netip.Addr, name string) (*dns.Msg, time.Duration) {
	w.t.Helper()
	var got *dns.Msg
	var qerr error
	start := w.e.Elapsed()
	end := start
	if _, err := w.client.Query(server, name, dns.TypeA, func(m *dns.Msg, err error) { got, qerr, end = m, err, w.e.Elapsed() }); err != nil {
		w.t.Fatal(err)
	}
	w.e.AdvanceUntil(func() bool { return got != nil || qerr != nil }, time.Minute)
	if qerr != nil {
		w.t.Fatalf("query %s at %s: %v", name, server, qerr)
	}
	if got == nil {
		w.t.Fatalf("query %s at %s: no answer within a minute", name, server)
	}
	return got, end - start
}

// narration returns the world's trace, one narrated line per event.
func (w *world) narration() string {
	var b strings.Builder
	for _, e := range w.events {
		b.WriteString(trace.Narrate(e))
		b.WriteString("\n")
	}
	return b.String()
}

// gatewayDrops counts the drops the gateway itself traced (the stack's
// carry the interface they happened on).
func (w *world) gatewayDrops() int {
	n := 0
	for _, e := range w.events {
		if e.Kind == trace.Dropped && e.Node == "host1" && e.Port == "" {
			n++
		}
	}
	return n
}

// decode decodes a frame with gopacket.
func decode(fr []byte) gopacket.Packet {
	return gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.Default)
}

// ipOf returns a frame's IPv4 layer, or nil.
func ipOf(fr []byte) *layers.IPv4 {
	ip, _ := decode(fr).Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	return ip
}
