package tap_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/internal/nsutil/nstest"
	"github.com/netyard/netyard/switch/tap"
)

var seq atomic.Uint32

// uniq returns a name unique to this test process, at most 15 bytes.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%x%x", prefix, os.Getpid()&0xffff, seq.Add(1))
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and TAP devices")
	}
}

// newNS makes an anonymous namespace that disappears with its last handle.
func newNS(t *testing.T) netns.NsHandle {
	t.Helper()
	ns, err := nsutil.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

func arpRequest(src net.HardwareAddr, from, to netip.Addr) []byte {
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: src, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: src, SourceProtAddress: from.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: to.AsSlice()})
	return buf.Bytes()
}

// TestKernelAnswersThroughTAP puts a TAP into a fresh namespace as eth0 with
// an address, asks the kernel for that address by ARP through the device,
// and reads the kernel's reply back from it.
func TestKernelAnswersThroughTAP(t *testing.T) {
	for reader, o := range readers {
		for _, q := range []int{0, tap.DefaultQueue} {
			for _, off := range []bool{false, true} {
				o.Queue, o.Offloads = q, off
				t.Run(fmt.Sprintf("%s,queue=%d,offloads=%v", reader, q, off), func(t *testing.T) { kernelAnswers(t, o) })
			}
		}
	}
}

// eth0In opens a device of o as eth0 in ns, with 192.0.2.1/24, closed at
// the test's end; it returns the device, a netlink handle in ns (closed
// too) and eth0.
func eth0In(t *testing.T, ns netns.NsHandle, o tap.Options) (*tap.Device, *netlink.Handle, netlink.Link) {
	t.Helper()
	o.Name, o.Netns, o.IfName = uniq("nyt"), &ns, "eth0"
	d, err := tap.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	l, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatalf("eth0 not in the namespace: %v", err)
	}
	addr, _ := netlink.ParseAddr("192.0.2.1/24")
	if err := h.AddrAdd(l, addr); err != nil {
		t.Fatal(err)
	}
	return d, h, l
}

// kernelAnswers is TestKernelAnswersThroughTAP with the reader, egress
// queue and offloads of o.
func kernelAnswers(t *testing.T, o tap.Options) {
	needRoot(t)
	leak.Check(t)
	ns := newNS(t)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0xaa, 1}
	o.MAC, o.MTU = mac, 1400
	d, _, l := eth0In(t, ns, o)
	if l.Attrs().MTU != 1400 || l.Attrs().HardwareAddr.String() != mac.String() {
		t.Errorf("eth0 has MTU %d MAC %s", l.Attrs().MTU, l.Attrs().HardwareAddr)
	}

	replies := make(chan []byte, 16)
	d.Run(func(f []byte, _ link.Offload) { replies <- append([]byte(nil), f...) })
	peer := net.HardwareAddr{0x02, 0, 0, 0, 0xbb, 1}
	if err := d.Send(arpRequest(peer, netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-replies:
			p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
			if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok && a.Operation == layers.ARPReply {
				if net.HardwareAddr(a.SourceHwAddress).String() != mac.String() {
					t.Errorf("ARP reply from %v, want %v", net.HardwareAddr(a.SourceHwAddress), mac)
				}
				if err := d.Close(); err != nil { // waits for the writer
					t.Fatal(err)
				}
				if st := d.Stats(); st.TxFrames != 1 || st.WriteErrors != 0 || st.TxQueueFull != 0 {
					t.Errorf("stats %+v, want one frame written", st)
				}
				if err := d.Send(make([]byte, 60)); err != tap.ErrClosed {
					t.Errorf("Send after Close: %v", err)
				}
				return
			}
		case <-deadline:
			t.Fatal("no ARP reply from the kernel through the TAP")
		}
	}
}

// readers are the ways a device's reader can wait, as Options set them.
var readers = map[string]tap.Options{"poller": {}, "ppoll": {PPoll: true}, "uring": {URing: true}}

// TestCloseRemovesDevice: closing the device removes it and stops the
// reader, whichever way it waits.
func TestCloseRemovesDevice(t *testing.T) {
	for name, o := range readers {
		t.Run(name, func(t *testing.T) { closeRemoves(t, o) })
	}
}

