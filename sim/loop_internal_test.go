package sim

import "testing"

// TestLoopSlotsAreFixed: which slot of the loop table a frame takes is a
// fixed function of its bytes, the same in every process (a per-process
// hash seed once made the loop scenarios' goldens differ in about one
// fresh process in two hundred).
func TestLoopSlotsAreFixed(t *testing.T) {
	frame := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1}
	var tab loopTable
	tab.seenLocked(frame, 0)
	for i, h := range tab.hash {
		if h != 0 {
			if i != 0xcf || h != 0x16_f47340cf {
				t.Errorf("frame in slot %#x with hash %#x, want slot 0xcf, hash 0x16f47340cf", i, h)
			}
			return
		}
	}
	t.Fatal("frame in no slot")
}
