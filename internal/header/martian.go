package header

// LimitedBroadcast is 255.255.255.255 as a number.
const LimitedBroadcast = 0xffffffff

// MartianSource says why src (an IPv4 address as a number, its first byte
// highest) cannot be the source of a packet to dst arriving from outside,
// or returns "", by the address classes alone, in the order of Linux's
// ip_route_input_slow: never multicast, the limited broadcast or class E;
// any other source towards the limited broadcast (a DHCP client has no
// address yet); else never 0.0.0.0/8 or loopback. A node adds its own
// addresses and its subnets' broadcasts.
func MartianSource(src, dst uint32) string {
	switch top := src >> 24; {
	case src == LimitedBroadcast:
		return "the limited broadcast address"
	case top&0xf0 == 0xe0:
		return "a multicast address"
	case top&0xf0 == 0xf0:
		return "a class E address"
	case dst == LimitedBroadcast:
		return ""
	case top == 0:
		return "an address of 0.0.0.0/8 (this network)"
	case top == 127:
		return "a loopback address"
	}
	return ""
}

// MartianDest says why dst cannot be the destination of a packet arriving
// from outside, or returns "": 0.0.0.0/8, loopback (route_localnet is 0)
// and class E but the limited broadcast.
func MartianDest(dst uint32) string {
	switch top := dst >> 24; {
	case top == 0:
		return "an address of 0.0.0.0/8 (this network)"
	case top == 127:
		return "a loopback address"
	case top&0xf0 == 0xf0 && dst != LimitedBroadcast:
		return "a class E address"
	}
	return ""
}

// Routable reports whether a router may forward a packet to dst by class:
// not the limited broadcast, not multicast (no directed broadcasts, RFC
// 2644; no multicast routing). A node adds its subnets' broadcasts.
func Routable(dst uint32) bool { return dst != LimitedBroadcast && dst>>28 != 0xe }
