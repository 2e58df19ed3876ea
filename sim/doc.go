// Package sim is netyard's discrete-event engine: a virtual clock, an event
// queue, seeded random streams and simulated links.
//
// # Model
//
// An Engine owns virtual time. Everything that happens later (a frame
// arriving after a link's latency, an ARP retry, an FDB entry ageing out) is
// a timer in the engine's queue, ordered by (time, insertion sequence): two
// events due at the same instant run in the order they were scheduled. The
// engine implements clock.Clock, so nodes written against clock.Clock run on
// it unchanged. Time only moves when the engine runs the next event, so an
// idle network fast-forwards, and a run that waits for something that can
// never happen stops when the queue is empty instead of hanging.
//
// # Determinism
//
// A run is a function of its seed. There are no goroutines inside a run, no
// map iteration on an output path, and no global randomness: Rand derives an
// independent stream from (seed, object name, purpose), so adding a node or a
// link does not change the losses of another link.
//
// # Links
//
// A Link joins two ends, each a link.Sender for the node on that side. A
// frame sent into one end waits for the transmitter (at Rate, behind at most
// Queue frames), crosses in Latency plus a Jitter sample, may be lost with
// probability Loss, and is handed to the other end's receive function. Frames
// never overtake each other on a link. Every loss and queue drop is counted
// and traced.
package sim
