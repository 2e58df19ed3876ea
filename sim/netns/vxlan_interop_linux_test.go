package netns

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil"
	vswitch "github.com/netyard/netyard/switch"
	"github.com/netyard/netyard/switch/tap"
	"github.com/netyard/netyard/switch/vxlan"
	"github.com/netyard/netyard/switch/vxlan/kernel"
)

var vxlanSeq atomic.Uint32

// TestVXLANInteropWithLinux joins netyard's VTEP to the Linux kernel's
// vxlan device over a real underlay, on one VNI:
//
//	nsC (container) ─TAP─ netyard switch ─ VTEP ─ kernel.Conn 10.99.0.1 │ nsA, "machine A"
//	                                                    │ veth underlay
//	nsD (container) ─veth─ br42 ─ vx42 (id 42 remote 10.99.0.1) 10.99.0.2 │ nsB, "machine B"
//
// netyard's side floods to B and learns; the kernel's learns too. Pings
// cross both ways, and a TCP stream from C crosses in super-frames that
// netyard segments before encapsulating. The first case uses dstport
// 4789 and noudpcsum (the kernel sends outer UDP checksum 0, which
// netyard's socket must accept); the second leaves the port to the
// kernel, whose default is 8472, and netyard follows it with
// Options.Port.
func TestVXLANInteropWithLinux(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"ip", "bridge", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (iproute2, iputils)", tool)
		}
	}
	cases := []struct {
		name  string
		args  []string // for ip link add ... type vxlan
		port  uint16   // netyard's
		shows []string // what ip -d link show says of the device
	}{
		{"dstport 4789, outer checksum 0", []string{"dstport", "4789", "noudpcsum"}, 4789, []string{"dstport 4789", "noudpcsum"}},
		{"the kernel's default port 8472", nil, 8472, []string{"dstport 8472"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { vxlanInterop(t, c.args, c.port, c.shows) })
	}
}

