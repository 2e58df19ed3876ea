package kernel

import (
	"net"

	"golang.org/x/sys/unix"
)

// acceptZeroChecksum6 sets UDP_NO_CHECK6_RX: the kernel then accepts
// IPv6 datagrams with checksum 0, as a VTEP may send them (RFC 6935;
// what Linux's vxlan udp6zerocsumrx sets).
func acceptZeroChecksum6(pc *net.UDPConn) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_NO_CHECK6_RX, 1)
	}); err != nil {
		return err
	}
	return serr
}
