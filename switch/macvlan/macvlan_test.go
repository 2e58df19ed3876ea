package macvlan_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/switch/macvlan"
)

var (
	card    = header.MAC{0x02, 0, 192, 168, 56, 11}
	hostIP  = netip.MustParseAddr("192.168.56.11")
	lanHost = header.MAC{0x02, 0, 0, 0, 0, 0x99}
	lanIP   = netip.MustParseAddr("192.168.56.12")
)

func mac(a string) header.MAC {
	b := netip.MustParseAddr(a).As4()
	return header.MAC{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// lab is a card with its ports drained into channels.
type lab struct {
	n      *macvlan.NIC
	out    []*link.Channel
	events []trace.Event
}

func (l *lab) Trace(e trace.Event) { l.events = append(l.events, e) }

func newLab(t *testing.T, kids ...macvlan.Child) *lab {
	t.Helper()
	l := &lab{}
	n, err := macvlan.New(macvlan.Options{Name: "eth0", Host: "host1", MAC: card, HostAddr: hostIP, Tracer: l, Children: kids})
	if err != nil {
		t.Fatal(err)
	}
	l.n = n
	for i := range n.Ports() {
		c := &link.Channel{}
		l.out = append(l.out, c)
		n.Endpoint(i).Attach(link.Funcs{Frame: func(f []byte) { _ = c.Send(f) }})
	}
	return l
}

// got returns how many frames each port sent, and forgets them.
func (l *lab) got() []int {
	var n []int
	for _, c := range l.out {
		n = append(n, len(c.Drain()))
	}
	return n
}

func macvlanKid(name, addr, mode string) macvlan.Child {
	return macvlan.Child{Container: name, Network: "mv", Parent: "eth0", Driver: macvlan.Macvlan, Mode: mode, MAC: mac(addr), Addr: netip.MustParseAddr(addr)}
}

func ipvlanKid(name, addr, mode, flag string) macvlan.Child {
	return macvlan.Child{Container: name, Network: "iv", Parent: "eth0", Driver: macvlan.IPvlan, Mode: mode, Flag: flag, MAC: card, Addr: netip.MustParseAddr(addr)}
}

func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func arp(t *testing.T, src header.MAC, srcIP netip.Addr, dst header.MAC, target netip.Addr, vlan uint16) []byte {
	eth := &layers.Ethernet{SrcMAC: src[:], DstMAC: dst[:], EthernetType: layers.EthernetTypeARP}
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: src[:], SourceProtAddress: srcIP.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: target.AsSlice()}
	if vlan != 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		return serialize(t, eth, &layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeARP}, a)
	}
	return serialize(t, eth, a)
}

func ping(t *testing.T, src header.MAC, srcIP netip.Addr, dst header.MAC, dstIP netip.Addr) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: src[:], DstMAC: dst[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: srcIP.AsSlice(), DstIP: dstIP.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
}

func eq(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d ports, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: frames out of each port %v, want %v", what, got, want)
			return
		}
	}
}

var bcast = header.Broadcast

