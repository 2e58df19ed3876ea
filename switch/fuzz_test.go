package vswitch_test

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	vswitch "github.com/netyard/netyard/switch"
)

func seedFrames(f *testing.F) {
	f.Add(frame64(mac(2), mac(1)))
	f.Add(frame64(vswitch.Broadcast, mac(1)))
	f.Add(vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{PCP: 3, DEI: true}, 10))
	f.Add(vswitch.AppendTagged(nil, frame64(mac(2), mac(1)), vswitch.Tag{}, 0))
	f.Add([]byte{})
	f.Add(make([]byte, 13))
	f.Add(append(frame64(mac(2), mac(1))[:12], 0x81, 0x00, 0x00))
	f.Add(frame64(vswitch.MAC{0x01, 0x80, 0xc2, 0, 0, 0}, mac(1)))
	f.Add(doubleTagged(10, 20))
	f.Add(doubleTagged(0, 20))
	f.Add(append(frame64(mac(2), mac(1))[:12], 0x88, 0xa8, 0x00, 0x14)) // an 802.1ad tag
	f.Add(append(frame64(mac(2), mac(1))[:12], 0x88, 0xa8))             // ... cut short
	f.Add(doubleTagged(10, 20)[:18])
}

// FuzzParseTag checks the VLAN tag view against gopacket, the slow
// reference, and that retagging round-trips.
func FuzzParseTag(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		tag, ok := vswitch.ParseTag(frame)
		var eth layers.Ethernet
		refErr := eth.DecodeFromBytes(frame, gopacket.NilDecodeFeedback)
		if !ok {
			if len(frame) >= 18 || (len(frame) >= 14 && refErr == nil && eth.EthernetType != layers.EthernetTypeDot1Q) {
				t.Fatalf("ParseTag refused a %d-byte frame", len(frame))
			}
			return
		}
		if refErr != nil {
			t.Fatalf("ParseTag accepted what gopacket refuses: %v", refErr)
		}
		if tag.Tagged != (eth.EthernetType == layers.EthernetTypeDot1Q) {
			t.Fatalf("Tagged = %v, gopacket EtherType %v", tag.Tagged, eth.EthernetType)
		}
		if tag.Tagged {
			var d layers.Dot1Q
			if err := d.DecodeFromBytes(eth.Payload, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("gopacket refuses the tag: %v", err)
			}
			if d.VLANIdentifier != tag.VID || d.Priority != tag.PCP || d.DropEligible != tag.DEI || uint16(d.Type) != tag.Inner {
				t.Fatalf("tag %+v, gopacket %+v", tag, d)
			}
		}
		// Round trips: tag then untag gives the untagged frame back.
		untagged := vswitch.AppendUntagged(nil, frame, tag)
		retagged := vswitch.AppendTagged(nil, frame, tag, 42)
		t2, ok := vswitch.ParseTag(retagged)
		if !ok || !t2.Tagged || t2.VID != 42 || t2.PCP != tag.PCP || t2.DEI != tag.DEI {
			t.Fatalf("retagged frame parses as %+v", t2)
		}
		if back := vswitch.AppendUntagged(nil, retagged, t2); !bytes.Equal(back, untagged) {
			t.Fatalf("untag(tag(f)) = %x, want %x", back, untagged)
		}
	})
}

// FuzzInput feeds arbitrary frames to a switch with access and trunk ports:
// it must never panic, and every frame is counted on receipt.
func FuzzInput(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		narrate := trace.Func(func(e trace.Event) { _ = trace.Narrate(e) }) // the drop paths that trace read the frame too
		sw := vswitch.New(vswitch.Options{Clock: clock.NewManual(), MaxEntries: 4, Tracer: narrate})
		_, _ = sw.AddPort(vswitch.PortConfig{PVID: 10}, link.Discard)
		_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 10}, link.Discard)
		_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Allowed: []uint16{10, 20}}, link.Discard)
		for p := range 3 {
			sw.Input(p, frame)
			st, _ := sw.Stats(p)
			if st.RxFrames != 1 {
				t.Fatalf("port %d rx = %d, want 1", p, st.RxFrames)
			}
			if len(frame) < vswitch.EthHdrLen && st.Drops["runt"] != 1 {
				t.Fatalf("a %d-byte frame was not counted as a runt: %v", len(frame), st.Drops)
			}
		}
	})
}
