package link

import "sync"

// Frames that wait in a queue (a node's Loop, a TAP's egress queue) are
// copied into pooled buffers of a few size classes, so that a queue of
// small frames pins small buffers: 2 KiB holds any frame of a 1500-byte
// MTU with a VLAN tag and a virtio-net header, 16 KiB a jumbo frame, and
// the largest class a TCP super-frame behind its virtio-net header.
var bufSizes = [...]int{2048, 16 << 10, OffloadLen + MaxSuperFrame}

var bufPools [len(bufSizes)]sync.Pool

func init() {
	for i, n := range bufSizes {
		bufPools[i].New = func() any { return &Buf{b: make([]byte, n), class: i} }
	}
}

// Buf is a pooled buffer holding one frame.
type Buf struct {
	b     []byte // the whole buffer, of its class's size
	n     int    // the frame's length
	class int
}

// MaxBuf is the largest frame a Buf holds.
const MaxBuf = OffloadLen + MaxSuperFrame

// GetBuf returns a buffer whose Bytes are n long, from the smallest class
// that holds n bytes; nil when n is more than MaxBuf.
func GetBuf(n int) *Buf {
	for i, c := range bufSizes {
		if n <= c {
			b := bufPools[i].Get().(*Buf)
			b.n = n
			return b
		}
	}
	return nil
}

// BufSize returns the size of the buffer GetBuf(n) would return (what a
// queue bounded in bytes counts for it), or 0 when none holds n bytes.
func BufSize(n int) int {
	for _, c := range bufSizes {
		if n <= c {
			return c
		}
	}
	return 0
}

// Bytes returns the frame's bytes: write into them, then read them.
func (b *Buf) Bytes() []byte { return b.b[:b.n] }

// Size returns the buffer's size (its class's).
func (b *Buf) Size() int { return len(b.b) }

// Put returns b to its pool; b must not be used after.
func (b *Buf) Put() { bufPools[b.class].Put(b) }
