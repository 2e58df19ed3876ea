package vswitch

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
)

// The STP sequence fuzzer's input is a list of records
//
//	op (1 byte) | delay (1 byte) | n (1 byte) | n bytes of data
//
// The switch's clock advances delay x 100 ms (up to 25.5 s: past max age,
// twice forward delay and the TC time), then op's low 3 bits say what
// happens on port op>>3 (modulo the port count):
//
//	0, 1  data is a BPDU's body (after the LLC header), as it comes
//	2     data fills the fields of a BPDU (config, TCN or RST; see fuzzBPDU)
//	3     a data frame from an address data chooses (fills the FDB)
//	4     the port's carrier goes down or up
//	5     the port goes administratively down or up
//	6     the switch stops or resumes sending BPDUs
//	7     the ageing time changes (as a scenario or the CLI may set it)
const (
	fuzzPorts      = 5
	fuzzMaxEntries = 6
)

var fuzzMAC = MAC{0x02, 0, 0, 0x01, 0, 0x10}

// fuzzBPDU builds a BPDU from up to 12 bytes, with bridge IDs near the
// switch's own (priority 0x8000 and MAC fuzzMAC) so that the comparisons
// go both ways.
func fuzzBPDU(d []byte) BPDU {
	var b [12]byte
	copy(b[:], d)
	id := func(prio, low byte) BridgeID {
		m := fuzzMAC
		m[5] = low
		return NewBridgeID(uint16(prio&0xf0)<<8, m)
	}
	bp := BPDU{
		Type:         [...]BPDUType{BPDUConfig, BPDUTCN, BPDURST, BPDUConfig}[b[0]&3],
		Flags:        b[1],
		Root:         id(b[2], b[3]),
		Cost:         uint32(b[4]) * 10,
		Bridge:       id(b[5], b[6]),
		Port:         uint16(b[7]),
		MessageAge:   time.Duration(b[8]) * time.Second / 8,
		MaxAge:       time.Duration(b[9]) * time.Second / 4,
		HelloTime:    time.Duration(b[10]&0x0f) * time.Second / 2,
		ForwardDelay: time.Duration(b[11]) * time.Second / 8,
	}
	if bp.Type == BPDURST {
		bp.Version = 2
	}
	return bp
}

// bpduFrame wraps a BPDU body (protocol identifier onwards) in its
// Ethernet and LLC headers, from src.
func bpduFrame(src MAC, body []byte) []byte {
	f := append([]byte{}, BPDUAddr[:]...)
	f = append(f, src[:]...)
	f = binary.BigEndian.AppendUint16(f, uint16(llcLen+len(body)))
	f = append(f, 0x42, 0x42, 0x03)
	return append(f, body...)
}

func newFuzzSwitch() (*Switch, *clock.Manual) {
	e := clock.NewManual()
	prio := uint16(DefaultBridgePriority)
	sw := New(Options{Clock: e, MAC: fuzzMAC, MaxEntries: fuzzMaxEntries, AgeingTime: 30 * time.Second,
		STP: &STPConfig{Priority: &prio, HelloTime: time.Second, MaxAge: 6 * time.Second, ForwardDelay: 4 * time.Second}})
	for _, c := range []PortConfig{
		{Name: "p0"},
		{Name: "p1", STP: PortSTP{Cost: 10}},
		{Name: "edge", STP: PortSTP{Edge: true}},
		{Name: "guarded", STP: PortSTP{Edge: true, BPDUGuard: true}},
		{Name: "rootguard", Mode: Trunk, Native: 1, Allowed: []uint16{10}, STP: PortSTP{RootGuard: true, Priority: 64}},
	} {
		if _, err := sw.AddPort(c, link.Discard); err != nil {
			panic(err)
		}
	}
	return sw, e
}