func vxlanInterop(t *testing.T, vxArgs []string, port uint16, shows []string) {
	leak.Check(t) // first: it runs after every cleanup below
	id := fmt.Sprintf("%x%x", os.Getpid()&0xffff, vxlanSeq.Add(1))
	var (
		underA = netip.MustParseAddr("10.99.0.1")
		underB = netip.MustParseAddr("10.99.0.2")
		addrC  = netip.MustParsePrefix("10.42.0.1/24")
		addrD  = netip.MustParsePrefix("10.42.0.2/24")
		macC   = header.MAC{0x02, 0x42, 0x0a, 0x2a, 0, 1}
		macD   = header.MAC{0x02, 0x42, 0x0a, 0x2a, 0, 2}
	)
	names := map[string]string{}
	handles := map[string]vnetns.NsHandle{}
	for _, role := range []string{"a", "b", "c", "d"} {
		name := "nyvx" + role + id
		h, _, err := nsutil.NewNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			h.Close()
			if err := nsutil.DeleteNamed(name); err != nil {
				t.Error(err)
			}
		})
		names[role], handles[role] = name, h
	}
	nl := map[string]*netlink.Handle{}
	for role, h := range handles {
		nh, err := netlink.NewHandleAt(h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nh.Close)
		nl[role] = nh
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	ipIn := func(role string, args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", names[role]}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", names[role], strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// up brings role's device dev up with addr (if valid) and mtu (if set).
	up := func(role, dev string, addr netip.Prefix, mtu int) {
		t.Helper()
		l, err := nl[role].LinkByName(dev)
		must("find "+dev, err)
		if mtu != 0 {
			must("mtu of "+dev, nl[role].LinkSetMTU(l, mtu))
		}
		if addr.IsValid() {
			must("address of "+dev, nl[role].AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}}))
		}
		must("up "+dev, nl[role].LinkSetUp(l))
	}
	veth := func(a, aName, b, bName string, bMAC header.MAC) {
		t.Helper()
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: aName, Namespace: netlink.NsFd(int(handles[a]))},
			PeerName: bName, PeerNamespace: netlink.NsFd(int(handles[b]))}
		if !bMAC.IsZero() {
			v.PeerHardwareAddr = bMAC.HardwareAddr()
		}
		must("veth "+aName+"-"+bName, netlink.LinkAdd(v))
	}

	// The underlay: machine A and machine B on one cable.
	veth("a", "ua", "b", "ub", header.MAC{})
	up("a", "ua", netip.PrefixFrom(underA, 24), 0)
	up("b", "ub", netip.PrefixFrom(underB, 24), 0)
	// As a NIC would, B's underlay finishes the inner checksums its
	// kernel leaves to an offload (see txChecksum).
	must("tx checksums on ub", txChecksum(handles["b"], "ub", false))

	// Machine B: Linux's vxlan device on a Linux bridge, and container D
	// behind it.
	ipIn("b", append(append([]string{"link", "add", "vx42", "type", "vxlan", "id", "42"}, vxArgs...),
		"remote", underA.String(), "local", underB.String(), "dev", "ub")...)
	for _, want := range shows {
		if got := ipIn("b", "-d", "link", "show", "vx42"); !strings.Contains(got, " "+want+" ") {
			t.Fatalf("the kernel's device is not what the case is about (%q):\n%s", want, got)
		}
	}
	ipIn("b", "link", "add", "br42", "type", "bridge")
	ipIn("b", "link", "set", "vx42", "master", "br42")
	veth("b", "bd", "d", "eth0", macD)
	ipIn("b", "link", "set", "bd", "master", "br42")
	up("b", "vx42", netip.Prefix{}, 0) // 1450: ub's 1500 less 50
	up("b", "bd", netip.Prefix{}, 1450)
	up("b", "br42", netip.Prefix{}, 0)
	up("d", "eth0", addrD, 1450)

	// Machine A: netyard. A kernel socket in A's namespace, a Mux and a
	// VTEP that floods to B and learns, a switch, and container C on a
	// TAP with offloads.
	var conn *kernel.Conn
	must("listen in A", nsutil.Do(handles["a"], func() (err error) {
		conn, err = kernel.Listen(netip.AddrPortFrom(underA, port))
		return err
	}))
	mux := vxlan.NewMux(conn, vxlan.Options{Node: "A", Port: port})
	vtep, err := mux.Add(vxlan.Config{Name: "vx42", VNI: 42, Learn: true, Flood: []netip.Addr{underB}})
	must("VTEP", err)
	sw := vswitch.New(vswitch.Options{Name: "A"})
	pv, err := sw.AddPort(vswitch.PortConfig{Name: "vx42"}, nil)
	must("switch port", err)
	link.Join(sw.Endpoint(pv), vtep)
	nsC := handles["c"]
	dev, err := tap.Open(tap.Options{Name: "nyvt" + id, Netns: &nsC, IfName: "eth0", MAC: macC.HardwareAddr(), MTU: 1450, Offloads: true})
	must("TAP", err)
	pc, err := sw.AddPort(vswitch.PortConfig{Name: "c"}, nil)
	must("switch port", err)
	link.Join(sw.Endpoint(pc), dev)
	dev.Start()
	up("c", "eth0", addrC, 0)
	done := make(chan error, 1)
	go func() { done <- conn.Run(mux) }()
	t.Cleanup(func() {
		must("close the socket", conn.Close())
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		dev.Close()
	})

	ping := func(from string, to netip.Addr) {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", names[from], "ping", "-n", "-c", "3", "-i", "0.2", "-W", "10", to.String()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), " 3 received") {
			t.Errorf("ping from %s to %v: %v\n%s\nnetyard's VTEP: %+v\nits FDB: %v\nthe kernel's fdb:\n%s", from, to, err, out,
				vtep.Stats(), vtep.FDB(), ipIn("b", "neigh"))
		}
	}
	ping("c", addrD.Addr()) // netyard -> Linux: C's ARP floods to B
	ping("d", addrC.Addr()) // Linux -> netyard: D's ARP comes to A from vx42's remote

	// netyard learned D behind B, and the kernel learned C behind A.
	if fdb := vtep.FDB(); !contains(fdb, vxlan.Entry{MAC: macD, VTEP: underB, Learned: true}) {
		t.Errorf("netyard's FDB %v lacks %s behind %v", fdb, macD, underB)
	}
	out, err := exec.Command("bridge", "-n", names["b"], "fdb", "show", "dev", "vx42").CombinedOutput()
	if err != nil || !strings.Contains(string(out), macC.String()+" dst "+underA.String()) {
		t.Errorf("the kernel's fdb (%v) lacks %s dst %v:\n%s", err, macC, underA, out)
	}

	// A TCP stream from C to D: C's kernel hands the TAP super-frames,
	// which the VTEP cuts to 1450-byte packets.
	var ln net.Listener
	must("listen in D", nsutil.Do(handles["d"], func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(addrD.Addr(), 0).String())
		return err
	}))
	defer ln.Close()
	data := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(uint64(port), 42))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	var c net.Conn
	must("dial from C", nsutil.Do(handles["c"], func() (err error) {
		c, err = net.DialTimeout("tcp4", ln.Addr().String(), time.Minute)
		return err
	}))
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	_, werr := c.Write(data)
	c.Close()
	recv := <-got
	if werr != nil || !bytes.Equal(recv, data) {
		t.Errorf("TCP from C to D: wrote %v; D read %d bytes (sha256 %x), want %d (%x)", werr, len(recv), sha256.Sum256(recv), len(data), sha256.Sum256(data))
	}
	st := vtep.Stats()
	if st.Dropped() != 0 || mux.Stats().Dropped() != 0 {
		t.Errorf("drops: VTEP %v, Mux %v", st.Drops, mux.Stats().Drops)
	}
	if min := uint64(len(data) / 1450); st.TxFrames < min {
		t.Errorf("%d frames encapsulated for a %d-byte stream, want at least %d", st.TxFrames, len(data), min)
	}
	cs := conn.Stats()
	t.Logf("VTEP %+v; socket %+v (%.1f packets per sendmmsg, %.1f per recvmmsg)", st, cs,
		float64(cs.Sent)/float64(max(cs.Writes, 1)), float64(cs.Received)/float64(max(cs.Reads, 1)))
}

func contains(fdb []vxlan.Entry, e vxlan.Entry) bool {
	for _, f := range fdb {
		if f == e {
			return true
		}
	}
	return false
}
