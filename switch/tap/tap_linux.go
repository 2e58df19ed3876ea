package tap

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netyard/netyard/internal/link"
)

// DefaultMTU is the MTU a device gets when Options.MTU is 0.
const DefaultMTU = 1500

// Options describe a TAP device.
type Options struct {
	// Name is the device's name while it is created in the caller's
	// namespace; at most 15 bytes and unique there. Required.
	Name string
	// Netns is the namespace to move the device into; nil leaves it in the
	// caller's namespace.
	Netns *netns.NsHandle
	// IfName renames the device once it is in Netns (e.g. eth0); default
	// Name.
	IfName string
	// MAC sets the device's address; default the kernel's random one.
	MAC net.HardwareAddr
	// MTU sets the device's MTU; default DefaultMTU.
	MTU int
	// Offloads opens the device with IFF_VNET_HDR and turns on checksum and
	// TCP segmentation offloads (TUNSETOFFLOAD): the kernel then hands over
	// whole TCP super-frames of up to 64 KiB with a virtio-net header, and
	// accepts them back, instead of one syscall per 1500-byte frame.
	Offloads bool
	// Alias sets the device's alias (ifalias) as it is created: netyard
	// marks what it makes, so that a cleanup deletes only its own.
	Alias string
	// PPoll makes the reader sleep in ppoll(2) on the device and an
	// eventfd instead of waiting through Go's poller (an os.File read).
	// Measured against the poller on 2 cores (docs/performance.md) it won
	// on latency once and lost on throughput twice: kept to compare.
	PPoll bool
	// URing makes the reader take frames from an io_uring multishot read
	// over a ring of provided buffers (Linux 6.7 or later): one
	// io_uring_enter(2) per burst instead of a read(2) per frame and a
	// trip through Go's poller. Writes stay one writev(2) each. Open
	// fails if the kernel cannot.
	URing bool
	// Logf reports read errors; nil means silent.
	Logf func(format string, args ...any)
	// Queue is the egress queue's length in frames: Send copies the frame
	// into a pooled buffer and a writer goroutine writes it, so the sender
	// (another device's reader, running the switch) and the write, which
	// runs the receiving namespace's stack, go on in parallel. A full
	// queue drops (ErrQueueFull, Stats.TxQueueFull). 0, the default,
	// means no queue: Send writes in the caller's goroutine (on 2 cores
	// shared with both namespaces' senders and receivers the queue did
	// not win; docs/perf/tap.md).
	Queue int
}

// TUNSETOFFLOAD flags (linux/if_tun.h).
const (
	tunFCsum   = 0x01
	tunFTSO4   = 0x02
	tunFTSO6   = 0x04
	tunFTSOECN = 0x08
)

// Stats counts a device's traffic.
type Stats struct {
	RxFrames, TxFrames      uint64 // read from / written to the device
	ReadErrors, WriteErrors uint64
	TxQueueFull             uint64 // frames dropped for a full egress queue
}

// Device is an open TAP device.
type Device struct {
	f      *os.File
	fd     int  // f's descriptor, for writev in offload mode
	vnet   bool // frames carry a virtio-net header
	name   string
	logf   func(format string, args ...any)
	closed atomic.Bool
	done   chan struct{} // closed when the reader exits; nil if Run was not called
	out    link.Out      // where Start hands what the kernel sends
	once   sync.Once

	q     chan *link.Buf // the egress queue; nil: Send writes directly
	stop  chan struct{}  // closed by Close: the writer returns
	wdone chan struct{}  // closed when the writer exits
	gone  atomic.Pointer[error]
	// wake is an eventfd the reader polls beside the device, written by
	// Close; -1: the reader waits through Go's poller instead.
	wake int
	// readSincePoll: the ppoll reader returned a frame since it last
	// slept (the reader goroutine's own).
	readSincePoll bool
	ring          *ring // the io_uring reader's (Options.URing); nil without

	rx, tx, rerr, werr, qfull atomic.Uint64
}

var (
	_ link.OffloadSender = (*Device)(nil)
	_ link.Endpoint      = (*Device)(nil)
)

// OpError is a failed setup step.
type OpError struct {
	Op  string // what was being done, e.g. "move tap ny1t0 to namespace"
	Err error
}

func (e *OpError) Error() string { return "tap: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Err: err}
}

// ErrClosed is returned by Send on a closed device.
var ErrClosed = errors.New("tap: device closed")

// ErrExists is returned by Open when a device of the chosen name exists:
// a TAP is always created, never attached to someone else's.
var ErrExists = errors.New("a network device of that name exists already")

