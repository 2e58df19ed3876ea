package fabric

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

// Read-only accessors for a live inspect (package sim/live): copies of
// what the world holds now, each taken under the lock that guards it, so
// that a reader on another goroutine than the world's sees a consistent
// picture and never a slice being replaced.

// ContainerRun is a Docker container as it runs now: what the record
// (topo.Container) does not say.
type ContainerRun struct {
	Running bool
	// Ifaces are its interfaces in its sandbox, by network, while it
	// runs: name, address and MAC.
	Ifaces  map[string]topo.Iface
	Gateway netip.Addr // its default route now; invalid: none
}

// DockerSnapshot returns a copy of the Docker state the world runs
// (Docker) and, by container, how each runs; nil, nil for a plain
// topology. The copy is the reader's: the world goes on changing its own.
func (f *Fabric) DockerSnapshot() (*topo.Docker, map[string]ContainerRun) {
	f.dmu.Lock() // the run-time states, and no Docker change half made
	defer f.dmu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.docker == nil {
		return nil, nil
	}
	d := cloneDocker(f.docker)
	for i := range d.Networks {
		n := &d.Networks[i]
		n.Hosts, n.Subnets = slices.Clone(n.Hosts), slices.Clone(n.Subnets)
	}
	for i := range d.Containers {
		c := &d.Containers[i]
		c.Publish = slices.Clone(c.Publish)
		for j := range c.Endpoints {
			c.Endpoints[j].Aliases = slices.Clone(c.Endpoints[j].Aliases)
		}
	}
	runs := map[string]ContainerRun{}
	for name, st := range f.runtimeLocked() {
		r := ContainerRun{Running: !st.stopped, Gateway: st.gw, Ifaces: map[string]topo.Iface{}}
		k := slices.IndexFunc(d.Containers, func(c topo.Container) bool { return c.Name == name && c.Attach == "" })
		if k < 0 {
			continue
		}
		c := &d.Containers[k]
		h := f.graph.Host(name)
		for _, e := range c.Endpoints {
			ifname := st.ifaces[e.Network]
			if ifname == "" || !r.Running {
				continue
			}
			i := topo.Iface{Name: ifname, Addr: e.Addr}
			if h != nil {
				if p := h.Iface(ifname); p != nil && p.Addr == e.Addr {
					i.MAC, i.MTU = p.MAC, p.MTU // as planned (macvlan's own MACs too)
				}
			}
			if i.MAC == (vswitch.MAC{}) && e.Addr.IsValid() {
				i.MAC = docker.MAC(e.Addr.Addr()) // made at run time, as attachLocked makes it
			}
			r.Ifaces[e.Network] = i
		}
		runs[name] = r
	}
	return d, runs
}

// NetworkSwitch returns the name of the switch of network n (its bridge
// as the plan names it: host.br-NAME when there are several Docker
// hosts), and whether the world has that switch.
func (f *Fabric) NetworkSwitch(n *topo.Network) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.docker == nil || n.Bridge == "" {
		return "", false
	}
	sw := f.bridgeSwitch(n)
	return sw, f.switches[sw] != nil
}

// NodeKinds returns every node of the world with its kind (SwitchKind,
// SandboxKind, GatewayKind or a registered kind), sorted by name.
func (f *Fabric) NodeKinds() []NodeKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]NodeKind, 0, len(f.kinds))
	for name, kind := range f.kinds {
		out = append(out, NodeKind{Name: name, Kind: kind})
	}
	slices.SortFunc(out, func(a, b NodeKind) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// NodeKind is a node's name and kind.
type NodeKind struct{ Name, Kind string }

// PortCost returns the STP path cost of port of switch sw as configured
// (vswitch.DefaultPathCost unless the plan says otherwise).
func (f *Fabric) PortCost(sw, port string) uint32 {
	if f.graph.Switch(sw) == nil {
		return vswitch.DefaultPathCost // a switch made at run time: its ports are default
	}
	return cmp.Or(f.graph.PortConfig(sw, port).STP.Cost, vswitch.DefaultPathCost)
}

// PortConfig returns port of switch sw as configured (mode, VLANs); a
// port named only by a link, or of a switch made at run time, is an
// access port in VLAN 1.
func (f *Fabric) PortConfig(sw, port string) vswitch.PortConfig {
	if f.graph.Switch(sw) == nil {
		return vswitch.PortConfig{Name: port, Mode: vswitch.Access, PVID: vswitch.DefaultVLAN}
	}
	return f.graph.PortConfig(sw, port)
}

// SwitchNames returns the names of the world's switches, sorted (those
// made at run time too: docker network create).
func (f *Fabric) SwitchNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.switches)
}

