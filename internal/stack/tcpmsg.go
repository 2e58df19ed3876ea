package stack

import (
	"encoding/binary"
	"errors"
)

// MaxFramed is the largest message a 2-byte length prefix can carry.
const MaxFramed = 65535

// ErrFrameTooLong is returned for a message that does not fit a 2-byte
// length prefix.
var ErrFrameTooLong = errors.New("stack: message over 65535 bytes")

// Framer splits a TCP byte stream into messages that are each prefixed by
// their length in 2 bytes, big-endian: DNS over TCP (RFC 1035 §4.2.2,
// RFC 7766 §8), where a client may send several queries on one connection.
// Feed it what a TCPStream's OnData hands over. It holds at most one
// incomplete message, so at most MaxFramed+2 bytes per connection.
type Framer struct {
	buf []byte
}

// Feed takes the next bytes of the stream and calls msg with each message
// completed, in order; m is valid only during the call. msg may be called
// several times, or not at all.
func (f *Framer) Feed(b []byte, msg func(m []byte)) {
	for len(b) > 0 {
		if len(f.buf) == 0 && len(b) >= 2 { // whole messages straight from b, without a copy
			n := int(binary.BigEndian.Uint16(b))
			if len(b) >= 2+n {
				msg(b[2 : 2+n])
				b = b[2+n:]
				continue
			}
		}
		if len(f.buf) < 2 {
			k := min(2-len(f.buf), len(b))
			f.buf = append(f.buf, b[:k]...)
			b = b[k:]
			if len(f.buf) < 2 {
				return
			}
		}
		need := 2 + int(binary.BigEndian.Uint16(f.buf)) - len(f.buf)
		k := min(need, len(b))
		f.buf = append(f.buf, b[:k]...)
		b = b[k:]
		if k == need {
			msg(f.buf[2:])
			f.buf = f.buf[:0]
		}
	}
}

// Pending reports how many bytes of an incomplete message the framer holds.
func (f *Framer) Pending() int { return len(f.buf) }

// AppendFramed appends m to b after its 2-byte length.
func AppendFramed(b, m []byte) ([]byte, error) {
	if len(m) > MaxFramed {
		return b, ErrFrameTooLong
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
	return append(b, m...), nil
}
