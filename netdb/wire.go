package netdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Version is the wire format's version, the first byte of every message.
const Version = 1

// MaxPacket is the most bytes a message may have: memberlist's
// UDPBufferSize and NetworkDB's PacketBufferSize default, which leaves
// room in a 1500-byte Ethernet MTU for the IPv4 and UDP headers (1472
// bytes of payload) and a little more for tunnels.
const MaxPacket = 1400

// Limits on what one entry may hold, so that any one table event fits a
// packet with the gossip header around it.
const (
	MaxName  = 64   // a member's, network's or table's name
	MaxKey   = 128  // an entry's key
	MaxValue = 1024 // an entry's value
)

// Message types. A message is Version, then a body: a type byte and its
// fields. Gossip and push/pull messages carry other bodies inside them.
const (
	typePing     = 1 // seq u32, from, target
	typeAck      = 2 // seq u32, from
	typeGossip   = 3 // from, round u32, n u16, n × (len u16, body)
	typePushPull = 4 // from, flags u8, part u8, parts u8, n u16 × member, m u16 × network event
	typeBulkSync = 5 // from, id u32, flags u8, part u16, parts u16, network, n u16 × (len u16, table body)

	typeAlive   = 10 // member record: name, addr, incarnation u32
	typeSuspect = 11 // name, incarnation u32, from
	typeDead    = 12 // name, incarnation u32, from
	typeLeft    = 13 // name, incarnation u32

	typeNetwork = 20 // member, network, lamport u64, leave u8
	typeTable   = 21 // kind u8, network, table, key, owner, lamport u64, reap u32 (s), value (u16 len)
)

// Flags of push/pull and bulk sync messages.
const (
	flagReply       = 1 // push/pull: the answer to a request (not to be answered)
	flagJoin        = 2 // push/pull: the sender is joining (or rejoining)
	flagUnsolicited = 1 // bulk sync: to be answered with the receiver's own
)

// errors of the decoder; each names the reason a message is refused.
var (
	errTruncated = errors.New("truncated")
	errTrailing  = errors.New("trailing bytes")
	errVersion   = errors.New("bad version")
	errType      = errors.New("unknown message type")
	errAddr      = errors.New("bad address")
	errName      = errors.New("bad name")
	errField     = errors.New("bad field")
	errNested    = errors.New("unexpected part")
)

// reasonOf returns the Stats key of a decoding error: "malformed: " and
// the class, without the detail.
func reasonOf(err error) string {
	for _, e := range []error{errTruncated, errTrailing, errVersion, errType, errAddr, errName, errField, errNested} {
		if errors.Is(err, e) {
			return "malformed: " + e.Error()
		}
	}
	return "malformed"
}

// TableOp is what a table event does to its entry.
type TableOp uint8

// The table events.
const (
	OpCreate TableOp = 1
	OpUpdate TableOp = 2
	OpDelete TableOp = 3
)

// String names the op: "create", "update", "delete".
func (o TableOp) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// tableEvent is an entry's create, update or delete, as gossiped.
type tableEvent struct {
	Op                  TableOp
	Network, Table, Key string
	Owner               string
	Lamport             uint64
	Reap                uint32 // deletes: seconds the tombstone has left
	Value               []byte
}

// networkEvent is a member joining or leaving a network.
type networkEvent struct {
	Member, Network string
	Lamport         uint64
	Leave           bool
}

// memberRecord is what a member is believed to be: alive, suspect, dead
// or left, at an incarnation.
type memberRecord struct {
	Type        byte // typeAlive, typeSuspect, typeDead or typeLeft
	Name        string
	Addr        netip.AddrPort // alive records (and push/pull records)
	Incarnation uint32
	From        string // suspect and dead: who said so
}

// message is one decoded message. Which fields are set depends on Type.
type message struct {
	Type   byte
	From   string
	Seq    uint32 // ping, ack
	Target string // ping
	Round  uint32 // gossip
	Parts  []part // gossip

	Flags   byte           // push/pull, bulk sync
	Part    int            // push/pull, bulk sync: this part's index
	Total   int            // push/pull, bulk sync: how many parts
	Members []memberRecord // push/pull
	Nets    []networkEvent // push/pull
	SyncID  uint32         // bulk sync
	Network string         // bulk sync: the network it covers
	Entries []tableEvent   // bulk sync
}

// part is one body inside a gossip message: a member record, a network
// event or a table event.
type part struct {
	Type   byte
	Member memberRecord
	Net    networkEvent
	Table  tableEvent
	Raw    []byte // the body as it came, for rebroadcasting unchanged
}

