// Package backend is the contract between the scenario runner and the worlds
// a topology can run in: the in-memory simulator (sim/mem) and real
// network namespaces (sim/netns). A scenario's verdicts depend only on
// what these methods report, so the same file gives the same verdicts in
// every backend.
package backend

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/registry"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
)

// Backend is a running topology: the world every backend shares (World:
// its nodes and links, to inspect and change), and what differs between
// worlds, probes from a sandbox (Ping, UDP, Dial, Resolve) and time.
type Backend interface {
	// Name says which world this is: "mem" or "netns".
	Name() string
	// VirtualTime reports whether time is the simulator's (exact: what
	// the links' latencies add up to) rather than the wall clock's (a busy
	// machine can make anything later, never sooner).
	VirtualTime() bool
	// Elapsed returns the time since the topology started (virtual in mem).
	Elapsed() time.Duration
	// Wait lets d pass.
	Wait(d time.Duration) error
	// Ping sends count echo requests from host from to to, interval apart,
	// each waiting up to timeout for a reply.
	Ping(from string, to netip.Addr, count int, interval, timeout time.Duration) (PingStats, error)
	// UDP sends one datagram from host from to to:port and reports whether
	// it arrived within timeout (the host owning to listens meanwhile).
	UDP(from string, to netip.Addr, port uint16, timeout time.Duration) (UDPResult, error)
	// Dial tries a TCP handshake from host from to to within timeout.
	Dial(from string, to netip.AddrPort, timeout time.Duration) (ConnectResult, error)
	// Resolve asks host from's nameserver for name's records of type
	// qtype (dns.TypeA, dns.TypeAAAA, dns.TypePTR).
	Resolve(from, name string, qtype uint16, timeout time.Duration) (Resolved, error)
	// ResolveAt asks server (dig @server), not host from's nameserver.
	ResolveAt(from string, server netip.Addr, name string, qtype uint16, timeout time.Duration) (Resolved, error)
	// World returns the running world: switches, gateways, links; what
	// every backend shares.
	World() *fabric.Fabric
	// Close releases everything the backend made.
	Close() error
}

// Options are what every backend is opened with.
type Options struct {
	Seed    uint64          // the run's seed
	Tracer  trace.Tracer    // hears every node's decisions; nil: none
	Capture *capture.Writer // records every frame on every link; nil: none
	// Budget bounds a storm: events run in mem, frames on links in
	// netns. 0: none.
	Budget uint64
	// NoOffloads turns TAP offloads off (netns).
	NoOffloads bool
}

// Opener builds a plan into a running Backend. It must not change g.
type Opener func(g *topo.Graph, o Options) (Backend, error)

var openers = registry.New[Opener]("backend:", nil)

// Register makes a backend available by name (Build). Backends register
// themselves from their packages' init; a program that imports none can
// open none. It panics on a name registered twice.
func Register(name string, open Opener) { openers.Add(name, open) }

// Names returns the registered backends, sorted.
func Names() []string { return openers.Names() }

// ErrNoBackend is returned by Build for a backend nothing registered.
var ErrNoBackend = errors.New("backend: no such backend")

// Build builds g in the backend named name.
func Build(name string, g *topo.Graph, o Options) (Backend, error) {
	open, ok := openers.Get(name)
	if !ok {
		return nil, fmt.Errorf("%w %q (registered: %s)", ErrNoBackend, name, strings.Join(Names(), ", "))
	}
	return open(g, o)
}

// PingStats is the outcome of a ping run.
type PingStats struct {
	Sent, Received int
	RTTs           []time.Duration // one per reply, in sequence order
	Errors         []string        // what went wrong with probes that failed, if known
}

// Outcome is how a TCP handshake ended.
type Outcome string

// The outcomes of a handshake, in the words of a scenario's expect.
const (
	Open     Outcome = "open"    // the listener accepted
	Refused  Outcome = "refused" // a RST (nothing listening) or an ICMP error came back
	TimedOut Outcome = "timeout" // no answer, or the host unreachable
)

// ConnectResult is the outcome of a TCP handshake.
type ConnectResult struct {
	Result Outcome        // Open, Refused or TimedOut
	Peer   netip.AddrPort // with open: the client as the server saw it; zero if unknown
}

// Resolved is the outcome of a DNS query.
type Resolved struct {
	Addrs []netip.Addr // the A (and AAAA) records, in the order answered
	Names []string     // the PTR records
	Rcode string       // NOERROR, NXDOMAIN, SERVFAIL, ...; "" without an answer
	Err   string       // why there was no answer: "timeout", "no nameserver", "port unreachable", ...
	Flags []string     // the header's flags set, as dig prints them: qr aa tc rd ra ad cd
	TTLs  []uint32     // the answer records' TTLs, in order
}

// UDPResult is the outcome of one datagram.
type UDPResult struct {
	Delivered bool
	Err       string // why not, if known: "port unreachable", "host unreachable", "timeout"
}

// Answer reads the addresses and rcode of a DNS answer.
func Answer(m *dns.Msg) Resolved {
	r := Resolved{Rcode: dns.RcodeToString[m.Rcode]}
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			r.Flags = append(r.Flags, f.name)
		}
	}
	for _, rr := range m.Answer {
		switch v := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				r.Addrs = append(r.Addrs, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(v.AAAA); ok {
				r.Addrs = append(r.Addrs, ip)
			}
		case *dns.PTR:
			r.Names = append(r.Names, v.Ptr)
		case *dns.MX:
			r.Names = append(r.Names, v.Mx)
		}
		r.TTLs = append(r.TTLs, rr.Header().Ttl)
	}
	return r
}
