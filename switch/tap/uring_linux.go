package tap

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An io_uring reader (Options.URing): one multishot read (IORING_OP_READ_MULTISHOT,
// Linux 6.7) over a ring of provided buffers posts a completion per frame
// the kernel transmits, so a burst costs one io_uring_enter(2) instead of a
// read(2) per frame and a trip through Go's poller per burst. The layouts
// below are linux/io_uring.h's; x/sys has only the syscall numbers.

// io_uring constants (linux/io_uring.h).
const (
	uringSetupCQSize = 1 << 3 // IORING_SETUP_CQSIZE
	uringFeatSingle  = 1 << 0 // IORING_FEAT_SINGLE_MMAP

	uringOffSQRing = 0          // IORING_OFF_SQ_RING
	uringOffSQEs   = 0x10000000 // IORING_OFF_SQES

	uringOpPollAdd     = 6  // IORING_OP_POLL_ADD
	uringOpAsyncCancel = 14 // IORING_OP_ASYNC_CANCEL
	uringOpReadMulti   = 49 // IORING_OP_READ_MULTISHOT

	uringSQEBufferSelect = 1 << 5 // IOSQE_BUFFER_SELECT

	uringCQEFBuffer   = 1 << 0 // IORING_CQE_F_BUFFER
	uringCQEFMore     = 1 << 1 // IORING_CQE_F_MORE
	uringCQEBufShift  = 16     // IORING_CQE_BUFFER_SHIFT
	uringEnterGetEvts = 1 << 0 // IORING_ENTER_GETEVENTS

	uringRegisterPbufRing = 22 // IORING_REGISTER_PBUF_RING
)

// user_data of the ring's requests.
const (
	udRead   = 1 // the multishot read of the device
	udWake   = 2 // the poll on the wake eventfd: Close
	udCancel = 3 // the cancellation of the read, on the way out
)

// Ring sizes: how many frames one io_uring_enter can hand over, and how many
// buffers the kernel may fill before the reader returns them.
const (
	uringEntries = 8   // a reader's submissions: the read, the wake poll, a cancel
	uringCQ      = 256 // completions a burst may post
	uringBufs    = 64  // provided buffers (a power of two)
)

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, opFlags  uint32
	userData      uint64
	bufGroup      uint16
	personality   uint16
	spliceFD      int32
	addr3, pad    uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

type uringBuf struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16 // in entry 0: the ring's tail
}

type uringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid, flags uint16
	resv        [3]uint64
}

// ring is one device's io_uring: its submission and completion rings, and
// the provided-buffer ring the multishot read fills. Only the reader
// goroutine touches it, until Close unmaps it after the reader is gone.
type ring struct {
	fd      int
	rings   []byte // SQ and CQ rings, one mapping (IORING_FEAT_SINGLE_MMAP)
	sqeMem  []byte
	bufRing []byte // uringBufs entries of uringBuf
	bufs    []byte // uringBufs buffers of bufSize bytes
	bufSize int

	sqTail, sqMask *uint32
	sqArray        unsafe.Pointer
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           unsafe.Pointer
	brTail         uint16 // buffers published to the kernel
	pending        uint32 // submissions queued since the last enter
}

// errNoURing says the kernel cannot do what the io_uring reader needs.
var errNoURing = errors.New("io_uring multishot reads are not available (Linux 6.7 or later)")

// newRing sets up a reader's ring, with provided buffers of bufSize bytes.
func newRing(bufSize int) (*ring, error) {
	var p uringParams
	p.flags = uringSetupCQSize
	p.cqEntries = uringCQ
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	r := &ring{fd: int(fd), bufSize: bufSize}
	fail := func(op string, err error) (*ring, error) {
		r.close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if p.features&uringFeatSingle == 0 {
		return fail("io_uring_setup", errNoURing)
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	var err error
	if r.rings, err = unix.Mmap(r.fd, uringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap rings", err)
	}
	if r.sqeMem, err = unix.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap sqes", err)
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&r.rings[off]) }
	r.sqTail, r.sqMask = (*uint32)(at(p.sqOff.tail)), (*uint32)(at(p.sqOff.ringMask))
	r.sqArray = at(p.sqOff.array)
	r.cqHead, r.cqTail = (*uint32)(at(p.cqOff.head)), (*uint32)(at(p.cqOff.tail))
	r.cqMask = *(*uint32)(at(p.cqOff.ringMask))
	r.cqes = at(p.cqOff.cqes)

	// The buffers are anonymous memory: pages are committed only as
	// frames touch them, so 64 KiB buffers cost what small frames use.
	if r.bufRing, err = unix.Mmap(-1, 0, uringBufs*int(unsafe.Sizeof(uringBuf{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return fail("mmap buffer ring", err)
	}
	if r.bufs, err = unix.Mmap(-1, 0, uringBufs*bufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return fail("mmap buffers", err)
	}
	reg := uringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&r.bufRing[0]))), ringEntries: uringBufs}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uringRegisterPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		return fail("register buffer ring", e)
	}
	for bid := range uringBufs {
		r.provide(uint16(bid))
	}
	r.publish()
	return r, nil
}

