// Package backend is the contract between the scenario runner and the worlds
// a topology can run in: the in-memory simulator (sim/mem) and real
// network namespaces (sim/netns). A scenario's verdicts depend only on
// what these methods report, so the same file gives the same verdicts in
// every backend.
package backend

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

// Backend is a running topology.
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
	// Connect tries a TCP handshake from host from to to within timeout:
	// "open", "refused" or "timeout" (no answer, or the host unreachable),
	// and with "open" the client's address as the listening host saw it.
	Connect(from string, to netip.AddrPort, timeout time.Duration) (ConnectResult, error)
	// Resolve asks host from's nameserver for name's records of type
	// qtype (dns.TypeA, dns.TypeAAAA, dns.TypePTR).
	Resolve(from, name string, qtype uint16, timeout time.Duration) (Resolved, error)
	// NAT returns a gateway's connection tracking table, sorted.
	NAT(gateway string) ([]nat.Flow, error)
	// SetLink brings the link at an endpoint up or down (carrier on both ends).
	SetLink(at topo.Endpoint, up bool) error
	// SetPort brings a switch port administratively up or down.
	SetPort(at topo.Endpoint, up bool) error
	// Move replugs the link of a host interface into another free endpoint.
	Move(iface, to topo.Endpoint) error
	// FDB returns a switch's forwarding database.
	FDB(sw string) ([]vswitch.FDBEntry, error)
	// Stats returns a switch port's counters.
	Stats(at topo.Endpoint) (vswitch.PortStats, error)
	// STP returns a switch's spanning tree status.
	STP(sw string) (vswitch.STPStatus, error)
	// SetBPDUTransmit stops or resumes a switch's BPDUs (its links stay up).
	SetBPDUTransmit(sw string, on bool) error
	// Close releases everything the backend made.
	Close() error
}

// PingStats is the outcome of a ping run.
type PingStats struct {
	Sent, Received int
	RTTs           []time.Duration // one per reply, in sequence order
	Errors         []string        // what went wrong with probes that failed, if known
}

// ConnectResult is the outcome of a TCP handshake.
type ConnectResult struct {
	Result string         // open, refused or timeout
	Peer   netip.AddrPort // with open: the client as the server saw it; zero if unknown
}

// Resolved is the outcome of a DNS query.
type Resolved struct {
	Addrs []netip.Addr // the A (and AAAA) records, in the order answered
	Names []string     // the PTR records
	Rcode string       // NOERROR, NXDOMAIN, SERVFAIL, ...; "" without an answer
	Err   string       // why there was no answer: "timeout", "no nameserver", ...
}

// UDPResult is the outcome of one datagram.
type UDPResult struct {
	Delivered bool
	Err       string // why not, if known: "port unreachable", "host unreachable", "timeout"
}

// Answer reads the addresses and rcode of a DNS answer.
func Answer(m *dns.Msg) Resolved {
	r := Resolved{Rcode: dns.RcodeToString[m.Rcode]}
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
		}
	}
	return r
}