// FuzzSTPSequence feeds the STP receive path sequences of BPDUs (config,
// TCN, RST, malformed) on several ports, with time passing, carrier and
// administrative changes and data frames in between, and checks after
// every step the invariants that always hold (checkSTP).
func FuzzSTPSequence(f *testing.F) {
	rec := func(op, delay byte, data []byte) []byte { return append([]byte{op, delay, byte(len(data))}, data...) }
	cfg := func(b BPDU) []byte { return b.AppendFrame(nil, MAC{2, 0, 0, 2, 0, 1})[17:] }
	better := BPDU{Type: BPDUConfig, Root: NewBridgeID(4096, MAC{2, 0, 0, 1, 0, 1}), Bridge: NewBridgeID(4096, MAC{2, 0, 0, 1, 0, 1}),
		Port: 0x8001, MaxAge: 6 * time.Second, HelloTime: time.Second, ForwardDelay: 4 * time.Second}
	relayed := better
	relayed.Cost, relayed.Bridge, relayed.MessageAge = 100, NewBridgeID(8192, MAC{2, 0, 0, 1, 0, 2}), time.Second
	seeds := [][]byte{
		nil,
		rec(0, 0, cfg(better)),
		append(rec(0, 5, cfg(better)), rec(8, 5, cfg(relayed))...),                            // root on p0, alternate on p1
		append(rec(0, 5, cfg(better)), append(rec(8, 5, cfg(relayed)), rec(4, 0, nil)...)...), // then p0's carrier drops
		append(rec(0, 0, cfg(better)), rec(0, 100, nil)...),                                   // information ages out
		rec(2<<3, 0, cfg(better)), // on an edge port
		rec(3<<3, 0, cfg(better)), // BPDU guard
		rec(4<<3, 0, cfg(better)), // root guard
		append(rec(0, 0, cfg(better)), rec(8, 10, cfg(BPDU{Type: BPDUTCN}))...),
		rec(8, 40, cfg(BPDU{Type: BPDURST, Version: 2, Flags: FlagProposal, Root: better.Root, Bridge: better.Bridge, MaxAge: 20 * time.Second})),
		rec(0, 0, []byte{0, 0, 0, 0x99}),                           // unknown type
		rec(0, 0, []byte{0, 0, 0, 0}),                              // truncated configuration BPDU
		rec(1, 0, []byte{1, 2}),                                    // protocol identifier 0x0102
		rec(2, 0, []byte{0, 0, 0x10, 1, 0, 0, 2, 1, 0, 48, 4, 32}), // fields: a better root
		append(rec(3, 1, []byte{1}), append(rec(3, 1, []byte{2}), rec(11, 1, []byte{3})...)...),
		append(rec(5, 1, nil), rec(5, 50, nil)...),
		append(rec(6, 1, nil), rec(7, 1, []byte{1})...),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sw, e := newFuzzSwitch()
		// A run is records x at most 25.5 s of hellos, timers and ageing:
		// far fewer events than this, unless timers loop at one instant.
		e.Limit = 200000
		run := func(d time.Duration) {
			if !e.Advance(d) {
				t.Fatalf("%d events by %v: timers loop", e.Fired(), e.Elapsed())
			}
		}
		var carrier, admin [fuzzPorts]bool
		quiet := false
		checkSTP(t, sw, "start")
		for step := 0; len(data) >= 3; step++ {
			op, delay, n := data[0], data[1], int(data[2])
			data = data[3:]
			body := data[:min(n, len(data))]
			data = data[len(body):]
			run(time.Duration(delay) * 100 * time.Millisecond)
			port := int(op>>3) % fuzzPorts
			peer := MAC{2, 0, 0, 2, byte(port), 1}
			switch op & 7 {
			case 0, 1:
				sw.Input(port, bpduFrame(peer, body))
			case 2:
				sw.Input(port, fuzzBPDU(body).AppendFrame(nil, peer))
			case 3:
				var low byte
				if len(body) > 0 {
					low = body[0]
				}
				fr := make([]byte, 60)
				copy(fr, Broadcast[:])
				copy(fr[6:], []byte{2, 0, 0, 3, 0, low})
				fr[12], fr[13] = 0x88, 0xb5
				sw.Input(port, fr)
			case 4:
				carrier[port] = !carrier[port]
				_ = sw.SetCarrier(port, !carrier[port])
			case 5:
				admin[port] = !admin[port]
				_ = sw.SetPortUp(port, !admin[port])
			case 6:
				quiet = !quiet
				sw.SetBPDUTransmit(!quiet)
			case 7:
				var d byte
				if len(body) > 0 {
					d = body[0]
				}
				sw.SetAgeingTime(time.Duration(d) * time.Second)
			}
			checkSTP(t, sw, fmt.Sprintf("step %d (op %d on port %d, after %v)", step, op&7, port, time.Duration(delay)*100*time.Millisecond))
		}
		run(time.Minute)
		checkSTP(t, sw, "a minute later")
	})
}

// checkSTP checks what must hold of a switch's spanning tree at any time.
func checkSTP(t *testing.T, sw *Switch, when string) {
	t.Helper()
	st := sw.STP()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nstatus: %+v", when, fmt.Sprintf(format, a...), st)
	}
	if st.Root > st.Bridge {
		fail("root %s is worse than the bridge's own ID %s", st.Root, st.Bridge)
	}
	roots := 0
	for _, ps := range st.Ports {
		if ps.Role == RoleRoot {
			roots++
			if ps.Port != st.RootPort {
				fail("port %s has the root role but the root port is %q", ps.Port, st.RootPort)
			}
		}
	}
	switch {
	case roots > 1:
		fail("%d root ports", roots)
	case st.RootPort == "" && (roots != 0 || st.Root != st.Bridge || st.Cost != 0):
		fail("no root port, yet root %s at cost %d with %d root roles", st.Root, st.Cost, roots)
	case st.RootPort != "" && (roots != 1 || st.Root == st.Bridge):
		fail("root port %s, yet root %s (bridge %s) with %d root roles", st.RootPort, st.Root, st.Bridge, roots)
	}
	ports := *sw.ports.Load()
	blocked := map[string]bool{}
	for i, ps := range st.Ports {
		ok := false
		switch ps.Role {
		case RoleDisabled:
			ok = ps.State == StateDisabled
		case RoleAlternate, RoleBackup:
			ok = ps.State == StateBlocking
		case RoleRoot, RoleDesignated:
			ok = ps.State >= StateListening && (!ps.Edge || ps.State == StateForwarding)
		}
		if !ok || ps.Edge && ps.Role != RoleDesignated && ps.Role != RoleDisabled {
			fail("port %s is %s but %s (edge %v)", ps.Port, ps.Role, ps.State, ps.Edge)
		}
		bits := ports[i].state.Load()
		learns := ps.State == StateLearning || ps.State == StateForwarding
		if bits&stNoLearn == 0 != learns || bits&stNoForward == 0 != (ps.State == StateForwarding) {
			fail("port %s is %s but its state word is %#x", ps.Port, ps.State, bits)
		}
		blocked[ps.Port] = !learns && ps.State != StateListening || bits&(stDown|stNoCarrier) != 0
	}
	entries := sw.FDB()
	if len(entries) > fuzzMaxEntries {
		fail("FDB holds %d entries, over its bound %d", len(entries), fuzzMaxEntries)
	}
	for _, en := range entries {
		if blocked[en.Port] {
			fail("FDB has %s on %s, which is blocked, disabled or down", en.MAC, en.Port)
		}
	}
}
