// Package stack is a small, deterministic IPv4 host stack for simulated
// sandboxes: ARP with a bounded cache, retries and timeouts; IPv4 with
// on-link routes, static routes, a default gateway and loopback
// (127.0.0.0/8 and the host's own addresses, as Linux's local table, with
// an Output hook where Linux has its nat OUTPUT chain); ICMP echo and errors; UDP
// sockets; a small TCP (streams for servers such as DNS over TCP, and
// handshake-level probes); a DNS stub resolver over UDP and TCP.
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
// # TCP
//
// ListenTCPStream accepts connections (SYN, SYN-ACK announcing an MSS of
// 1460, ACK) and hands each to an accept function, which sets the
// stream's OnData, OnEOF and OnClose; ConnectTCPStream opens one. Data is
// carried in order both ways: a segment that does not start at the next
// expected byte has its data dropped (counted, traced) and is answered
// with an ACK, so the peer retransmits; there is no reassembly queue, and
// options other than the MSS (window scaling, SACK, timestamps) are not
// answered, so a peer does not use them (RFC 9293 allows both). What is
// written is cut at the peer's MSS, kept within its window and a slow-start
// congestion window (RFC 5681, with fast retransmit), and retransmitted on
// the host's clock: RTO as RFC 6298 with Linux's 200 ms floor and 120 s
// ceiling, doubling, TCPRetries times for data and FIN (TCPSynRetries,
// TCPSynAckRetries for the handshake), then given up. Close sends a FIN
// after the data; a peer's FIN is heard by OnEOF or closes the stream's
// side too; RST is accepted only at the exact next sequence number (RFC
// 5961), otherwise challenged with an ACK. The side that closes first
// keeps TIME-WAIT for TCPTimeWait. Bounds: a listener holds MaxConns
// connections in any state (at the bound the oldest TIME-WAIT one goes,
// else the SYN is dropped, as Linux does with full queues); a stream holds
// at most its send buffer of bytes not yet acknowledged (Write refuses
// more); a connection idle for IdleTimeout is closed; a FIN-WAIT-2 without
// the peer's FIN ends after TCPFinTimeout. All of it is counted in Stats.
//
// ConnectTCP and ListenTCP are the handshake-level use scenario steps
// make: ConnectTCP resets a connection as soon as it is established.
// Framer and AppendFramed carry length-prefixed messages (DNS over TCP,
// RFC 7766) over a stream. The narration names the flags of every segment
// sent and received (SYN, SYN-ACK, ACK, PSH-ACK with its length, FIN-ACK,
// RST, RST-ACK), retransmissions, and what each segment did.
//
// # Time and concurrency
//
// The host reads time and arms its retry timers only through its
// clock.Clock. It is not safe for concurrent use: in the mem backend the
// simulation engine is its only caller; elsewhere frames and timer
// callbacks must be serialised by the caller (a timer callback that lost
// a race with Stop or Reset finds its deadline moved and does nothing).
package stack
