package fabric

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/ipam"
	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/nat/gateway"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/topo/docker"
	vswitch "github.com/netyard/netyard/switch"
)

// A Docker that changes while it runs: docker network connect and
// disconnect, docker stop, start and restart, docker network rm, on the
// world's own copy of the Docker state (the plan's record, topo.Docker,
// stays as compiled). Each host's IPAM is a clone of the compiled one, so
// a stopped container's addresses go back to it and a start asks again,
// as libnetwork releases an endpoint's address when its sandbox is torn
// down (Endpoint.Delete -> releaseAddress) and a start makes new
// endpoints: a dynamic address comes back the lowest free, which is the
// old one unless it was taken meanwhile. The changes to a sandbox (an
// interface made or deleted, its default route) are the backend's
// (Sandboxes); the fabric lays and removes the links and tells the
// host's DNS server (dnsd Add and Remove), so a name is known or
// forgotten at once. Only bridge networks change at run time; the other
// drivers are refused as not modelled at run time yet.

// Sandboxes is what a backend does to its sandboxes when the Docker state
// changes them at run time.
type Sandboxes interface {
	// AddIface makes interface i in sandbox host: its address and MAC,
	// without carrier until the fabric links it (Node(host).Endpoint(i.Name)
	// is then the interface).
	AddIface(host string, i topo.Iface) error
	// RemoveIface deletes interface name of sandbox host (already
	// unlinked), with its address and the routes through it.
	RemoveIface(host, name string) error
	// SetGateway sets sandbox host's default route (invalid: none).
	SetGateway(host string, gw netip.Addr) error
}

// SetSandboxes gives the fabric the backend's Sandboxes, which Docker's
// run-time changes need. Backends call it before the world runs.
func (f *Fabric) SetSandboxes(s Sandboxes) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	f.sandboxes = s
}

// ctrState is a container as it runs: what the record cannot say.
type ctrState struct {
	stopped bool
	ifaces  map[string]string     // network -> its interface in the sandbox, while running
	next    int                   // the next ethN, counted per sandbox as Docker 20.10's nextIfIndex
	gw      netip.Addr            // its default route now
	static  map[string]netip.Addr // network -> the address asked for (ip:), asked again at each start
}

// runtimeLocked returns the Docker run-time state, made on first use from
// the plan: every container running, its interfaces as compiled.
func (f *Fabric) runtimeLocked() map[string]*ctrState {
	if f.ctrs != nil {
		return f.ctrs
	}
	f.ctrs = map[string]*ctrState{}
	for _, c := range f.docker.Containers {
		if c.Attach != "" {
			continue
		}
		st := &ctrState{ifaces: map[string]string{}, static: map[string]netip.Addr{}}
		for _, e := range c.Endpoints {
			if e.Static && e.Addr.IsValid() {
				st.static[e.Network] = e.Addr.Addr()
			}
		}
		h := f.graph.Host(c.Name)
		if h != nil {
			st.next, st.gw = len(h.Ifaces), h.Gateway
			for i, e := range c.Endpoints {
				if i < len(h.Ifaces) && e.Addr.IsValid() && h.Ifaces[i].Addr == e.Addr {
					st.ifaces[e.Network] = h.Ifaces[i].Name
				}
			}
		}
		f.ctrs[c.Name] = st
	}
	return f.ctrs
}

// cloneDocker copies a compiled Docker record for the world to change:
// its own hosts' IPAMs, networks and containers.
func cloneDocker(d *topo.Docker) *topo.Docker {
	if d == nil {
		return nil
	}
	c := &topo.Docker{Hosts: slices.Clone(d.Hosts), Networks: slices.Clone(d.Networks), Containers: slices.Clone(d.Containers)}
	for i := range c.Hosts {
		if c.Hosts[i].IPAM != nil {
			c.Hosts[i].IPAM = c.Hosts[i].IPAM.Clone()
		}
	}
	for i := range c.Containers {
		c.Containers[i].Endpoints = slices.Clone(c.Containers[i].Endpoints)
	}
	return c
}

// ID returns the deterministic stand-in for the 64-hex ID Docker gives an
// object (a network, a container), from its kind and name: Docker's are
// random, netyard's the same every run.
func ID(kind, name string) string {
	s := sha256.Sum256([]byte("netyard " + kind + " " + name))
	return hex.EncodeToString(s[:])
}

