package vswitch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// BPDU encoding (IEEE 802.1D-2004 §9): the codec is our own because
// gopacket's layers.STP decodes only configuration BPDUs, fails on TCN
// BPDUs, drops RSTP flags and cannot encode bridge priority 0.

// BPDUAddr is the destination of every BPDU: the bridge group address.
var BPDUAddr = MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}

// BPDUType is a BPDU's type field.
type BPDUType uint8

// BPDU types (802.1D-2004 §9.3).
const (
	BPDUConfig BPDUType = 0x00 // configuration BPDU, 35 bytes
	BPDUTCN    BPDUType = 0x80 // topology change notification, 4 bytes
	BPDURST    BPDUType = 0x02 // rapid spanning tree BPDU, 36 bytes (decoded, answered in 802.1D)
)

// BPDU flags (802.1D-2004 §9.3.1 and §9.3.3).
const (
	FlagTC          = 0x01 // topology change
	FlagProposal    = 0x02 // RSTP
	FlagPortRole    = 0x0c // RSTP: 2 bits
	FlagLearning    = 0x10 // RSTP
	FlagForwarding  = 0x20 // RSTP
	FlagAgreement   = 0x40 // RSTP
	FlagTCAck       = 0x80 // topology change acknowledgement
	bpduConfigLen   = 35
	bpduTCNLen      = 4
	bpduRSTLen      = 36
	llcLen          = 3
	bpduFrameMinLen = 60
)

// BridgeID is a bridge identifier: 4 bits of priority, 12 bits of system ID
// extension, 48 bits of MAC, compared as one number (lower wins).
type BridgeID uint64

// NewBridgeID makes a bridge ID from a priority (a multiple of 4096, 0 to
// 61440, as 802.1D-2004 §9.2.5 allows; the low 12 bits are the system ID
// extension) and a MAC.
func NewBridgeID(priority uint16, mac MAC) BridgeID {
	return BridgeID(uint64(priority)<<48 | mac.Uint64())
}

// Priority returns the priority part (with the system ID extension).
func (b BridgeID) Priority() uint16 { return uint16(b >> 48) }

// MAC returns the address part.
func (b BridgeID) MAC() MAC { return macOf(uint64(b)) }

// String formats b as Linux does: 8000.020000000001.
func (b BridgeID) String() string {
	m := b.MAC()
	return fmt.Sprintf("%04x.%02x%02x%02x%02x%02x%02x", b.Priority(), m[0], m[1], m[2], m[3], m[4], m[5])
}

// BPDU is a decoded bridge protocol data unit.
type BPDU struct {
	Type    BPDUType
	Version uint8 // 0 for 802.1D, 2 for RSTP
	Flags   uint8
	Root    BridgeID
	Cost    uint32 // root path cost
	Bridge  BridgeID
	Port    uint16 // port ID: 4 bits of priority, 12 of port number
	// Timers, carried on the wire in units of 1/256 s.
	MessageAge, MaxAge, HelloTime, ForwardDelay time.Duration
}

// Errors from ParseBPDU.
var (
	ErrNotBPDU = errors.New("vswitch: not a BPDU")
	ErrBadBPDU = errors.New("vswitch: malformed BPDU")
)

func toTicks(d time.Duration) uint16 {
	t := d * 256 / time.Second
	if t > 0xffff {
		t = 0xffff
	}
	if t < 0 {
		t = 0
	}
	return uint16(t)
}

func fromTicks(t uint16) time.Duration { return time.Duration(t) * time.Second / 256 }

