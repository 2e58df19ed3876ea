package netns

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/nsutil"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
	"github.com/netyard/netyard/switch/tap"
)

// ErrNeedRoot is returned when the backend runs without root.
var ErrNeedRoot = errors.New("the netns backend needs root (it creates network namespaces and TAP devices); --backend mem needs none")

// Options configure a Network.
type Options struct {
	Seed    uint64          // for the links' loss and jitter streams
	Tracer  trace.Tracer    // must be safe for concurrent use; nil: none
	Capture *capture.Writer // records every frame on every link; nil: none
	// Named bind-mounts the namespaces as <Prefix>-<host> under
	// /run/netns (for ip netns and netyard exec), writes each container's
	// resolv.conf under /etc/netns, and records every object in a state
	// file under StateDir before making it (see Cleanup); otherwise the
	// namespaces are anonymous and die with the process, and nothing is
	// written.
	Named bool
	// NoOffloads turns TAP offloads off: one frame per syscall instead of
	// TCP super-frames, for comparison.
	NoOffloads bool
	// PortQueue gives every TAP an egress queue of that many frames and a
	// writer goroutine (tap.Options.Queue); 0 writes in the forwarding
	// goroutine.
	PortQueue int
	// PPollReads makes TAP readers sleep in ppoll(2) instead of Go's
	// poller (tap.Options.PPoll), to compare.
	PPollReads bool
	// URingReads makes TAP readers take bursts of frames from an io_uring
	// multishot read (tap.Options.URing), to compare.
	URingReads bool
	// FrameBudget stops a storm: past this many frames on links, every
	// link drops and steps report sim.ErrBudget. 0: no bound.
	FrameBudget uint64
	// Logf reports problems on the data path (a TAP read error); nil: silent.
	Logf func(format string, args ...any)
	// Machine runs g as one Docker host's part on a machine of its own,
	// its overlays carried over this machine's network (see Machine);
	// nil: the whole of g is here, overlays over netyard's own LAN.
	Machine *Machine
}

// Prefix is this process's name prefix for namespaces and devices.
var Prefix = "ny" + strconv.FormatInt(int64(os.Getpid()), 36)

var tapSeq atomic.Uint32

// Network is a topology running in network namespaces.
type Network struct {
	world     *fabric.Fabric
	clk       *clock.Coarse // the world's clock; stopped by Close
	opts      Options
	listeners []net.Listener
	start     time.Time
	hosts     map[string]*host
	devs      []*tap.Device
	pingID    atomic.Uint32
	udpSeq    atomic.Uint32
	once      sync.Once
	accepted  chan netip.AddrPort // peers of connections listeners accepted
	udpMu     sync.Mutex
	udpWant   map[string]bool // guarded by udpMu; payloads UDP probes wait for: true once arrived
	udpWake   chan struct{}   // signalled when a wanted payload arrives
	conns     []net.PacketConn
	journal   *journal // the state file of a Named network; nil otherwise
	resolvs   []string // resolv.conf directories this network made
	dns       dnsState // the DNS servers inside its namespaces
}

// host is one namespace.
type host struct {
	name       string
	nsName     string // "" when anonymous
	ns         vnetns.NsHandle
	addrs      []net.IP
	nameserver netip.Addr
}

var _ backend.Backend = (*Network)(nil)

func init() {
	backend.Register("netns", func(g *topo.Graph, o backend.Options) (backend.Backend, error) {
		return New(g, Options{Seed: o.Seed, Tracer: o.Tracer, Capture: o.Capture, NoOffloads: o.NoOffloads, FrameBudget: o.Budget})
	})
}

// tapNode is a namespace's devices as a fabric node.
type tapNode map[string]*tap.Device

func (t tapNode) Endpoint(port string) link.Endpoint {
	if d := t[port]; d != nil {
		return d
	}
	return nil
}

// World returns the running world: switches, gateways and links, to
// inspect and change.
func (n *Network) World() *fabric.Fabric { return n.world }

// DefaultPortQueue is the egress queue length of netyard up --ports=queued.
const DefaultPortQueue = tap.DefaultQueue

