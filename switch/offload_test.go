package vswitch_test

import (
	"encoding/binary"
	"testing"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	vswitch "github.com/netyard/netyard/switch"
)

// offloadPort records what it is sent, with the metadata.
type offloadPort struct {
	frames [][]byte
	meta   []link.Offload
}

func (p *offloadPort) Send(f []byte) error { return p.SendOffload(f, link.Offload{}) }
func (p *offloadPort) SendOffload(f []byte, o link.Offload) error {
	p.frames = append(p.frames, append([]byte(nil), f...))
	p.meta = append(p.meta, o)
	return nil
}

// tcpSuperFrame is a minimal TCP/IPv4 super-frame: 20-byte IP and TCP
// headers and payload bytes, segmented at mss.
func tcpSuperFrame(dst, src vswitch.MAC, payload, mss int) ([]byte, link.Offload) {
	f := make([]byte, 14+20+20+payload)
	copy(f, dst[:])
	copy(f[6:], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	tcp := ip[20:]
	tcp[12] = 5 << 4
	return f, link.Offload{Flags: link.FlagNeedsCsum, GSOType: link.GSOTCPv4, GSOSize: uint16(mss), CsumStart: 34, CsumOffset: 16, HdrLen: 54}
}

func TestOffloadPassesOrResolves(t *testing.T) {
	sw := vswitch.New(vswitch.Options{Clock: clock.NewManual()})
	in := &offloadPort{}
	plain := &link.Channel{}
	taker := &offloadPort{}
	trunk := &offloadPort{}
	_, _ = sw.AddPort(vswitch.PortConfig{}, in)
	_, _ = sw.AddPort(vswitch.PortConfig{}, plain)
	_, _ = sw.AddPort(vswitch.PortConfig{}, taker)
	_, _ = sw.AddPort(vswitch.PortConfig{Mode: vswitch.Trunk, Native: 0}, trunk)
	f, o := tcpSuperFrame(vswitch.Broadcast, mac(1), 4000, 1000)
	sw.InputOffload(0, f, o)
	if n := plain.Len(); n != 4 {
		t.Errorf("a port without offloads got %d frames, want 4 segments", n)
	}
	if len(taker.frames) != 1 || taker.meta[0] != o {
		t.Errorf("an offload port got %d frames %+v, want the super-frame and its metadata", len(taker.frames), taker.meta)
	}
	if len(trunk.meta) != 1 || trunk.meta[0].CsumStart != o.CsumStart+4 || trunk.meta[0].HdrLen != o.HdrLen+4 {
		t.Errorf("tagged on the trunk, the metadata should move 4 bytes: %+v", trunk.meta)
	}
	st, _ := sw.Stats(1)
	if st.TxFrames != 4 || st.TxBytes != 4*54+4000 {
		t.Errorf("plain port counted %d frames %d bytes, want 4 and %d", st.TxFrames, st.TxBytes, 4*54+4000)
	}
}
