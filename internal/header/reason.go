package header

import "strconv"

// Reason says why a header is not valid; OK when it is.
type Reason uint8

// Reasons, in the order the checks run.
const (
	OK           Reason = iota
	Short               // shorter than the fixed header
	BadVersion          // IP version not the view's
	BadHeaderLen        // IPv4 header length under 20 or beyond the bytes
	Truncated           // total length beyond the bytes received
	BadTotalLen         // total length shorter than the header
	BadChecksum         // header checksum wrong
	Unsupported         // a valid header of a kind the view does not read (ARP for other than Ethernet and IPv4, a VXLAN header without its I flag)
)

var reasons = [...]string{
	OK:           "ok",
	Short:        "short",
	BadVersion:   "bad version",
	BadHeaderLen: "bad header length",
	Truncated:    "truncated",
	BadTotalLen:  "bad total length",
	BadChecksum:  "bad checksum",
	Unsupported:  "unsupported",
}

func (r Reason) String() string {
	if int(r) < len(reasons) {
		return reasons[r]
	}
	return "reason " + strconv.Itoa(int(r))
}