// Errors of Docker's run-time changes, in Docker 20.10's words (moby
// v20.10.0: libnetwork/error.go, daemon/errors.go,
// daemon/container_operations.go, daemon/network.go), wrapped around
// these so that callers can branch.
var (
	ErrDockerRefused = errors.New("refused by Docker")
	ErrNotModelled   = errors.New("not modelled at run time yet")
)

// Docker's words for a refusal.
func dockerErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrDockerRefused, fmt.Sprintf(format, a...))
}

// NetworkNotFound is Docker's refusal of an unknown network.
func NetworkNotFound(name string) string { return fmt.Sprintf("network %s not found", name) }

// NotConnected is Docker's refusal to disconnect a container from a
// network it is not on.
func NotConnected(ctr, network string) string {
	return fmt.Sprintf("container %s is not connected to network %s", ID("container", ctr), network)
}

// AlreadyConnected is Docker's refusal to connect a container twice.
func AlreadyConnected(ctr, network string) string {
	return fmt.Sprintf("endpoint with name %s already exists in network %s", ctr, network)
}

// AlreadyStopped and AlreadyStarted are Docker's words for a container
// already in the state asked (the API answers 304 Not Modified; the CLI
// prints the name and exits 0; netyard refuses the step, which changes
// nothing).
const (
	AlreadyStopped = "Container is already stopped"
	AlreadyStarted = "Container is already started"
)

// ActiveEndpoints is Docker 20.10's refusal to remove a network with
// running containers on it.
func ActiveEndpoints(host, network string) string {
	return fmt.Sprintf("error while removing network: network %s id %s has active endpoints", network, ID("network", host+"/"+network))
}

// Predefined is Docker's refusal to remove a predefined network.
func Predefined(network string) string {
	return fmt.Sprintf("%s is a pre-defined network and cannot be removed", network)
}

// Docker 20.10's words for connects its runconfig refuses.
const (
	ConflictNoNetwork   = "container cannot be connected to multiple networks with one of the networks in private (none) mode"
	ConflictHostNetwork = "container cannot be disconnected from host network or connected to host network"
	AliasOnDefault      = "network-scoped alias is supported only for containers in user defined networks"
	IPOnDefault         = "user specified IP address is supported on user defined networks only"
)

// RuntimeDriver says why network n cannot change at run time, or "".
func RuntimeDriver(n *topo.Network) string {
	switch {
	case n.Scope == topo.ScopeSwarm:
		return fmt.Sprintf("network %s: the overlay driver is %s (bridge networks are)", n.Name, ErrNotModelled)
	case n.Name == docker.GWBridge:
		return fmt.Sprintf("network %s: swarm's docker_gwbridge is %s", n.Name, ErrNotModelled)
	case n.Driver != "bridge":
		return fmt.Sprintf("network %s: the %s driver is %s (bridge networks are)", n.Name, n.Driver, ErrNotModelled)
	}
	return ""
}

// container returns the record of container name, running on a Docker
// host, or an error in Docker's words.
func (f *Fabric) containerLocked(name string) (*topo.Container, *ctrState, error) {
	if f.docker == nil {
		return nil, nil, fmt.Errorf("%w: no Docker here", ErrUnknown)
	}
	for i := range f.docker.Containers {
		if c := &f.docker.Containers[i]; c.Name == name && c.Attach == "" {
			return c, f.runtimeLocked()[name], nil
		}
	}
	return nil, nil, dockerErr("No such container: %s", name)
}

// networkLocked returns network name of host, or Docker's refusal.
func (f *Fabric) networkLocked(host, name string) (*topo.Network, error) {
	n := f.docker.Network(host, name)
	if n == nil {
		return nil, dockerErr("%s", NetworkNotFound(name))
	}
	return n, nil
}

// hostIPAM returns Docker host name's record.
func (f *Fabric) dockerHost(name string) *topo.DockerHost {
	for i := range f.docker.Hosts {
		if h := &f.docker.Hosts[i]; h.Name == name {
			return h
		}
	}
	return nil
}

// dnsOf returns the DNS server of Docker host name, or nil.
func (f *Fabric) dnsOf(host string) *dnsd.Server {
	if g := f.Gateway(host); g != nil {
		return g.dns
	}
	return nil
}