// provide puts buffer bid back in the buffer ring (published by publish).
func (r *ring) provide(bid uint16) {
	b := (*uringBuf)(unsafe.Pointer(&r.bufRing[int(r.brTail&(uringBufs-1))*int(unsafe.Sizeof(uringBuf{}))]))
	b.addr = uint64(uintptr(unsafe.Pointer(&r.bufs[int(bid)*r.bufSize])))
	b.len = uint32(r.bufSize)
	b.bid = bid
	r.brTail++
}

// publish hands the buffers provided so far to the kernel: a release
// store of the ring's tail, which lives in entry 0's last 16 bits. Entry
// 0's bid, in the same 32-bit word, is stored unchanged with it.
func (r *ring) publish() {
	w := (*uint32)(unsafe.Pointer(&r.bufRing[12]))
	bid0 := uint32((*uringBuf)(unsafe.Pointer(&r.bufRing[0])).bid)
	atomic.StoreUint32(w, bid0|uint32(r.brTail)<<16)
}

// submit queues one request; enter passes it to the kernel.
func (r *ring) submit(sqe uringSQE) {
	tail := *r.sqTail
	i := tail & *r.sqMask
	*(*uringSQE)(unsafe.Pointer(&r.sqeMem[uintptr(i)*unsafe.Sizeof(uringSQE{})])) = sqe
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(i)*4)) = i
	atomic.StoreUint32(r.sqTail, tail+1)
	r.pending++
}

// readMultishot is the device's multishot read from buffer group 0.
func readMultishot(fd int) uringSQE {
	return uringSQE{opcode: uringOpReadMulti, flags: uringSQEBufferSelect, fd: int32(fd), userData: udRead}
}

// enter submits what is queued and waits for at least wait completions.
func (r *ring) enter(wait uint32) error {
	for {
		n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(r.pending), uintptr(wait), uringEnterGetEvts, 0, 0)
		switch e {
		case 0:
			r.pending -= uint32(n)
			return nil
		case unix.EINTR:
			r.pending -= uint32(n)
			continue
		}
		return fmt.Errorf("io_uring_enter: %w", e)
	}
}

// completions calls f with each completion posted, in order, and marks
// them seen.
func (r *ring) completions(f func(c *uringCQE)) {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		f((*uringCQE)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*unsafe.Sizeof(uringCQE{}))))
	}
	atomic.StoreUint32(r.cqHead, head)
}

// buf returns buffer bid's first n bytes.
func (r *ring) buf(bid uint16, n int) []byte {
	off := int(bid) * r.bufSize
	return r.bufs[off : off+n : off+r.bufSize]
}

func (r *ring) close() {
	for _, m := range [][]byte{r.rings, r.sqeMem, r.bufRing, r.bufs} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	r.rings, r.sqeMem, r.bufRing, r.bufs = nil, nil, nil, nil
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

// runRing is the reader goroutine with Options.URing: each burst of frames
// is one io_uring_enter. It returns after Close has written the wake
// eventfd and the read is cancelled, or on a read error.
func (d *Device) runRing(recv func(frame []byte)) error {
	r := d.ring
	r.submit(readMultishot(d.fd))
	r.submit(uringSQE{opcode: uringOpPollAdd, fd: int32(d.wake), opFlags: unix.POLLIN, userData: udWake})
	var readErr error
	closing, reading, cancelled := false, true, false
	for {
		if err := r.enter(1); err != nil {
			return err
		}
		rearm, delivered := false, false
		r.completions(func(c *uringCQE) {
			switch c.userData {
			case udWake:
				closing = true
			case udRead:
				if c.flags&uringCQEFBuffer != 0 {
					bid := uint16(c.flags >> uringCQEBufShift)
					if c.res > 0 {
						recv(r.buf(bid, int(c.res)))
						delivered = true
					}
					r.provide(bid)
				}
				if c.flags&uringCQEFMore == 0 {
					reading = false
					switch {
					case c.res >= 0, c.res == -int32(unix.ENOBUFS):
						rearm = true // every buffer was in use, or the kernel ended the read: read on
					case c.res == -int32(unix.ECANCELED):
					default:
						readErr = unix.Errno(-c.res)
					}
				}
			}
		})
		r.publish()
		if delivered {
			// What recv handed to another goroutine (the gateway's Loop)
			// waits on this processor, which the next enter would hold
			// while the thread sleeps in the kernel until Go's monitor
			// takes it back (up to 10 ms): let it run first.
			runtime.Gosched()
		}
		switch {
		case closing && !reading:
			return nil
		case closing && !cancelled:
			r.submit(uringSQE{opcode: uringOpAsyncCancel, addr: udRead, userData: udCancel})
			cancelled = true
		case closing:
		case readErr != nil:
			return readErr
		case rearm:
			r.submit(readMultishot(d.fd))
			reading = true
		}
	}
}

// URingAvailable reports why the io_uring reader (Options.URing) cannot
// run here, or nil if it can: a kernel before 6.7, or io_uring turned off
// (kernel.io_uring_disabled, a seccomp filter).
func URingAvailable() error {
	r, err := newRing(4096)
	if err != nil {
		return err
	}
	r.close()
	return nil
}