// Open creates and configures a TAP device. It creates it exclusively
// (IFF_TUN_EXCL): a device of that name that exists already, TAP or not,
// is never taken over, and Open fails with ErrExists. On error nothing is
// left behind.
func Open(o Options) (*Device, error) {
	if err := checkIfName(o.Name); err != nil {
		return nil, opError("open", err)
	}
	if o.IfName != "" {
		if err := checkIfName(o.IfName); err != nil {
			return nil, opError("open", err)
		}
	}
	f, err := create(o.Name, o.Offloads)
	if err != nil {
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("%w (netyard creates its devices exclusively)", ErrExists)
		}
		return nil, opError("create "+o.Name, err)
	}
	d := &Device{f: f, vnet: o.Offloads, name: o.Name, logf: o.Logf, wake: -1}
	// Not f.Fd(): that would make the descriptor blocking, and Close could
	// no longer wake the reader.
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { d.fd = int(fd) })
	}
	if err := d.configure(o); err != nil {
		f.Close()
		return nil, err
	}
	if o.PPoll || o.URing {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			f.Close()
			return nil, opError("eventfd", err)
		}
		d.wake = fd
	}
	if o.URing {
		if d.ring, err = newRing(link.OffloadLen + link.MaxSuperFrame); err != nil {
			unix.Close(d.wake)
			f.Close()
			return nil, opError("io_uring reader", err)
		}
	}
	if o.Queue > 0 {
		d.q = make(chan *link.Buf, o.Queue)
		d.stop, d.wdone = make(chan struct{}), make(chan struct{})
		go d.runWriter()
	}
	return d, nil
}

// checkIfName applies Linux's rules for a device name (dev_valid_name):
// 1 to 15 bytes, not "." or "..", no '/', ':' or white space.
func checkIfName(name string) error {
	if name == "" || len(name) > unix.IFNAMSIZ-1 {
		return fmt.Errorf("device name %q must be 1-15 bytes", name)
	}
	if name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\r\v\f\x00") {
		return fmt.Errorf("device name %q is not one Linux accepts (no '/', ':' or spaces; not . or ..)", name)
	}
	return nil
}

// configure marks, moves, renames, addresses and brings up the new device.
func (d *Device) configure(o Options) error {
	h := netlink.Handle{}
	l, err := h.LinkByName(o.Name)
	if err != nil {
		return opError("find "+o.Name, err)
	}
	if o.Alias != "" {
		// The mark of its maker, which a cleanup checks before deleting.
		if err := h.LinkSetAlias(l, o.Alias); err != nil {
			return opError("mark "+o.Name, err)
		}
	}
	target := &h
	if o.Netns != nil {
		if err := h.LinkSetNsFd(l, int(*o.Netns)); err != nil {
			return opError("move "+o.Name+" to its namespace", err)
		}
		nh, err := netlink.NewHandleAt(*o.Netns)
		if err != nil {
			return opError("open netlink in the namespace", err)
		}
		defer nh.Close()
		target = nh
		if l, err = nh.LinkByName(o.Name); err != nil {
			return opError("find "+o.Name+" in its namespace", err)
		}
	}
	if o.IfName != "" && o.IfName != o.Name {
		if err := target.LinkSetName(l, o.IfName); err != nil {
			return opError("rename "+o.Name+" to "+o.IfName, err)
		}
		d.name = o.IfName
	}
	if len(o.MAC) > 0 {
		if err := target.LinkSetHardwareAddr(l, o.MAC); err != nil {
			return opError("set MAC of "+d.name, err)
		}
	}
	if err := target.LinkSetMTU(l, cmp.Or(o.MTU, DefaultMTU)); err != nil {
		return opError("set MTU of "+d.name, err)
	}
	if err := target.LinkSetUp(l); err != nil {
		return opError("bring up "+d.name, err)
	}
	return nil
}

// create opens a new TAP device, exclusively; with vnet, with a virtio-net
// header and offloads on.
func create(name string, vnet bool) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fail := func(op string, err error) (*os.File, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fail("name", err)
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_TUN_EXCL)
	if vnet {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fail("TUNSETIFF", err)
	}
	if vnet {
		if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, link.OffloadLen); err != nil {
			return fail("TUNSETVNETHDRSZ", err)
		}
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum|tunFTSO4|tunFTSO6|tunFTSOECN); err != nil {
			return fail("TUNSETOFFLOAD", err)
		}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Offloads reports whether the device exchanges offload metadata.
func (d *Device) Offloads() bool { return d.vnet }

// Name returns the device's name (its IfName once configured).
func (d *Device) Name() string { return d.name }

// Send writes frame to the device: the kernel receives it.
func (d *Device) Send(frame []byte) error { return d.SendOffload(frame, link.Offload{}) }

// SendOffload writes a frame with offload metadata. A device without
// offloads gets it resolved in software first.
func (d *Device) SendOffload(frame []byte, o link.Offload) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if !d.vnet && o.Pending() {
		_, _, err := link.ResolveTo(plain{d}, frame, o)
		return err
	}
	if d.q != nil {
		return d.enqueue(frame, o)
	}
	var err error
	if d.vnet {
		err = d.writeVnet(frame, o)
	} else {
		_, err = d.f.Write(frame)
	}
	if err != nil {
		d.werr.Add(1)
		return err
	}
	d.tx.Add(1)
	return nil
}

// plain sends resolved frames to a device without offloads.
type plain struct{ d *Device }

func (p plain) Send(frame []byte) error { return p.d.SendOffload(frame, link.Offload{}) }

// Receive writes frame to the device (Send): a Device is the Endpoint of
// the kernel behind it.
func (d *Device) Receive(frame []byte) error { return d.Send(frame) }