// switchOfNetwork returns the name of network n's switch: as the plan
// named it.
func (f *Fabric) bridgeSwitch(n *topo.Network) string {
	if len(f.docker.Hosts) > 1 {
		return n.Host + "." + n.Bridge
	}
	return n.Bridge
}

// DockerConnect connects container ctr to network (docker network
// connect [--ip ip] [--alias a]...), and says what changed. A stopped
// container gets its endpoint when it starts, as in Docker.
func (f *Fabric) DockerConnect(ctr, network string, ip netip.Addr, aliases []string) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	c, st, err := f.containerLocked(ctr)
	if err != nil {
		return nil, err
	}
	switch network {
	case "none":
		return nil, dockerErr("%s", ConflictNoNetwork)
	case "host":
		return nil, dockerErr("%s", ConflictHostNetwork)
	}
	n, err := f.networkLocked(c.Host, network)
	if err != nil {
		return nil, err
	}
	if why := RuntimeDriver(n); why != "" {
		return nil, errors.New(why)
	}
	for _, e := range c.Endpoints {
		if e.Network == network {
			return nil, dockerErr("%s", AlreadyConnected(ctr, network))
		}
		if e.Network == "none" {
			return nil, dockerErr("%s", ConflictNoNetwork)
		}
	}
	if network == topo.DefaultNetwork && len(aliases) > 0 {
		return nil, dockerErr("%s", AliasOnDefault)
	}
	if network == topo.DefaultNetwork && ip.IsValid() {
		return nil, dockerErr("%s", IPOnDefault)
	}
	e := topo.EndpointConfig{Network: network, Aliases: slices.Clone(aliases), Static: ip.IsValid()}
	if ip.IsValid() {
		e.Addr = netip.PrefixFrom(ip, n.Subnet.Bits())
	}
	if ip.IsValid() {
		st.static[network] = ip
	}
	if st.stopped {
		f.setEndpoints(c, append(slices.Clone(c.Endpoints), topo.EndpointConfig{Network: network, Aliases: e.Aliases, Static: e.Static}))
		return []string{fmt.Sprintf("%s is stopped: it joins %s when it starts", ctr, network)}, nil
	}
	got, err := f.attachLocked(c, st, n, e)
	if err != nil {
		return nil, err
	}
	f.setEndpoints(c, append(slices.Clone(c.Endpoints), got))
	return f.routeLocked(c, st, []string{f.joined(c, st, got)})
}

// setEndpoints replaces a container's endpoints in the record, under mu:
// readers of Docker() see the old list or the new one.
func (f *Fabric) setEndpoints(c *topo.Container, eps []topo.EndpointConfig) {
	f.mu.Lock()
	c.Endpoints = eps
	f.mu.Unlock()
}

// joined says what an endpoint brought: "eth1 172.19.0.2/16 on net2, DNS
// c1 (and its aliases) -> 172.19.0.2".
func (f *Fabric) joined(c *topo.Container, st *ctrState, e topo.EndpointConfig) string {
	names := append([]string{c.Name}, e.Aliases...)
	return fmt.Sprintf("%s %s on %s (MAC %s); DNS on %s: %s -> %s", st.ifaces[e.Network], e.Addr, e.Network, docker.MAC(e.Addr.Addr()), e.Network, strings.Join(names, ", "), e.Addr.Addr())
}

// attachLocked gives running container c its endpoint e on n: an address
// from the host's IPAM (e.Addr if static), the next interface, the link
// to the bridge, the DNS names.
func (f *Fabric) attachLocked(c *topo.Container, st *ctrState, n *topo.Network, e topo.EndpointConfig) (topo.EndpointConfig, error) {
	if f.sandboxes == nil {
		return e, fmt.Errorf("fabric: this backend cannot change sandboxes at run time")
	}
	h := f.dockerHost(c.Host)
	addr, err := h.IPAM.RequestAddress(n.Name, e.Addr.Addr())
	if err != nil {
		return e, dockerErr("%v", err)
	}
	e.Addr = netip.PrefixFrom(addr, n.Subnet.Bits())
	ifname := fmt.Sprintf("eth%d", st.next)
	iface := topo.Iface{Name: ifname, Addr: e.Addr, MAC: docker.MAC(addr), MTU: n.MTU}
	undo := func() { _ = h.IPAM.ReleaseAddress(n.Name, addr) }
	if err := f.sandboxes.AddIface(c.Name, iface); err != nil {
		undo()
		return e, err
	}
	l := topo.Link{A: topo.Endpoint{Node: f.bridgeSwitch(n), Port: c.Name}, B: topo.Endpoint{Node: c.Name, Port: ifname}}
	if err := f.AddLink(l); err != nil {
		_ = f.sandboxes.RemoveIface(c.Name, ifname)
		undo()
		return e, err
	}
	st.next++
	st.ifaces[n.Name] = ifname
	if dns := f.dnsOf(c.Host); dns != nil {
		dns.Add(n.Name, c.Name, addr, e.Aliases...)
	}
	return e, nil
}

