//go:build !linux

package dnsd

import "syscall"

// canReusePort: elsewhere Listen binds one UDP socket.
const canReusePort = false

// reusePort leaves the socket as it is.
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
