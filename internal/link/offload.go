package link

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/netyard/netyard/internal/csum"
	"github.com/netyard/netyard/internal/header"
)

// Offload is the offload metadata a frame may carry: the virtio-net header
// a TAP device opened with IFF_VNET_HDR exchanges with the kernel (struct
// virtio_net_hdr, 10 bytes). The zero value is a plain frame, nothing to do.
//
// A frame with GSOType set is a super-frame: one TCP segment of up to 64 KiB
// that stands for GSOSize-sized segments. A frame with FlagNeedsCsum has its
// L4 checksum still to compute: the field at CsumStart+CsumOffset holds the
// pseudo-header sum, and the checksum covers everything from CsumStart.
type Offload struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
}

// Offload flags and GSO types (linux/virtio_net.h).
const (
	FlagNeedsCsum = 1
	FlagDataValid = 2
	GSONone       = 0
	GSOTCPv4      = 1
	GSOUDP        = 3
	GSOTCPv6      = 4
	GSOECN        = 0x80
	OffloadLen    = 10 // bytes of a virtio_net_hdr
)

// Pending reports whether the frame still needs segmentation or a checksum
// before it can go where offloads are not understood.
func (o Offload) Pending() bool {
	return o.GSOType&^GSOECN != GSONone || o.Flags&FlagNeedsCsum != 0
}

// ParseOffload reads a virtio_net_hdr (little-endian, as on the machines we
// run on).
func ParseOffload(b []byte) (Offload, error) {
	if len(b) < OffloadLen {
		return Offload{}, errShortOffload
	}
	return Offload{
		Flags: b[0], GSOType: b[1],
		HdrLen:     binary.LittleEndian.Uint16(b[2:]),
		GSOSize:    binary.LittleEndian.Uint16(b[4:]),
		CsumStart:  binary.LittleEndian.Uint16(b[6:]),
		CsumOffset: binary.LittleEndian.Uint16(b[8:]),
	}, nil
}

// Put writes o as a virtio_net_hdr into b[:OffloadLen].
func (o Offload) Put(b []byte) {
	b[0], b[1] = o.Flags, o.GSOType
	binary.LittleEndian.PutUint16(b[2:], o.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], o.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], o.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], o.CsumOffset)
}

// Shift returns o for the same frame with n bytes inserted (n > 0) or
// removed (n < 0) before the L3 header, as a VLAN tag is.
func (o Offload) Shift(n int) Offload {
	if o.Flags&FlagNeedsCsum != 0 {
		o.CsumStart = uint16(int(o.CsumStart) + n)
	}
	if o.HdrLen != 0 {
		o.HdrLen = uint16(int(o.HdrLen) + n)
	}
	return o
}

// OffloadSender is a Sender that accepts frames with offload metadata (a TAP
// device with IFF_VNET_HDR). Frames for other Senders are resolved first.
type OffloadSender interface {
	Sender
	SendOffload(frame []byte, o Offload) error
}

var (
	errShortOffload = errors.New("link: short virtio-net header")
	// ErrBadOffload is returned for metadata that does not fit its frame.
	ErrBadOffload = errors.New("link: offload metadata does not fit the frame")
)

// Resolve does in software what the offload metadata asks of the hardware,
// and calls emit with each resulting plain frame: the segments of a
// super-frame, or the frame with its checksum filled in. buf is scratch
// space of at least the largest segment (MTU plus headers); emit must not
// keep its argument. A frame with nothing pending is emitted as it is.
func Resolve(frame []byte, o Offload, buf []byte, emit func([]byte) error) error {
	switch o.GSOType &^ GSOECN {
	case GSONone:
		if o.Flags&FlagNeedsCsum == 0 {
			return emit(frame)
		}
		n := copy(buf, frame)
		if n < len(frame) {
			return ErrBadOffload
		}
		if err := fillChecksum(buf[:n], int(o.CsumStart), int(o.CsumOffset)); err != nil {
			return err
		}
		return emit(buf[:n])
	case GSOTCPv4, GSOTCPv6:
		return segmentTCP(frame, o, buf, emit)
	}
	return ErrBadOffload
}

