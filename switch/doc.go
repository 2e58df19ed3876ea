// Package vswitch is netyard's MAC-learning Ethernet switch.
//
// The directory is switch/ but the package is vswitch, because switch is a Go
// keyword; import it as
//
//	import "github.com/netyard/netyard/switch"  // package vswitch
//
// # Model
//
// The Linux bridge is the reference. A Switch has numbered ports; each is fed
// with Input(port, frame) and sends through a link.Sender. For every frame the
// switch
//
//  1. drops runts, frames with a multicast or zero source, and frames on a
//     port that is down;
//  2. classifies the frame into a VLAN by the ingress port's 802.1Q settings
//     (access port: untagged or priority-tagged frames join the PVID; trunk:
//     tagged frames of allowed VLANs, untagged frames join the native VLAN),
//     and drops double-tagged frames that could hop VLANs (see VLANs);
//  3. never forwards 01:80:C2:00:00:0X link-local frames (IEEE 802.1D §7.12.6);
//  4. learns the source address on the ingress port, keyed by VLAN and MAC;
//  5. forwards known unicast to its port, filters it when that port is the
//     ingress port, and floods unknown unicast, broadcast and multicast to
//     every other up port of the VLAN, in ascending port order.
//
// Egress tagging follows the egress port: access ports and a trunk's native
// VLAN send untagged, a trunk's other VLANs send tagged.
//
// # VLANs
//
// VLAN filtering is always on (Linux's bridge with vlan_filtering 1). Only
// 802.1Q tags (TPID 0x8100) classify; an 802.1ad S-tag (0x88a8) is payload.
//
// Double tagging is refused. A frame whose VLAN is the one its ingress
// port carries untagged (an access port's PVID, a trunk's native VLAN)
// and whose payload, past its own tag if it has one, starts with another
// VLAN tag (EtherType 0x8100 or 0x88a8) is dropped, counted as
// DropDoubleTag ("double-tag") and traced with both VLANs. Forwarded, it
// would leave a trunk whose native VLAN it is with only the inner tag,
// and the next switch would put it in the inner tag's VLAN: the classic
// VLAN hopping attack, which needs nothing but an access port in a VLAN
// some trunk carries untagged. Real switches forward such frames (Linux's
// bridge does), so a real network defends by tagging the native VLAN or
// keeping it off access ports; netyard drops them so that other-VLAN hosts
// never hear each other.
//
// On a trunk the same rule covers the native VLAN only. A frame of a VLAN
// the trunk carries tagged is QinQ carried through (802.1ad S-VLANs over
// 802.1Q, or a customer's own tags): legitimate, and forwarded as it came
// to every trunk that tags that VLAN, and without its outer tag to the
// VLAN's access ports, towards hosts. The one place its inner tag would
// become outermost on a link to another switch is a trunk whose native
// VLAN it is; there it is not sent, and counted as double-tag on that
// egress port.
//
// # Forwarding database
//
// Entries age out exactly AgeingTime (default 300 s) after they were last
// refreshed: a lookup never returns an entry past its time, and a timer on the
// node's clock removes it at that instant. The table holds at most MaxEntries
// (default 8192) dynamic entries. When it is full a new address is not
// learned (the Linux bridge's max_learned policy): existing entries stay, the
// frame is still forwarded (flooded), and the refusal is counted under
// DropFDBFull on the ingress port. A port going down flushes its entries.
//
// # Counters
//
// Every port counts frames and bytes received and sent, and drops by reason
// (DropReason). Every drop has a reason; nothing vanishes silently.
//
// # Mirroring
//
// SetMirror makes one port a monitor: it receives a copy of every frame the
// switch accepts on, or sends out of, the chosen source ports, exactly as it
// was on their wire (frames dropped on arrival, as runts, for their VLAN or
// as double-tagged, are not copied). A monitor port takes no part in forwarding; frames arriving on it are
// dropped with DropMonitor.
//
// # Spanning tree
//
// With Options.STP set, the switch runs STP-lite: IEEE 802.1D-1998 §8
// spanning tree (root election by bridge ID, root path cost, root,
// designated, alternate and backup roles, blocking, listening, learning and
// forwarding, message age and max age, topology change notification with
// fast ageing), plus RSTP's edge ports and the BPDU and root guards. BPDUs
// (bpdu.go) are 802.1D's on the wire, so a Linux bridge with stp_state 1 is
// a peer; RST BPDUs are understood and answered in 802.1D. A port that is
// not forwarding drops data with DropBlocked; a learning port learns first.
// Every root, role and state change is traced with its reason.
//
// # Concurrency
//
// Input may be called from several goroutines at once, one per port as in
// the netns backend. The port table is copy-on-write behind an atomic
// pointer and read without locks; port state is an atomic word. Counters
// are atomics.
//
// The FDB (fdb.go) is an open-addressing hash table of atomic slots behind
// an atomic pointer. The forwarding path takes no lock: looking up a
// destination, and refreshing the time of a source already known on its
// ingress port, are atomic loads and one compare-and-swap. Everything else
// takes the FDB's mutex: learning a new address, moving one to another
// port, removing (ageing, flushes) and rebuilding the table (growth, or
// clearing tombstones, as a new table published through the pointer). A
// slot holds one key for the life of its table and its port changes only
// under the mutex, so a lookup only ever returns a port its address was
// learned on; a lock-free refresh checks after its write that the entry
// is still there, on that port, in the live table, and redoes the
// learning under the mutex if not, so no refresh is lost and none lands
// on another address. A rebuild publishes its new table and then carries
// over the times refreshed in the old one meanwhile, so forwarding does
// not wait for it; and an older frame never moves an address back from
// the port a later one saw it on. fdb.go sets out the interleavings.
//
// STP state is guarded by the spanning tree's own mutex. When both are
// held, the STP mutex comes first, then the FDB's (a port entering
// blocking or disabled flushes its addresses under the STP lock, and
// topology changes shorten the ageing there, so the table always agrees
// with the port states). Frames are sent and trace events emitted with no
// lock held: STP queues its BPDUs and events, the Flushed and Aged events
// of its flushes and fast ageing among them in the order they happened,
// and releases them after its lock. That order holds for what one
// goroutine does; in netns, where ports are fed concurrently, another
// port's Learned event may come between.
//
// # Time
//
// The switch reads time only from its clock.Clock (Options.Clock): the
// virtual clock in a simulation, the wall clock in the netns backend.
package vswitch
