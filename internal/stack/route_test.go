package stack_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/netyard/netyard/internal/stack"
)

// TestStaticRoutes: a static route sends off-link packets to its next
// hop, the longest prefix first, before the default gateway; without
// one they have no route.
func TestStaticRoutes(t *testing.T) {
	_, a, _ := twoHosts(t)
	a.SetGateway(netip.MustParseAddr("10.0.0.254"))
	a.AddRoute(stack.Route{To: netip.MustParsePrefix("172.16.0.0/12"), Via: netip.MustParseAddr("10.0.0.3")})
	a.AddRoute(stack.Route{To: netip.MustParsePrefix("172.18.0.9/16"), Via: netip.MustParseAddr("10.0.0.2")}) // masked
	a.AddRoute(stack.Route{To: netip.MustParsePrefix("192.0.2.0/24"), Via: netip.MustParseAddr("10.9.9.9")})  // not on-link
	for to, want := range map[string]string{
		"172.18.0.2":   "10.0.0.2",
		"172.20.0.2":   "10.0.0.3",
		"198.51.100.1": "10.0.0.254",
		"10.0.0.2":     "10.0.0.2",
		"192.0.2.1":    "10.0.0.254", // its next hop is on no connected prefix: the default
	} {
		i, hop, err := a.Route(netip.MustParseAddr(to))
		if err != nil || i.Name() != "eth0" || hop != netip.MustParseAddr(want) {
			t.Errorf("route to %s: %v via %v (%v), want via %s", to, i, hop, err, want)
		}
	}
	_, b, _ := twoHosts(t)
	if _, _, err := b.Route(netip.MustParseAddr("172.18.0.2")); !errors.Is(err, stack.ErrNoRoute) {
		t.Errorf("without a route: %v, want no route", err)
	}
}
