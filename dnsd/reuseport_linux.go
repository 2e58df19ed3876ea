package dnsd

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// canReusePort: Linux shares a UDP address among sockets with
// SO_REUSEPORT, spreading datagrams by their source.
const canReusePort = true

// reusePort sets SO_REUSEPORT on a socket before it is bound.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
