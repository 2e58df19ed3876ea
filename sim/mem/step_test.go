package mem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestStepsLeaveNothingAtTheirInstant: when a step (connect, ping, udp,
// resolve) returns, nothing is left to happen at the instant it ended (the
// handshake's last ACK and the client's RST, the answer's echo), so the
// frames a step sets off are narrated in it, not at the start of the next.
func TestStepsLeaveNothingAtTheirInstant(t *testing.T) {
	n := dockerNet(t, 0)
	client := n.World().Graph().Host("client").Ifaces[0].Addr.Addr()
	a := n.World().Graph().Host("a").Ifaces[0].Addr.Addr()
	check := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if next, ok := n.Engine.Next(); ok && next <= n.Elapsed() {
			t.Errorf("after %s at %v, an event is still due at %v", step, n.Elapsed(), next)
		}
	}
	_, err := n.Dial("a", netip.AddrPortFrom(client, 22), 4*time.Second)
	check("connect", err)
	_, err = n.Ping("a", client, 2, time.Second, 2*time.Second)
	check("ping", err)
	_, err = n.UDP("a", client, 7, 2*time.Second)
	check("udp", err)
	_, err = n.Resolve("a", "a", dns.TypeA, 2*time.Second)
	check("resolve", err)
	_, err = n.Ping("client", a, 1, time.Second, 2*time.Second) // no route in: it times out
	check("ping that times out", err)
}
