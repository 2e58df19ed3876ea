package tap

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/netyard/netyard/internal/link"
)

// DefaultQueue is the egress queue length netyard up --ports=queued uses:
// half the kernel's own TAP queue (txqueuelen 1000), so that a burst the
// switch forwards waits here rather than being dropped while the writer
// catches up.
const DefaultQueue = 512

// ErrQueueFull is returned by Send when the device's egress queue is full:
// the frame is dropped and counted (Stats.TxQueueFull).
var ErrQueueFull = errors.New("tap: egress queue full")

// enqueue copies frame (behind its header, with offloads) into a pooled
// buffer (link.GetBuf) and queues it for the writer; a full queue drops it.
func (d *Device) enqueue(frame []byte, o link.Offload) error {
	if err := d.gone.Load(); err != nil {
		return *err
	}
	hl := 0
	if d.vnet {
		hl = link.OffloadLen
	}
	b := link.GetBuf(hl + len(frame))
	if b == nil {
		d.werr.Add(1)
		return errTooBig
	}
	p := b.Bytes()
	if d.vnet {
		o.Put(p[:hl])
	}
	copy(p[hl:], frame)
	select {
	case d.q <- b:
		return nil
	default:
		b.Put()
		d.qfull.Add(1)
		return ErrQueueFull
	}
}

var errTooBig = errors.New("tap: frame larger than a super-frame")

// runWriter is the writer goroutine: it drains the egress queue, one
// write(2) per frame, so that the goroutine that forwarded a frame (another
// device's reader) does not also run the receiving namespace's stack.
func (d *Device) runWriter() {
	defer close(d.wdone)
	for {
		select {
		case <-d.stop:
			return
		case b := <-d.q:
			err := d.write(b.Bytes())
			b.Put()
			if err == nil {
				d.tx.Add(1)
				continue
			}
			d.werr.Add(1)
			if d.closed.Load() {
				return
			}
			if fatal(err) {
				d.setGone(err)
				if d.logf != nil {
					d.logf("tap %s: write: %v; port stopped", d.name, err)
				}
				return
			}
		}
	}
}

// fatal reports whether a write error means the device is gone.
func fatal(err error) bool {
	return errors.Is(err, unix.EBADFD) || errors.Is(err, unix.EIO) || errors.Is(err, unix.EBADF) || errors.Is(err, os.ErrClosed) || errors.Is(err, unix.ENODEV)
}

func (d *Device) setGone(err error) { d.gone.CompareAndSwap(nil, &err) }

// write writes one buffer through the poller (which holds the descriptor
// against a concurrent Close), waiting while the device's queue is full.
func (d *Device) write(p []byte) error {
	_, err := d.f.Write(p)
	return err
}