func TestMacvlanBridge(t *testing.T) {
	l := newLab(t, macvlanKid("c1", "192.168.56.3", "bridge"), macvlanKid("c2", "192.168.56.4", "bridge"))
	c1, c2 := netip.MustParseAddr("192.168.56.3"), netip.MustParseAddr("192.168.56.4")
	// ports: wire, host, c1, c2
	l.n.Input(macvlan.FirstChild, arp(t, mac("192.168.56.3"), c1, bcast, c2, 0))
	eq(t, "a child's broadcast", l.got(), []int{1, 0, 0, 1})
	l.n.Input(macvlan.FirstChild, ping(t, mac("192.168.56.3"), c1, mac("192.168.56.4"), c2))
	eq(t, "to a sibling", l.got(), []int{0, 0, 0, 1})
	l.n.Input(macvlan.FirstChild, ping(t, mac("192.168.56.3"), c1, lanHost, lanIP))
	eq(t, "to the LAN", l.got(), []int{1, 0, 0, 0})
	l.n.Input(macvlan.PortWire, arp(t, lanHost, lanIP, bcast, c1, 0))
	eq(t, "a broadcast from the wire", l.got(), []int{0, 1, 1, 1})
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, mac("192.168.56.4"), c2))
	eq(t, "unicast from the wire", l.got(), []int{0, 0, 0, 1})
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, card, hostIP))
	eq(t, "for the host", l.got(), []int{0, 1, 0, 0})
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, header.MAC{2, 9, 9, 9, 9, 9}, hostIP))
	eq(t, "for nobody", l.got(), []int{0, 0, 0, 0})
	// The host and its children never meet.
	l.n.Input(macvlan.PortHost, arp(t, card, hostIP, bcast, c1, 0))
	eq(t, "the host's ARP for a child", l.got(), []int{1, 0, 0, 0})
	l.n.Input(macvlan.FirstChild, arp(t, mac("192.168.56.3"), c1, bcast, hostIP, 0))
	eq(t, "a child's ARP for the host", l.got(), []int{1, 0, 0, 1})
	st := l.n.Stats()
	if st.Dropped(macvlan.HostToChild) != 1 || st.Dropped(macvlan.ChildToHost) != 1 || st.Dropped(macvlan.NotForUs) != 1 {
		t.Errorf("stats %+v", st)
	}
	var said []string
	for _, e := range l.events {
		said = append(said, trace.Narrate(e))
	}
	all := strings.Join(said, "\n")
	for _, w := range []string{"host-to-child: host1's own frame for its child c1", "child-to-host: c1's frame for host1 (192.168.56.11) is not handed to host1's own stack"} {
		if !strings.Contains(all, w) {
			t.Errorf("narration lacks %q:\n%s", w, all)
		}
	}
}

func TestMacvlanModes(t *testing.T) {
	c1, c2 := netip.MustParseAddr("192.168.56.3"), netip.MustParseAddr("192.168.56.4")
	for _, mode := range []string{"private", "vepa"} {
		l := newLab(t, macvlanKid("c1", "192.168.56.3", mode), macvlanKid("c2", "192.168.56.4", mode))
		l.n.Input(macvlan.FirstChild, arp(t, mac("192.168.56.3"), c1, bcast, c2, 0))
		eq(t, mode+": a child's broadcast", l.got(), []int{1, 0, 0, 0})
		l.n.Input(macvlan.FirstChild, ping(t, mac("192.168.56.3"), c1, mac("192.168.56.4"), c2))
		want := []int{1, 0, 0, 0} // vepa: to the switch, to hairpin
		if mode == "private" {
			want = []int{0, 0, 0, 0}
		}
		eq(t, mode+": to a sibling", l.got(), want)
		// What a hairpinning switch would send back.
		l.n.Input(macvlan.PortWire, ping(t, mac("192.168.56.3"), c1, mac("192.168.56.4"), c2))
		want = []int{0, 0, 0, 1}
		if mode == "private" {
			want = []int{0, 0, 0, 0}
		}
		eq(t, mode+": a sibling's frame back from the switch", l.got(), want)
	}
	l := newLab(t, macvlanKid("c1", "192.168.56.3", "passthru"))
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, card, hostIP))
	eq(t, "passthru: the child has the whole card", l.got(), []int{0, 0, 1})
	if _, err := macvlan.New(macvlan.Options{MAC: card, Children: []macvlan.Child{macvlanKid("c1", "192.168.56.3", "passthru"), macvlanKid("c2", "192.168.56.4", "passthru")}}); err == nil {
		t.Error("two passthru children on one parent accepted")
	}
	if _, err := macvlan.New(macvlan.Options{MAC: card, Children: []macvlan.Child{macvlanKid("c1", "192.168.56.3", "source")}}); err == nil {
		t.Error("an unknown mode accepted")
	}
}

