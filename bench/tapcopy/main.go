// Command tapcopy is the bare baseline of bench/compare.sh: the least a
// userspace switch between two hosts can do. It opens (creating them if
// need be) two TAP devices by name and copies every frame read from one
// to the other, both ways, one goroutine per direction, with blocking
// read(2) and write(2) on the raw file descriptors: no learning, no
// queue, no pool, one buffer per direction.
//
// With -vnet-hdr the devices are opened with IFF_VNET_HDR and
// TUNSETOFFLOAD (checksum and TSO for IPv4 and IPv6): the kernel then
// hands over unsegmented TCP frames of up to 64 KiB with a virtio-net
// header in front, and tapcopy passes header and frame through unchanged.
//
// Usage, as root:
//
//	tapcopy [-vnet-hdr] TAP1 TAP2
//
// It prints "ready" once both devices are open and up, and runs until
// killed. Put each device in a host's namespace after it is ready (the
// open descriptors follow the device).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var vnetHdr = flag.Bool("vnet-hdr", false, "open the TAPs with IFF_VNET_HDR and enable TSO/checksum offload (TUNSETOFFLOAD)")

// bufSize holds the largest frame the kernel hands over with offloads: a
// 64 KiB GSO frame and its virtio-net header.
const bufSize = 65536 + 64

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: tapcopy [-vnet-hdr] TAP1 TAP2")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	a, err := openTAP(flag.Arg(0), *vnetHdr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tapcopy:", err)
		os.Exit(1)
	}
	b, err := openTAP(flag.Arg(1), *vnetHdr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tapcopy:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	done := make(chan error, 2)
	go func() { done <- copyFrames(b, a) }()
	go func() { done <- copyFrames(a, b) }()
	fmt.Fprintln(os.Stderr, "tapcopy:", <-done)
	os.Exit(1)
}

// ifreq is struct ifreq as TUNSETIFF reads it: a name and the flags.
type ifreq struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// openTAP opens the TAP device name (created if missing) with blocking
// I/O, and sets it up.
func openTAP(name string, vnet bool) (int, error) {
	if len(name) >= unix.IFNAMSIZ {
		return -1, fmt.Errorf("%s: name longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var req ifreq
	copy(req.name[:], name)
	req.flags = unix.IFF_TAP | unix.IFF_NO_PI
	if vnet {
		req.flags |= unix.IFF_VNET_HDR
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("%s: TUNSETIFF: %w", name, e)
	}
	if vnet {
		off := unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, off); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("%s: TUNSETOFFLOAD: %w", name, err)
		}
	}
	if err := setUp(name); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setUp sets the device's IFF_UP flag.
func setUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(s)
	req, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, req); err != nil {
		return fmt.Errorf("%s: SIOCGIFFLAGS: %w", name, err)
	}
	req.SetUint16(req.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, req); err != nil {
		return fmt.Errorf("%s: SIOCSIFFLAGS: %w", name, err)
	}
	return nil
}

// copyFrames reads frames from src and writes each to dst until an error
// other than a full or absent peer. A write the kernel refuses (the far
// device down, its queue full) drops that frame, as a switch would.
func copyFrames(dst, src int) error {
	buf := make([]byte, bufSize)
	for {
		n, err := unix.Read(src, buf)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			return fmt.Errorf("read: %w", err)
		}
		if _, err := unix.Write(dst, buf[:n]); err != nil {
			switch {
			case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN),
				errors.Is(err, unix.EIO), errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.EINVAL):
				continue
			}
			return fmt.Errorf("write: %w", err)
		}
	}
}
