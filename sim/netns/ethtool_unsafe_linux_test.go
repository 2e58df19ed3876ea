package netns

import (
	"fmt"
	"runtime"
	"unsafe"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netyard/netyard/internal/nsutil"
)

// txChecksum turns a device's transmit checksum offload on or off
// (ethtool -K DEV tx on|off, through the legacy ETHTOOL_STXCSUM ioctl),
// in namespace ns.
//
// The VXLAN interop test needs it off on machine B's underlay: a veth
// hands the frames it carries to the other namespace with their checksum
// still to be done (CHECKSUM_PARTIAL), which the receiving kernel takes
// as verified, so an encapsulated TCP segment would reach netyard's
// socket with its inner checksum unfinished. A real NIC (or a veth with
// tx off) computes it on the way out.
func txChecksum(ns vnetns.NsHandle, dev string, on bool) error {
	return nsutil.Do(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		val := &struct{ cmd, data uint32 }{cmd: unix.ETHTOOL_STXCSUM}
		if on {
			val.data = 1
		}
		var ifr struct {
			name [unix.IFNAMSIZ]byte
			data uintptr
			_    [16]byte
		}
		if len(dev) >= unix.IFNAMSIZ {
			return fmt.Errorf("device name %q too long", dev)
		}
		copy(ifr.name[:], dev)
		ifr.data = uintptr(unsafe.Pointer(val))
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		runtime.KeepAlive(val)
		if errno != 0 {
			return fmt.Errorf("ethtool -K %s tx: %w", dev, errno)
		}
		return nil
	})
}