func closeRemoves(t *testing.T, o tap.Options) {
	needRoot(t)
	leak.Check(t)
	name := uniq("nyt")
	o.Name = name
	d, err := tap.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	d.Run(func([]byte, link.Offload) {})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(name); err == nil {
		t.Errorf("%s still exists after Close", name)
	}
	if err := d.Send([]byte{1}); err != tap.ErrClosed {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestBadName(t *testing.T) {
	if _, err := tap.Open(tap.Options{Name: "a-name-that-is-far-too-long"}); err == nil {
		t.Error("a 27-byte name was accepted")
	}
}

// TestDeviceGoneIsReportedNotPanicked deletes the device under a running
// reader: the read error is counted and reported, the reader stops, and
// sending fails with an error instead of a panic, whichever way the reader
// waits.
func TestDeviceGoneIsReportedNotPanicked(t *testing.T) {
	for name, o := range readers {
		t.Run(name, func(t *testing.T) { goneReported(t, o) })
	}
}

func goneReported(t *testing.T, o tap.Options) {
	needRoot(t)
	leak.Check(t)
	ns := newNS(t)
	logged := make(chan string, 1)
	o.Name, o.Netns, o.IfName = uniq("nyt"), &ns, "eth0"
	o.Logf = func(format string, args ...any) { logged <- fmt.Sprintf(format, args...) }
	d, err := tap.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.Run(func([]byte, link.Offload) {})
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-logged:
		if !strings.Contains(msg, "read") {
			t.Errorf("reported %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not notice its device was deleted")
	}
	if st := d.Stats(); st.ReadErrors != 1 {
		t.Errorf("stats %+v, want one read error", st)
	}
	if err := d.Send(make([]byte, 60)); err == nil {
		t.Error("Send to a deleted device succeeded")
	}
}

func TestMain(m *testing.M) { nstest.Main(m) }

// TestNeverTakesOverADevice: a name that is taken, by a persistent TAP
// made by hand, by another netyard TAP or by any other device, is refused
// with ErrExists, and the device that has it is left as it was (TUNSETIFF
// without IFF_TUN_EXCL would attach to a persistent TAP, and netyard would
// move it into a namespace and destroy it at teardown).
func TestNeverTakesOverADevice(t *testing.T) {
	needRoot(t)
	leak.Check(t)
	if !nstest.Inside() {
		t.Fatal("not in the test sandbox")
	}
	for _, offloads := range []bool{false, true} {
		byHand := uniq("nyh")
		if out, err := exec.Command("ip", "tuntap", "add", "dev", byHand, "mode", "tap").CombinedOutput(); err != nil {
			t.Skipf("ip tuntap add: %v %s", err, out)
		}
		veth := uniq("nyv")
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: veth}, PeerName: veth + "p"}); err != nil {
			t.Fatal(err)
		}
		mine, err := tap.Open(tap.Options{Name: uniq("nyt"), Offloads: offloads})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{byHand, veth, mine.Name()} {
			d, err := tap.Open(tap.Options{Name: name, Offloads: offloads, MTU: 1280, Alias: "netyard run x"})
			if err == nil {
				d.Close()
				t.Fatalf("offloads %v: Open(%s) took over an existing device", offloads, name)
			}
			if !errors.Is(err, tap.ErrExists) {
				t.Errorf("offloads %v: Open(%s): %v, want ErrExists", offloads, name, err)
			}
			l, err := netlink.LinkByName(name)
			if err != nil {
				t.Fatalf("%s is gone: %v", name, err)
			}
			if l.Attrs().MTU == 1280 || l.Attrs().Alias != "" {
				t.Errorf("%s was changed: %+v", name, l.Attrs())
			}
		}
		if err := mine.Send(make([]byte, 60)); err != nil {
			t.Errorf("the first device no longer works: %v", err)
		}
		mine.Close()
	}
}

func TestBadIfNames(t *testing.T) {
	for _, name := range []string{"..", ".", "a/b", "a:b", "a b", "a\nb"} {
		if _, err := tap.Open(tap.Options{Name: "nyok", IfName: name}); err == nil || !strings.Contains(err.Error(), "device name") {
			t.Errorf("IfName %q: %v", name, err)
		}
	}
}
