package capture_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/netyard/netyard/sim/capture"
	vswitch "github.com/netyard/netyard/switch"
)

var (
	a1 = netip.MustParseAddr("172.17.0.2")
	a2 = netip.MustParseAddr("172.17.0.3")
	m1 = net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 2}
	m2 = net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 3}
	bc = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// frames are one frame of each protocol Summarize knows.
func frames(t testing.TB) []struct {
	name, want string
	frame      []byte
} {
	ip := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: a1.AsSlice(), DstIP: a2.AsSlice()}
	}
	syn := &layers.TCP{SrcPort: 40000, DstPort: 80, SYN: true, Seq: 1000, Window: 512}
	tip := ip(layers.IPProtocolTCP)
	_ = syn.SetNetworkLayerForChecksum(tip)
	u := &layers.UDP{SrcPort: 32768, DstPort: 53}
	uip := ip(layers.IPProtocolUDP)
	_ = u.SetNetworkLayerForChecksum(uip)
	q := new(dns.Msg)
	q.SetQuestion("db.", dns.TypeA)
	q.Id = 7
	wire, _ := q.Pack()
	root := vswitch.NewBridgeID(32768, vswitch.MAC{2, 0, 0, 0, 0, 1})
	bpdu := vswitch.BPDU{Type: vswitch.BPDUConfig, Root: root, Bridge: root, Cost: 0, Port: 0x8001, Flags: vswitch.FlagTC,
		MaxAge: 20 * time.Second, HelloTime: 2 * time.Second, ForwardDelay: 15 * time.Second}.AppendFrame(nil, vswitch.MAC{2, 0, 0, 0, 0, 1})
	return []struct {
		name, want string
		frame      []byte
	}{
		{"arp", "02:42:ac:11:00:02 > ff:ff:ff:ff:ff:ff ARP who-has 172.17.0.3 tell 172.17.0.2", serialize(t,
			&layers.Ethernet{SrcMAC: m1, DstMAC: bc, EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
				SourceHwAddress: m1, SourceProtAddress: a1.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: a2.AsSlice()})},
		{"arp reply", "02:42:ac:11:00:03 > 02:42:ac:11:00:02 ARP 172.17.0.3 is-at 02:42:ac:11:00:03", serialize(t,
			&layers.Ethernet{SrcMAC: m2, DstMAC: m1, EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
				SourceHwAddress: m2, SourceProtAddress: a2.AsSlice(), DstHwAddress: m1, DstProtAddress: a1.AsSlice()})},
		{"tcp in a vlan", "02:42:ac:11:00:02 > 02:42:ac:11:00:03 vlan 10 IPv4 172.17.0.2 > 172.17.0.3 ttl 64 TCP 40000 > 80 [SYN] seq 1000 len 0", serialize(t,
			&layers.Ethernet{SrcMAC: m1, DstMAC: m2, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, tip, syn)},
		{"echo", "02:42:ac:11:00:02 > 02:42:ac:11:00:03 IPv4 172.17.0.2 > 172.17.0.3 ttl 64 ICMP EchoRequest id 1 seq 2", serialize(t,
			&layers.Ethernet{SrcMAC: m1, DstMAC: m2, EthernetType: layers.EthernetTypeIPv4}, ip(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 2})},
		{"dns", "02:42:ac:11:00:02 > 02:42:ac:11:00:03 IPv4 172.17.0.2 > 172.17.0.3 ttl 64 UDP 32768 > 53 len 20 DNS query 7 A? db", serialize(t,
			&layers.Ethernet{SrcMAC: m1, DstMAC: m2, EthernetType: layers.EthernetTypeIPv4}, uip, u, gopacket.Payload(wire))},
		{"bpdu", "02:00:00:00:00:01 > 01:80:c2:00:00:00 STP BPDU root 8000.020000000001 cost 0 bridge 8000.020000000001 TC", bpdu},
		{"runt", "3 bytes, not an Ethernet frame", []byte{1, 2, 3}},
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range frames(t) {
		if got := capture.Summarize(c.frame); got != c.want {
			t.Errorf("%s: Summarize = %q\nwant %q", c.name, got, c.want)
		}
	}
}

// FuzzSummarize: any bytes give a line, never a panic.
func FuzzSummarize(f *testing.F) {
	for _, c := range frames(f) {
		f.Add(c.frame)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if s := capture.Summarize(b); s == "" {
			t.Errorf("Summarize(%x) = \"\"", b)
		}
	})
}
