//go:build linux

package stack_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/internal/nsutil/nstest"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/switch/tap"
)

var tapSeq atomic.Uint32

// TestMain runs the privileged test below in a throwaway mount and network
// namespace (its TAP device is made there, not on the host).
func TestMain(m *testing.M) { nstest.Main(m) }

// lockedClock is the wall clock with every callback run under mu, the
// lock that also serialises frames into the host: a host is not safe for
// concurrent use, as a gateway's own goroutine serialises it in netns.
type lockedClock struct{ mu *sync.Mutex }

func (c lockedClock) Now() time.Time { return time.Now() }

func (c lockedClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return clock.Real.AfterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		f()
	})
}

// TestTCPStreamWithLinuxClient serves DNS over TCP from a host stack to the
// kernel of a fresh namespace through a TAP device: the kernel's client
// offers window scaling, SACK and timestamps, which the stack leaves
// unanswered; several queries go over one connection, pipelined too; the
// answers are larger than a segment; the kernel closes and the stack
// follows. If dig is installed, dig +tcp asks too. The other way round,
// the stack's QueryTCP asks a server on the kernel's TCP.
func TestTCPStreamWithLinuxClient(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace and a TAP device")
	}
	for _, offloads := range []bool{false, true} {
		t.Run(fmt.Sprintf("offloads=%v", offloads), func(t *testing.T) { linuxClient(t, offloads) })
	}
}

func linuxClient(t *testing.T, offloads bool) {
	leak.Check(t) // first: it runs after the cleanups below
	ns, err := nsutil.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	kernelMAC := net.HardwareAddr{2, 0, 0, 0x99, 0, 2}
	d, err := tap.Open(tap.Options{Name: fmt.Sprintf("nyst%x%x", os.Getpid()&0xffff, tapSeq.Add(1)), Netns: &ns, IfName: "eth0", MAC: kernelMAC, Offloads: offloads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	nh, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	eth0, err := nh.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("10.99.0.2/24")
	if err := nh.AddrAdd(eth0, addr); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	h := stack.New(stack.Options{Name: "dns", Clock: lockedClock{&mu}})
	if _, err := h.AddIface("eth0", header.MAC{2, 0, 0, 0x99, 0, 1}, netip.MustParsePrefix("10.99.0.1/24"), d); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	l := serveDNS(t, h, 200) // about 3.2 kB: three segments
	mu.Unlock()
	var synOptions []string
	d.Run(func(f []byte, o link.Offload) {
		mu.Lock()
		defer mu.Unlock()
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if tl, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && tl.SYN && !tl.ACK {
			for _, opt := range tl.Options {
				synOptions = append(synOptions, opt.OptionType.String())
			}
		}
		h.InputOffload(0, f, o)
	})

	q := func(id uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("n%d.test.", id), dns.TypeA)
		m.Id = id
		return m
	}
	err = nsutil.Do(ns, func() error {
		c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
		conn, err := c.Dial("10.99.0.1:53")
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		check := func(want uint16) error {
			r, err := conn.ReadMsg()
			if err != nil {
				return fmt.Errorf("answer %d: %w", want, err)
			}
			if r.Id != want || len(r.Answer) != 200 {
				return fmt.Errorf("answer id %d with %d records, want id %d with 200", r.Id, len(r.Answer), want)
			}
			return nil
		}
		// One after the other, then two pipelined (RFC 7766 §6.2.1.1).
		for _, id := range []uint16{1, 2} {
			if err := conn.WriteMsg(q(id)); err != nil {
				return err
			}
			if err := check(id); err != nil {
				return err
			}
		}
		if err := conn.WriteMsg(q(3)); err != nil {
			return err
		}
		if err := conn.WriteMsg(q(4)); err != nil {
			return err
		}
		if err := check(3); err != nil {
			return err
		}
		return check(4)
	})
	if err != nil {
		t.Fatalf("kernel client: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n, st := l.Conns(), h.Stats()
		mu.Unlock()
		if n == 0 {
			if st.TCPAccepted != 1 {
				t.Errorf("accepted %d connections, want 1", st.TCPAccepted)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stack still holds %d connections after the kernel closed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	opts := strings.Join(synOptions, " ")
	mu.Unlock()
	for _, o := range []string{"MSS", "SACKPermitted", "Timestamps", "WindowScale"} {
		if !strings.Contains(opts, o) {
			t.Logf("the kernel's SYN did not offer %s (options: %s)", o, opts)
		}
	}

	// The other way: the stack's QueryTCP (ConnectTCPStream) to a DNS
	// server on the kernel's TCP in the namespace.
	var ln net.Listener
	if err := nsutil.Do(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "10.99.0.2:53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		for i := range 200 {
			r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IP{10, 2, byte(i >> 8), byte(i)}})
		}
		_ = w.WriteMsg(r)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	answered := make(chan error, 1)
	mu.Lock()
	_, err = h.QueryTCP(netip.MustParseAddr("10.99.0.2"), "kernel.test", dns.TypeA, func(m *dns.Msg, err error) {
		if err == nil && len(m.Answer) != 200 {
			err = fmt.Errorf("%d answers, want 200", len(m.Answer))
		}
		answered <- err
	})
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("QueryTCP to the kernel's server: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("QueryTCP to the kernel's server: no answer within 10 s")
	}

	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Log("dig not installed: only the Go client (the kernel's TCP) was tried")
		return
	}
	var out []byte
	err = nsutil.Do(ns, func() error {
		var err error
		out, err = exec.Command(dig, "+tcp", "+tries=1", "+time=5", "@10.99.0.1", "big.test", "A").CombinedOutput()
		return err
	})
	if err != nil || !strings.Contains(string(out), "status: NOERROR") || !strings.Contains(string(out), "ANSWER: 200") {
		t.Errorf("dig +tcp: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("kernel SYN options: %s; stack: %+v", opts, h.Stats())
}
