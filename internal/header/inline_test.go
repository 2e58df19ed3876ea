package header_test

import (
	"os/exec"
	"regexp"
	"testing"
)

// TestGettersInline: the getters the switch, NAT and gateway read on
// every packet inline, so that a view costs what an offset did.
func TestGettersInline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with -gcflags=-m")
	}
	out, err := exec.Command("go", "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	can := map[string]bool{}
	for _, m := range regexp.MustCompile(`can inline (\S+)`).FindAllSubmatch(out, -1) {
		can[string(m[1])] = true
	}
	for _, f := range []string{
		"IsIPv4", "MAC.IsMulticast", "MAC.Uint64", "MACFromUint64",
		"Ethernet.Dst", "Ethernet.Src", "Ethernet.Dst48", "Ethernet.Src48", "Ethernet.EtherType", "Ethernet.Tagged",
		"Ethernet.TCI", "Ethernet.TagType", "Ethernet.L3Off", "Ethernet.L3", "Ethernet.Check",
		"IPv4.Check", "IPv4.Version", "IPv4.HeaderLen", "IPv4.TotalLen", "IPv4.ID", "IPv4.FlagsFrag", "IPv4.DF",
		"IPv4.IsFragment", "IPv4.FragOff", "IPv4.TTL", "IPv4.Protocol", "IPv4.Src", "IPv4.Dst", "IPv4.Src32",
		"IPv4.Dst32", "IPv4.Payload", "IPv4.SetSrcL4", "IPv4.SetDstL4",
		"TCP.SrcPort", "TCP.DstPort", "TCP.Seq", "TCP.Flags", "TCP.DataOff", "TCP.Sum",
		"UDP.SrcPort", "UDP.DstPort", "UDP.Sum",
		"ICMPv4.Type", "ICMPv4.ID", "ICMPv4.IsError", "ICMPv4.IsEcho",
		"Checksum.Update", "Checksum.Partial",
	} {
		if !can[f] {
			t.Errorf("%s does not inline", f)
		}
	}
}
