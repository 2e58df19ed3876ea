package vswitch_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	vswitch "github.com/netyard/netyard/switch"
)

// vtag is one tag of a frame's stack of VLAN tags, outermost first.
type vtag struct {
	tpid layers.EthernetType
	vid  uint16
}

// ping returns an ICMP echo request from src to dst carrying tags.
func ping(t *testing.T, dst, src vswitch.MAC, tags ...vtag) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(src[:]), DstMAC: net.HardwareAddr(dst[:]), EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	next := &eth.EthernetType
	for _, tg := range tags {
		*next = tg.tpid
		d := &layers.Dot1Q{VLANIdentifier: tg.vid, Type: layers.EthernetTypeIPv4}
		ls = append(ls, d)
		next = &d.Type
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 4)}
	ls = append(ls, ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}, gopacket.Payload("hop"))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// isPing reports whether f is the echo request ping built, and its VLAN
// tags as a switch would read them (outermost first).
func isPing(f []byte) (vids []uint16, ok bool) {
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	for _, l := range p.Layers() {
		if d, isTag := l.(*layers.Dot1Q); isTag {
			vids = append(vids, d.VLANIdentifier)
		}
	}
	icmp, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	return vids, icmp != nil && icmp.TypeCode.Type() == layers.ICMPv4TypeEchoRequest
}

var (
	attacker = mac(1) // on s1, access VLAN 10
	victim   = mac(4) // on s2, access VLAN 20
	neighbor = mac(3) // on s2, access VLAN 10
	q        = layers.EthernetTypeDot1Q
	ad       = layers.EthernetTypeQinQ
)

// hopLab is the double-tagging lab of issue 9 item 11: s1 has the
// attacker on an access port in VLAN 10 and a trunk (native VLAN 10, VLAN
// 20 tagged) to s2, which has the victim in VLAN 20 and a host in VLAN 10.
type hopLab struct {
	s1, s2       *vswitch.Switch
	victimPort   *link.Channel
	neighborPort *link.Channel
	events       []trace.Event
}

func newHopLab(t *testing.T) *hopLab {
	t.Helper()
	e := clock.NewManual()
	l := &hopLab{victimPort: &link.Channel{}, neighborPort: &link.Channel{}}
	tr := trace.Func(func(ev trace.Event) { l.events = append(l.events, ev) })
	l.s1 = vswitch.New(vswitch.Options{Name: "s1", Clock: e, Tracer: tr})
	l.s2 = vswitch.New(vswitch.Options{Name: "s2", Clock: e, Tracer: tr})
	trunk := vswitch.PortConfig{Name: "trunk", Mode: vswitch.Trunk, Native: 10, Allowed: []uint16{20}}
	must := func(_ int, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.s1.AddPort(vswitch.PortConfig{Name: "attacker", PVID: 10}, link.Discard))
	must(l.s1.AddPort(trunk, link.Func(func(f []byte) error { l.s2.Input(0, f); return nil })))
	must(l.s2.AddPort(trunk, link.Discard))
	must(l.s2.AddPort(vswitch.PortConfig{Name: "victim", PVID: 20}, l.victimPort))
	must(l.s2.AddPort(vswitch.PortConfig{Name: "neighbor", PVID: 10}, l.neighborPort))
	// Both hosts have spoken, so their switches know where they are.
	l.s2.Input(1, frame64(vswitch.Broadcast, victim))
	l.s2.Input(2, frame64(vswitch.Broadcast, neighbor))
	l.victimPort.Drain()
	l.neighborPort.Drain()
	return l
}

// TestDoubleTagHoppingDropped replays the attack of issue 9 item 11: the
// attacker in VLAN 10 sends a ping with a second tag for VLAN 20 inside.
// s1 would strip the outer tag onto the trunk's untagged native VLAN, and
// s2 would read the inner one and deliver the ping in VLAN 20. The frame is
// dropped at the attacker's port instead, counted and traced, whatever the
// outer tag: VLAN 10, a priority tag, none at all (an 802.1ad tag as the
// EtherType).
func TestDoubleTagHoppingDropped(t *testing.T) {
	tests := []struct {
		name string
		tags []vtag
	}{
		{"tagged VLAN 10 around a VLAN 20 tag", []vtag{{q, 10}, {q, 20}}},
		{"priority-tagged around a VLAN 20 tag", []vtag{{q, 0}, {q, 20}}},
		{"802.1ad tag for VLAN 20", []vtag{{ad, 20}}},
		{"802.1ad tag around an 802.1Q tag", []vtag{{ad, 20}, {q, 20}}},
		{"tagged VLAN 10 around an 802.1ad tag", []vtag{{q, 10}, {ad, 20}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newHopLab(t)
			l.s1.Input(0, ping(t, victim, attacker, tc.tags...))
			if got := len(l.victimPort.Drain()); got != 0 {
				t.Errorf("the victim in VLAN 20 received %d frames from VLAN 10, want 0", got)
			}
			st, _ := l.s1.Stats(0)
			if st.Drops["double-tag"] != 1 || st.Dropped() != 1 {
				t.Errorf("s1 attacker port drops = %v, want double-tag 1 only", st.Drops)
			}
			traced := false
			var log []string
			for _, e := range l.events {
				traced = traced || e.Kind == trace.Dropped && e.Node == "s1" && e.Port == "attacker" && e.VLAN == 10 &&
					strings.HasPrefix(e.Reason, "double-tag: ") && strings.HasSuffix(e.Reason, "for VLAN 20")
				log = append(log, e.Node+" "+trace.Narrate(e))
			}
			if !traced {
				t.Errorf("no double-tag drop of VLAN 10 with a VLAN 20 tag traced on s1 attacker; trace:\n%s", strings.Join(log, "\n"))
			}
		})
	}
}