func TestSubInterface(t *testing.T) {
	k := macvlanKid("c1", "192.168.10.2", "bridge")
	k.Parent, k.VLAN = "eth0.10", 10
	l := newLab(t, k)
	c1, v10 := netip.MustParseAddr("192.168.10.2"), netip.MustParseAddr("192.168.10.50")
	l.n.Input(macvlan.FirstChild, arp(t, mac("192.168.10.2"), c1, bcast, v10, 0))
	frames := l.out[macvlan.PortWire].Drain()
	if len(frames) != 1 || !header.Ethernet(frames[0]).Tagged() || header.Ethernet(frames[0]).VID() != 10 {
		t.Fatalf("a child of eth0.10 sent %d frames to the wire, want 1 tagged 10", len(frames))
	}
	l.n.Input(macvlan.PortWire, arp(t, lanHost, v10, bcast, c1, 10))
	frames = l.out[macvlan.FirstChild].Drain()
	if len(frames) != 1 || header.Ethernet(frames[0]).Tagged() {
		t.Fatalf("a broadcast of VLAN 10: the child got %d frames, want 1 untagged", len(frames))
	}
	eq(t, "VLAN 10 is not the host's", l.got(), []int{0, 0, 0})
	l.n.Input(macvlan.PortWire, arp(t, lanHost, v10, bcast, c1, 20))
	eq(t, "a VLAN with no sub-interface", l.got(), []int{0, 0, 0})
	if l.n.Stats().Dropped(macvlan.NoVLAN) != 1 {
		t.Errorf("stats %+v", l.n.Stats())
	}
	d := macvlanKid("c2", "10.9.0.2", "bridge")
	d.Parent, d.Dummy = "dm-inner", true
	d2 := d
	d2.Container, d2.Addr, d2.MAC = "c3", netip.MustParseAddr("10.9.0.3"), mac("10.9.0.3")
	l = newLab(t, d, d2)
	l.n.Input(macvlan.FirstChild, arp(t, mac("10.9.0.2"), d.Addr, bcast, lanIP, 0))
	eq(t, "a dummy parent has no wire, and its children share it", l.got(), []int{0, 0, 0, 1})
	l.n.Input(macvlan.FirstChild+1, ping(t, mac("10.9.0.3"), d2.Addr, mac("10.9.0.2"), d.Addr))
	eq(t, "siblings on a dummy", l.got(), []int{0, 0, 1, 0})
}

func TestIPvlanL2(t *testing.T) {
	l := newLab(t, ipvlanKid("c1", "192.168.56.192", "l2", ""), ipvlanKid("c2", "192.168.56.193", "l2", ""))
	c1, c2 := netip.MustParseAddr("192.168.56.192"), netip.MustParseAddr("192.168.56.193")
	l.n.Input(macvlan.FirstChild, arp(t, card, c1, bcast, c2, 0))
	eq(t, "a child's ARP", l.got(), []int{1, 0, 0, 1})
	l.n.Input(macvlan.FirstChild+1, ping(t, card, c2, card, c1))
	eq(t, "to a sibling, by address", l.got(), []int{0, 0, 1, 0})
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, card, c2))
	eq(t, "from the wire, by address", l.got(), []int{0, 0, 0, 1})
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, card, hostIP))
	eq(t, "from the wire, for the host", l.got(), []int{0, 1, 0, 0})
	l.n.Input(macvlan.PortWire, arp(t, lanHost, lanIP, bcast, c1, 0))
	eq(t, "a broadcast from the wire", l.got(), []int{0, 1, 1, 1})
	l.n.Input(macvlan.FirstChild, ping(t, card, c1, card, hostIP))
	eq(t, "a child's packet for the host", l.got(), []int{1, 0, 0, 0})
	if l.n.Stats().Dropped(macvlan.ChildToHost) != 1 {
		t.Errorf("stats %+v", l.n.Stats())
	}
	l = newLab(t, ipvlanKid("c1", "192.168.56.192", "l2", "private"), ipvlanKid("c2", "192.168.56.193", "l2", "private"))
	l.n.Input(macvlan.FirstChild, ping(t, card, c1, card, c2))
	eq(t, "private", l.got(), []int{0, 0, 0, 0})
}

