// Package stack is a small, deterministic IPv4 host stack for simulated
// sandboxes: ARP with a bounded cache, retries and timeouts; IPv4 with
// on-link routes, a default gateway and loopback (127.0.0.0/8 and the
// host's own addresses, as Linux's local table); ICMP echo and errors; UDP
// sockets; TCP at handshake level; a DNS stub resolver.
//
// # Model
//
// A Host has interfaces, each with a MAC, an address with its prefix, and a
// link.Sender to transmit. Frames arrive through Input. The host answers ARP
// for its addresses and learns from ARP it receives, answers pings, delivers
// UDP to bound sockets and answers other UDP with ICMP port unreachable. A
// host does not forward: a packet for an address it does not own is
// dropped and traced. A router is built on a host by giving it a Forward
// hook, which sees every IPv4 packet first, and sending with SendFrame
// and SendICMPError (package nat/gateway does).
//
// Resolution follows Linux's defaults where they matter for what a user
// sees: up to 3 ARP requests 1 s apart, at most 3 packets queued per
// unresolved neighbour (the oldest is dropped first), and a failed
// resolution reported to the sender as "host unreachable". Entries stay
// valid for ARPLifetime after they were last confirmed. The table holds at
// most MaxARPEntries entries in any state, resolved or not, as Linux's
// gc_thresh3: a new entry in a full table evicts the least recently
// updated one if that was updated ARPGCProtect (5 s) ago or more, failing
// its waiting packets as host unreachable; otherwise the new entry is
// refused (ErrNeighbourTableFull; an ARP request from that neighbour goes
// unanswered, as in Linux). Evictions and refusals are counted. As in
// Linux there is no separate limit on ARP requests: the bound and the
// protection cap them at MaxARPEntries x ARPRetries per ARPRetries x
// ARPRetry, whatever a flood of spoofed sources asks.
//
// # Time and concurrency
//
// The host reads time and arms its retry timers only through its
// clock.Clock. It is not safe for concurrent use: in the mem backend the
// simulation engine is its only caller.
package stack