// GatewayNames returns the names of the world's gateways (Docker hosts),
// sorted.
func (f *Fabric) GatewayNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.gateways)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// LinkState is a link of the world as it is now.
type LinkState struct {
	topo.Link                  // its ends now, and its impairments
	Up        bool             // carrier
	Stats     [2]sim.LinkStats // of what each end (A, B) sent
}

// LinkStates returns the world's links as they are now, in the order
// laid.
func (f *Fabric) LinkStates() []LinkState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]LinkState, len(f.laid))
	for i, w := range f.laid {
		out[i] = LinkState{Link: w.cfg, Up: w.l.Up()}
		out[i].Config = w.l.Config()
		for j := range 2 {
			out[i].Stats[j] = w.l.End(j).Stats()
		}
	}
	return out
}

// DNSRecords returns the records of Docker host name's daemon, which its
// containers' embedded resolvers answer from, sorted by network and
// container.
func (f *Fabric) DNSRecords(name string) ([]dnsd.Record, error) {
	g := f.Gateway(name)
	if g == nil {
		return nil, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	return g.dns.Records(), nil
}

// Published returns the ports gateway name publishes now (the live NAT
// table's, as docker port lists them), sorted by protocol and host port:
// the plan's and its containers' mappings that the table holds, so a
// stopped container's are gone.
func (f *Fabric) Published(name string) ([]nat.Publish, error) {
	g := f.Gateway(name)
	if g == nil {
		return nil, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	type key struct {
		proto uint8
		ext   netip.AddrPort
	}
	var want []key
	if h := f.graph.Host(name); h != nil && h.Router != nil {
		for _, p := range h.Router.Publish {
			want = append(want, key{protoNumber(p.Proto), p.Ext})
		}
	}
	f.dmu.Lock()
	f.mu.Lock()
	if f.docker != nil {
		if dh := f.dockerHost(name); dh != nil {
			for _, c := range f.docker.Containers {
				if c.Host != name {
					continue
				}
				for _, pm := range c.Publish {
					want = append(want, key{protoNumber(pm.Proto), netip.AddrPortFrom(dh.Address.Addr(), pm.HostPort)})
				}
			}
		}
	}
	f.mu.Unlock()
	f.dmu.Unlock()
	slices.SortFunc(want, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), a.ext.Compare(b.ext))
	})
	want = slices.Compact(want)
	var out []nat.Publish
	g.Do(func() {
		for _, k := range want {
			if p, ok := g.NAT().Published(k.proto, k.ext); ok {
				out = append(out, p)
			}
		}
	})
	return out, nil
}

func protoNumber(p string) uint8 { return map[string]uint8{"tcp": nat.TCP, "udp": nat.UDP}[p] }

// IPAM returns Docker host name's address allocations, by network,
// sorted: the subnets and the endpoint addresses in use now.
func (f *Fabric) IPAM(name string) ([]*ipam.Network, error) {
	f.mu.Lock()
	var h *topo.DockerHost
	if f.docker != nil {
		h = f.dockerHost(name)
	}
	f.mu.Unlock()
	if h == nil || h.IPAM == nil {
		return nil, fmt.Errorf("%w Docker host %q", ErrUnknown, name)
	}
	return h.IPAM.Networks(), nil
}

// GatewayStats returns gateway name's counters (forwarded, and dropped by
// reason).
func (f *Fabric) GatewayStats(name string) (gateway.Stats, error) {
	g := f.Gateway(name)
	if g == nil {
		return gateway.Stats{}, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	var st gateway.Stats
	g.Do(func() { st = g.Stats() })
	return st, nil
}

// Now returns the world's time: virtual in mem.
func (f *Fabric) Now() time.Time { return f.opts.Clock.Now() }

// GatewayARP returns gateway name's neighbour table (ip neigh on the
// Docker host): the resolved entries, sorted by address.
func (f *Fabric) GatewayARP(name string) ([]stack.ARPEntry, error) {
	g := f.Gateway(name)
	if g == nil {
		return nil, fmt.Errorf("%w gateway %q", ErrUnknown, name)
	}
	var out []stack.ARPEntry
	g.Do(func() { out = g.Gateway.Host().ARPCache() })
	return out, nil
}
