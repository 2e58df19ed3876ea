package trace_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
)

var (
	a1   = netip.MustParseAddr("172.17.0.2")
	a2   = netip.MustParseAddr("172.17.0.3")
	gw   = netip.MustParseAddr("172.17.0.1")
	ext  = netip.MustParseAddr("192.168.56.11")
	far  = netip.MustParseAddr("192.168.56.12")
	up53 = netip.MustParseAddrPort("8.8.8.8:53")
	b1   = "8000.020000000001"
	b2   = "8000.020000000002"
)

// narrated is one event of every op and kind, and the sentence --explain
// has said for it since before events had fields: the renderer must
// reproduce it from the fields.
var narrated = []struct {
	name string
	e    trace.Event
	want string
}{
	{"learned", trace.Event{Node: "s1", Kind: trace.Learned, Port: "p1", VLAN: 1, Src: "02:42:ac:11:00:02"},
		"s1 learned 02:42:ac:11:00:02 on p1 vlan 1"},
	{"flooded", trace.Event{Node: "s1", Kind: trace.Flooded, Port: "p1", VLAN: 1, Src: "02:42:ac:11:00:02", Dst: "ff:ff:ff:ff:ff:ff", Ports: []string{"p2", "p3"}, Reason: "broadcast"},
		"s1 02:42:ac:11:00:02 -> ff:ff:ff:ff:ff:ff vlan 1 from p1: broadcast, flooded to p2 p3"},
	{"lost", trace.Event{Node: "link h1:eth0--s1:p1", Kind: trace.Lost, Link: "h1:eth0--s1:p1", Port: "s1:p1", Reason: "loss"},
		"link h1:eth0--s1:p1 lost a frame to s1:p1: loss"},
	{"frame", trace.Event{Node: "link l", Kind: trace.Frame, Link: "l", Port: "h1:eth0", Len: 42, Summary: "ARP"},
		"link l carried a frame of 42 bytes from h1:eth0: ARP"},
	{"detail", trace.Event{Node: "n", Kind: trace.Host, Port: "eth0", Detail: "something free"},
		"n eth0: something free"},

	{"arp-request", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpARPRequest, Port: "eth0", DstIP: a2, SrcIP: a1, Try: 1, Tries: 3},
		"web eth0: ARP who-has 172.17.0.3? tell 172.17.0.2 (request 1 of 3)"},
	{"arp-resolved", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpARPResolved, Port: "eth0", SrcIP: a2, MAC: "02:42:ac:11:00:03"},
		"web eth0: ARP 172.17.0.3 is-at 02:42:ac:11:00:03"},
	{"arp-reply", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpARPReply, Port: "eth0", DstIP: a1, SrcIP: a2, MAC: "02:42:ac:11:00:03"},
		"db eth0: ARP reply to 172.17.0.2: 172.17.0.3 is-at 02:42:ac:11:00:03"},
	{"arp-failed", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpARPFailed, Port: "eth0", DstIP: a2, Tries: 3},
		"web eth0: ARP for 172.17.0.3 got no answer after 3 requests: host unreachable"},
	{"neighbour-evicted", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpNeighbourEvicted, Port: "eth0", DstIP: a2},
		"web eth0: neighbour 172.17.0.3 evicted: the table is full and it is the least recently updated"},
	{"echo-request", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpEchoRequest, Proto: trace.ICMP, DstIP: a2, ID: 1, Seq: 2},
		"web ping 172.17.0.3: echo request id 1 seq 2"},
	{"echo-answered", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpEchoAnswered, Port: "eth0", Proto: trace.ICMP, SrcIP: a1, DstIP: a2, ID: 1, Seq: 2},
		"db eth0: echo request from 172.17.0.2 seq 2: replying"},
	{"echo-reply", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpEchoReply, Port: "eth0", Proto: trace.ICMP, SrcIP: a2, DstIP: a1, ID: 1, Seq: 2, Dur: 1500 * time.Microsecond},
		"web eth0: echo reply from 172.17.0.3 seq 2: rtt 1.5ms"},
	{"icmp-error", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpICMPError, Port: "eth0", Proto: trace.ICMP, SrcIP: gw, ICMP: trace.ICMPType{Type: 3, Code: 3}},
		"web eth0: ICMP port unreachable from 172.17.0.1"},
	{"icmp-error-named", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpICMPError, Port: "eth0", Proto: trace.ICMP, SrcIP: gw, ICMP: trace.ICMPType{Type: 3, Code: 13}, Reason: "DestinationUnreachable(CommAdminProhibited)"},
		"web eth0: ICMP DestinationUnreachable(CommAdminProhibited) from 172.17.0.1"},
	{"icmp-error-unnamed", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpICMPError, Port: "eth0", Proto: trace.ICMP, SrcIP: gw, ICMP: trace.ICMPType{Type: 3, Code: 13}},
		"web eth0: ICMP type 3 code 13 from 172.17.0.1"},
	{"udp-sent", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpUDPSent, Proto: trace.UDP, SrcPort: 32768, DstIP: gw, DstPort: 53, Len: 20},
		"web udp 32768 -> 172.17.0.1:53: 20 bytes"},
	{"udp-sent-from", trace.Event{Node: "gw", Kind: trace.Host, Op: trace.OpUDPSent, Proto: trace.UDP, SrcIP: gw, SrcPort: 53, DstIP: a1, DstPort: 32768, Len: 40},
		"gw udp 172.17.0.1:53 -> 172.17.0.2:32768: 40 bytes"},
	{"udp-received", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpUDPReceived, Port: "eth0", Proto: trace.UDP, SrcIP: a1, SrcPort: 5000, DstIP: a2, DstPort: 9000, Len: 5},
		"db eth0: udp from 172.17.0.2:5000 to port 9000: 5 bytes delivered"},
	{"udp-unreachable", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpUDPUnreachable, Port: "eth0", Proto: trace.UDP, SrcIP: a1, SrcPort: 5000, DstIP: a2, DstPort: 9001},
		"db eth0: udp from 172.17.0.2 to port 9001: nobody listening, port unreachable"},
	{"dns-query", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpDNSQuery, Proto: trace.UDP, ID: 1, DstIP: gw, DstPort: 53, QType: "A", Name: "db."},
		"web DNS query 1 to 172.17.0.1: A? db."},
	{"dns-query-tcp", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpDNSQuery, Proto: trace.TCP, ID: 2, DstIP: gw, DstPort: 53, QType: "PTR", Name: "3.0.17.172.in-addr.arpa."},
		"web DNS query 2 over TCP to 172.17.0.1: PTR? 3.0.17.172.in-addr.arpa."},
	{"tcp-sent", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpTCPSent, Proto: trace.TCP, SrcIP: a1, SrcPort: 40000, DstIP: a2, DstPort: 80, Flags: trace.PSH | trace.ACK, Len: 120, Reason: "retransmitted"},
		"web tcp 40000 -> 172.17.0.3:80: PSH-ACK, 120 bytes: retransmitted"},
	{"tcp-sent-plain", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpTCPSent, Proto: trace.TCP, SrcIP: a1, SrcPort: 40000, DstIP: a2, DstPort: 80, Flags: trace.SYN},
		"web tcp 40000 -> 172.17.0.3:80: SYN"},
	{"tcp-received", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpTCPReceived, Port: "eth0", Proto: trace.TCP, SrcIP: a1, SrcPort: 40000, DstIP: a2, DstPort: 80, Flags: trace.SYN | trace.ACK, Reason: "connected"},
		"db eth0: tcp 80 <- 172.17.0.2:40000: SYN-ACK: connected"},
	{"tcp-received-noflags", trace.Event{Node: "db", Kind: trace.Host, Op: trace.OpTCPReceived, Port: "eth0", Proto: trace.TCP, SrcIP: a1, SrcPort: 40000, DstIP: a2, DstPort: 80, Len: 3},
		"db eth0: tcp 80 <- 172.17.0.2:40000: no flags, 3 bytes"},
	{"tcp-note", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpTCPNote, Proto: trace.TCP, SrcIP: a1, SrcPort: 40000, DstIP: a2, DstPort: 80, Reason: "TIME-WAIT over: connection closed"},
		"web tcp 40000 <-> 172.17.0.3:80: TIME-WAIT over: connection closed"},
	{"tcp-no-route", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpTCPNoRoute, Proto: trace.TCP, DstIP: far, DstPort: 80, Reason: "no route to host"},
		"web tcp connect to 192.168.56.12:80: no route to host, no SYN sent"},
	{"carrier", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpCarrier, Port: "eth0", State: "down"},
		"web eth0: carrier down"},
	{"admin", trace.Event{Node: "s1", Kind: trace.State, Op: trace.OpAdmin, Port: "p2", State: "up"},
		"s1 p2: port up"},
	{"reassembled", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpReassembled, ID: 7, SrcIP: a1, DstIP: far, Proto: trace.UDP, Count: 3, Len: 3020},
		"host1 reassembled datagram id 7 172.17.0.2 -> 192.168.56.12 (protocol 17): 3 fragments, 3020 bytes"},
	{"dns-answer", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSAnswer, Proto: trace.UDP, SrcIP: gw, DstIP: a1, DstPort: 32768, Name: "db.", QType: "A", Answers: []string{"A 172.17.0.3"}, Rcode: "NOERROR"},
		"host1 DNS answer to 172.17.0.2:32768: db. A 172.17.0.3 (NOERROR)"},
	{"dns-answer-tcp-tc-upstream", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSAnswer, Proto: trace.TCP, SrcIP: gw, DstIP: a1, DstPort: 40000, Name: "x.", Rcode: "NOERROR", TC: true, Upstream: up53},
		"host1 DNS answer over TCP to 172.17.0.2:40000: x. (NOERROR, TC) from upstream 8.8.8.8:53"},
	{"dns-answer-servfail", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSAnswer, Proto: trace.UDP, SrcIP: gw, DstIP: a1, DstPort: 32768, Name: "x.", Rcode: "SERVFAIL", Tries: 2},
		"host1 DNS answer to 172.17.0.2:32768: x. (SERVFAIL) (no upstream answered of 2)"},
	{"dns-answer-formerr", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSAnswer, Proto: trace.UDP, SrcIP: gw, DstIP: a1, DstPort: 32768, Rcode: "FORMERR", Reason: "the query did not unpack"},
		"host1 DNS answer to 172.17.0.2:32768: FORMERR"},
	{"dns-forwarded", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSForwarded, ID: 1, SrcIP: a1, SrcPort: 32768, QType: "A", Name: "example.com.", Upstream: up53, Try: 1, Tries: 2, NewID: 4242},
		"host1 DNS query 1 from 172.17.0.2:32768 for A example.com. forwarded to upstream 8.8.8.8:53 (1 of 2) as query 4242"},
	{"dns-upstream-error", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSUpstreamError, ID: 1, Name: "example.com.", Upstream: up53, Reason: "stack: no route"},
		"host1 DNS query 1 for example.com. to upstream 8.8.8.8:53: stack: no route"},
	{"dns-upstream-timeout", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSUpstreamTimeout, ID: 4242, Name: "example.com.", Upstream: up53, Dur: 5 * time.Second},
		"host1 DNS upstream 8.8.8.8:53 did not answer query 4242 for example.com. within 5s"},
	{"dns-upstream-failed", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSUpstreamFailed, ID: 4242, Name: "example.com.", Upstream: up53, Reason: "port unreachable from 8.8.8.8"},
		"host1 DNS upstream 8.8.8.8:53 for query 4242: port unreachable from 8.8.8.8"},
	{"dns-upstream-rcode", trace.Event{Node: "host1", Kind: trace.Host, Op: trace.OpDNSUpstreamRcode, ID: 4242, Name: "example.com.", Upstream: up53, Rcode: "SERVFAIL"},
		"host1 DNS upstream 8.8.8.8:53 answered query 4242 for example.com. SERVFAIL: trying the next"},
	{"dns-answer-embedded", trace.Event{Node: "web", Kind: trace.Host, Op: trace.OpDNSAnswer, Proto: trace.UDP, SrcIP: netip.MustParseAddr("127.0.0.11"), DstIP: netip.MustParseAddr("127.0.0.1"), DstPort: 32768, Name: "db.", QType: "A", Answers: []string{"A 172.18.0.3"}, Rcode: "NOERROR", Member: "host1", Container: "web"},
		"web [host1's embedded DNS server, at 127.0.0.11 in this sandbox] DNS answer to 127.0.0.1:32768: db. A 172.18.0.3 (NOERROR)"},

	{"routed", trace.Event{Node: "host1", Kind: trace.Routed, Proto: trace.TCP, SrcIP: a1, SrcPort: 32768, DstIP: far, DstPort: 80, Flags: trace.SYN | trace.ACK, Len: 120, Ports: []string{"eth0"},
		NATSrc: netip.AddrPortFrom(ext, 32768), NATDst: netip.AddrPortFrom(far, 80), NATFlow: trace.FlowCreated},
		"host1 routed tcp 172.17.0.2:32768 -> 192.168.56.12:80 [SYN, ACK] len 120 out of eth0 as 192.168.56.11:32768 -> 192.168.56.12:80"},
	{"routed-untranslated", trace.Event{Node: "host1", Kind: trace.Routed, Proto: trace.UDP, SrcIP: a1, SrcPort: 5000, DstIP: a2, DstPort: 53, Ports: []string{"br0"}},
		"host1 routed udp 172.17.0.2:5000 -> 172.17.0.3:53 out of br0"},
	{"routed-echo", trace.Event{Node: "host1", Kind: trace.Routed, Proto: trace.ICMP, SrcIP: a1, SrcPort: 3, DstIP: far, DstPort: 3, Ports: []string{"eth0"},
		NATSrc: netip.AddrPortFrom(ext, 3), NATDst: netip.AddrPortFrom(far, 3)},
		"host1 routed icmp 172.17.0.2:3 -> 192.168.56.12:3 out of eth0 as 192.168.56.11 -> 192.168.56.12"},
	{"routed-icmp-error", trace.Event{Node: "host1", Kind: trace.Routed, Proto: trace.TCP, SrcIP: far, SrcPort: 80, DstIP: ext, DstPort: 32768, ICMP: trace.ICMPType{Type: 3, Code: 3}, Ports: []string{"br0"},
		NATSrc: netip.AddrPortFrom(far, 0), NATDst: netip.AddrPortFrom(a1, 0)},
		"host1 routed tcp 192.168.56.12:80 -> 192.168.56.11:32768 out of br0 as 192.168.56.12 -> 172.17.0.2"},

	{"claims-root", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpClaimsRoot, Bridge: b1, Root: b1, Reason: "port p1 added"},
		"s1 claims root: no better bridge heard (8000.020000000001; port p1 added)"},
	{"root", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpRoot, Port: "p1", Root: b1, Cost: 19, RootPort: "p1", Bridge: b2, Reason: "BPDU from 8000.020000000001 on p1"},
		"s2 p1: root is 8000.020000000001 at cost 19 through p1 (BPDU from 8000.020000000001 on p1)"},
	{"role", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpRole, Port: "p2", WasRole: "designated", Role: "alternate", Reason: "why", Bridge: b1, Root: b1, Cost: 0},
		"s2 p2: role designated -> alternate (why): 8000.020000000001 offers root 8000.020000000001 at cost 0"},
	{"role-plain", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpRole, Port: "p2", WasRole: "disabled", Role: "designated", Reason: "port p2 added"},
		"s2 p2: role disabled -> designated (port p2 added)"},
	{"state", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpState, Port: "p2", WasState: "listening", State: "learning", Role: "designated", Reason: "forward delay 15s passed"},
		"s2 p2: state listening -> learning (forward delay 15s passed)"},
	{"tc-notify", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpTCNotify, Port: "p2", RootPort: "p1"},
		"s2 p2: topology change: notifying the root through p1"},
	{"tc", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpTC, Dur: 35 * time.Second, Reason: "a port changed state here"},
		"s1 topology change (a port changed state here): TC flag and fast ageing for 35s"},
	{"hello", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpHello, Bridge: b1, Root: b1},
		"s1 sends BPDUs claiming root: it has heard of no better bridge"},
	{"bpdu-guard", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpBPDUGuard, Port: "p3", Bridge: b2},
		"s1 p3: BPDU guard: an edge port heard a BPDU from 8000.020000000002; port disabled"},
	{"edge-lost", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpEdgeLost, Port: "p3"},
		"s1 p3: edge port heard a BPDU: now a normal port"},
	{"tcn-received", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpTCNReceived, Port: "p1"},
		"s1 p1: topology change notice received; acknowledged"},
	{"root-guard", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpRootGuard, Port: "p3", Bridge: b2, Root: b2},
		"s1 p3: root guard: 8000.020000000002 claims a better root 8000.020000000002; port blocked"},
	{"tc-ack", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpTCAck, Port: "p1", Bridge: b1},
		"s2 p1: topology change acknowledged by 8000.020000000001"},
	{"root-guard-released", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpRootGuardReleased, Port: "p3"},
		"s1 p3: root guard: superior BPDUs stopped; port released"},
	{"max-age", trace.Event{Node: "s2", Kind: trace.STP, Op: trace.OpMaxAge, Port: "p1", Bridge: b1},
		"s2 p1: information from 8000.020000000001 reached max age and is discarded"},
	{"bpdu-stopped", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpBPDUStopped},
		"s1 BPDU transmission stopped"},
	{"bpdu-resumed", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpBPDUResumed},
		"s1 BPDU transmission resumed"},
	{"encap", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpEncap, Port: "vx-ov", Src: "02:42:0a:00:00:02", Dst: "02:42:0a:00:00:03", Len: 98, VNI: 4096, VTEP: netip.MustParseAddr("192.168.56.12")},
		"host1 vx-ov: encapsulated 02:42:0a:00:00:02 -> 02:42:0a:00:00:03 (98 bytes) in VXLAN 4096 to VTEP 192.168.56.12"},
	{"decap", trace.Event{Node: "host2", Kind: trace.Overlay, Op: trace.OpDecap, Port: "vx-ov", Src: "02:42:0a:00:00:02", Dst: "02:42:0a:00:00:03", Len: 98, VNI: 4096, VTEP: netip.MustParseAddr("192.168.56.11")},
		"host2 vx-ov: decapsulated 02:42:0a:00:00:02 -> 02:42:0a:00:00:03 (98 bytes) from VXLAN 4096 of VTEP 192.168.56.11"},
	{"proxy-arp", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpProxyARP, Port: "vx-ov", DstIP: netip.MustParseAddr("10.0.0.3"), MAC: "02:42:0a:00:00:03"},
		"host1 vx-ov: answered ARP who-has 10.0.0.3 itself from the peer table: 10.0.0.3 is at 02:42:0a:00:00:03 (proxy ARP; no request crosses hosts)"},
	{"peer-added", trace.Event{Node: "host2", Kind: trace.Overlay, Op: trace.OpPeerAdded, Network: "ov", Container: "c1", SrcIP: netip.MustParseAddr("10.0.0.2"), MAC: "02:42:0a:00:00:02", VTEP: netip.MustParseAddr("192.168.56.11"), From: "host1", Round: 3},
		"host2 learned c1 10.0.0.2 02:42:0a:00:00:02 on ov at VTEP 192.168.56.11 (gossip from host1, round 3)"},
	{"peer-added-sync", trace.Event{Node: "host2", Kind: trace.Overlay, Op: trace.OpPeerAdded, Network: "ov", Container: "c1", SrcIP: netip.MustParseAddr("10.0.0.2"), MAC: "02:42:0a:00:00:02", VTEP: netip.MustParseAddr("192.168.56.11"), From: "host1", Reason: "bulk sync"},
		"host2 learned c1 10.0.0.2 02:42:0a:00:00:02 on ov at VTEP 192.168.56.11 (from host1, bulk sync)"},
	{"peer-removed", trace.Event{Node: "host2", Kind: trace.Overlay, Op: trace.OpPeerRemoved, Network: "ov", Container: "c1", SrcIP: netip.MustParseAddr("10.0.0.2"), VTEP: netip.MustParseAddr("192.168.56.11"), Reason: "host1 is dead"},
		"host2 forgot c1 10.0.0.2 on ov at VTEP 192.168.56.11: host1 is dead"},
	{"peer-learned", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpPeerLearned, Port: "vx-ov", Src: "0a:00:00:00:00:01", VNI: 42, VTEP: netip.MustParseAddr("10.9.0.2")},
		"host1 vx-ov: learned 0a:00:00:00:00:01 on VXLAN 42 behind VTEP 10.9.0.2 (flood and learn)"},
	{"member-joined", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpMemberJoined, Member: "host2", VTEP: netip.MustParseAddr("192.168.56.12"), Reason: "it answered our join"},
		"host1 member host2 (192.168.56.12) joined: it answered our join"},
	{"member-suspect", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpMemberSuspect, Member: "host2", Reason: "no ack to probe 4 within 500ms"},
		"host1 member host2 is suspect: no ack to probe 4 within 500ms"},
	{"member-alive", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpMemberAlive, Member: "host2"},
		"host1 member host2 is alive again"},
	{"member-dead", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpMemberDead, Member: "host2", Reason: "suspect for 5s"},
		"host1 member host2 is dead: suspect for 5s"},
	{"member-left", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpMemberLeft, Member: "host2"},
		"host1 member host2 left the cluster"},
	{"network-joined", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpNetworkJoined, Member: "host2", Network: "ov"},
		"host1 host2 joined network ov"},
	{"network-joined-self", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpNetworkJoined, Member: "host1", Network: "ov"},
		"host1 joined network ov"},
	{"network-left", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpNetworkLeft, Member: "host2", Network: "ov"},
		"host1 host2 left network ov"},
	{"bulk-sync", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpBulkSync, Member: "host2", Network: "ov", Count: 3, Reason: "sent"},
		"host1 bulk sync of ov with host2: 3 entries (sent)"},
	{"gossip-rejected", trace.Event{Node: "host1", Kind: trace.Overlay, Op: trace.OpGossipRejected, From: "host2", VTEP: netip.MustParseAddr("192.168.56.12"), Reason: "claims c1, which host3 owns"},
		"host1 refused gossip from host2 (192.168.56.12): claims c1, which host3 owns"},
}

