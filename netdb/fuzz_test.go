package netdb

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/netyard/netyard/internal/clock"
)

// seeds are valid messages of every type, and a few broken ones.
func seeds() [][]byte {
	peer, _ := peerRecord(1, "c1").Marshal()
	tbl := tableEvent{Op: OpCreate, Network: "ov", Table: PeerTable, Key: "c1", Owner: "host1", Lamport: 3, Value: peer}
	out := [][]byte{
		encodePing(1, "host1", "host2"),
		encodeAck(1, "host2"),
		encodeGossip("host1", 3, [][]byte{
			appendTable(nil, tbl),
			appendNetwork(nil, networkEvent{Member: "host1", Network: "ov", Lamport: 2}),
			appendMember(nil, memberRecord{Type: typeAlive, Name: "host3", Addr: hostAddr(3), Incarnation: 1}),
			appendMember(nil, memberRecord{Type: typeSuspect, Name: "host2", Incarnation: 1, From: "host1"}),
			appendMember(nil, memberRecord{Type: typeDead, Name: "host2", Incarnation: 1, From: "host1"}),
			appendMember(nil, memberRecord{Type: typeLeft, Name: "host1"}),
		}),
		{Version, typeGossip, 0},
		{9},
	}
	out = append(out, encodePushPull("host1", flagJoin,
		[]memberRecord{{Type: typeAlive, Name: "host1", Addr: hostAddr(1)}, {Type: typeDead, Name: "host2", Addr: hostAddr(2), Incarnation: 4}},
		[]networkEvent{{Member: "host1", Network: "ov", Lamport: 1}})...)
	tomb := tbl
	tomb.Op, tomb.Reap = OpDelete, 60
	out = append(out, encodeBulkSync("host1", 1, flagUnsolicited, "ov", []tableEvent{tbl, tomb})...)
	return out
}

// FuzzDecode: the decoder never panics, what it takes re-encodes to the
// same bytes for gossip, and a DB fed anything goes on.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	clk := clock.NewManual()
	db, err := New(Config{Name: "host2", Addr: hostAddr(2), Clock: clk, Rand: rand.New(rand.NewPCG(1, 2)),
		Send: func(netip.AddrPort, []byte) error { return nil }})
	if err != nil {
		f.Fatal(err)
	}
	db.Join(nil)
	if err := db.JoinNetwork("ov"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err == nil && m.Type == typeGossip {
			var raws [][]byte
			for _, p := range m.Parts {
				raws = append(raws, p.Raw)
			}
			if again := encodeGossip(m.From, m.Round, raws); !bytes.Equal(again, b) {
				t.Errorf("gossip %x re-encodes as %x", b, again)
			}
		}
		db.Input(hostAddr(1), b)
		db.Store().HandleMessage(Origin{Member: "host1", Addr: hostAddr(1)}, b)
		clk.Advance(0)
	})
}

// FuzzRecords: record decoders never panic and round-trip what they take.
func FuzzRecords(f *testing.F) {
	p, _ := peerRecord(1, "c1").Marshal()
	e, _ := EndpointRecord{Container: "web", IP: netip.MustParseAddr("10.0.0.3"), Aliases: []string{"www"}}.Marshal()
	for _, s := range [][]byte{p, e, {}, {3, 'a', 'b'}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r PeerRecord
		if r.Unmarshal(b) == nil {
			if again, err := r.Marshal(); err != nil || !bytes.Equal(again, b) {
				t.Errorf("peer record %x: Marshal = %x, %v", b, again, err)
			}
		}
		var er EndpointRecord
		if er.Unmarshal(b) == nil {
			if again, err := er.Marshal(); err != nil || !bytes.Equal(again, b) {
				t.Errorf("endpoint record %x: Marshal = %x, %v", b, again, err)
			}
		}
	})
}
