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

// TestUpdate32MatchesTwoUpdates: one update of a 32-bit field gives the
// checksum two updates of its halves give, and a valid one.
func TestUpdate32MatchesTwoUpdates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		data := make([]byte, 4*(2+r.IntN(20)))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		data[0], data[1] = 0, 0
		binary.BigEndian.PutUint16(data, ^csum.Fold(csum.Sum(data, 0)))
		i := 4 * (1 + r.IntN(len(data)/4-1))
		old, nu := binary.BigEndian.Uint32(data[i:]), r.Uint32()
		if r.IntN(8) == 0 {
			nu = old
		}
		two := []byte{data[0], data[1]}
		csum.Update(two, uint16(old>>16), uint16(nu>>16))
		csum.Update(two, uint16(old), uint16(nu))
		binary.BigEndian.PutUint32(data[i:], nu)
		csum.Update32(data[0:2], old, nu)
		if got, want := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(two); got != want {
			t.Fatalf("Update32 gives %#04x, two Updates %#04x", got, want)
		}
		if got := csum.Fold(csum.Sum(data, 0)); got != 0xffff && got != 0 {
			t.Fatalf("after Update32 the data sums to %#x", got)
		}
	}
}