// detachLocked takes running container c's endpoint on network away: the
// link, the interface, the DNS names, the address (back to IPAM).
func (f *Fabric) detachLocked(c *topo.Container, st *ctrState, e topo.EndpointConfig) (string, error) {
	ifname := st.ifaces[e.Network]
	if ifname == "" {
		return "", nil // none, or refused at compile: nothing to take away
	}
	if dns := f.dnsOf(c.Host); dns != nil {
		dns.Remove(e.Network, c.Name)
	}
	end := topo.Endpoint{Node: c.Name, Port: ifname}
	if f.Link(end) != nil {
		if err := f.RemoveLink(end); err != nil {
			return "", err
		}
	}
	if err := f.sandboxes.RemoveIface(c.Name, ifname); err != nil {
		return "", err
	}
	delete(st.ifaces, e.Network)
	if !e.Addr.IsValid() {
		return fmt.Sprintf("%s gone", ifname), nil
	}
	if err := f.dockerHost(c.Host).IPAM.ReleaseAddress(e.Network, e.Addr.Addr()); err != nil {
		return "", err
	}
	what := fmt.Sprintf("%s (%s on %s) gone; %s released; DNS on %s forgot %s", ifname, e.Addr, e.Network, e.Addr.Addr(), e.Network, c.Name)
	// The bridge driver's Leave clears the host's conntrack entries of
	// the address (clearEndpointConnections, moby#8795).
	if gw := f.Gateway(c.Host); gw != nil {
		n := 0
		gw.Do(func() { n = gw.NAT().Purge(e.Addr.Addr()) })
		if n > 0 {
			what += fmt.Sprintf("; %d conntrack flows of %s cleared", n, e.Addr.Addr())
		}
	}
	return what, nil
}

// gatewayFor returns the default route a container with endpoints eps
// has, as the compile gives it: its first network's gateway, none if
// that network is internal.
func (f *Fabric) gatewayFor(host string, eps []topo.EndpointConfig, st *ctrState) netip.Addr {
	for _, e := range eps {
		if st.ifaces[e.Network] == "" {
			continue
		}
		if n := f.docker.Network(host, e.Network); n != nil && !n.Internal {
			return n.Gateway
		}
		return netip.Addr{}
	}
	return netip.Addr{}
}

// routeLocked sets c's default route after a change, and adds what
// changed to what.
func (f *Fabric) routeLocked(c *topo.Container, st *ctrState, what []string) ([]string, error) {
	gw := f.gatewayFor(c.Host, c.Endpoints, st)
	if gw == st.gw {
		return what, nil
	}
	if err := f.sandboxes.SetGateway(c.Name, gw); err != nil {
		return what, err
	}
	st.gw = gw
	if gw.IsValid() {
		return append(what, "default route via "+gw.String()), nil
	}
	return append(what, "no default route"), nil
}

// DockerDisconnect disconnects container ctr from network (docker network
// disconnect), and says what changed.
func (f *Fabric) DockerDisconnect(ctr, network string) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	c, st, err := f.containerLocked(ctr)
	if err != nil {
		return nil, err
	}
	k := slices.IndexFunc(c.Endpoints, func(e topo.EndpointConfig) bool { return e.Network == network })
	if st.stopped && k >= 0 && f.docker.Network(c.Host, network) == nil {
		// A stopped container comes off a network that is gone from its
		// settings alone, as DisconnectFromNetwork does.
		f.setEndpoints(c, slices.Delete(slices.Clone(c.Endpoints), k, k+1))
		delete(st.static, network)
		return []string{fmt.Sprintf("%s is stopped: it no longer joins %s (removed) when it starts", ctr, network)}, nil
	}
	n, err := f.networkLocked(c.Host, network)
	if err != nil {
		return nil, err
	}
	if why := RuntimeDriver(n); why != "" {
		return nil, errors.New(why)
	}
	if k < 0 {
		return nil, dockerErr("%s", NotConnected(ctr, network))
	}
	what := fmt.Sprintf("%s is stopped: it no longer joins %s when it starts", ctr, network)
	if !st.stopped {
		if what, err = f.detachLocked(c, st, c.Endpoints[k]); err != nil {
			return nil, err
		}
	}
	f.setEndpoints(c, slices.Delete(slices.Clone(c.Endpoints), k, k+1))
	delete(st.static, network)
	if st.stopped {
		return []string{what}, nil
	}
	return f.routeLocked(c, st, []string{what})
}