// fillChecksum completes a partial checksum: the one's complement of the sum
// of everything from start, the field (start+off) holding the pseudo-header
// sum to begin with.
func fillChecksum(f []byte, start, off int) error {
	if start < 0 || start+off+2 > len(f) {
		return ErrBadOffload
	}
	s := csum.Fold(csum.Sum(f[start:], 0))
	binary.BigEndian.PutUint16(f[start+off:], ^s)
	return nil
}

// segmentTCP cuts a TCP super-frame into GSOSize segments (RFC 793 sequence
// numbers, IPv4 identification incremented per segment as Linux does, FIN
// and PSH on the last segment only, CWR on the first), with fresh IP and TCP
// checksums.
func segmentTCP(frame []byte, o Offload, buf []byte, emit func([]byte) error) error {
	if len(frame) < header.EthernetLen {
		return ErrBadOffload
	}
	l3 := header.Ethernet(frame).L3Off()
	l4 := int(o.CsumStart)
	if o.GSOSize == 0 || l4 <= l3 || l4+header.TCPMinLen > len(frame) {
		return ErrBadOffload
	}
	v4 := o.GSOType&^GSOECN == GSOTCPv4
	ip4, ip6 := header.IPv4(frame[l3:]), header.IPv6(frame[l3:])
	if v4 && (ip4.Version() != header.IPv4Version || ip4.Protocol() != header.ProtocolTCP) ||
		!v4 && (ip6.Version() != header.IPv6Version || ip6.NextHeader() != header.ProtocolTCP) {
		return ErrBadOffload
	}
	tcp := header.TCP(frame[l4:])
	hdr := l4 + tcp.DataOff()
	if hdr > len(frame) || hdr < l4+header.TCPMinLen || len(buf) < hdr+int(o.GSOSize) {
		return ErrBadOffload
	}
	payload := frame[hdr:]
	seq, flags := tcp.Seq(), tcp.Flags()
	var id uint16
	if v4 {
		id = ip4.ID()
	}
	for i, off := 0, 0; off < len(payload) || i == 0; i++ {
		n := min(int(o.GSOSize), len(payload)-off)
		last := off+n >= len(payload)
		seg := buf[:hdr+n]
		copy(seg, frame[:hdr])
		copy(seg[hdr:], payload[off:off+n])
		f := flags
		if !last {
			f &^= header.TCPFin | header.TCPPsh
		}
		if i > 0 {
			f &^= header.TCPCwr
		}
		st := header.TCP(seg[l4:])
		st.SetFlags(f)
		st.SetSeq(seq + uint32(off))
		tcpLen := hdr - l4 + n
		var ph uint64
		if v4 {
			sip := header.IPv4(seg[l3:])
			sip.SetTotalLen(l4 - l3 + tcpLen)
			sip.SetID(id + uint16(i))
			sip.FixChecksum()
			ph = sip.PseudoSum(header.ProtocolTCP, tcpLen)
		} else {
			sip := header.IPv6(seg[l3:])
			sip.SetPayloadLen(l4 - l3 - header.IPv6Len + tcpLen)
			ph = sip.PseudoSum(header.ProtocolTCP, tcpLen)
		}
		st.FixChecksum(ph) // afresh: the field held the pseudo-header sum
		if err := emit(seg); err != nil {
			return err
		}
		off += n
		if n == 0 {
			break
		}
	}
	return nil
}

// MaxSuperFrame is the largest frame with offload metadata: 64 KiB of IP
// packet plus an Ethernet header and a VLAN tag.
const MaxSuperFrame = 65536 + 18

var scratch = sync.Pool{New: func() any { b := make([]byte, MaxSuperFrame); return &b }}

// ResolveTo resolves frame as Resolve does, with scratch space from a pool,
// sending each plain frame to s. It returns how many frames and bytes it
// sent.
func ResolveTo(s Sender, frame []byte, o Offload) (frames, bytes int, err error) {
	buf := scratch.Get().(*[]byte)
	defer scratch.Put(buf)
	err = Resolve(frame, o, *buf, func(f []byte) error {
		frames++
		bytes += len(f)
		return s.Send(f)
	})
	return frames, bytes, err
}