func TestIPvlanL3(t *testing.T) {
	l := newLab(t, ipvlanKid("a", "192.168.214.10", "l3", ""), ipvlanKid("b", "10.1.214.10", "l3", ""))
	a, b := netip.MustParseAddr("192.168.214.10"), netip.MustParseAddr("10.1.214.10")
	l.n.Input(macvlan.FirstChild, ping(t, card, a, card, b))
	eq(t, "across subnets", l.got(), []int{0, 0, 0, 1})
	l.n.Input(macvlan.FirstChild, arp(t, card, a, bcast, b, 0))
	l.n.Input(macvlan.FirstChild, ping(t, card, a, bcast, netip.MustParseAddr("255.255.255.255")))
	l.n.Input(macvlan.FirstChild, ping(t, card, a, card, lanIP))
	l.n.Input(macvlan.PortWire, arp(t, lanHost, lanIP, bcast, a, 0))
	eq(t, "no ARP, no broadcast, no way out", l.got(), []int{0, 1, 0, 0})
	st := l.n.Stats()
	if st.Dropped(macvlan.L3NoARP) != 1 || st.Dropped(macvlan.L3NoBcast) != 1 || st.Dropped(macvlan.L3Outbound) != 1 {
		t.Errorf("stats %+v", st)
	}
	l.n.Input(macvlan.PortWire, ping(t, lanHost, lanIP, card, a))
	eq(t, "routed to from the wire", l.got(), []int{0, 0, 1, 0})
}

func TestRunt(t *testing.T) {
	l := newLab(t)
	for p := range l.n.Ports() {
		l.n.Input(p, []byte{1, 2, 3})
	}
	if l.n.Stats().Dropped(macvlan.Runt) != 2 {
		t.Errorf("stats %+v", l.n.Stats())
	}
}

// FuzzInput feeds the card frames from outside (a TAP in netns is the
// world's) on every port: it never panics, and every frame taken is
// either sent somewhere or counted.
func FuzzInput(f *testing.F) {
	kids := []macvlan.Child{macvlanKid("c1", "192.168.56.3", "bridge"), ipvlanKid("c2", "192.168.56.193", "l2", ""), ipvlanKid("c3", "10.1.214.10", "l3", "")}
	kids[2].Parent, kids[2].VLAN = "eth0.10", 10
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), make([]byte, 14))
	f.Add(uint8(0), append([]byte{255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 10, 0x08, 0x06}, make([]byte, 28)...))
	f.Add(uint8(2), append(append(append([]byte{}, card[:]...), card[:]...), 0x08, 0x00, 0x45))
	f.Add(uint8(4), append(append(append([]byte{}, card[:]...), card[:]...), 0x08, 0x06, 0, 1))
	f.Fuzz(func(t *testing.T, port uint8, frame []byte) {
		n, err := macvlan.New(macvlan.Options{MAC: card, HostAddr: hostIP, Children: kids, Tracer: &lab{}}) // the narration's paths too
		if err != nil {
			t.Fatal(err)
		}
		for i := range n.Ports() {
			n.Endpoint(i).Attach(link.Funcs{})
		}
		n.Input(int(port)%n.Ports(), frame)
		st := n.Stats()
		var drops uint64
		for r, v := range st.Drops {
			if r != int(macvlan.HostToChild) && r != int(macvlan.ChildToHost) {
				drops += v
			}
		}
		if st.In != 1 || st.Out == 0 && drops == 0 {
			t.Errorf("a frame neither sent nor counted: %+v", st)
		}
	})
}
