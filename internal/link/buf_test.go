package link

import "testing"

// TestBufClasses: a frame takes the smallest buffer that holds it, whose
// size a queue counts; nothing holds more than MaxBuf.
func TestBufClasses(t *testing.T) {
	for _, c := range []struct{ n, size int }{{0, 2048}, {1514, 2048}, {2048, 2048}, {2049, 16 << 10}, {9018, 16 << 10}, {MaxSuperFrame, MaxBuf}, {MaxBuf, MaxBuf}} {
		b := GetBuf(c.n)
		if b == nil || len(b.Bytes()) != c.n || b.Size() != c.size || BufSize(c.n) != c.size {
			t.Errorf("GetBuf(%d): %v, want %d bytes in a buffer of %d (BufSize %d)", c.n, b, c.n, c.size, BufSize(c.n))
			continue
		}
		b.Put()
	}
	if b := GetBuf(MaxBuf + 1); b != nil || BufSize(MaxBuf+1) != 0 {
		t.Errorf("GetBuf(MaxBuf+1) = %v, BufSize %d; want nil, 0", b, BufSize(MaxBuf+1))
	}
}
