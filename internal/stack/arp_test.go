package stack_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
)

// floodHost is a host at 10.0.0.1/16 whose frames are counted, not sent.
type floodHost struct {
	e          *clock.Manual
	h          *stack.Host
	requests   int // ARP requests sent
	arpReplies int // ARP replies sent
	replies    int // IPv4 packets sent
}

func newFloodHost(t testing.TB) *floodHost {
	t.Helper()
	f := &floodHost{e: clock.NewManual()}
	f.h = stack.New(stack.Options{Name: "gw", Clock: f.e})
	out := link.Func(func(frame []byte) error {
		switch {
		case len(frame) >= 22 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 1:
			f.requests++
		case len(frame) >= 22 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2:
			f.arpReplies++
		case len(frame) >= 14 && frame[12] == 0x08 && frame[13] == 0x00:
			f.replies++
		}
		return nil
	})
	if _, err := f.h.AddIface("eth0", header.MAC{2, 0, 0, 0, 0, 1}, netip.MustParsePrefix("10.0.0.1/16"), out); err != nil {
		t.Fatal(err)
	}
	return f
}

// source returns the n-th on-link address and a MAC for it.
func source(n int) (netip.Addr, net.HardwareAddr) {
	n += 2
	return netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}), net.HardwareAddr{2, 1, 0, 0, byte(n >> 8), byte(n)}
}

func echoFrom(n int) []byte {
	src, mac := source(n)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: src.AsSlice(), DstIP: net.IP{10, 0, 0, 1}}
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: mac, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4},
		ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: uint16(n)})
	return buf.Bytes()
}

func whoHasFrom(n int) []byte {
	src, mac := source(n)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: mac, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: mac, SourceProtAddress: src.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 1}})
	return buf.Bytes()
}

// TestARPFloodOfSpoofedSources: 5000 pings from spoofed on-link sources, one
// a millisecond, into a host that knows 200 real neighbours from 10 s ago.
// The table never holds more than MaxARPEntries, the old neighbours are
// evicted (counted) to make room, entries younger than ARPGCProtect are
// not, so the rest of the flood is refused (counted), and the ARP requests
// sent stay within the structural rate of MaxARPEntries x ARPRetries per
// ARPRetries x ARPRetry (256 a second), far from 3 per source.
func TestARPFloodOfSpoofedSources(t *testing.T) {
	const known, flood = 200, 5000
	f := newFloodHost(t)
	for n := range known {
		f.h.Input(0, whoHasFrom(flood+n))
	}
	if got := len(f.h.ARPCache()); got != known {
		t.Fatalf("ARP cache holds %d real neighbours, want %d", got, known)
	}
	f.e.Advance(10 * time.Second)
	start := f.e.Elapsed()
	most := 0
	for n := range flood {
		f.h.Input(0, echoFrom(n))
		most = max(most, f.h.ARPEntries())
		f.e.Advance(time.Millisecond)
	}
	span := f.e.Elapsed() - start
	f.e.Advance(10 * time.Second) // every resolution has failed by then
	st := f.h.Stats()
	if most > stack.MaxARPEntries {
		t.Errorf("the table held %d entries, bound %d", most, stack.MaxARPEntries)
	}
	if st.ARPEvictions != known {
		t.Errorf("evictions = %d, want %d (the real neighbours, older than %v)", st.ARPEvictions, known, stack.ARPGCProtect)
	}
	created := st.ARPFailures // every spoofed entry made fails after its 3 requests
	if created+st.ARPTableFull != flood {
		t.Errorf("entries made %d + refused %d = %d, want %d", created, st.ARPTableFull, created+st.ARPTableFull, flood)
	}
	if st.ARPTableFull == 0 {
		t.Error("no entry refused: the flood should fill the table")
	}
	// An unresolved entry lives ARPRetries x ARPRetry and cannot be evicted
	// before: each of the MaxARPEntries places takes at most
	// ceil(span / 3 s) entries while the flood lasts.
	life := stack.ARPRetries * stack.ARPRetry
	bound := uint64(stack.MaxARPEntries*stack.ARPRetries) * uint64((span+life-1)/life)
	if st.ARPRequests != uint64(f.requests) || st.ARPRequests != stack.ARPRetries*created || st.ARPRequests > bound {
		t.Errorf("ARP requests sent %d (counted %d) for %d entries, want %d, at most %d", f.requests, st.ARPRequests, created, stack.ARPRetries*created, bound)
	}
	if f.replies != 0 {
		t.Errorf("%d echo replies left although no spoofed source resolved", f.replies)
	}
	if f.h.ARPEntries() != 0 {
		t.Errorf("%d entries left after the flood", f.h.ARPEntries())
	}
	t.Logf("flood of %d: %d entries made, %d refused, %d evicted, %d ARP requests (bound %d)", flood, created, st.ARPTableFull, st.ARPEvictions, st.ARPRequests, bound)
}

