package netns

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/switch/vxlan"
)

// TestMachineVXLANSocket: a Docker host's VTEPs on a machine of its own
// bind a kernel UDP socket on the host's address; an address this machine
// does not have is refused saying so, with the addresses it has.
func TestMachineVXLANSocket(t *testing.T) {
	needRoot(t)
	leak.Check(t)
	u := &machineUnderlay{}
	if _, err := u.OpenVXLAN("host1", netip.MustParseAddrPort("192.0.2.11:4789")); err == nil || !strings.Contains(err.Error(), "192.0.2.11 is not an address of this machine") {
		t.Errorf("OpenVXLAN on an address not here: %v", err)
	}
	c, err := u.OpenVXLAN("host1", netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := u.OpenVXLAN("host2", netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	m := vxlan.NewMux(c, vxlan.Options{})
	c.Serve(m)
	c.Serve(m) // once is enough; a second is no second reader
	pkt := make([]byte, header.VXLANLen+14)
	pkt[0] = 0x08 // I flag, VNI 0: no VTEP has it, so the Mux counts it
	if err := peer.Send(c.(*vxlanConn).LocalAddr(), pkt); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); m.Stats().Drops[vxlan.DropUnknownVNI.String()] == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the socket's reader never handed the packet to the Mux")
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := peer.Close(); err != nil { // never served: Close does not wait
		t.Errorf("Close of a conn never served: %v", err)
	}
}
