package nat_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/netyard/netyard/nat"
)

// step is one packet of a flow between container:port and outside:port,
// masqueraded behind host: out leaves, in is the reply; at is after t0.
// Ports from 1024 on keep their number through the NAT.
type step struct {
	in    bool
	flags string // TCP: syn, synack, ack, rst, fin; ICMP: "" request, reply
	at    time.Duration
}

// play sends a flow's packets through tb and returns the error of the last.
func play(t *testing.T, tb *nat.Table, proto uint8, port uint16, steps []step) error {
	t.Helper()
	var err error
	for _, s := range steps {
		if s.in {
			_, err = tb.Inbound(pkt(t, proto, ap(outside, port), ap(host, port), s.flags), t0.Add(s.at))
		} else {
			_, err = tb.Outbound(pkt(t, proto, ap(container, port), ap(outside, port), s.flags), host, t0.Add(s.at))
		}
	}
	return err
}

func flowOf(tb *nat.Table, proto uint8, port uint16, now time.Time) (nat.Flow, bool) {
	for _, f := range tb.Dump(now) {
		if f.Orig.Proto == proto && f.Orig.Src == ap(container, port) {
			return f, true
		}
	}
	return nat.Flow{}, false
}

// TestAssured: which flows Linux's trackers mark ASSURED (and so never
// drop early), and which end at once.
func TestAssured(t *testing.T) {
	out := func(flags string, at time.Duration) step { return step{false, flags, at} }
	in := func(flags string, at time.Duration) step { return step{true, flags, at} }
	for _, c := range []struct {
		name             string
		proto            uint8
		steps            []step
		gone             bool // removed at once
		replied, assured bool
		state            string
	}{
		{"tcp SYN unanswered", nat.TCP, []step{out("syn", 0)}, false, false, false, "syn-sent"},
		{"tcp half open", nat.TCP, []step{out("syn", 0), in("synack", 0)}, false, true, false, "syn-recv"},
		{"tcp handshake done", nat.TCP, []step{out("syn", 0), in("synack", 0), out("ack", 0)}, false, true, true, "established"},
		{"tcp refused: a reset the only reply", nat.TCP, []step{out("syn", 0), in("rst", 0)}, true, false, false, ""},
		{"tcp given up: a reset before any reply", nat.TCP, []step{out("syn", 0), out("rst", 0)}, true, false, false, ""},
		{"tcp reset after the handshake stays assured", nat.TCP, []step{out("syn", 0), in("synack", 0), out("ack", 0), out("rst", time.Second)}, false, true, true, "close"},
		{"tcp reset of a half-open connection", nat.TCP, []step{out("syn", 0), in("synack", 0), out("rst", 0)}, false, true, false, "close"},
		{"udp unanswered", nat.UDP, []step{out("", 0), out("", 5*time.Second)}, false, false, false, ""},
		{"udp query and answer", nat.UDP, []step{out("", 0), in("", 0)}, false, true, false, ""},
		{"udp answered, more within 2 s", nat.UDP, []step{out("", 0), in("", 0), out("", 2*time.Second)}, false, true, false, ""},
		{"udp stream: more after 2 s", nat.UDP, []step{out("", 0), in("", 0), out("", 2*time.Second+1)}, false, true, true, ""},
		{"udp first answer after 2 s", nat.UDP, []step{out("", 0), in("", 3*time.Second)}, false, true, false, ""},
		{"udp first answer after 2 s, then more", nat.UDP, []step{out("", 0), in("", 3*time.Second), out("", 3*time.Second)}, false, true, true, ""},
		{"icmp echo answered, for long", nat.ICMP, []step{out("", 0), in("reply", 0), out("", 10*time.Second), in("reply", 10*time.Second)}, false, true, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := nat.New(0)
			if err := play(t, tb, c.proto, 4000, c.steps); err != nil {
				t.Fatal(err)
			}
			now := t0.Add(c.steps[len(c.steps)-1].at)
			f, ok := flowOf(tb, c.proto, 4000, now)
			if ok == c.gone {
				t.Fatalf("flow tracked = %v, want %v (%+v)", ok, !c.gone, tb.Stats())
			}
			if c.gone {
				if st := tb.Stats(); st.Closed != 1 {
					t.Errorf("stats %+v, want Closed 1", st)
				}
				return
			}
			if f.Replied != c.replied || f.Assured != c.assured || f.State != c.state {
				t.Errorf("replied %v, assured %v, state %q; want %v, %v, %q", f.Replied, f.Assured, f.State, c.replied, c.assured, c.state)
			}
		})
	}
}

// TestEarlyDropOrder: on a full table a new flow takes the place of the
// oldest flow that never saw a reply, else the oldest replied but
// unassured one, else the oldest closing TCP connection; when every flow
// is assured and open, the new flow is refused.
func TestEarlyDropOrder(t *testing.T) {
	tb := nat.New(4)
	var victims []string
	tb.OnEarlyDrop(func(v nat.Flow) { victims = append(victims, fmt.Sprint(v.Orig.Src.Port())) })
	handshake := []step{{false, "syn", 0}, {true, "synack", 0}, {false, "ack", 0}}
	// Oldest first: open (assured), closing, unassured, unreplied.
	for _, f := range []struct {
		proto uint8
		port  uint16
		steps []step
	}{
		{nat.TCP, 4001, handshake},
		{nat.TCP, 4002, append(slices.Clone(handshake), step{false, "fin", 0})},
		{nat.ICMP, 4003, []step{{false, "", 0}, {true, "reply", 0}}},
		{nat.UDP, 4004, []step{{false, "", 0}}},
	} {
		if err := play(t, tb, f.proto, f.port, f.steps); err != nil {
			t.Fatal(err)
		}
	}
	// Each newcomer completes its handshake, and so is never a victim.
	for port := uint16(4010); port < 4013; port++ {
		if err := play(t, tb, nat.TCP, port, handshake); err != nil {
			t.Fatalf("flow %d: %v", port, err)
		}
	}
	if err := play(t, tb, nat.TCP, 4013, handshake[:1]); !errors.Is(err, nat.ErrFull) {
		t.Fatalf("a SYN on a table of assured flows: %v, want ErrFull", err)
	}
	if want := []string{"4004", "4003", "4002"}; !slices.Equal(victims, want) {
		t.Errorf("victims %v, want %v", victims, want)
	}
	if st := tb.Stats(); st.EarlyDropped != 3 || st.Full != 1 {
		t.Errorf("stats %+v, want 3 dropped early and 1 refused", st)
	}
	if _, ok := flowOf(tb, nat.TCP, 4001, t0); !ok {
		t.Errorf("the established flow was dropped")
	}
}