// The encoder appends to a buffer.

func appendStr(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	b = appendAddr(b, a.Addr())
	return binary.BigEndian.AppendUint16(b, a.Port())
}

func appendAddr(b []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return append(b, 0)
	case a.Is4():
		x := a.As4()
		b = append(b, 4)
		return append(b, x[:]...)
	default:
		x := a.As16()
		b = append(b, 16)
		return append(b, x[:]...)
	}
}

func appendMember(b []byte, m memberRecord) []byte {
	b = append(b, m.Type)
	b = appendStr(b, m.Name)
	switch m.Type {
	case typeAlive:
		b = appendAddrPort(b, m.Addr)
		b = binary.BigEndian.AppendUint32(b, m.Incarnation)
	case typeSuspect, typeDead:
		b = binary.BigEndian.AppendUint32(b, m.Incarnation)
		b = appendStr(b, m.From)
	case typeLeft:
		b = binary.BigEndian.AppendUint32(b, m.Incarnation)
	}
	return b
}

func appendNetwork(b []byte, n networkEvent) []byte {
	b = append(b, typeNetwork)
	b = appendStr(b, n.Member)
	b = appendStr(b, n.Network)
	b = binary.BigEndian.AppendUint64(b, n.Lamport)
	if n.Leave {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendTable(b []byte, t tableEvent) []byte {
	b = append(b, typeTable, byte(t.Op))
	b = appendStr(b, t.Network)
	b = appendStr(b, t.Table)
	b = appendStr(b, t.Key)
	b = appendStr(b, t.Owner)
	b = binary.BigEndian.AppendUint64(b, t.Lamport)
	b = binary.BigEndian.AppendUint32(b, t.Reap)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.Value)))
	return append(b, t.Value...)
}

// tableSize is the bytes appendTable writes for t.
func tableSize(t tableEvent) int {
	return 2 + 4 + len(t.Network) + len(t.Table) + len(t.Key) + len(t.Owner) + 8 + 4 + 2 + len(t.Value)
}

func encodePing(seq uint32, from, target string) []byte {
	b := []byte{Version, typePing}
	b = binary.BigEndian.AppendUint32(b, seq)
	b = appendStr(b, from)
	return appendStr(b, target)
}

func encodeAck(seq uint32, from string) []byte {
	b := []byte{Version, typeAck}
	b = binary.BigEndian.AppendUint32(b, seq)
	return appendStr(b, from)
}

// gossipHeader is the bytes a gossip message has before its parts, at
// most: version, type, the sender's name, the round and the count.
const gossipHeader = 2 + 1 + MaxName + 4 + 2

// partOverhead is what each part costs in a gossip message beyond its body.
const partOverhead = 2

