package vswitch_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	vswitch "github.com/netyard/netyard/switch"
)

// rig is a switch on a virtual clock whose ports are channels.
type rig struct {
	t      *testing.T
	e      *clock.Manual
	sw     *vswitch.Switch
	ports  []*link.Channel
	events []trace.Event
}

func newRig(t *testing.T, o vswitch.Options, cfgs ...vswitch.PortConfig) *rig {
	t.Helper()
	r := &rig{t: t, e: clock.NewManual()}
	o.Clock = r.e
	o.Tracer = trace.Func(func(e trace.Event) { r.events = append(r.events, e) })
	r.sw = vswitch.New(o)
	for _, c := range cfgs {
		ch := &link.Channel{}
		if _, err := r.sw.AddPort(c, ch); err != nil {
			t.Fatal(err)
		}
		r.ports = append(r.ports, ch)
	}
	return r
}

func access(n int) []vswitch.PortConfig { return make([]vswitch.PortConfig, n) }

// in feeds a frame on port p.
func (r *rig) in(p int, f []byte) { r.sw.Input(p, f) }

// got returns how many frames each port sent, and drains them.
func (r *rig) got() []int {
	n := make([]int, len(r.ports))
	for i, c := range r.ports {
		n[i] = len(c.Drain())
	}
	return n
}

func (r *rig) want(want ...int) {
	r.t.Helper()
	if got := r.got(); fmt.Sprint(got) != fmt.Sprint(want) {
		r.t.Errorf("frames sent per port = %v, want %v", got, want)
	}
}

func (r *rig) drops(p int) map[string]uint64 {
	st, err := r.sw.Stats(p)
	if err != nil {
		r.t.Fatal(err)
	}
	return st.Drops
}

func TestLearnFloodForward(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(3)...)
	r.in(0, frame64(mac(2), mac(1))) // unknown destination: flood
	r.want(0, 1, 1)
	r.in(1, frame64(mac(1), mac(2))) // known: forward to port 0 only
	r.want(1, 0, 0)
	r.in(0, frame64(mac(2), mac(1)))
	r.want(0, 1, 0)
	if p, ok := r.sw.Lookup(1, mac(1)); !ok || p != "p0" {
		t.Errorf("Lookup(mac1) = %q, %v; want p0", p, ok)
	}
	if n := len(r.sw.FDB()); n != 2 {
		t.Errorf("FDB has %d entries, want 2", n)
	}
}

func TestFloodOrderIsPortOrder(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(5)...)
	r.in(2, frame64(vswitch.Broadcast, mac(1)))
	var flood trace.Event
	for _, e := range r.events {
		if e.Kind == trace.Flooded {
			flood = e
		}
	}
	if got := strings.Join(flood.Ports, " "); got != "p0 p1 p3 p4" {
		t.Errorf("flooded to %q, want p0 p1 p3 p4", got)
	}
}

func TestFilterSamePort(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(2)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.in(0, frame64(vswitch.Broadcast, mac(2)))
	r.got()
	r.in(0, frame64(mac(2), mac(1))) // both on port 0
	r.want(0, 0)
	if r.drops(0)["filtered"] != 1 {
		t.Errorf("drops = %v, want filtered 1", r.drops(0))
	}
}

func TestDropReasons(t *testing.T) {
	ll := vswitch.MAC{0x01, 0x80, 0xc2, 0, 0, 0x0e} // LLDP
	tests := []struct {
		name   string
		frame  []byte
		reason string
	}{
		{"runt", make([]byte, 13), "runt"},
		{"tagged runt", append(frame64(mac(2), mac(1))[:12], 0x81, 0x00, 0x00), "runt"},
		{"multicast source", frame64(mac(2), vswitch.Broadcast), "bad-source"},
		{"zero source", frame64(mac(2), vswitch.MAC{}), "bad-source"},
		{"link-local", frame64(ll, mac(1)), "link-local"},
		{"other vlan tagged on access", vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{}, 20), "vlan"},
		{"vid 4095", vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{}, 4095), "vlan"},
		{"double-tagged", doubleTagged(1, 20), "double-tag"},
		{"priority tag around a tag", doubleTagged(0, 20), "double-tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, vswitch.Options{}, access(2)...)
			r.in(0, tc.frame)
			r.want(0, 0)
			if d := r.drops(0); d[tc.reason] != 1 || len(d) != 1 {
				t.Errorf("drops = %v, want only %s=1", d, tc.reason)
			}
		})
	}
}

// doubleTagged returns a frame from mac(1) to mac(2) tagged outer, with a
// second 802.1Q tag for inner inside.
func doubleTagged(outer, inner uint16) []byte {
	f := vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{}, inner)
	return vswitch.AppendTagged(nil, f, vswitch.Tag{}, outer) // Tag{}: f's own tag stays, as payload
}

