//go:build linux

package tap

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/netyard/netyard/internal/link"
)

// writeVnet writes the virtio-net header and the frame with one writev(2),
// without copying the frame. The descriptor is non-blocking; when the
// device's queue is full it waits for the poller.
func (d *Device) writeVnet(frame []byte, o link.Offload) error {
	var hdr [link.OffloadLen]byte
	o.Put(hdr[:])
	iov := [2]unix.Iovec{{Base: &hdr[0]}, {}}
	iov[0].SetLen(len(hdr))
	if len(frame) > 0 {
		iov[1].Base = &frame[0]
		iov[1].SetLen(len(frame))
	}
	writev := func() syscall.Errno {
		_, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(d.fd), uintptr(unsafe.Pointer(&iov[0])), 2)
		return e
	}
	e := writev()
	if e != unix.EAGAIN {
		return errnoErr(e)
	}
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	werr := rc.Write(func(uintptr) bool {
		e = writev()
		return e != unix.EAGAIN
	})
	if werr != nil {
		return werr
	}
	return errnoErr(e)
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
