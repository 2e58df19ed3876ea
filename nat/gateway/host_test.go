package gateway_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
)

// dial has h try a handshake with to and runs the world until it ends.
func (w *world) dial(h *stack.Host, to netip.AddrPort) string {
	w.t.Helper()
	res := ""
	if _, err := h.ConnectTCP(to, func(r string) { res = r }); err != nil {
		w.t.Fatal(err)
	}
	w.e.AdvanceUntil(func() bool { return res != "" }, 10*time.Second)
	return res
}

// The Docker host reaches a published port at 127.0.0.1 and at its own
// address, as Docker's OUTPUT DNAT and docker-proxy make it, and a
// container's address directly; the container sees the gateway's
// address on its network, as it sees docker-proxy's.
func TestHostReachesPublishedPorts(t *testing.T) {
	pub := nat.Publish{Proto: nat.TCP, Ext: netip.AddrPortFrom(lanAddr, 8080), To: netip.AddrPortFrom(ctr, 80)}
	w := newWorld(t, gateway.Config{Publish: []nat.Publish{pub}})
	l, err := w.client.ListenTCP(80)
	if err != nil {
		t.Fatal(err)
	}
	var peers []netip.AddrPort
	l.OnAccept = func(p netip.AddrPort) { peers = append(peers, p) }
	host := w.gw.Host()
	for _, to := range []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:8080"),
		netip.AddrPortFrom(lanAddr, 8080),
		netip.AddrPortFrom(ctr, 80),
	} {
		if got := w.dial(host, to); got != stack.TCPOpen {
			t.Fatalf("host -> %s: %s, want open\n%s", to, got, w.narration())
		}
	}
	w.e.Advance(time.Second)
	if len(peers) != 3 {
		t.Fatalf("the container accepted %d connections, want 3", len(peers))
	}
	for _, p := range peers {
		if p.Addr() != gwAddr {
			t.Errorf("the container saw the host as %s, want the gateway's %s", p, gwAddr)
		}
	}
	if got := w.dial(host, netip.MustParseAddrPort("127.0.0.1:8081")); got != stack.TCPRefused {
		t.Errorf("host -> 127.0.0.1:8081 (nothing published): %s, want refused", got)
	}
	if !strings.Contains(w.narration(), "127.0.0.1") {
		t.Errorf("the translation at 127.0.0.1 is not narrated:\n%s", w.narration())
	}
}

// With direct routing allowed, a LAN host with a route to the bridge's
// subnet reaches a published container port directly, and the container
// sees its real address and answers it untranslated; an unpublished port
// is dropped, counted as Direct and named. Without it, both are dropped.
func TestDirectRouting(t *testing.T) {
	for _, allow := range []bool{true, false} {
		pub := nat.Publish{Proto: nat.TCP, Ext: netip.AddrPortFrom(lanAddr, 8080), To: netip.AddrPortFrom(ctr, 80)}
		w := newWorld(t, gateway.Config{Publish: []nat.Publish{pub}, AllowDirectRouting: allow})
		for _, port := range []uint16{80, 81} {
			l, err := w.client.ListenTCP(port)
			if err != nil {
				t.Fatal(err)
			}
			l.OnAccept = func(p netip.AddrPort) {
				if p.Addr() != netip.MustParseAddr("192.168.56.20") {
					t.Errorf("the container saw the client as %s", p)
				}
			}
		}
		lan := w.host("lan", w.lan, net.HardwareAddr{2, 0, 0, 0, 0, 0x20}, netip.MustParsePrefix("192.168.56.20/24"))
		lan.AddRoute(stack.Route{To: netip.MustParsePrefix("172.18.0.0/16"), Via: lanAddr})
		want := map[bool]string{true: stack.TCPOpen, false: stack.TCPUnreach}[allow]
		if got := w.dial(lan, netip.AddrPortFrom(ctr, 80)); got != want && !(got == "" && !allow) {
			t.Errorf("allow %v: published port directly: %q, want %q\n%s", allow, got, want, w.narration())
		}
		before := w.gw.Stats().Direct
		if got := w.dial(lan, netip.AddrPortFrom(ctr, 81)); got == stack.TCPOpen || got == stack.TCPRefused {
			t.Errorf("allow %v: unpublished port directly: %q, want no answer", allow, got)
		}
		if w.gw.Stats().Direct == before {
			t.Errorf("allow %v: the drop of the unpublished port is not counted as Direct", allow)
		}
		if allow && !strings.Contains(w.narration(), "no published port leads to") {
			t.Errorf("the drop is not named:\n%s", w.narration())
		}
	}
}