func TestPriorityTaggedJoinsPVID(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(2)...)
	r.in(0, vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{PCP: 5}, 0))
	r.want(0, 1)
	if _, ok := r.sw.Lookup(1, mac(1)); !ok {
		t.Error("priority-tagged source not learned in VLAN 1")
	}
}

// decode returns the VLAN of a frame (0 if untagged) using gopacket, the
// reference decoder.
func decodeVLAN(t *testing.T, f []byte) uint16 {
	t.Helper()
	var eth layers.Ethernet
	if err := eth.DecodeFromBytes(f, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket cannot decode %x: %v", f, err)
	}
	if eth.EthernetType != layers.EthernetTypeDot1Q {
		return 0
	}
	var d layers.Dot1Q
	if err := d.DecodeFromBytes(eth.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket cannot decode the tag of %x: %v", f, err)
	}
	return d.VLANIdentifier
}

func TestVLANAccessTrunk(t *testing.T) {
	r := newRig(t, vswitch.Options{},
		vswitch.PortConfig{PVID: 10},
		vswitch.PortConfig{PVID: 20},
		vswitch.PortConfig{Mode: vswitch.Trunk, Allowed: []uint16{10, 20}, Native: 20},
		vswitch.PortConfig{Mode: vswitch.Trunk, Allowed: []uint16{30}},
	)
	// From access VLAN 10: only the trunk carries it, tagged.
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	out := make([][][]byte, 4)
	for i, c := range r.ports {
		out[i] = c.Drain()
	}
	if len(out[1]) != 0 || len(out[3]) != 0 || len(out[2]) != 1 {
		t.Fatalf("VLAN 10 flood reached %d %d %d %d frames, want 0 0 1 0", len(out[0]), len(out[1]), len(out[2]), len(out[3]))
	}
	if v := decodeVLAN(t, out[2][0]); v != 10 {
		t.Errorf("trunk frame VLAN = %d, want 10", v)
	}
	// From access VLAN 20: the trunk's native VLAN, so untagged.
	r.in(1, frame64(vswitch.Broadcast, mac(2)))
	f := r.ports[2].Drain()
	if len(f) != 1 || decodeVLAN(t, f[0]) != 0 {
		t.Errorf("native VLAN frame on trunk: %d frames, want 1 untagged", len(f))
	}
	// Tagged 10 from the trunk reaches the access port untagged.
	r.got()
	r.in(2, vswitch.AppendTagged(nil, frame64(mac(1), mac(9)), vswitch.Tag{}, 10))
	f = r.ports[0].Drain()
	if len(f) != 1 || decodeVLAN(t, f[0]) != 0 || len(f[0]) != 64 {
		t.Errorf("trunk to access: got %d frames, want 1 untagged of 64 bytes", len(f))
	}
	// Untagged on a trunk without native VLAN: dropped.
	r.in(3, frame64(vswitch.Broadcast, mac(7)))
	if r.drops(3)["vlan"] != 1 {
		t.Errorf("drops = %v, want vlan 1", r.drops(3))
	}
	// The same MAC in two VLANs is two entries (independent VLAN learning).
	r.in(2, vswitch.AppendTagged(nil, frame64(vswitch.Broadcast, mac(5)), vswitch.Tag{}, 10))
	r.in(2, frame64(vswitch.Broadcast, mac(5)))
	n := 0
	for _, e := range r.sw.FDB() {
		if e.MAC == mac(5) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("mac5 has %d FDB entries, want 2 (VLAN 10 and 20)", n)
	}
}