func TestNarrate(t *testing.T) {
	for _, c := range narrated {
		t.Run(c.name, func(t *testing.T) {
			if got := trace.Narrate(c.e); got != c.want {
				t.Errorf("Narrate(%+v)\n = %q\nwant %q", c.e, got, c.want)
			}
		})
	}
}

// TestEveryOpNarrated: each op has a row above, so a new op gets its
// sentence tested.
func TestEveryOpNarrated(t *testing.T) {
	seen := map[trace.Op]bool{}
	for _, c := range narrated {
		seen[c.e.Op] = true
	}
	for _, o := range trace.Ops() {
		if !seen[o] {
			t.Errorf("no narration case for op %s", o)
		}
	}
}

func TestTCPFlags(t *testing.T) {
	for _, c := range []struct {
		f    trace.TCPFlags
		want string
	}{
		{0, "no flags"},
		{trace.SYN, "SYN"},
		{trace.SYN | trace.ACK, "SYN-ACK"},
		{trace.FIN | trace.ACK, "FIN-ACK"},
		{trace.RST | trace.ACK, "RST-ACK"},
		{trace.FIN | trace.SYN | trace.RST | trace.PSH | trace.ACK | trace.URG | trace.ECE | trace.CWR, "SYN-FIN-RST-PSH-ACK-URG-ECE-CWR"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("TCPFlags(%#x).String() = %q, want %q", uint8(c.f), got, c.want)
		}
	}
}
