package csum_test

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/netyard/netyard/internal/csum"
)

// TestUpdateMatchesRecompute changes random words of random data and checks
// the incremental update against a checksum computed afresh.
func TestUpdateMatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		data := make([]byte, 2*(2+r.IntN(40)))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		data[0], data[1] = 0, 0 // the checksum field
		binary.BigEndian.PutUint16(data, ^csum.Fold(csum.Sum(data, 0)))
		i := 2 + 2*r.IntN(len(data)/2-1)
		old := binary.BigEndian.Uint16(data[i:])
		nu := uint16(r.Uint32())
		binary.BigEndian.PutUint16(data[i:], nu)
		csum.Update(data[0:2], old, nu)
		if got := csum.Fold(csum.Sum(data, 0)); got != 0xffff && got != 0 {
			t.Fatalf("after Update the data sums to %#x, want 0xffff", got)
		}
	}
}

func TestSumOddLength(t *testing.T) {
	if got := csum.Sum([]byte{0x12, 0x34, 0x56}, 0); got != 0x1234+0x5600 {
		t.Errorf("Sum = %#x", got)
	}
}
