package vswitch_test

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	vswitch "github.com/netyard/netyard/switch"
)

var sampleBPDUs = []vswitch.BPDU{
	{Type: vswitch.BPDUConfig, Flags: vswitch.FlagTC | vswitch.FlagTCAck,
		Root: vswitch.NewBridgeID(4096, mac(1)), Cost: 19, Bridge: vswitch.NewBridgeID(32768, mac(2)), Port: 0x8002,
		MessageAge: time.Second, MaxAge: 20 * time.Second, HelloTime: 2 * time.Second, ForwardDelay: 15 * time.Second},
	{Type: vswitch.BPDUConfig, Root: vswitch.NewBridgeID(0, mac(9)), Bridge: vswitch.NewBridgeID(0, mac(9)), Port: 0x8001,
		MaxAge: 6 * time.Second, HelloTime: time.Second, ForwardDelay: 4 * time.Second},
	{Type: vswitch.BPDUTCN},
	{Type: vswitch.BPDURST, Version: 2, Flags: vswitch.FlagProposal | vswitch.FlagAgreement | 0x0c,
		Root: vswitch.NewBridgeID(8192, mac(3)), Cost: 20000, Bridge: vswitch.NewBridgeID(8192, mac(3)), Port: 0x8003,
		MaxAge: 20 * time.Second, HelloTime: 2 * time.Second, ForwardDelay: 15 * time.Second},
}

func TestBPDURoundTrip(t *testing.T) {
	for _, b := range sampleBPDUs {
		f := b.AppendFrame(nil, mac(7))
		if len(f) != 60 {
			t.Errorf("%v BPDU frame is %d bytes, want 60 (padded)", b.Type, len(f))
		}
		got, err := vswitch.ParseBPDU(f)
		if err != nil {
			t.Fatalf("ParseBPDU(%x): %v", f, err)
		}
		if got != b {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, b)
		}
	}
}

// TestBPDUAgainstGopacket cross-checks configuration BPDUs with gopacket's
// decoder (which handles that type only).
func TestBPDUAgainstGopacket(t *testing.T) {
	b := sampleBPDUs[0]
	f := b.AppendFrame(nil, mac(7))
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	stp, ok := p.Layer(layers.LayerTypeSTP).(*layers.STP)
	if !ok {
		t.Fatalf("gopacket finds no STP layer: %v", p)
	}
	if stp.TC != true || stp.TCA != true || stp.Cost != 19 || stp.PortID != 0x8002 ||
		stp.MessageAge != 256 || stp.MaxAge != 20*256 || stp.HelloTime != 512 || stp.FDelay != 15*256 ||
		stp.RouteID.Priority != 4096 || stp.BridgeID.HwAddr.String() != mac(2).String() {
		t.Errorf("gopacket reads %+v", stp)
	}
}

func TestParseBPDURefuses(t *testing.T) {
	good := sampleBPDUs[0].AppendFrame(nil, mac(7))
	cases := map[string][]byte{
		"not to the group address": append(frame64(mac(2), mac(1))[:0:0], frame64(mac(2), mac(1))...),
		"short":                    good[:18],
		"truncated config":         append(append([]byte(nil), good[:12]...), 0, 20, 0x42, 0x42, 3, 0, 0, 0, 0, 1, 2),
		"bad protocol id":          func() []byte { f := append([]byte(nil), good...); f[17] = 1; return f }(),
		"unknown type":             func() []byte { f := append([]byte(nil), good...); f[20] = 0x33; return f }(),
	}
	for name, f := range cases {
		if _, err := vswitch.ParseBPDU(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBridgeIDString(t *testing.T) {
	if s := vswitch.NewBridgeID(32768, mac(1)).String(); s != "8000.020000000001" {
		t.Errorf("got %s", s)
	}
}

func FuzzParseBPDU(f *testing.F) {
	for _, b := range sampleBPDUs {
		f.Add(b.AppendFrame(nil, mac(7)))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		b, err := vswitch.ParseBPDU(frame)
		if err != nil {
			return
		}
		// What parses re-encodes to something that parses the same.
		again, err := vswitch.ParseBPDU(b.AppendFrame(nil, mac(1)))
		if err != nil {
			t.Fatalf("re-encoded BPDU does not parse: %v", err)
		}
		if b.Type == vswitch.BPDUTCN {
			b = vswitch.BPDU{Type: b.Type, Version: b.Version}
		}
		if again != b {
			t.Fatalf("re-encoded %+v as %+v", b, again)
		}
	})
}