func TestAgeingIsExact(t *testing.T) {
	r := newRig(t, vswitch.Options{AgeingTime: 30 * time.Second}, access(2)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.e.Advance(30*time.Second - time.Nanosecond)
	if _, ok := r.sw.Lookup(1, mac(1)); !ok {
		t.Fatal("entry gone before its time")
	}
	r.e.Advance(time.Nanosecond)
	if _, ok := r.sw.Lookup(1, mac(1)); ok {
		t.Fatal("entry still there at its time")
	}
	aged := false
	for _, e := range r.events {
		aged = aged || (e.Kind == trace.Aged && e.Time.Sub(clock.Epoch) == 30*time.Second)
	}
	if !aged {
		t.Error("no aged event at 30s")
	}
	if r.e.Pending() != 0 {
		t.Errorf("%d timers left after the table emptied", r.e.Pending())
	}
}

func TestRefreshPostponesAgeing(t *testing.T) {
	r := newRig(t, vswitch.Options{AgeingTime: 10 * time.Second}, access(2)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.e.Advance(6 * time.Second)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.e.Advance(9 * time.Second) // 15 s: first deadline passed, refreshed one not
	if _, ok := r.sw.Lookup(1, mac(1)); !ok {
		t.Fatal("refreshed entry aged at its old deadline")
	}
	r.e.Advance(time.Second) // 16 s
	if _, ok := r.sw.Lookup(1, mac(1)); ok {
		t.Fatal("entry outlived its refreshed deadline")
	}
}

func TestMove(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(3)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.in(2, frame64(vswitch.Broadcast, mac(1)))
	if p, _ := r.sw.Lookup(1, mac(1)); p != "p2" {
		t.Errorf("after move, mac1 on %q, want p2", p)
	}
	moved := false
	for _, e := range r.events {
		moved = moved || e.Kind == trace.Moved
	}
	if !moved {
		t.Error("no moved event")
	}
}

func TestFDBFullKeepsForwarding(t *testing.T) {
	r := newRig(t, vswitch.Options{MaxEntries: 2}, access(2)...)
	for i := 1; i <= 3; i++ {
		r.in(0, frame64(vswitch.Broadcast, mac(byte(i))))
	}
	r.want(0, 3)
	if n := len(r.sw.FDB()); n != 2 {
		t.Errorf("FDB has %d entries, want the bound 2", n)
	}
	if r.drops(0)["fdb-full"] != 1 {
		t.Errorf("drops = %v, want fdb-full 1", r.drops(0))
	}
}

func TestFDBGrowsAndShrinks(t *testing.T) {
	r := newRig(t, vswitch.Options{AgeingTime: time.Second}, access(2)...)
	for round := range 3 {
		for i := range 1000 {
			src := vswitch.MAC{0x02, 1, byte(round), 0, byte(i >> 8), byte(i)}
			r.in(0, frame64(vswitch.Broadcast, src))
		}
		if n := len(r.sw.FDB()); n != 1000 {
			t.Fatalf("round %d: %d entries, want 1000", round, n)
		}
		r.e.Advance(time.Second)
		if n := len(r.sw.FDB()); n != 0 {
			t.Fatalf("round %d: %d entries after ageing, want 0", round, n)
		}
	}
}

func TestPortDownFlushes(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(2)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	if err := r.sw.SetPortUp(0, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.sw.Lookup(1, mac(1)); ok {
		t.Error("entry survived its port going down")
	}
	r.got()
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.in(1, frame64(vswitch.Broadcast, mac(2)))
	r.want(0, 0)
	if r.drops(0)["port-down"] != 1 {
		t.Errorf("drops = %v, want port-down 1", r.drops(0))
	}
	_ = r.sw.SetPortUp(0, true)
	_ = r.sw.SetCarrier(1, false)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	r.want(0, 0)
}

func TestMirror(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(4)...)
	if err := r.sw.SetMirror(3, 0); err != nil {
		t.Fatal(err)
	}
	r.in(1, frame64(vswitch.Broadcast, mac(2))) // flood: p0 sends (mirrored), p2 sends; p3 is a monitor
	r.want(1, 0, 1, 1)
	r.in(0, frame64(mac(2), mac(1))) // p0 receives (mirrored), forwarded to p1
	r.want(0, 1, 0, 1)
	r.in(3, frame64(vswitch.Broadcast, mac(4)))
	r.want(0, 0, 0, 0)
	if r.drops(3)["monitor"] != 1 {
		t.Errorf("drops = %v, want monitor 1", r.drops(3))
	}
}

func TestCounters(t *testing.T) {
	r := newRig(t, vswitch.Options{}, access(2)...)
	r.in(0, frame64(vswitch.Broadcast, mac(1)))
	a, _ := r.sw.Stats(0)
	b, _ := r.sw.Stats(1)
	if a.RxFrames != 1 || a.RxBytes != 64 || b.TxFrames != 1 || b.TxBytes != 64 {
		t.Errorf("stats p0 %+v p1 %+v", a, b)
	}
}

func TestTxErrorCounted(t *testing.T) {
	e := clock.NewManual()
	sw := vswitch.New(vswitch.Options{Clock: e})
	_, _ = sw.AddPort(vswitch.PortConfig{}, link.Discard)
	_, _ = sw.AddPort(vswitch.PortConfig{}, link.Func(func([]byte) error { return link.ErrDown }))
	sw.Input(0, frame64(vswitch.Broadcast, mac(1)))
	if st, _ := sw.Stats(1); st.Drops["tx-error"] != 1 || st.TxFrames != 0 {
		t.Errorf("stats %+v, want tx-error 1 and no tx", st)
	}
}

func TestBadConfig(t *testing.T) {
	sw := vswitch.New(vswitch.Options{})
	for _, c := range []vswitch.PortConfig{{PVID: 4095}, {Mode: vswitch.Trunk, Allowed: []uint16{0}}, {Mode: 7}} {
		if _, err := sw.AddPort(c, link.Discard); err == nil {
			t.Errorf("AddPort(%+v) accepted", c)
		}
	}
	_, _ = sw.AddPort(vswitch.PortConfig{Name: "a"}, link.Discard)
	if _, err := sw.AddPort(vswitch.PortConfig{Name: "a"}, link.Discard); err == nil {
		t.Error("duplicate port name accepted")
	}
	if err := sw.SetPortUp(9, false); err == nil {
		t.Error("SetPortUp on a missing port accepted")
	}
	sw.Input(9, frame64(vswitch.Broadcast, mac(1))) // must not panic
}

// TestNoAllocs enforces zero allocations on the forwarding path.
func TestNoAllocs(t *testing.T) {
	e := clock.NewManual()
	sw := vswitch.New(vswitch.Options{Clock: e})
	a, _ := sw.AddPort(vswitch.PortConfig{PVID: 10}, link.Discard)
	b, _ := sw.AddPort(vswitch.PortConfig{PVID: 10}, link.Discard)
	tr, _ := sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk}, link.Discard)
	sw.Input(b, frame64(vswitch.Broadcast, mac(2)))
	uni, bc := frame64(mac(2), mac(1)), frame64(vswitch.Broadcast, mac(1))
	tagged := vswitch.AppendTagged(nil, frame64(mac(2), mac(3)), vswitch.Tag{}, 10)
	double := doubleTagged(10, 20)
	for name, f := range map[string]func(){
		"unicast":         func() { sw.Input(a, uni) },
		"flood":           func() { sw.Input(a, bc) },
		"untagging":       func() { sw.Input(tr, tagged) },
		"double-tag drop": func() { sw.Input(a, double) },
	} {
		f()
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per frame, want 0", name, n)
		}
	}
}

