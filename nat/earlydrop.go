package nat

// Early drop, as Linux's nf_conntrack early_drop: when the table is full,
// a new flow takes the place of one that is not ASSURED, so a flood of
// probes that nobody answers cannot lock out new connections, and
// connections that have proved themselves are never the price.
//
// Assured follows the kernel's protocol trackers:
//
//   - TCP (nf_conntrack_proto_tcp.c): once the handshake completes, the
//     originator's ACK after the SYN-ACK (syn-recv to established).
//   - UDP (nf_conntrack_proto_udp.c): traffic after a reply, more than 2 s
//     after the first packet ("a stream, not a probe").
//   - ICMP (nf_conntrack_proto_icmp.c): never.
//
// The kernel picks its victim among the non-assured flows of a few hash
// buckets next to the new flow's, so which one goes depends on a hash.
// Here the choice is deterministic and in this order: the oldest flow that
// never saw a reply; else the oldest replied but unassured one (an ICMP
// echo flow, a UDP exchange that never became a stream, a handshake half
// done); else the oldest assured TCP flow that is closing (FIN or RST
// seen), which the kernel's garbage collector also drops early on a
// nearly full table (tcp_can_early_drop). Each class is a list in the
// order flows entered it, so finding the victim costs O(1).

// Early-drop classes, in the order victims are taken.
const (
	unreplied = iota // no reply seen
	unassured        // replied, not assured
	closing          // assured TCP with a FIN or RST seen
	nClasses
	noClass = nClasses // assured and open: never dropped early
)

// classOf returns the early-drop class f belongs in now.
func classOf(f *flow) uint8 {
	switch {
	case !f.replied:
		return unreplied
	case !f.assured:
		return unassured
	case f.tcp == tcpFinWait || f.tcp == tcpClose:
		return closing
	}
	return noClass
}

// classifyLocked moves f to the tail of the list of its class, if that
// changed.
func (t *Table) classifyLocked(f *flow) {
	if c := classOf(f); c != f.class {
		t.unlistLocked(f)
		f.class = c
		if c == noClass {
			return
		}
		f.elem = t.drop[c].PushBack(f)
	}
}

// unlistLocked takes f off its class's list.
func (t *Table) unlistLocked(f *flow) {
	if f.class == noClass {
		return
	}
	t.drop[f.class].Remove(f.elem)
	f.elem, f.class = nil, noClass
}

// earlyDropLocked removes the first flow that may go, counting it, and
// returns it; nil if every flow is assured and open.
func (t *Table) earlyDropLocked() *flow {
	for c := range t.drop {
		if e := t.drop[c].Front(); e != nil {
			v := e.Value.(*flow)
			t.removeLocked(v)
			t.stats.EarlyDropped++
			return v
		}
	}
	return nil
}
