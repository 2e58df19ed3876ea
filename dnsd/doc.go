// Package dnsd is the embedded DNS server of netyard's Docker model, on
// github.com/miekg/dns.
//
// # Model
//
// A Server holds the endpoints of every network: a container's name, its
// aliases and its address on that network. A query is answered for the
// container that sent it (identified by its source address): it resolves
// the names and aliases of the containers that share a network with it, as
// `name` and `name.network`, and only those; Docker does the same. Answers
// carry TTL 600, as Docker's do. Several containers answering to one alias
// come back in an order shuffled by the server's seeded random stream.
// Container addresses have PTR records (name.network.). A known name asked
// for AAAA gets an empty NOERROR answer. Anything else goes to up to three
// upstream resolvers, in order, when some are configured (through an
// Exchanger, so tests and simulations supply their own); with none, the
// answer is NXDOMAIN, and SERVFAIL when every upstream failed. The default
// network named bridge resolves no names, as in Docker.
//
// # Transport
//
// Serve runs on any net.PacketConn (a kernel socket, or an in-memory one),
// as miekg/dns does; a malformed query gets FORMERR and the server keeps
// answering. AnswerBytes is the same logic on raw bytes, for a simulated
// host's own UDP stack.
//
// # Concurrency
//
// A Server is safe for concurrent use: the registry is guarded by a
// RWMutex, the random stream by its own mutex.
package dnsd