// DockerStop stops container ctr (docker stop): its sandbox's interfaces
// go, its addresses go back to IPAM, its names leave DNS. Its endpoints
// stay in the record, without addresses, for the next start.
func (f *Fabric) DockerStop(ctr string) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	c, st, err := f.containerLocked(ctr)
	if err != nil {
		return nil, err
	}
	if st.stopped {
		return nil, dockerErr("%s", AlreadyStopped)
	}
	if why := f.stopStartable(c); why != "" {
		return nil, errors.New(why)
	}
	what, err := f.publishLocked(c, false)
	if err != nil {
		return what, err
	}
	eps := slices.Clone(c.Endpoints)
	for i, e := range eps {
		w, err := f.detachLocked(c, st, e)
		if err != nil {
			return what, err
		}
		if w != "" {
			what = append(what, w)
		}
		eps[i].Addr = netip.Prefix{} // docker inspect shows none while it is stopped
	}
	if st.gw.IsValid() {
		if err := f.sandboxes.SetGateway(c.Name, netip.Addr{}); err != nil {
			return what, err
		}
		st.gw = netip.Addr{}
	}
	f.setEndpoints(c, eps)
	st.stopped, st.next = true, 0
	return append([]string{ctr + " stopped"}, what...), nil
}

// stopStartable says why c cannot be stopped and started at run time, or
// "".
func (f *Fabric) stopStartable(c *topo.Container) string {
	for _, e := range c.Endpoints {
		if e.Network == "none" {
			continue
		}
		if n := f.docker.Network(c.Host, e.Network); n != nil {
			if why := RuntimeDriver(n); why != "" {
				return why
			}
		}
	}
	return ""
}

// DockerStart starts container ctr (docker start): a new sandbox's
// interfaces from eth0, in the order of its endpoints, each with an
// address asked of IPAM again (the same static one; a dynamic one the
// lowest free), its names back in DNS, its default route.
func (f *Fabric) DockerStart(ctr string) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	c, st, err := f.containerLocked(ctr)
	if err != nil {
		return nil, err
	}
	if !st.stopped {
		return nil, dockerErr("%s", AlreadyStarted)
	}
	for _, e := range c.Endpoints {
		if e.Network != "none" && f.docker.Network(c.Host, e.Network) == nil {
			return nil, dockerErr("%s", NetworkNotFound(e.Network))
		}
	}
	eps := slices.Clone(c.Endpoints)
	what := []string{ctr + " started"}
	st.stopped = false
	for i, e := range eps {
		if e.Network == "none" {
			continue
		}
		n := f.docker.Network(c.Host, e.Network)
		e.Addr = netip.Prefix{}
		if a, ok := st.static[e.Network]; ok {
			e.Addr = netip.PrefixFrom(a, n.Subnet.Bits())
		}
		got, err := f.attachLocked(c, st, n, e)
		if err != nil {
			f.setEndpoints(c, eps)
			return what, err
		}
		eps[i] = got
		what = append(what, f.joined(c, st, got))
	}
	f.setEndpoints(c, eps)
	pub, err := f.publishLocked(c, true)
	if err != nil {
		return append(what, pub...), err
	}
	return f.routeLocked(c, st, append(what, pub...))
}