// New builds g in namespaces. On error, whatever was made is removed and
// the error says what failed; nothing is left behind.
func New(g *topo.Graph, o Options) (*Network, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNeedRoot
	}
	g = g.Assigned()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	// The switch reads the clock per frame (FDB ageing): a coarse clock,
	// refreshed every millisecond, saves it a time.Now per frame.
	clk := clock.NewCoarse(time.Millisecond)
	fo := fabric.Options{Clock: clk, Seed: o.Seed, Tracer: o.Tracer, Capture: o.Capture, Direct: true, FrameBudget: o.FrameBudget, Serial: true}
	if o.Machine != nil {
		fo.Underlay = &machineUnderlay{m: *o.Machine, logf: o.Logf}
	}
	f, err := fabric.New(g, fo)
	if err != nil {
		clk.Stop()
		return nil, err
	}
	n := &Network{world: f, clk: clk, opts: o, hosts: map[string]*host{}, accepted: make(chan netip.AddrPort, 64),
		udpWant: map[string]bool{}, udpWake: make(chan struct{}, 1)}
	f.SetSandboxes(sandboxes{n})
	if o.Named {
		if n.journal, err = newJournal(); err != nil {
			f.Close()
			clk.Stop()
			return nil, err
		}
	}
	if err := n.build(g); err != nil {
		if cerr := n.Close(); cerr != nil {
			err = fmt.Errorf("%w (and while removing what was made: %v)", err, cerr)
		}
		return nil, err
	}
	n.start = time.Now()
	return n, nil
}

// build makes g's namespaces, devices and sockets, then lays the links
// and starts the TAP readers.
func (n *Network) build(g *topo.Graph) error {
	var readers []func()
	for _, th := range g.Hosts {
		if !th.Sandbox() {
			continue // netyard's own node, built by the fabric
		}
		r, err := n.addHost(th)
		if err != nil {
			return fmt.Errorf("netns: host %s: %w", th.Name, err)
		}
		readers = append(readers, r...)
	}
	if err := n.listenOnHosts(g); err != nil {
		return err
	}
	if err := n.world.Connect(); err != nil {
		return err
	}
	for _, start := range readers {
		start()
	}
	return nil
}

// addHost makes one host's namespace, devices, routes and sockets, and
// returns the functions that start its TAP readers.
func (n *Network) addHost(th topo.Host) ([]func(), error) {
	h, err := n.newHost(th.Name)
	if err != nil {
		return nil, err
	}
	nh, err := netlink.NewHandleAt(h.ns)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer nh.Close()
	var readers []func()
	devs := tapNode{}
	for _, fi := range th.Ifaces {
		d, err := n.openTAP(h, fi)
		if err != nil {
			return nil, err
		}
		if err := nsutil.Do(h.ns, func() error { return writeSettings(ifaceSettings, fi.Name) }); err != nil {
			return nil, err
		}
		l, err := nh.LinkByName(fi.Name)
		if err == nil && fi.MTU != 0 {
			err = nh.LinkSetMTU(l, fi.MTU) // an overlay's 1450
		}
		if err == nil && fi.NoARP {
			err = nh.LinkSetARPOff(l) // an ipvlan l3 child
		}
		if err == nil {
			err = nh.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: fi.Addr.Addr().AsSlice(), Mask: net.CIDRMask(fi.Addr.Bits(), 32)}})
		}
		if err != nil {
			return nil, fmt.Errorf("address %s on %s: %w", fi.Addr, fi.Name, err)
		}
		h.addrs = append(h.addrs, fi.Addr.Addr().AsSlice())
		devs[fi.Name] = d
		readers = append(readers, d.Start)
	}
	if err := n.world.AddNode(th.Name, devs); err != nil {
		return nil, err
	}
	if th.Gateway.IsValid() {
		if err := nh.RouteAdd(&netlink.Route{Gw: th.Gateway.AsSlice()}); err != nil {
			return nil, fmt.Errorf("default route via %s: %w", th.Gateway, err)
		}
	} else if th.DefaultDev != "" {
		if err := defaultDev(nh, th); err != nil {
			return nil, err
		}
	}
	for _, r := range th.Routes { // ip route add TO via VIA
		dst := &net.IPNet{IP: r.To.Addr().AsSlice(), Mask: net.CIDRMask(r.To.Bits(), 32)}
		if err := nh.RouteAdd(&netlink.Route{Dst: dst, Gw: r.Via.AsSlice()}); err != nil {
			return nil, fmt.Errorf("route to %s via %s: %w", r.To, r.Via, err)
		}
	}
	for _, port := range th.ListenTCP {
		if err := n.listenTCP(h, port); err != nil {
			return nil, err
		}
	}
	for _, port := range th.ListenUDP {
		if err := n.listenUDP(h, port); err != nil {
			return nil, err
		}
	}
	if th.Nameserver.IsValid() {
		h.nameserver = th.Nameserver
		if err := n.writeResolvConf(h.nsName, th.Nameserver); err != nil {
			return nil, err
		}
	}
	if err := n.serveDNS(h, th); err != nil {
		return nil, fmt.Errorf("netns: host %s: DNS: %w", th.Name, err)
	}
	return readers, nil
}

