package vswitch_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
	vswitch "github.com/netyard/netyard/switch"
)

// TestSTPNarrationIsCausal checks that what STP does to the FDB is told
// after the change that caused it (issue 9 item 13): the addresses of a
// port are forgotten after its role and state change, and fast ageing at a
// topology change ages addresses out after the change is announced.
func TestSTPNarrationIsCausal(t *testing.T) {
	r := newRig(t, vswitch.Options{MAC: mac(0x10), STP: &vswitch.STPConfig{}},
		vswitch.PortConfig{Name: "host", STP: vswitch.PortSTP{Edge: true}},
		vswitch.PortConfig{Name: "uplink"},
	)
	r.in(0, frame64(vswitch.Broadcast, mac(1))) // learned at 0 on the edge port
	// The uplink forwards after 2 x forward delay (30 s): a topology change
	// on the root, whose fast ageing (15 s) ages mac(1) out at once.
	r.e.Advance(30 * time.Second)
	order(t, r.events,
		"state learning -> forwarding",
		"topology change",
		"forgot 02:00:00:00:00:01 on host vlan 1: aged out",
	)
	r.events = nil
	r.in(0, frame64(vswitch.Broadcast, mac(2)))
	if err := r.sw.SetCarrier(0, false); err != nil {
		t.Fatal(err)
	}
	order(t, r.events,
		"host: carrier down",
		"host: role designated -> disabled",
		"host: state forwarding -> disabled",
		"forgot 02:00:00:00:00:02 on host vlan 1: stp disabled",
	)
}

// order checks that the narrated events contain each of want, in order.
func order(t *testing.T, events []trace.Event, want ...string) {
	t.Helper()
	var lines []string
	for _, e := range events {
		lines = append(lines, trace.Narrate(e))
	}
	i := 0
	for _, l := range lines {
		if i < len(want) && strings.Contains(l, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("narration lacks %q after %q; narration:\n%s", want[i], fmt.Sprint(want[:i]), strings.Join(lines, "\n"))
	}
}