// TestDoubleTagLabStillForwards checks the lab itself: the same ping with
// only its own VLAN reaches VLAN 10 across the trunk, untagged.
func TestDoubleTagLabStillForwards(t *testing.T) {
	for _, tags := range [][]vtag{nil, {{q, 10}}, {{q, 0}}} {
		l := newHopLab(t)
		l.s1.Input(0, ping(t, neighbor, attacker, tags...))
		got := l.neighborPort.Drain()
		if len(got) != 1 {
			t.Fatalf("tags %v: the VLAN 10 neighbour received %d frames, want 1", tags, len(got))
		}
		if vids, ok := isPing(got[0]); !ok || len(vids) != 0 {
			t.Errorf("tags %v: the neighbour got tags %v (ping %v), want an untagged ping", tags, vids, ok)
		}
		if n := len(l.victimPort.Drain()); n != 0 {
			t.Errorf("tags %v: the victim received %d frames, want 0", tags, n)
		}
	}
}

// TestDoubleTagOnTrunk: a trunk carries QinQ in its tagged VLANs (a frame
// of VLAN 20 whose payload is tagged again is passed on, both tags kept),
// but drops on arrival a frame of its native VLAN, the one it carries
// untagged, whose payload is a tag: sent on untagged, that inner tag would
// choose the VLAN at the next switch.
func TestDoubleTagOnTrunk(t *testing.T) {
	tests := []struct {
		name   string
		tags   []vtag
		passes bool
	}{
		{"QinQ in tagged VLAN 20", []vtag{{q, 20}, {q, 30}}, true},
		{"802.1ad in tagged VLAN 20", []vtag{{q, 20}, {ad, 30}}, true},
		{"native VLAN 10, tagged, around a tag", []vtag{{q, 10}, {q, 20}}, false},
		{"native VLAN 10, priority-tagged, around a tag", []vtag{{q, 0}, {q, 20}}, false},
		{"native VLAN 10, an 802.1ad tag", []vtag{{ad, 20}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := clock.NewManual()
			sw := vswitch.New(vswitch.Options{Clock: e})
			in, out := &link.Channel{}, &link.Channel{}
			_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 10, Allowed: []uint16{20}}, in)
			_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 10, Allowed: []uint16{20}}, out)
			f := ping(t, victim, attacker, tc.tags...)
			sw.Input(0, f)
			got := out.Drain()
			st, _ := sw.Stats(0)
			if !tc.passes {
				if len(got) != 0 || st.Drops["double-tag"] != 1 {
					t.Errorf("sent %d frames, drops %v; want none sent, double-tag 1", len(got), st.Drops)
				}
				return
			}
			if len(got) != 1 || st.Dropped() != 0 {
				t.Fatalf("sent %d frames, drops %v; want 1 sent, no drops", len(got), st.Drops)
			}
			if string(got[0]) != string(f) {
				t.Errorf("QinQ frame changed on its way: sent %x, want %x", got[0], f)
			}
		})
	}
}

// TestDoubleTagLeavingANativeTrunk: QinQ in VLAN 20, tagged on the trunk
// it came in by, is not sent out of a trunk whose native VLAN is 20 (its
// inner tag would be outermost there), but still reaches a trunk that
// tags VLAN 20, intact, and an access port of VLAN 20, without its outer
// tag.
func TestDoubleTagLeavingANativeTrunk(t *testing.T) {
	e := clock.NewManual()
	sw := vswitch.New(vswitch.Options{Clock: e})
	in, native, tagged, access := &link.Channel{}, &link.Channel{}, &link.Channel{}, &link.Channel{}
	_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 10, Allowed: []uint16{20}}, in)
	_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 20}, native)
	_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Allowed: []uint16{20}}, tagged)
	_, _ = sw.AddPort(vswitch.PortConfig{PVID: 20}, access)
	f := ping(t, vswitch.Broadcast, attacker, vtag{q, 20}, vtag{q, 30})
	sw.Input(0, f)
	if n := len(native.Drain()); n != 0 {
		t.Errorf("the trunk with native VLAN 20 sent %d frames, want 0", n)
	}
	if st, _ := sw.Stats(1); st.Drops["double-tag"] != 1 {
		t.Errorf("native trunk drops = %v, want double-tag 1", st.Drops)
	}
	if got := tagged.Drain(); len(got) != 1 || string(got[0]) != string(f) {
		t.Errorf("the tagged trunk sent %d frames, want the QinQ frame as it came", len(got))
	}
	got := access.Drain()
	if len(got) != 1 {
		t.Fatalf("the access port sent %d frames, want 1", len(got))
	}
	if vids, ok := isPing(got[0]); !ok || fmt.Sprint(vids) != "[30]" {
		t.Errorf("the access port sent tags %v (ping %v), want the inner tag 30 only", vids, ok)
	}
}
