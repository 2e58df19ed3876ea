// Package nat is the connection tracking and address translation of
// netyard's NAT gateway: masquerade (source NAT to the host's address) for
// traffic leaving a bridge network, and published ports (destination NAT
// from the host's address and port to a container's), as Docker sets up
// with iptables, done here in userspace on IPv4 packets.
//
// # Model
//
// A Table tracks connections by their two tuples, original and reply, each
// (protocol, source, destination); for ICMP echo the port is the
// identifier. Outbound translates a packet leaving through the external
// address (a new flow gets a mapping: its source port kept when free, as
// Linux does, else the next free port of 1024-65535; ICMP identifiers the
// same way). Inbound translates a packet arriving on the external side: a
// reply of a tracked flow is un-translated, a packet to a published port
// is translated to its container, keeping the client's address (the
// container sees the real client), and anything else is refused.
// Checksums are updated incrementally (RFC 1624); a UDP checksum of zero
// stays zero. ICMP errors about a tracked flow (destination unreachable,
// time exceeded, parameter problem) are translated with the packet they
// quote, so the sender can match them (RFC 5508 §4.1).
//
// # Time and bounds
//
// Every call takes the time as an argument; the table never reads a clock.
// Flows expire after Linux's conntrack timeouts (UDP 30 s, 180 s once
// answered; ICMP 30 s; TCP 120 s while opening or closing, 5 days
// established, 10 s after a reset). The table holds at most Max flows: a new
// flow that does not fit is refused and counted, and existing flows keep
// working. Dumps are sorted.
//
// # Concurrency
//
// A Table is safe for concurrent use behind one mutex, fast enough for a
// gateway's traffic (see the benchmarks).
package nat
