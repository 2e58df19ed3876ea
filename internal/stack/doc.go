// Package stack is a small, deterministic IPv4 host stack for simulated
// sandboxes: ARP with a bounded cache, retries and timeouts; IPv4 with
// on-link routes and a default gateway; ICMP echo and destination
// unreachable; UDP sockets.
//
// # Model
//
// A Host has interfaces, each with a MAC, an address with its prefix, and a
// link.Sender to transmit. Frames arrive through Input. The host answers ARP
// for its addresses and learns from ARP it receives, answers pings, delivers
// UDP to bound sockets and answers other UDP with ICMP port unreachable. It
// does not forward: a packet for an address it does not own is dropped and
// traced.
//
// Resolution follows Linux's defaults where they matter for what a user
// sees: up to 3 ARP requests 1 s apart, at most 3 packets queued per
// unresolved neighbour (the oldest is dropped first), and a failed
// resolution reported to the sender as "host unreachable". Entries stay
// valid for ARPLifetime after they were last confirmed; the cache holds at
// most MaxARPEntries and evicts the least recently confirmed entry, counting
// evictions.
//
// # Time and concurrency
//
// The host reads time and arms its retry timers only through its
// clock.Clock. It is not safe for concurrent use: in the mem backend the
// simulation engine is its only caller.
package stack