// encodeGossip packs bodies, which the caller has chosen to fit.
func encodeGossip(from string, round uint32, bodies [][]byte) []byte {
	b := []byte{Version, typeGossip}
	b = appendStr(b, from)
	b = binary.BigEndian.AppendUint32(b, round)
	b = binary.BigEndian.AppendUint16(b, uint16(len(bodies)))
	for _, p := range bodies {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// decoder reads fields in order and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(errTruncated)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() byte {
	v := d.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) u16() uint16 {
	v := d.bytes(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (d *decoder) u32() uint32 {
	v := d.bytes(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (d *decoder) u64() uint64 {
	v := d.bytes(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// str reads a string of at most max bytes, which must not be empty
// unless empty is allowed, and must be printable ASCII-ish (no control
// bytes), since names end up in traces.
func (d *decoder) str(max int, empty bool) string {
	n := int(d.u8())
	v := d.bytes(n)
	if d.err != nil {
		return ""
	}
	if n > max || n == 0 && !empty {
		d.fail(fmt.Errorf("%w: length %d", errName, n))
		return ""
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			d.fail(fmt.Errorf("%w: control byte %#x", errName, c))
			return ""
		}
	}
	return string(v)
}

func (d *decoder) addr() netip.Addr {
	switch n := d.u8(); n {
	case 0:
		return netip.Addr{}
	case 4:
		v := d.bytes(4)
		if v == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom4([4]byte(v))
	case 16:
		v := d.bytes(16)
		if v == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom16([16]byte(v))
	default:
		d.fail(fmt.Errorf("%w: length %d", errAddr, n))
		return netip.Addr{}
	}
}

func (d *decoder) addrPort() netip.AddrPort {
	a := d.addr()
	p := d.u16()
	if d.err == nil && !a.IsValid() {
		d.fail(fmt.Errorf("%w: none", errAddr))
	}
	return netip.AddrPortFrom(a, p)
}

func (d *decoder) member(t byte) memberRecord {
	m := memberRecord{Type: t, Name: d.str(MaxName, false)}
	switch t {
	case typeAlive:
		m.Addr = d.addrPort()
		m.Incarnation = d.u32()
	case typeSuspect, typeDead:
		m.Incarnation = d.u32()
		m.From = d.str(MaxName, false)
	case typeLeft:
		m.Incarnation = d.u32()
	}
	return m
}

func (d *decoder) network() networkEvent {
	n := networkEvent{Member: d.str(MaxName, false), Network: d.str(MaxName, false), Lamport: d.u64()}
	switch d.u8() {
	case 0:
	case 1:
		n.Leave = true
	default:
		d.fail(fmt.Errorf("%w: network event flag", errField))
	}
	return n
}

func (d *decoder) table() tableEvent {
	t := tableEvent{Op: TableOp(d.u8())}
	if d.err == nil && (t.Op < OpCreate || t.Op > OpDelete) {
		d.fail(fmt.Errorf("%w: table op %d", errField, t.Op))
	}
	t.Network = d.str(MaxName, false)
	t.Table = d.str(MaxName, false)
	t.Key = d.str(MaxKey, false)
	t.Owner = d.str(MaxName, false)
	t.Lamport = d.u64()
	t.Reap = d.u32()
	n := int(d.u16())
	if d.err == nil && n > MaxValue {
		d.fail(fmt.Errorf("%w: value of %d bytes", errField, n))
	}
	if v := d.bytes(n); v != nil {
		t.Value = append([]byte(nil), v...)
	}
	if d.err == nil && t.Lamport == 0 {
		d.fail(fmt.Errorf("%w: lamport time 0", errField))
	}
	return t
}

// body decodes one part's body, which must be of a type allowed inside
// a gossip message.
func decodePart(b []byte) (part, error) {
	d := decoder{b: b}
	p := part{Type: d.u8(), Raw: b}
	switch p.Type {
	case typeAlive, typeSuspect, typeDead, typeLeft:
		p.Member = d.member(p.Type)
	case typeNetwork:
		p.Net = d.network()
	case typeTable:
		p.Table = d.table()
	default:
		if d.err == nil {
			d.fail(fmt.Errorf("%w: %d inside gossip", errNested, p.Type))
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(errTrailing)
	}
	return p, d.err
}

// decode decodes a whole message. It never panics; an error says why the
// message is refused.
func decode(b []byte) (message, error) {
	d := decoder{b: b}
	if v := d.u8(); d.err == nil && v != Version {
		return message{}, fmt.Errorf("%w %d", errVersion, v)
	}
	m := message{Type: d.u8()}
	switch m.Type {
	case typePing:
		m.Seq = d.u32()
		m.From = d.str(MaxName, false)
		m.Target = d.str(MaxName, false)
	case typeAck:
		m.Seq = d.u32()
		m.From = d.str(MaxName, false)
	case typeGossip:
		m.From = d.str(MaxName, false)
		m.Round = d.u32()
		n := int(d.u16())
		for i := 0; i < n && d.err == nil; i++ {
			raw := d.bytes(int(d.u16()))
			if d.err != nil {
				break
			}
			p, err := decodePart(raw)
			if err != nil {
				d.fail(err)
				break
			}
			m.Parts = append(m.Parts, p)
		}
	case typePushPull:
		m.From = d.str(MaxName, false)
		m.Flags = d.u8()
		m.Part, m.Total = int(d.u8()), int(d.u8())
		n := int(d.u16())
		for i := 0; i < n && d.err == nil; i++ {
			t := d.u8()
			if d.err == nil && (t < typeAlive || t > typeLeft) {
				d.fail(fmt.Errorf("%w: member record type %d", errField, t))
			}
			r := memberRecord{Type: t, Name: d.str(MaxName, false), Addr: d.addrPort(), Incarnation: d.u32()}
			m.Members = append(m.Members, r)
		}
		n = int(d.u16())
		for i := 0; i < n && d.err == nil; i++ {
			m.Nets = append(m.Nets, d.network())
		}
		if d.err == nil && (m.Total == 0 || m.Part >= m.Total) {
			d.fail(fmt.Errorf("%w: part %d of %d", errField, m.Part, m.Total))
		}
	case typeBulkSync:
		m.From = d.str(MaxName, false)
		m.SyncID = d.u32()
		m.Flags = d.u8()
		m.Part, m.Total = int(d.u16()), int(d.u16())
		m.Network = d.str(MaxName, false)
		n := int(d.u16())
		for i := 0; i < n && d.err == nil; i++ {
			raw := d.bytes(int(d.u16()))
			if d.err != nil {
				break
			}
			p, err := decodePart(raw)
			if err == nil && p.Type != typeTable {
				err = fmt.Errorf("%w: %d in a bulk sync", errNested, p.Type)
			}
			if err != nil {
				d.fail(err)
				break
			}
			m.Entries = append(m.Entries, p.Table)
		}
		if d.err == nil && (m.Total == 0 || m.Part >= m.Total) {
			d.fail(fmt.Errorf("%w: part %d of %d", errField, m.Part, m.Total))
		}
	default:
		if d.err == nil {
			return message{}, fmt.Errorf("%w %d", errType, m.Type)
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(errTrailing)
	}
	if d.err != nil {
		return message{}, d.err
	}
	return m, nil
}

// pushPullRecord is a member record as a push/pull message carries it:
// type, name, address, incarnation, whatever the state.
func appendPushPullMember(b []byte, r memberRecord) []byte {
	b = append(b, r.Type)
	b = appendStr(b, r.Name)
	b = appendAddrPort(b, r.Addr)
	return binary.BigEndian.AppendUint32(b, r.Incarnation)
}

// encodePushPull splits members and networks across as many messages as
// it takes, each within MaxPacket: members first, then networks.
func encodePushPull(from string, flags byte, members []memberRecord, nets []networkEvent) [][]byte {
	type item struct {
		b      []byte
		member bool
	}
	var items []item
	for _, r := range members {
		items = append(items, item{appendPushPullMember(nil, r), true})
	}
	for _, n := range nets {
		items = append(items, item{appendNetwork(nil, n)[1:], false}) // no type byte: the section says it
	}
	head := 2 + 1 + len(from) + 3 + 2 + 2
	var groups [][]item
	var cur []item
	size := head
	for _, it := range items {
		if size+len(it.b) > MaxPacket && len(cur) > 0 {
			groups = append(groups, cur)
			cur, size = nil, head
		}
		cur = append(cur, it)
		size += len(it.b)
	}
	groups = append(groups, cur)
	if len(groups) > 255 {
		groups = groups[:255] // 255 parts of 1400 bytes: beyond any cluster this is for
	}
	out := make([][]byte, 0, len(groups))
	for i, g := range groups {
		b := []byte{Version, typePushPull}
		b = appendStr(b, from)
		b = append(b, flags, byte(i), byte(len(groups)))
		nm := 0
		for _, it := range g {
			if it.member {
				nm++
			}
		}
		b = binary.BigEndian.AppendUint16(b, uint16(nm))
		for _, it := range g {
			if it.member {
				b = append(b, it.b...)
			}
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(g)-nm))
		for _, it := range g {
			if !it.member {
				b = append(b, it.b...)
			}
		}
		out = append(out, b)
	}
	return out
}

// encodeBulkSync splits a network's entries across as many messages as it takes,
// each within MaxPacket.
func encodeBulkSync(from string, id uint32, flags byte, network string, entries []tableEvent) [][]byte {
	head := 2 + 1 + len(from) + 4 + 1 + 4 + 1 + len(network) + 2
	var groups [][]tableEvent
	var cur []tableEvent
	size := head
	for _, e := range entries {
		n := partOverhead + tableSize(e)
		if size+n > MaxPacket && len(cur) > 0 {
			groups = append(groups, cur)
			cur, size = nil, head
		}
		cur = append(cur, e)
		size += n
	}
	groups = append(groups, cur)
	out := make([][]byte, 0, len(groups))
	for i, g := range groups {
		b := []byte{Version, typeBulkSync}
		b = appendStr(b, from)
		b = binary.BigEndian.AppendUint32(b, id)
		b = append(b, flags)
		b = binary.BigEndian.AppendUint16(b, uint16(i))
		b = binary.BigEndian.AppendUint16(b, uint16(len(groups)))
		b = appendStr(b, network)
		b = binary.BigEndian.AppendUint16(b, uint16(len(g)))
		for _, e := range g {
			b = binary.BigEndian.AppendUint16(b, uint16(tableSize(e)))
			b = appendTable(b, e)
		}
		out = append(out, b)
	}
	return out
}