// openTAP makes the TAP device of interface fi in h's namespace, marked
// as this run's and, when Named, recorded before it is made.
func (n *Network) openTAP(h *host, fi topo.Iface) (*tap.Device, error) {
	name := fmt.Sprintf("%st%d", Prefix, tapSeq.Add(1))
	if n.journal != nil {
		if _, err := n.journal.add(KindDevice, name); err != nil {
			return nil, err
		}
	}
	d, err := tap.Open(tap.Options{
		Name: name, Netns: &h.ns, IfName: fi.Name, Alias: mark(Prefix),
		MAC: net.HardwareAddr(fi.MAC[:]), Offloads: !n.opts.NoOffloads, Logf: n.opts.Logf, Queue: n.opts.PortQueue, PPoll: n.opts.PPollReads, URing: n.opts.URingReads,
	})
	if err != nil {
		return nil, err
	}
	n.devs = append(n.devs, d)
	return d, nil
}

// kernelSettings make a namespace's kernel behave like the mem backend's
// hosts where a scenario could tell the difference: no IPv6 (no router or
// neighbour solicitations, no MLD), and neighbour entries that stay usable
// for about a minute before the kernel probes them again, as the mem stack's
// ARP entries stay valid 60 s. Linux's other ARP defaults (3 requests 1 s
// apart) are already the mem stack's.
// Neighbour settings are per device (a namespace other than the first has
// no neigh/default), so they are applied to each interface (%s) once it
// exists.
var kernelSettings = []struct{ path, value string }{
	{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"},
	{"/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"},
}

var ifaceSettings = []struct{ path, value string }{
	{"/proc/sys/net/ipv4/neigh/%s/delay_first_probe_time", "60"},
	{"/proc/sys/net/ipv4/neigh/%s/base_reachable_time_ms", "60000"},
}

// writeSettings writes sysctls; run it inside the namespace. Settings the
// kernel does not have (no IPv6) are skipped.
func writeSettings(settings []struct{ path, value string }, args ...any) error {
	for _, k := range settings {
		p := k.path
		if len(args) > 0 {
			p = fmt.Sprintf(p, args...)
		}
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := os.WriteFile(p, []byte(k.value), 0o644); err != nil {
			return fmt.Errorf("set %s: %w", p, err)
		}
	}
	return nil
}

// newHost makes a host's namespace: loopback up, kernelSettings applied.
// A named one is recorded, then made exclusively (an existing namespace of
// that name is never taken over), then its identity recorded.
func (n *Network) newHost(name string) (*host, error) {
	h := &host{name: name}
	var ns vnetns.NsHandle
	var err error
	if n.opts.Named {
		h.nsName = Prefix + "-" + name
		i, err := n.journal.add(KindNamespace, h.nsName)
		if err != nil {
			return nil, err
		}
		var id uint64
		if ns, id, err = nsutil.NewNamed(h.nsName); err != nil {
			return nil, err
		}
		h.ns = ns
		n.hosts[name] = h
		if err := n.journal.made(i, id); err != nil {
			return nil, err
		}
	} else {
		if ns, err = nsutil.New(); err != nil {
			return nil, err
		}
		h.ns = ns
		n.hosts[name] = h
	}
	err = nsutil.Do(ns, func() error {
		if err := writeSettings(kernelSettings); err != nil {
			return err
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Name returns "netns".
func (n *Network) Name() string { return "netns" }

// VirtualTime reports false: namespaces run on the wall clock.
func (n *Network) VirtualTime() bool { return false }

// Elapsed returns the wall time since the network came up.
func (n *Network) Elapsed() time.Duration { return time.Since(n.start) }

// Wait sleeps for d.
func (n *Network) Wait(d time.Duration) error {
	time.Sleep(d)
	return n.budgetErr()
}

// budgetErr reports a loop found or a spent frame budget (a storm), as
// mem does.
func (n *Network) budgetErr() error {
	if loop, ok := n.world.Looping(); ok {
		return fmt.Errorf("%w: %s; stopped at %v", sim.ErrLoop, loop, n.Elapsed().Round(time.Millisecond))
	}
	if spent, frames := n.world.Exhausted(); spent {
		return fmt.Errorf("%w: %d frames on links by %v", fabric.ErrBudget, frames, n.Elapsed().Round(time.Millisecond))
	}
	return nil
}

// Namespace returns the namespace name of a host ("" if anonymous or unknown).
func (n *Network) Namespace(host string) string {
	if h := n.hosts[host]; h != nil {
		return h.nsName
	}
	return ""
}

// listenTCP accepts (and at once closes) connections on port in h's
// namespace, as a server would.
func (n *Network) listenTCP(h *host, port uint16) error {
	var l net.Listener
	if err := nsutil.Do(h.ns, func() (err error) {
		l, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		return fmt.Errorf("netns: host %s: listen tcp/%d: %w", h.name, port, err)
	}
	n.listeners = append(n.listeners, l)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
				select {
				case n.accepted <- a.AddrPort():
				default:
				}
			}
			go greet(c, h.name, port)
		}
	}()
	return nil
}

// greet answers a connection as a tiny server would, so that curl and nc
// show something: it reads what the client sends first (up to a blank
// line, 4 KiB or 200 ms), answers one line in an HTTP/1.0 envelope naming
// the host and the client as it saw it, and closes.
func greet(c net.Conn, host string, port uint16) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 4096)
	got := 0
	for got < len(buf) && !strings.Contains(string(buf[:got]), "\r\n\r\n") {
		nr, err := c.Read(buf[got:])
		got += nr
		if err != nil {
			break
		}
	}
	_ = c.SetDeadline(time.Now().Add(time.Second))
	body := fmt.Sprintf("hello from %s port %d: you are %s\n", host, port, c.RemoteAddr())
	fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// listenUDP binds port in h's namespace for the whole run, recording what
// arrives, as a server would.
func (n *Network) listenUDP(h *host, port uint16) error {
	var c net.PacketConn
	if err := nsutil.Do(h.ns, func() (err error) {
		c, err = listenPacketReuse(fmt.Sprintf(":%d", port)) // beside the embedded DNS server's 127.0.0.11:53
		return err
	}); err != nil {
		return fmt.Errorf("netns: host %s: listen udp/%d: %w", h.name, port, err)
	}
	n.conns = append(n.conns, c)
	go n.readUDP(c, nil)
	return nil
}

// readUDP notes the datagrams c receives that a UDP probe waits for,
// until c is closed; with want, it returns once want has arrived. Other
// datagrams are read and forgotten, so what a listener hears cannot grow
// without bound.
func (n *Network) readUDP(c net.PacketConn, want []byte) {
	buf := make([]byte, 2048)
	for {
		nr, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		n.udpMu.Lock()
		_, waited := n.udpWant[string(buf[:nr])]
		if waited {
			n.udpWant[string(buf[:nr])] = true
		}
		n.udpMu.Unlock()
		if waited {
			select {
			case n.udpWake <- struct{}{}:
			default:
			}
		}
		if want != nil && string(buf[:nr]) == string(want) {
			return
		}
	}
}

// resolvConfDir holds per-namespace files that ip netns exec (and
// netyard exec) mount over /etc.
const resolvConfDir = "/etc/netns"

// writeResolvConf points a named namespace's resolv.conf at its
// nameserver, as Docker writes a container's. The directory is recorded,
// then made exclusively: netyard never writes into one it did not make.
func (n *Network) writeResolvConf(nsName string, ns netip.Addr) error {
	if nsName == "" {
		return nil
	}
	dir, err := nsutil.Inside(resolvConfDir, nsName)
	if err != nil {
		return err
	}
	if _, err := n.journal.add(KindResolvConf, nsName); err != nil {
		return err
	}
	if err := os.MkdirAll(resolvConfDir, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists already: netyard does not write into a directory it did not make", dir)
		}
		return err
	}
	n.resolvs = append(n.resolvs, dir)
	conf := fmt.Appendf(nil, "# %s\n# the Docker host's resolvers, copied (the default bridge)\nnameserver %s\n", mark(Prefix), ns)
	if ns == dnsd.EmbeddedAddr {
		conf = fmt.Appendf(nil, "# %s\n# Docker's embedded DNS server, in this container's own namespace\nnameserver %s\noptions ndots:0\n", mark(Prefix), ns)
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), conf, 0o644)
}

// Close stops every TAP reader, removes the devices and the namespaces
// and, for a Named network, the resolv.conf directories it made and its
// state file (kept when something could not be removed, for Cleanup).
func (n *Network) Close() error {
	var errs []error
	n.once.Do(func() {
		for _, l := range n.listeners {
			l.Close()
		}
		for _, c := range n.conns {
			c.Close()
		}
		n.dns.close()
		n.world.Close()
		defer n.clk.Stop()
		for _, d := range n.devs {
			if err := d.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		for _, dir := range n.resolvs {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, err)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(n.hosts)) {
			h := n.hosts[name]
			h.ns.Close()
			if h.nsName != "" {
				if err := nsutil.DeleteNamed(h.nsName); err != nil {
					errs = append(errs, fmt.Errorf("netns: delete %s: %w", h.nsName, err))
				}
			}
		}
		if n.journal != nil && len(errs) == 0 {
			n.journal.remove()
		}
	})
	return errors.Join(errs...)
}