// ParseBPDU decodes the BPDU in an Ethernet frame: destination the bridge
// group address, an 802.3 length, LLC 42/42/03. Configuration, TCN and RST
// BPDUs are understood.
func ParseBPDU(frame []byte) (BPDU, error) {
	if len(frame) < EthHdrLen+llcLen+bpduTCNLen || EthHdr(frame).Dst() != BPDUAddr {
		return BPDU{}, ErrNotBPDU
	}
	length := int(EthHdr(frame).EtherType())
	if length > 1500 { // an EtherType, not an 802.3 length
		return BPDU{}, ErrNotBPDU
	}
	llc := frame[EthHdrLen:]
	if llc[0] != 0x42 || llc[1] != 0x42 || llc[2] != 0x03 {
		return BPDU{}, ErrNotBPDU
	}
	body := llc[llcLen:]
	if length >= llcLen && length-llcLen < len(body) {
		body = body[:length-llcLen] // ignore padding
	}
	if len(body) < bpduTCNLen {
		return BPDU{}, fmt.Errorf("%w: %d bytes", ErrBadBPDU, len(body))
	}
	if binary.BigEndian.Uint16(body) != 0 {
		return BPDU{}, fmt.Errorf("%w: protocol identifier %#x", ErrBadBPDU, binary.BigEndian.Uint16(body))
	}
	b := BPDU{Version: body[2], Type: BPDUType(body[3])}
	switch b.Type {
	case BPDUTCN:
		return b, nil
	case BPDUConfig:
		if len(body) < bpduConfigLen {
			return BPDU{}, fmt.Errorf("%w: configuration BPDU of %d bytes", ErrBadBPDU, len(body))
		}
	case BPDURST:
		if len(body) < bpduRSTLen {
			return BPDU{}, fmt.Errorf("%w: RST BPDU of %d bytes", ErrBadBPDU, len(body))
		}
	default:
		return BPDU{}, fmt.Errorf("%w: type %#x", ErrBadBPDU, body[3])
	}
	b.Flags = body[4]
	b.Root = BridgeID(binary.BigEndian.Uint64(body[5:]))
	b.Cost = binary.BigEndian.Uint32(body[13:])
	b.Bridge = BridgeID(binary.BigEndian.Uint64(body[17:]))
	b.Port = binary.BigEndian.Uint16(body[25:])
	b.MessageAge = fromTicks(binary.BigEndian.Uint16(body[27:]))
	b.MaxAge = fromTicks(binary.BigEndian.Uint16(body[29:]))
	b.HelloTime = fromTicks(binary.BigEndian.Uint16(body[31:]))
	b.ForwardDelay = fromTicks(binary.BigEndian.Uint16(body[33:]))
	return b, nil
}

// AppendFrame appends b as an Ethernet frame from src to the bridge group
// address, padded to the 60-byte minimum. Configuration and TCN BPDUs are
// 802.1D's; an RST BPDU is written with version 2 and its version 1 length.
func (b BPDU) AppendFrame(dst []byte, src MAC) []byte {
	n := bpduConfigLen
	switch b.Type {
	case BPDUTCN:
		n = bpduTCNLen
	case BPDURST:
		n = bpduRSTLen
	}
	start := len(dst)
	dst = append(dst, BPDUAddr[:]...)
	dst = append(dst, src[:]...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(llcLen+n))
	dst = append(dst, 0x42, 0x42, 0x03, 0, 0, b.Version, byte(b.Type))
	if b.Type != BPDUTCN {
		dst = append(dst, b.Flags)
		dst = binary.BigEndian.AppendUint64(dst, uint64(b.Root))
		dst = binary.BigEndian.AppendUint32(dst, b.Cost)
		dst = binary.BigEndian.AppendUint64(dst, uint64(b.Bridge))
		dst = binary.BigEndian.AppendUint16(dst, b.Port)
		for _, d := range []time.Duration{b.MessageAge, b.MaxAge, b.HelloTime, b.ForwardDelay} {
			dst = binary.BigEndian.AppendUint16(dst, toTicks(d))
		}
		if b.Type == BPDURST {
			dst = append(dst, 0) // version 1 length
		}
	}
	for len(dst)-start < bpduFrameMinLen {
		dst = append(dst, 0)
	}
	return dst
}
