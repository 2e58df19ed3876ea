package vswitch_test

import (
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
	vswitch "github.com/netyard/netyard/switch"
)

// TestSTPEventFields: every spanning tree and port event carries the
// fields its op promises (port, roles, states, bridge and root IDs, cost),
// and the guards' events name the bridge that set them off.
func TestSTPEventFields(t *testing.T) {
	r := newRig(t, vswitch.Options{MAC: mac(0x10), STP: &vswitch.STPConfig{}},
		vswitch.PortConfig{Name: "uplink"},
		vswitch.PortConfig{Name: "edge", STP: vswitch.PortSTP{Edge: true}},
		vswitch.PortConfig{Name: "guarded", STP: vswitch.PortSTP{Edge: true, BPDUGuard: true}},
		vswitch.PortConfig{Name: "rootguard", STP: vswitch.PortSTP{RootGuard: true}},
	)
	other := vswitch.NewBridgeID(4096, mac(0x20)) // better than the switch's 32768
	bpdu := vswitch.BPDU{Type: vswitch.BPDUConfig, Root: other, Bridge: other, Port: 0x8001,
		MaxAge: vswitch.DefaultMaxAge, HelloTime: vswitch.DefaultHelloTime, ForwardDelay: vswitch.DefaultForwardDelay}
	frame := bpdu.AppendFrame(nil, mac(0x20))
	r.e.Advance(time.Second)
	r.in(2, frame) // guarded: disabled
	r.in(3, frame) // root guard: blocked, until the BPDUs stop for max age
	r.in(1, frame) // edge: a normal port now, and the root port
	r.e.Advance(vswitch.DefaultMaxAge + time.Second)
	r.sw.SetBPDUTransmit(false)
	r.sw.SetBPDUTransmit(true)
	if err := r.sw.SetPortUp(0, false); err != nil {
		t.Fatal(err)
	}
	ops := map[trace.Op][]trace.Event{}
	for _, e := range r.events {
		if miss := tracetest.Missing(e); len(miss) > 0 {
			t.Errorf("%s: missing %v", trace.Narrate(e), miss)
		}
		ops[e.Op] = append(ops[e.Op], e)
	}
	for _, c := range []struct {
		op   trace.Op
		want trace.Event // the fields compared
	}{
		{trace.OpBPDUGuard, trace.Event{Port: "guarded", Bridge: other.String()}},
		{trace.OpEdgeLost, trace.Event{Port: "edge"}},
		{trace.OpRootGuard, trace.Event{Port: "rootguard", Bridge: other.String(), Root: other.String()}},
		{trace.OpRootGuardReleased, trace.Event{Port: "rootguard"}},
		{trace.OpBPDUStopped, trace.Event{}},
		{trace.OpBPDUResumed, trace.Event{}},
		{trace.OpAdmin, trace.Event{Port: "uplink", State: "down"}},
		{trace.OpRoot, trace.Event{Port: "edge", Root: other.String(), RootPort: "edge", Bridge: vswitch.NewBridgeID(vswitch.DefaultBridgePriority, mac(0x10)).String()}},
		{trace.OpRole, trace.Event{Port: "edge", WasRole: "designated", Role: "root"}},
		{trace.OpState, trace.Event{Port: "guarded", WasState: "forwarding", State: "disabled", Role: "disabled"}},
	} {
		found := false
		for _, e := range ops[c.op] {
			w := c.want
			if e.Port == w.Port && (w.Bridge == "" || e.Bridge == w.Bridge) && (w.Root == "" || e.Root == w.Root) &&
				(w.RootPort == "" || e.RootPort == w.RootPort) && (w.State == "" || e.State == w.State) && (w.WasState == "" || e.WasState == w.WasState) &&
				(w.Role == "" || e.Role == w.Role) && (w.WasRole == "" || e.WasRole == w.WasRole) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s event with the fields of %+v; the %s events: %+v", c.op, c.want, c.op, ops[c.op])
		}
	}
}