// TestEarlyDropOldestUnrepliedFirst: unanswered flows go in the order they
// came, and an answered one is kept.
func TestEarlyDropOldestUnrepliedFirst(t *testing.T) {
	tb := nat.New(3)
	var victims []uint16
	tb.OnEarlyDrop(func(v nat.Flow) { victims = append(victims, v.Orig.Src.Port()) })
	_ = play(t, tb, nat.UDP, 4001, []step{{false, "", 0}})
	_ = play(t, tb, nat.UDP, 4002, []step{{false, "", time.Second}, {true, "", time.Second}})
	_ = play(t, tb, nat.UDP, 4003, []step{{false, "", 2 * time.Second}})
	for port := uint16(4004); port < 4008; port++ {
		if err := play(t, tb, nat.UDP, port, []step{{false, "", 3 * time.Second}}); err != nil {
			t.Fatalf("flow %d: %v", port, err)
		}
	}
	if want := []uint16{4001, 4003, 4004, 4005}; !slices.Equal(victims, want) {
		t.Errorf("victims %v, want %v", victims, want)
	}
	if _, ok := flowOf(tb, nat.UDP, 4002, t0.Add(3*time.Second)); !ok {
		t.Errorf("the answered flow was dropped")
	}
}

// TestExpiredFlowsMakeRoom: flows that have expired make room for new
// ones without any packet of theirs, before anything is dropped early; a
// flow whose life a reset shortened too.
func TestExpiredFlowsMakeRoom(t *testing.T) {
	tb := nat.New(2)
	handshake := []step{{false, "syn", 0}, {true, "synack", 0}, {false, "ack", 0}}
	// An established connection (5 days) reset at 1 s: 10 s left.
	_ = play(t, tb, nat.TCP, 4001, append(slices.Clone(handshake), step{false, "rst", time.Second}))
	_ = play(t, tb, nat.UDP, 4002, []step{{false, "", 0}}) // 30 s
	for _, c := range []struct {
		at   time.Duration
		want nat.Stats // Expired, EarlyDropped
	}{
		{12 * time.Second, nat.Stats{Expired: 1}},
		{31 * time.Second, nat.Stats{Expired: 2}},
	} {
		port := uint16(4100 + c.at/time.Second)
		if err := play(t, tb, nat.TCP, port, []step{{false, "syn", c.at}}); err != nil {
			t.Fatalf("at %v: %v", c.at, err)
		}
		if st := tb.Stats(); st.Expired != c.want.Expired || st.EarlyDropped != 0 {
			t.Errorf("at %v: stats %+v, want Expired %d and nothing dropped early", c.at, st, c.want.Expired)
		}
	}
	if n := tb.Len(); n != 2 {
		t.Errorf("%d flows held, want 2", n)
	}
}

// TestFreePortLowest: containers that all use one source port towards one
// destination get the lowest free ports from 1024 on, one each, however
// many they are; a port a flow gave back is the next one given; a port
// another kind of flow holds towards that destination is skipped.
func TestFreePortLowest(t *testing.T) {
	tb := nat.New(0)
	// Published port 1124: the client's connection to it holds the tuple
	// client:33000 -> host:1124.
	client := ap(outside, 33000)
	if err := tb.AddPublish(nat.Publish{Proto: nat.TCP, Ext: ap(host, 1124), To: ap(container, 80)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Inbound(pkt(t, nat.TCP, client, ap(host, 1124), "syn"), t0); err != nil {
		t.Fatal(err)
	}
	from := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{172, 18, 1 + byte(i>>8), byte(i)}) }
	syn := func(i int) uint16 {
		t.Helper()
		b := pkt(t, nat.TCP, ap(from(i), 5000), client, "syn")
		if _, err := tb.Outbound(b, host, t0); err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
		return uint16(b[20])<<8 | uint16(b[21])
	}
	var got []uint16
	for i := range 200 {
		got = append(got, syn(i))
	}
	want := []uint16{5000}
	for p := uint16(1024); len(want) < 200; p++ {
		if p != 1124 {
			want = append(want, p)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ports %v,\nwant %v", got, want)
	}
	// Flow 10 (port 1033) gives up before any answer: its port is free.
	if _, err := tb.Outbound(pkt(t, nat.TCP, ap(from(10), 5000), client, "rst"), host, t0); err != nil {
		t.Fatal(err)
	}
	if p := syn(500); p != 1033 {
		t.Errorf("after port 1033 was given back, a new flow got %d, want 1033", p)
	}
	if p := syn(501); p != 1224 {
		t.Errorf("the next new flow got %d, want 1224", p)
	}
}