// ReceiveOffload writes a frame with offload metadata (SendOffload).
func (d *Device) ReceiveOffload(frame []byte, o link.Offload) error { return d.SendOffload(frame, o) }

// Carrier turns the device's carrier on or off (SetCarrier), ignoring
// errors: the device is then as it was.
func (d *Device) Carrier(up bool) { _ = d.SetCarrier(up) }

// Attach sets the receiver of what the kernel sends through the device,
// from Start on; nil: it is dropped.
func (d *Device) Attach(r link.Receiver) { d.out.Attach(r) }

// Start starts the reader goroutine, which hands every frame the kernel
// sends through the device, with its offload metadata, to the receiver
// attached, until Close or a read error.
func (d *Device) Start() {
	d.done = make(chan struct{})
	go d.runPort(func(frame []byte, o link.Offload) { _ = d.out.SendOffload(frame, o) })
}

// Run starts the reader goroutine, which calls recv with every frame the
// kernel sends through the device, with its offload metadata (zero without
// offloads), until Close or a read error.
func (d *Device) Run(recv func(frame []byte, o link.Offload)) {
	d.done = make(chan struct{})
	go d.runPort(recv)
}

// runPort is the reader goroutine. With Options.PPoll it reads the
// descriptor itself until the device's queue is empty, then sleeps in
// ppoll(2) on the device and the wake eventfd, so the kernel wakes its
// thread as a frame arrives instead of Go's poller (an epoll wait, a park
// and a wake-up per burst: 17% of the CPU under 64-byte UDP).
func (d *Device) runPort(recv func(frame []byte, o link.Offload)) {
	defer close(d.done)
	frame := func(b []byte) {
		d.rx.Add(1)
		if !d.vnet {
			recv(b, link.Offload{})
			return
		}
		o, err := link.ParseOffload(b)
		if err != nil {
			d.rerr.Add(1)
			return
		}
		recv(b[link.OffloadLen:], o)
	}
	fail := func(err error) {
		if d.closed.Load() {
			return
		}
		d.rerr.Add(1)
		d.setGone(err)
		if d.logf != nil {
			d.logf("tap %s: read: %v; port stopped", d.name, err)
		}
	}
	if d.ring != nil {
		// io_uring completes the read in task work queued to the thread
		// that submitted it: the reader must stay on that thread, or a
		// frame waits until that thread, busy elsewhere, next enters the
		// kernel (milliseconds).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := d.runRing(frame); err != nil {
			fail(err)
		}
		return
	}
	buf := make([]byte, link.OffloadLen+link.MaxSuperFrame)
	for {
		n, err := d.read(buf)
		if err != nil {
			fail(err)
			return
		}
		frame(buf[:n])
	}
}

// errClosing is read's answer once Close has woken the reader.
var errClosing = errors.New("tap: closing")

// read returns the next frame the kernel sends, waiting for it.
func (d *Device) read(buf []byte) (int, error) {
	if d.wake < 0 {
		return d.f.Read(buf)
	}
	fds := [2]unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}, {Fd: int32(d.wake), Events: unix.POLLIN}}
	for {
		if d.closed.Load() {
			return 0, errClosing
		}
		n, err := unix.Read(d.fd, buf)
		switch {
		case err == nil:
			d.readSincePoll = true
			return n, nil
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, err
		}
		if d.readSincePoll {
			// As in runRing: what this burst handed to another goroutine
			// waits on this processor, which ppoll would hold while the
			// thread sleeps until Go's monitor takes it back.
			d.readSincePoll = false
			runtime.Gosched()
		}
		if _, err := unix.Ppoll(fds[:], nil, nil); err != nil && err != unix.EINTR {
			return 0, err
		}
	}
}

// SetCarrier turns the device's carrier on or off (TUNSETCARRIER): without
// carrier the kernel sees the cable pulled and transmits nothing.
func (d *Device) SetCarrier(up bool) error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return opError("carrier", err)
	}
	v := 0
	if up {
		v = 1
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetPointerInt(int(fd), unix.TUNSETCARRIER, v) }); err != nil {
		return opError("carrier", err)
	}
	return opError("carrier", ierr)
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	return Stats{RxFrames: d.rx.Load(), TxFrames: d.tx.Load(), ReadErrors: d.rerr.Load(), WriteErrors: d.werr.Load(), TxQueueFull: d.qfull.Load()}
}

// Close stops the reader and closes the device, which removes it.
func (d *Device) Close() error {
	var err error
	d.once.Do(func() {
		d.closed.Store(true)
		if d.stop != nil {
			close(d.stop)
		}
		if d.wake >= 0 {
			// The reader sleeps in ppoll, not in Go's poller: wake it and
			// let it go before its descriptor is closed under it.
			one := [8]byte{1}
			_, _ = unix.Write(d.wake, one[:])
			if d.done != nil {
				<-d.done
			}
		}
		err = d.f.Close()
		if d.wdone != nil {
			<-d.wdone
		}
		if d.done != nil {
			<-d.done
		}
		if d.ring != nil {
			d.ring.close()
		}
		if d.wake >= 0 {
			unix.Close(d.wake)
		}
	})
	return err
}