// publishLocked publishes container c's ports on its host's gateway, to
// its first endpoint's address (a start), or takes them away (a stop), as
// Docker adds and removes a container's DNAT rules and proxies: while it
// is stopped a client's connection to the host port is refused.
func (f *Fabric) publishLocked(c *topo.Container, on bool) ([]string, error) {
	if len(c.Publish) == 0 {
		return nil, nil
	}
	gw, h := f.Gateway(c.Host), f.dockerHost(c.Host)
	if gw == nil || h == nil || len(c.Endpoints) == 0 || !c.Endpoints[0].Addr.IsValid() {
		return nil, nil
	}
	var what []string
	var err error
	gw.Do(func() {
		for _, pm := range c.Publish {
			proto := map[string]uint8{"tcp": nat.TCP, "udp": nat.UDP}[pm.Proto]
			ext := netip.AddrPortFrom(h.Address.Addr(), pm.HostPort)
			if !on {
				if err = gw.NAT().RemovePublish(proto, ext); err != nil {
					return
				}
				what = append(what, fmt.Sprintf("%s/%s no longer published", ext, pm.Proto))
				continue
			}
			to := netip.AddrPortFrom(c.Endpoints[0].Addr.Addr(), pm.ContainerPort)
			if err = gw.NAT().AddPublish(nat.Publish{Proto: proto, Ext: ext, To: to}); err != nil {
				return
			}
			what = append(what, fmt.Sprintf("%s/%s published to %s", ext, pm.Proto, to))
		}
	})
	return what, err
}

// DockerRestart stops and starts container ctr (docker restart).
// A stopped container is started, as docker restart does.
func (f *Fabric) DockerRestart(ctr string) ([]string, error) {
	f.dmu.Lock()
	_, st, err := f.containerLocked(ctr)
	f.dmu.Unlock()
	if err != nil {
		return nil, err
	}
	if st.stopped {
		return f.DockerStart(ctr)
	}
	a, err := f.DockerStop(ctr)
	if err != nil {
		return a, err
	}
	b, err := f.DockerStart(ctr)
	return append(a, b...), err
}

// DockerRemoveNetwork removes network name of Docker host host (docker
// network rm): refused while a running container is on it, as Docker
// refuses a network with active endpoints. The bridge and the gateway's
// leg on it are unlinked, the leg goes (gateway.RemoveBridge), the
// subnet goes back to IPAM.
func (f *Fabric) DockerRemoveNetwork(host, name string) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	if f.docker == nil {
		return nil, fmt.Errorf("%w: no Docker here", ErrUnknown)
	}
	if name == topo.DefaultNetwork || name == "host" || name == "none" {
		return nil, dockerErr("%s", Predefined(name))
	}
	n, err := f.networkLocked(host, name)
	if err != nil {
		return nil, err
	}
	if why := RuntimeDriver(n); why != "" {
		return nil, errors.New(why)
	}
	rt := f.runtimeLocked()
	for _, c := range f.docker.Containers {
		if c.Host != host || rt[c.Name] == nil || rt[c.Name].stopped {
			continue
		}
		if slices.ContainsFunc(c.Endpoints, func(e topo.EndpointConfig) bool { return e.Network == name }) {
			return nil, dockerErr("%s", ActiveEndpoints(host, name))
		}
	}
	leg := topo.Endpoint{Node: host, Port: n.Bridge}
	if f.Link(leg) != nil {
		if err := f.RemoveLink(leg); err != nil {
			return nil, err
		}
	}
	if gw := f.Gateway(host); gw != nil {
		var gerr error
		gw.Do(func() { gerr = gw.Gateway.RemoveBridge(name) })
		if gerr != nil {
			return nil, gerr
		}
		f.mu.Lock()
		delete(gw.ports, n.Bridge)
		f.mu.Unlock()
	}
	if err := f.dockerHost(host).IPAM.ReleaseNetwork(name); err != nil {
		return nil, err
	}
	subnet, sw := n.Subnet, f.bridgeSwitch(n)
	f.mu.Lock()
	f.docker.Networks = slices.DeleteFunc(f.docker.Networks, func(x topo.Network) bool { return x.Host == host && x.Name == name })
	f.mu.Unlock()
	return []string{fmt.Sprintf("network %s removed: %s unlinked from %s, subnet %s released", name, sw, host, subnet)}, nil
}

// runtimeLegPorts numbers the Loop ports of gateway legs added while the
// world runs: this plus the leg's interface index, clear of the legs and
// VTEPs the plan numbered from 0.
const runtimeLegPorts = 1 << 20

// NetworkRequest is a network as docker network create asks for it (a
// bridge network; zero fields from IPAM).
type NetworkRequest struct {
	Name     string
	Driver   string // bridge (default)
	Subnet   netip.Prefix
	Gateway  netip.Addr
	IPRange  netip.Prefix
	Internal bool
}