// TestConcurrentInput feeds every port from its own goroutine while the
// table learns, moves, ages and is read: run with -race.
func TestConcurrentInput(t *testing.T) {
	const ports, frames = 4, 2000
	sw := vswitch.New(vswitch.Options{AgeingTime: time.Millisecond, MaxEntries: 64})
	for range ports {
		_, _ = sw.AddPort(vswitch.PortConfig{}, link.Discard)
	}
	var wg sync.WaitGroup
	for p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range frames {
				src := mac(byte(i%100 + 1)) // shared sources: moves between ports
				sw.Input(p, frame64(mac(byte((i+p)%100+1)), src))
				if i%500 == 0 {
					_ = sw.FDB()
					_, _ = sw.Stats(p)
				}
			}
		}()
	}
	wg.Wait()
	var rx uint64
	for p := range ports {
		st, _ := sw.Stats(p)
		rx += st.RxFrames
	}
	if rx != ports*frames {
		t.Errorf("rx frames = %d, want %d", rx, ports*frames)
	}
}

// TestDropReasonNames checks that every reason has a distinct name that
// parses back to it (scenario files name them), double-tag among them.
func TestDropReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range vswitch.DropReasons() {
		n := r.String()
		if n == "" || n == "unknown" || seen[n] {
			t.Errorf("reason %d is named %q", r, n)
		}
		seen[n] = true
		if back, ok := vswitch.ParseDropReason(n); !ok || back != r {
			t.Errorf("ParseDropReason(%q) = %v, %v; want %v, true", n, back, ok, r)
		}
	}
	if r, ok := vswitch.ParseDropReason("double-tag"); !ok || r != vswitch.DropDoubleTag {
		t.Errorf("ParseDropReason(double-tag) = %v, %v; want DropDoubleTag", r, ok)
	}
}

// TestIsolatedPorts: two isolated ports never exchange frames, flooded or
// forwarded; each still reaches a port that is not isolated (Linux's
// bridge port flag isolated, Docker's enable_icc false).
func TestIsolatedPorts(t *testing.T) {
	r := newRig(t, vswitch.Options{}, vswitch.PortConfig{}, vswitch.PortConfig{Isolated: true}, vswitch.PortConfig{Isolated: true})
	r.in(1, frame64(vswitch.Broadcast, mac(1))) // from an isolated port: to the gateway's only
	r.want(1, 0, 0)
	r.in(0, frame64(vswitch.Broadcast, mac(9))) // from the open port: to both
	r.want(0, 1, 1)
	r.in(2, frame64(mac(9), mac(2))) // known, to the open port
	r.want(1, 0, 0)
	r.in(2, frame64(mac(1), mac(2))) // known, to another isolated port: dropped
	r.want(0, 0, 0)
	if r.drops(2)["isolated"] != 1 {
		t.Errorf("drops = %v, want isolated 1", r.drops(2))
	}
}
