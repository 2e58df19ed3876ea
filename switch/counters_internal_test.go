package vswitch

import (
	"sync"
	"testing"
	"unsafe"
)

func TestPairLayout(t *testing.T) {
	if got := unsafe.Sizeof(pair{}); got != pairSize {
		t.Errorf("pair is %d bytes, pairSize says %d", got, pairSize)
	}
}

// TestPairFolds adds across both fold thresholds from several goroutines
// while readers watch: the totals are exact and never go backwards.
func TestPairFolds(t *testing.T) {
	var c pair
	const writers, each = 4, frameFold/4 + 1000 // one frame fold
	const size = 1 << 16                        // 4M frames of 64 KiB cross the byte fold once
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var lastF, lastB uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				f, b := c.load()
				if f < lastF || b < lastB || b != f*size {
					t.Errorf("read %d frames %d bytes after %d, %d", f, b, lastF, lastB)
					return
				}
				lastF, lastB = f, b
			}
		}()
	}
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c.add(size)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	f, b := c.load()
	if f != writers*each || b != writers*each*size {
		t.Errorf("counted %d frames %d bytes, want %d and %d", f, b, writers*each, writers*each*size)
	}
	if c.frames.Load() == 0 || c.bytes.Load() == 0 {
		t.Error("no fold happened: the test does not test folding")
	}
}