// NetworkExists is Docker's refusal to create a network twice.
func NetworkExists(name string) string {
	return fmt.Sprintf("network with name %s already exists", name)
}

// DockerCreateNetwork creates a bridge network on Docker host host while
// the world runs (docker network create): a subnet from the host's IPAM
// (round robin over the pools), a switch named as Docker names the
// bridge, and a new leg of the host's gateway on it owning the gateway
// address.
func (f *Fabric) DockerCreateNetwork(host string, r NetworkRequest) ([]string, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	if f.docker == nil {
		return nil, fmt.Errorf("%w: no Docker here", ErrUnknown)
	}
	dh := f.dockerHost(host)
	gw := f.Gateway(host)
	if dh == nil || gw == nil {
		return nil, fmt.Errorf("%w Docker host %q", ErrUnknown, host)
	}
	if f.docker.Network(host, r.Name) != nil || r.Name == "host" || r.Name == "none" {
		return nil, dockerErr("%s", NetworkExists(r.Name))
	}
	n := topo.Network{Name: r.Name, Host: host, Driver: cmp.Or(r.Driver, "bridge"), Internal: r.Internal, Bridge: "br-" + r.Name}
	if why := RuntimeDriver(&n); why != "" {
		return nil, errors.New(why)
	}
	if len(n.Bridge) > topo.MaxIfaceNameLen {
		return nil, fmt.Errorf("the bridge device would be %q, longer than Linux's %d bytes: use at most %d characters", n.Bridge, topo.MaxIfaceNameLen, topo.MaxIfaceNameLen-3)
	}
	alloc, err := dh.IPAM.RequestNetwork(ipam.Request{Name: r.Name, Subnet: r.Subnet, Gateway: r.Gateway, IPRange: r.IPRange})
	if err != nil {
		return nil, dockerErr("%v", err)
	}
	n.Subnet, n.Gateway, n.IPRange = alloc.Subnet, alloc.Gateway, alloc.IPRange
	sw := f.bridgeSwitch(&n)
	f.mu.Lock()
	if f.nodes[sw] != nil && f.switches[sw] == nil {
		f.mu.Unlock()
		_ = dh.IPAM.ReleaseNetwork(r.Name)
		return nil, fmt.Errorf("fabric: %s is a node already, not a switch", sw)
	}
	if f.switches[sw] == nil { // a network removed and made again keeps its switch
		s := vswitch.New(vswitch.Options{Name: sw, Clock: f.opts.Clock, Tracer: f.opts.Tracer})
		f.switches[sw], f.nodes[sw], f.kinds[sw] = s, switchNode{s}, topo.SwitchKind
	}
	f.mu.Unlock()
	leg := gateway.Bridge{Leg: gateway.Leg{Name: n.Bridge, MAC: docker.MAC(n.Gateway), Addr: netip.PrefixFrom(n.Gateway, n.Subnet.Bits())}, Network: n.Name, Internal: n.Internal}
	var p *link.Port
	gw.Do(func() {
		k := len(gw.Gateway.Host().Ifaces())
		var ifc *stack.Iface
		p = gw.Port(runtimeLegPorts+k, func(up bool) {
			if ifc != nil {
				ifc.SetUp(up)
			}
		})
		leg.Out = &p.Out
		if _, err = gw.Gateway.AddBridge(leg); err != nil {
			return
		}
		ifc = gw.Gateway.Host().Ifaces()[k]
		ifc.SetUp(false) // until linked
	})
	if err != nil {
		_ = dh.IPAM.ReleaseNetwork(r.Name)
		return nil, err
	}
	f.mu.Lock()
	gw.ports[n.Bridge] = p
	f.mu.Unlock()
	if err := f.AddLink(topo.Link{A: topo.Endpoint{Node: sw, Port: host}, B: topo.Endpoint{Node: host, Port: n.Bridge}}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.docker.Networks = append(f.docker.Networks, n)
	f.mu.Unlock()
	what := fmt.Sprintf("network %s created: id %s, bridge %s, subnet %s, gateway %s", n.Name, ID("network", host+"/"+n.Name), sw, n.Subnet, n.Gateway)
	if n.Internal {
		what += ", internal"
	}
	return []string{what}, nil
}
