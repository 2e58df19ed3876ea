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
// carry TTL 600 and the flags qr rd ra, not aa, as Docker's do. Several containers answering to one alias
// come back in an order shuffled by the server's seeded random stream.
// Container addresses have PTR records (name.network.). A known name asked
// for AAAA gets an empty NOERROR answer. Anything else goes to up to three
// upstream resolvers, in order, when some are configured (through an
// Exchanger, so tests and simulations supply their own; or, with Lookup,
// by the caller on its own clock); with none, the answer is NXDOMAIN, and
// SERVFAIL when every upstream failed. The default network named bridge
// resolves no names, as in Docker. An opcode other than QUERY is NOTIMP; a
// query with two OPT records FORMERR, one of an EDNS version other than 0
// BADVERS (RFC 6891 §6.1).
//
// # The embedded resolver
//
// Docker runs its embedded server at 127.0.0.11 inside each container's
// own namespace. A Resolver is that server for one container: it answers
// from the Server of the container's Docker host, scoped by container
// (LookupFor: the networks the container is on at the time of the query,
// so a network connect or disconnect, which only calls Add or Remove, is
// seen at once), and forwards other names to the host's resolvers through
// a Transport that sends from the container's sandbox, as libnetwork's
// resolver dials its upstreams inside the container's namespace: 4 s each,
// the next on SERVFAIL, REFUSED or an error, SERVFAIL when none answered
// (current moby; Docker 20.10 let the client time out). Zone is the small
// authoritative server a LAN client runs as such an upstream.
//
// # Indexes
//
// Each network indexes its endpoints by container, by lower-case FQDN
// (lists sorted by container, so a shared alias answers in container
// order before the shuffle) and by address (whose first endpoint is the PTR
// target); the server indexes the containers at each address and the
// networks of each container, which give a querier's scope. Add and Remove
// update only the entries of the endpoint they change, so registering
// 20 000 containers takes a fraction of a second, and an answer costs a few
// map lookups whatever the number of containers. ParseNames reads a names
// file (netyard dnsd --names), refusing with its line any name a query
// could not reach.
//
// # Transport
//
// An answer fits its transport. Over UDP, 512 bytes (RFC 1035 §4.2.1), or
// the payload size of the query's EDNS0 OPT record (RFC 6891 §6.2.5: never
// less than 512; at most MaxUDPSize, or a path's limit with PackUDPLimit);
// over TCP, 65535 bytes (RFC 1035 §4.2.2). Records that do not fit are
// left out and TC is set, so a client retries over TCP, and an answer too
// big even for TCP still goes out, cut, rather than not at all; the answer
// carries an OPT record when the query did. PackUDP and PackTCP do this on
// a *dns.Msg; AnswerBytes is the whole server on raw bytes, for a
// simulated host's own UDP stack.
//
// On kernel sockets, Serve runs on any net.PacketConn (a kernel socket, or
// an in-memory one) and ServeTCP on any net.Listener, as miekg/dns does,
// and Listen binds both on one address. Their handler packs answers itself
// (miekg/dns's WriteMsg would send them whole, whatever their size). A TCP
// connection carries any number of queries, pipelined or not, answered in
// order (RFC 7766 §6.2.1), until it has been idle for TCPIdleTimeout (8 s,
// RFC 7766 §6.2.3; miekg/dns's bound of 128 queries, which would drop
// pipelined ones, is lifted); at most
// MaxTCPConns are served at once, and one more is closed on arrival and
// counted (Stats). A malformed query gets FORMERR and the server keeps
// answering.
//
// # The fast path
//
// The plain queries that make up nearly all of a container's traffic (a
// QUERY with one question and no other record, so no EDNS0, class IN,
// type A or AAAA, a name of letters, digits, '-' and '_', from an address
// that is one container's, answered by one A record, no record, or
// NXDOMAIN when there are no upstreams) are answered wire to wire from
// reused buffers, without miekg/dns and without allocating; everything
// else is the general path's, on miekg/dns (fast.go says exactly what the
// fast path takes). Both give the same bytes (TestFastMatchesGeneral,
// FuzzFastAnswer). Serve's and Listen's UDP reader answers them in the
// goroutine that reads, and hands miekg/dns only the rest (a goroutine
// each, as before); on a kernel socket bound to one address it reads and
// writes in batches of up to 32 datagrams (recvmmsg, sendmmsg).
//
// # Concurrency
//
// A Server is safe for concurrent use: the registry is guarded by a
// RWMutex (Add and Remove take it for writing, answers for reading), the
// random stream by its own mutex, the counters are atomic. Serve, ServeTCP
// and Listen run miekg/dns's goroutines (one per UDP socket, one per UDP
// query the fast path does not take, one per TCP connection); Listen binds
// one UDP socket per core (SO_REUSEPORT, on Linux). A Service's Close
// returns once they have all ended. The rest of the package starts none.
package dnsd
