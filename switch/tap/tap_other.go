//go:build !linux

package tap

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/netyard/netyard/internal/link"
)

var errUnimplemented = fmt.Errorf("tap: TAP devices need Linux, not %s/%s", runtime.GOOS, runtime.GOARCH)

// Options describe a TAP device.
type Options struct {
	Name, IfName string
	Alias        string
	MAC          net.HardwareAddr
	MTU          int
	Offloads     bool
	Logf         func(format string, args ...any)
}

// ErrExists is returned by Open when a device of the chosen name exists.
var ErrExists = errors.New("a network device of that name exists already")

// Device is unavailable off Linux.
type Device struct{}

// Open is unavailable off Linux.
func Open(o Options) (*Device, error) { return nil, errUnimplemented }

// Send is unavailable off Linux.
func (d *Device) Send(frame []byte) error { return errUnimplemented }

// SendOffload is unavailable off Linux.
func (d *Device) SendOffload(frame []byte, o link.Offload) error { return errUnimplemented }

// Run is unavailable off Linux.
func (d *Device) Run(recv func(frame []byte, o link.Offload)) {}

// SetCarrier is unavailable off Linux.
func (d *Device) SetCarrier(up bool) error { return errUnimplemented }

// Close is unavailable off Linux.
func (d *Device) Close() error { return errUnimplemented }

// Receive is unavailable off Linux.
func (d *Device) Receive(frame []byte) error { return errUnimplemented }

// ReceiveOffload is unavailable off Linux.
func (d *Device) ReceiveOffload(frame []byte, o link.Offload) error { return errUnimplemented }

// Carrier is unavailable off Linux.
func (d *Device) Carrier(up bool) {}

// Attach is unavailable off Linux.
func (d *Device) Attach(r link.Receiver) {}

// Start is unavailable off Linux.
func (d *Device) Start() {}
