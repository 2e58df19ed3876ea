package tap_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/switch/tap"
)

// TestURingReadsOnWhenBuffersRunOut holds the io_uring reader in its first
// frame while the kernel transmits far more frames than the reader has
// buffers (the multishot read then ends with ENOBUFS, or the device's
// queue drops), and checks that it reads on afterwards: frames sent later
// all arrive, and no read error is counted.
func TestURingReadsOnWhenBuffersRunOut(t *testing.T) {
	needRoot(t)
	if err := tap.URingAvailable(); err != nil {
		t.Skipf("io_uring reader not available here: %v", err)
	}
	leak.Check(t)
	ns := newNS(t)
	d, h, l := eth0In(t, ns, tap.Options{URing: true, Logf: t.Logf})
	peer := net.IPv4(192, 0, 2, 2)
	if err := h.NeighAdd(&netlink.Neigh{LinkIndex: l.Attrs().Index, State: netlink.NUD_PERMANENT, IP: peer,
		HardwareAddr: net.HardwareAddr{0x02, 0, 0, 0, 0xbb, 1}}); err != nil {
		t.Fatal(err)
	}

	// Frames to port 9 are the test's; the kernel may send others (IPv6
	// router solicitations) that are not counted.
	hold, late := make(chan struct{}), make(chan struct{}, 1)
	var first atomic.Bool
	var burst, after atomic.Int64
	d.Run(func(f []byte, _ link.Offload) {
		if len(f) < 42 || f[12] != 0x08 || f[13] != 0 || f[23] != 17 || f[36] != 0 || f[37] != 9 {
			return
		}
		if first.CompareAndSwap(false, true) {
			<-hold
		}
		switch f[42] {
		case 'b':
			burst.Add(1)
		case 'a':
			if after.Add(1) == 10 {
				late <- struct{}{} // a resent frame may come twice: only the tenth signals
			}
		}
	})
	send := func(tag byte, n int) {
		t.Helper()
		err := nsutil.Do(ns, func() error {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: peer, Port: 9})
			if err != nil {
				return err
			}
			defer c.Close()
			for range n {
				_, _ = c.Write([]byte{tag}) // a full device queue drops: not an error here
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	send('b', 1000) // 1000 frames against 64 buffers
	close(hold)
	// Then ten more, each once the last has arrived: every one must be
	// read. One that the kernel's queue dropped (still full of the burst)
	// is sent again; a reader that stopped reads none.
	for i := range 10 {
		for deadline := time.Now().Add(5 * time.Second); after.Load() <= int64(i); {
			if time.Now().After(deadline) {
				t.Fatalf("frame %d sent after the burst never arrived (burst: %d read; stats %+v)", i+1, burst.Load(), d.Stats())
			}
			send('a', 1)
			for wait := time.Now().Add(100 * time.Millisecond); after.Load() <= int64(i) && time.Now().Before(wait); {
				time.Sleep(time.Millisecond)
			}
		}
	}
	<-late
	if burst.Load() < 64 {
		t.Errorf("%d frames of the burst read, want at least the 64 buffers' worth", burst.Load())
	}
	if st := d.Stats(); st.ReadErrors != 0 {
		t.Errorf("stats %+v, want no read error", st)
	}
}
