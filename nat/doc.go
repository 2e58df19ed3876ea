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
// Linux does, else the lowest free port of 1024-65535 towards the same
// peer; ICMP identifiers the same way). Inbound translates a packet arriving on the external side: a
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
// established, 10 s after a reset). A TCP reset before any reply ends its
// flow at once, as Linux does. Expired flows are found through a heap
// keyed by expiry, a few for every new flow, never by scanning the table.
//
// The table holds at most the flows New was given. When it is full, a new flow takes the
// place of one that is not ASSURED, as Linux's early_drop does: ASSURED is
// a TCP connection whose handshake completed, a UDP flow still busy 2 s
// after it was answered, never an ICMP one. The victim is, in this order,
// the oldest flow that never saw a reply, the oldest replied but
// unassured one, the oldest assured TCP connection that is closing. So a
// flood of probes nobody answers cannot lock out new connections, and
// costs no established one. When every flow is assured and
// open, the new flow is refused and existing flows keep working. A new
// flow costs O(log n) at most, full table or not, and so does finding a
// free port (a bitmap per external address and peer). Stats counts flows
// expired, dropped early (EarlyDropped; OnEarlyDrop hears each one),
// closed by a reset and refused (Full). Dumps are sorted.
//
// # Concurrency
//
// A Table is safe for concurrent use behind one mutex, fast enough for a
// gateway's traffic (see the benchmarks).
package nat