// TestARPTableFullRefuses: with the table full of entries younger than
// ARPGCProtect, a send needing a new entry fails at once with
// ErrNeighbourTableFull, and an ARP request from a new neighbour is not
// answered (as Linux); once entries are old enough, they make room.
func TestARPTableFullRefuses(t *testing.T) {
	f := newFloodHost(t)
	for n := range stack.MaxARPEntries {
		f.h.Input(0, whoHasFrom(n))
	}
	f.requests, f.arpReplies = 0, 0
	c, _ := f.h.ListenUDP(0)
	new1, _ := source(stack.MaxARPEntries + 1)
	if err := c.SendTo(netip.AddrPortFrom(new1, 9), []byte("x")); !errors.Is(err, stack.ErrNeighbourTableFull) {
		t.Errorf("send to a new neighbour in a full table: %v, want %v", err, stack.ErrNeighbourTableFull)
	}
	before := f.h.Stats().Dropped
	f.h.Input(0, whoHasFrom(stack.MaxARPEntries+2))
	if f.h.Stats().Dropped != before+1 || f.arpReplies != 0 || f.h.ARPEntries() != stack.MaxARPEntries {
		t.Errorf("who-has from a new neighbour: dropped %d, answered %d, entries %d; want 1, 0, %d", f.h.Stats().Dropped-before, f.arpReplies, f.h.ARPEntries(), stack.MaxARPEntries)
	}
	f.e.Advance(stack.ARPGCProtect)
	if err := c.SendTo(netip.AddrPortFrom(new1, 9), []byte("x")); err != nil {
		t.Errorf("send once entries are %v old: %v", stack.ARPGCProtect, err)
	}
	if st := f.h.Stats(); st.ARPEvictions != 1 || st.ARPTableFull != 2 || f.requests != 1 {
		t.Errorf("evictions %d, refusals %d, requests %d; want 1, 2, 1", st.ARPEvictions, st.ARPTableFull, f.requests)
	}
}

// TestARPEvictsLeastRecentlyUpdated: the victim is the entry updated
// longest ago, whatever the order of the map, and a confirmed entry moves
// to the back.
func TestARPEvictsLeastRecentlyUpdated(t *testing.T) {
	f := newFloodHost(t)
	for n := range stack.MaxARPEntries {
		f.h.Input(0, whoHasFrom(n))
		f.e.Advance(time.Millisecond)
	}
	f.h.Input(0, whoHasFrom(0)) // 0 is confirmed again: 1 is now the oldest
	f.e.Advance(stack.ARPGCProtect)
	f.h.Input(0, whoHasFrom(stack.MaxARPEntries))
	var gone []netip.Addr
	have := map[netip.Addr]bool{}
	for _, e := range f.h.ARPCache() {
		have[e.Addr] = true
	}
	for n := range stack.MaxARPEntries + 1 {
		if a, _ := source(n); !have[a] {
			gone = append(gone, a)
		}
	}
	if want, _ := source(1); len(gone) != 1 || gone[0] != want {
		t.Errorf("evicted %v, want [%v]", gone, want)
	}
}
