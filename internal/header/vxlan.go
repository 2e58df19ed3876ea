package header

import "encoding/binary"

// VXLAN sizes and port (RFC 7348).
const (
	VXLANLen  = 8
	VXLANPort = 4789
	vxlanI    = 0x08 // the flag that says the VNI is valid
)

// VXLAN is a view of a VXLAN header (RFC 7348 §5): flags, 24 reserved
// bits, the 24-bit VNI, 8 reserved bits; the inner Ethernet frame
// follows. Check comes first.
type VXLAN []byte

// Check returns OK for a header of VXLANLen bytes with its I flag set,
// Short for fewer bytes, Unsupported without the flag (RFC 7348: "the
// I flag MUST be set to 1 for a valid VXLAN Network ID").
func (v VXLAN) Check() Reason {
	switch {
	case len(v) < VXLANLen:
		return Short
	case v.Flags()&vxlanI == 0:
		return Unsupported
	}
	return OK
}

// Flags returns the flags byte.
func (v VXLAN) Flags() uint8 { return v[0] }

// VNI returns the VXLAN network identifier.
func (v VXLAN) VNI() uint32 { return binary.BigEndian.Uint32(v[4:8]) >> 8 }

// Payload returns the inner Ethernet frame.
func (v VXLAN) Payload() []byte { return v[VXLANLen:] }

// PutVXLAN writes a VXLAN header for vni into b[:VXLANLen]: the I flag
// set, the reserved bits zero.
func PutVXLAN(b []byte, vni uint32) {
	binary.BigEndian.PutUint32(b[0:4], vxlanI<<24)
	binary.BigEndian.PutUint32(b[4:8], vni<<8)
}
