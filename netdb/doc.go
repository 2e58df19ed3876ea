// Package netdb is the overlay's control plane: a model of Docker's
// NetworkDB (moby's libnetwork/networkdb), one DB per Docker host.
//
// # Tables
//
// Entries live in tables scoped per network and are keyed (network,
// table, key). Each has a value, an owner (the member that wrote it) and
// a Lamport time; an event replaces an entry when its Lamport time is
// later, or equal with a greater owner name. Only members of a network
// take its table events. A delete leaves a tombstone for the reap
// interval (NetworkDB's 30 minutes), so that a late create cannot bring
// the entry back; tombstones travel in bulk syncs with the time they
// have left. When a member is declared dead or leaves, every entry it
// owns is removed here at once, as NetworkDB does, and comes back through
// bulk sync if the member returns. An entry for a key another live member
// owns is refused and counted (a host claiming another host's container),
// and so is one Config.Accept refuses (the overlay refuses a peer record
// whose VTEP is not its owner's address). PeerTable and EndpointTable
// values must decode as PeerRecord and EndpointRecord.
//
// The table core, Store, is shared by two layers of membership and
// transport, behind the Gossip interface: DB here, netyard's own
// deterministic gossip for the mem world, and netdb/cluster, the same
// tables on hashicorp/memberlist for real machines.
//
// # Membership
//
// DB's membership follows memberlist's SWIM: a member joins by a state
// exchange (push/pull) with seed addresses; each ProbeInterval it pings
// one member, in a shuffled round robin, and a member that does not ack
// within ProbeTimeout is suspect; a suspect is declared dead after
// SuspicionMult × max(1, log10(n)) × ProbeInterval (4 s for up to ten
// members), which independent confirmations shorten from a longest
// suspicion SuspicionMaxTimeoutMult times that, as memberlist's do. A
// member that hears it is suspect or dead refutes with a higher
// incarnation. Dead members are asked to join again every second
// (NetworkDB's reconnectNode), which is how a partition heals; a member
// back from the dead exchanges state and bulk-syncs. Indirect probes
// through other members are not modelled: a lost ping counts against
// its target.
//
// # Dissemination
//
// Table events are queued as broadcasts, per network, and sent in gossip
// rounds every GossipInterval (200 ms) to GossipNodes (3) random members
// of the network, each broadcast in RetransmitMult × ceil(log10(n+1))
// rounds (memberlist's TransmitLimitedQueue, RetransmitMult 4 as
// NetworkDB's table queues); membership records and network attachments
// go the same way to the whole cluster. A member relays what was news to
// it. Joining a network bulk-syncs its table with every member known in
// it, and every PushPullInterval (30 s) each network is bulk-synced with
// one random member of it, which answers with its own.
//
// # Wire format
//
// Every message is one UDP datagram of at most MaxPacket (1400) bytes,
// memberlist's UDPBufferSize, which fits a 1500-byte MTU: a version byte,
// a type byte and fields, big-endian, strings length-prefixed. Bulk syncs
// and push/pulls are split across as many datagrams as they need, each
// taken on its own. A message that does not decode is counted under its
// reason ("malformed: truncated", ...) and traced; nothing panics.
//
// # Determinism
//
// A DB takes time only from its clock.Clock, randomness only from the
// *rand.Rand it is given, starts no goroutine, and iterates in sorted
// order: on one clock and one seed a cluster of DBs does the same thing
// every run. A DB's methods, Input and its timers must run one at a time
// (the engine does so in mem). The Store is safe for concurrent use and
// tells changes and trace events outside its lock, in order.
package netdb
