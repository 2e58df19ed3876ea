// Package memtest is a lab for Go tests: a topology built on the
// in-memory backend (sim/mem) with a trace and a capture kept, probes that
// fail the test with what went wrong, reads of the switches, gateways and
// links, and, when the test fails, the narration and every frame decoded
// in its log.
//
//	lab := memtest.New(t, graph)
//	lab.Ping("h1", "h2")                 // fails the test without replies
//	fdb := lab.FDB("s1")
//	t.Log(lab.Narration())
//
// Everything runs on the virtual clock, on the test's goroutine: the same
// graph and seed give the same events and frames, byte for byte.
package memtest

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/mem"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
	vswitch "github.com/netyard/netyard/switch"
)

// Options configure a Lab; the zero value is seed 1.
type Options struct {
	Seed uint64
	// Timeout is each probe's wait; 0: 2s.
	Timeout time.Duration
}

// Lab is a running in-memory topology under test.
type Lab struct {
	t       testing.TB
	g       *topo.Graph
	net     *mem.Network
	events  []trace.Event
	pcap    bytes.Buffer
	cap     *capture.Writer
	timeout time.Duration
}

// New builds g (which it does not change) and registers a cleanup that
// logs the narration and the decoded frames if the test failed.
func New(t testing.TB, g *topo.Graph, o ...Options) *Lab {
	t.Helper()
	var opt Options
	if len(o) > 0 {
		opt = o[0]
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	l := &Lab{t: t, timeout: opt.Timeout}
	if l.timeout == 0 {
		l.timeout = 2 * time.Second
	}
	var err error
	if l.cap, err = capture.New(&l.pcap, fabric.LinkNames(g)); err != nil {
		t.Fatalf("memtest: %v", err)
	}
	l.net, err = mem.New(g, mem.Options{Seed: opt.Seed, Capture: l.cap, Tracer: trace.Func(func(e trace.Event) { l.events = append(l.events, e) })})
	if err != nil {
		t.Fatalf("memtest: building the topology: %v", err)
	}
	l.g = l.net.World().Graph()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("memtest: what happened:\n%s\nframes:\n%s", l.Narration(), l.Frames())
		}
	})
	return l
}

// Network returns the running network, for what the lab does not wrap.
func (l *Lab) Network() *mem.Network { return l.net }

// World returns the running world: switches, gateways and links.
func (l *Lab) World() *fabric.Fabric { return l.net.World() }

// Addr resolves "h2", "h2:eth1" or "10.0.0.2" to an address, failing the
// test if it cannot.
func (l *Lab) Addr(s string) netip.Addr {
	l.t.Helper()
	a, err := l.g.ResolveAddr(s)
	if err != nil {
		l.t.Fatalf("memtest: %v", err)
	}
	return a
}

// Ping sends one echo request from host from to to (a host, host:iface or
// address) and fails the test unless a reply came back.
func (l *Lab) Ping(from, to string) backend.PingStats {
	l.t.Helper()
	st := l.TryPing(from, to, 1)
	if st.Received != st.Sent {
		l.t.Errorf("memtest: ping %s -> %s: %d/%d replies %v", from, to, st.Received, st.Sent, st.Errors)
	}
	return st
}

// TryPing sends count echo requests a second apart and returns what came
// back, failing the test only if the probe could not run.
func (l *Lab) TryPing(from, to string, count int) backend.PingStats {
	l.t.Helper()
	st, err := l.net.Ping(from, l.Addr(to), count, time.Second, l.timeout)
	if err != nil {
		l.t.Fatalf("memtest: ping %s -> %s: %v", from, to, err)
	}
	return st
}

// Dial tries a TCP handshake from host from to to:port.
func (l *Lab) Dial(from, to string, port uint16) backend.ConnectResult {
	l.t.Helper()
	r, err := l.net.Dial(from, netip.AddrPortFrom(l.Addr(to), port), l.timeout)
	if err != nil {
		l.t.Fatalf("memtest: dial %s -> %s:%d: %v", from, to, port, err)
	}
	return r
}

// Wait lets d of virtual time pass.
func (l *Lab) Wait(d time.Duration) {
	l.t.Helper()
	if err := l.net.Wait(d); err != nil {
		l.t.Fatalf("memtest: wait: %v", err)
	}
}

// FDB returns switch sw's forwarding database.
func (l *Lab) FDB(sw string) []vswitch.FDBEntry {
	l.t.Helper()
	fdb, err := l.World().FDB(sw)
	if err != nil {
		l.t.Fatalf("memtest: %v", err)
	}
	return fdb
}

// STP returns switch sw's spanning tree status.
func (l *Lab) STP(sw string) vswitch.STPStatus {
	l.t.Helper()
	st, err := l.World().STP(sw)
	if err != nil {
		l.t.Fatalf("memtest: %v", err)
	}
	return st
}

// NAT returns a gateway's connection tracking flows.
func (l *Lab) NAT(gw string) []nat.Flow {
	l.t.Helper()
	flows, err := l.World().NAT(gw)
	if err != nil {
		l.t.Fatalf("memtest: %v", err)
	}
	return flows
}

// Events returns the trace so far.
func (l *Lab) Events() []trace.Event { return l.events }

// Narration returns the trace so far as --explain prints it: one line per
// event, with its virtual time.
func (l *Lab) Narration() string {
	var b strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&b, "%9.6fs  %s\n", e.Time.Sub(sim.Epoch).Seconds(), trace.Narrate(e))
	}
	return b.String()
}

// Pcap returns the capture so far: pcapng, one interface per link.
func (l *Lab) Pcap() []byte {
	if err := l.cap.Flush(); err != nil {
		l.t.Errorf("memtest: capture: %v", err)
	}
	return l.pcap.Bytes()
}

// Frames returns the capture so far decoded, one line per frame: time,
// link and what its layers say.
func (l *Lab) Frames() string {
	r, err := pcapgo.NewNgReader(bytes.NewReader(l.Pcap()), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return "(no frames: " + err.Error() + ")"
	}
	var b strings.Builder
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&b, "(capture: %v)\n", err)
			break
		}
		name := fmt.Sprint(ci.InterfaceIndex)
		if iface, err := r.Interface(ci.InterfaceIndex); err == nil {
			name = iface.Name
		}
		fmt.Fprintf(&b, "%9.6fs  %s  %s\n", ci.Timestamp.Sub(sim.Epoch).Seconds(), name, capture.Summarize(data))
	}
	return b.String()
}
