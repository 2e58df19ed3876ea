package stack_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
)

// echoWith is echoFrom(n) with a payload of size bytes.
func echoWith(n, size int) []byte {
	src, mac := source(n)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Protocol: layers.IPProtocolICMPv4, SrcIP: src.AsSlice(), DstIP: net.IP{10, 0, 0, 1}}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(3 * i)
	}
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: mac, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4},
		ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 9, Seq: uint16(n)},
		gopacket.Payload(payload))
	return buf.Bytes()
}

// lastFrameHost is a host on 10.0.0.1/16 that keeps a copy of the last
// frame it sent.
func lastFrameHost(t testing.TB) (*stack.Host, *[]byte) {
	h := stack.New(stack.Options{Name: "h", Clock: clock.NewManual()})
	last := new([]byte)
	out := link.Func(func(frame []byte) error {
		*last = append((*last)[:0], frame...)
		return nil
	})
	if _, err := h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/16"), out); err != nil {
		t.Fatal(err)
	}
	return h, last
}

// TestNoAllocs holds the host's steady-state packet path at zero
// allocations: answering an ARP request, answering an echo request from a
// resolved neighbour (decoding, building the reply in place, sending).
func TestNoAllocs(t *testing.T) {
	h, last := lastFrameHost(t)
	whoHas, echo, big := whoHasFrom(0), echoWith(0, 56), echoWith(0, 1400)
	for name, f := range map[string]func(){
		"ARP reply":        func() { h.Input(0, whoHas) },
		"echo reply":       func() { h.Input(0, echo) },
		"echo reply 1400B": func() { h.Input(0, big) },
	} {
		h.Input(0, whoHas) // the neighbour is resolved (and fresh)
		f()
		*last = (*last)[:0]
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per frame, want 0", name, n)
		}
		if len(*last) == 0 {
			t.Errorf("%s: nothing sent", name)
		}
	}
}

// TestInPlaceFramesAsGopacket checks the frames the host builds in place
// against gopacket's serialisation of the same layers (the reference the
// host used before, whose bytes the mem world's goldens hold): an ARP
// reply and echo replies, padded to 60 bytes when short.
func TestInPlaceFramesAsGopacket(t *testing.T) {
	h, last := lastFrameHost(t)
	src, mac := source(0)
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	eth := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: mac, EthernetType: et}
	}

	h.Input(0, whoHasFrom(0))
	want := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(want, opts, eth(layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPReply, SourceHwAddress: net.HardwareAddr{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{10, 0, 0, 1},
		DstHwAddress: mac, DstProtAddress: src.AsSlice()})
	if !bytes.Equal(*last, want.Bytes()) {
		t.Errorf("ARP reply\n got %x\nwant %x", *last, want.Bytes())
	}

	for id, size := range []int{0, 1, 18, 56, 1400} {
		h.Input(0, echoWith(0, size))
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(3 * i)
		}
		want := gopacket.NewSerializeBuffer()
		_ = gopacket.SerializeLayers(want, opts, eth(layers.EthernetTypeIPv4),
			&layers.IPv4{Version: 4, IHL: 5, TTL: stack.DefaultTTL, Id: uint16(id + 1), Flags: layers.IPv4DontFragment,
				Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{10, 0, 0, 1}, DstIP: src.AsSlice()},
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: 9, Seq: 0},
			gopacket.Payload(payload))
		if !bytes.Equal(*last, want.Bytes()) {
			t.Errorf("echo reply with %d bytes\n got %x\nwant %x", size, *last, want.Bytes())
		}
	}
}
