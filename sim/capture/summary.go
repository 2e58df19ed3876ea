package capture

import (
	"fmt"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Summarize decodes an Ethernet frame in one line, the way tcpdump would
// say it: the MACs, a VLAN tag, then the innermost protocol it knows —
// "02:42:ac:11:00:02 > ff:ff:ff:ff:ff:ff ARP who-has 172.17.0.3 tell
// 172.17.0.2", "... IPv4 172.17.0.2 > 172.17.0.3 TCP 40000 > 80 [SYN]
// len 0". What does not decode is said as such, never an error.
func Summarize(frame []byte) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var b strings.Builder
	eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if !ok {
		fmt.Fprintf(&b, "%d bytes, not an Ethernet frame", len(frame))
		return b.String()
	}
	fmt.Fprintf(&b, "%s > %s", eth.SrcMAC, eth.DstMAC)
	for _, l := range p.Layers()[1:] {
		switch v := l.(type) {
		case *layers.Dot1Q:
			fmt.Fprintf(&b, " vlan %d", v.VLANIdentifier)
		case *layers.ARP:
			switch v.Operation {
			case layers.ARPRequest:
				fmt.Fprintf(&b, " ARP who-has %s tell %s", ip(v.DstProtAddress), ip(v.SourceProtAddress))
			case layers.ARPReply:
				fmt.Fprintf(&b, " ARP %s is-at %s", ip(v.SourceProtAddress), mac(v.SourceHwAddress))
			default:
				fmt.Fprintf(&b, " ARP op %d", v.Operation)
			}
		case *layers.IPv4:
			fmt.Fprintf(&b, " IPv4 %s > %s ttl %d", v.SrcIP, v.DstIP, v.TTL)
			if v.Flags&layers.IPv4MoreFragments != 0 || v.FragOffset != 0 {
				fmt.Fprintf(&b, " fragment id %d offset %d", v.Id, int(v.FragOffset)*8)
			}
		case *layers.ICMPv4:
			fmt.Fprintf(&b, " ICMP %s", v.TypeCode)
			if t := v.TypeCode.Type(); t == layers.ICMPv4TypeEchoRequest || t == layers.ICMPv4TypeEchoReply {
				fmt.Fprintf(&b, " id %d seq %d", v.Id, v.Seq)
			}
		case *layers.UDP:
			fmt.Fprintf(&b, " UDP %d > %d len %d", v.SrcPort, v.DstPort, len(v.Payload))
		case *layers.TCP:
			fmt.Fprintf(&b, " TCP %d > %d [%s] seq %d", v.SrcPort, v.DstPort, tcpFlags(v), v.Seq)
			if v.ACK {
				fmt.Fprintf(&b, " ack %d", v.Ack)
			}
			fmt.Fprintf(&b, " len %d", len(v.Payload))
		case *layers.DNS:
			dnsSummary(&b, v)
		case *layers.STP:
			fmt.Fprintf(&b, " STP BPDU root %s cost %d bridge %s", bridge(v.RouteID), v.Cost, bridge(v.BridgeID))
			if v.TC {
				b.WriteString(" TC")
			}
			if v.TCA {
				b.WriteString(" TCA")
			}
		case *layers.LLC, *layers.SNAP, gopacket.Payload:
		case *gopacket.DecodeFailure:
			b.WriteString(" (undecoded)")
		}
	}
	return b.String()
}

// tcpFlags names a segment's flags in bit order, as Wireshark does:
// "SYN, ACK".
func tcpFlags(t *layers.TCP) string {
	var fl []string
	for i, on := range [...]bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if on {
			fl = append(fl, [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}[i])
		}
	}
	return strings.Join(fl, ", ")
}

// dnsSummary says a DNS message: its ID, the question, and for an answer
// its rcode and how many records.
func dnsSummary(b *strings.Builder, m *layers.DNS) {
	what := "query"
	if m.QR {
		what = "answer"
	}
	fmt.Fprintf(b, " DNS %s %d", what, m.ID)
	for _, q := range m.Questions {
		fmt.Fprintf(b, " %s? %s", q.Type, q.Name)
	}
	if m.QR {
		fmt.Fprintf(b, " %s, %d answers", m.ResponseCode, len(m.Answers))
	}
}

// bridge formats a bridge ID as the switch names it: "8000.0242ac110002".
func bridge(id layers.STPSwitchID) string {
	return fmt.Sprintf("%04x.%x", id.Priority|id.SysID, []byte(id.HwAddr))
}

// ip and mac format addresses gopacket holds as byte slices.
func ip(b []byte) string {
	if len(b) != 4 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
}

func mac(b []byte) string {
	if len(b) != 6 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
