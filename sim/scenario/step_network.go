package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netyard/netyard/sim/fabric"
	"github.com/netyard/netyard/sim/topo"
)

func init() { registerStep[NetworkStep]("network", 47) }

// NetworkStep changes a Docker network while the world runs, as the
// docker network commands do: create a network, connect a container
// (docker network connect [--ip] [--alias]), disconnect it, or rm a
// network. Exactly one of create, connect, disconnect and rm. Only
// bridge networks change at run time. expect: refused passes when Docker
// refuses the change (rm of a network in use), with Docker's words in
// the report; otherwise a change Docker would refuse is a problem of the
// file.
type NetworkStep struct {
	Create     *NetworkConfig `yaml:"create"`     // a network as networks: has it (name, subnet, gateway, ip_range, internal; driver bridge)
	Connect    string         `yaml:"connect"`    // the network to connect container to
	Disconnect string         `yaml:"disconnect"` // the network to disconnect container from
	Rm         string         `yaml:"rm"`         // the network to remove
	Container  string         `yaml:"container"`  // connect, disconnect: the container
	IP         string         `yaml:"ip"`         // connect: a static address (a network with a subnet of the file's only)
	Aliases    []string       `yaml:"aliases"`    // connect: its DNS aliases on the network
	Host       string         `yaml:"host"`       // create, rm: the Docker host whose network it is; default the first
	Expect     string         `yaml:"expect"`     // done (default) or refused
}

// dockerCheck is the Docker state as the steps change it, for the
// checker: which containers run, the networks each is on, the networks
// that exist.
type dockerCheck struct {
	d       *topo.Docker
	host    map[string]string   // container -> its Docker host
	running map[string]bool     // container -> running
	eps     map[string][]string // container -> its networks, in order
	gone    map[string]string   // host/network -> what removed it
	created map[string]*created // host/network -> made by a step
}

// created is a network a step made.
type created struct {
	n          topo.Network
	userSubnet bool
}

// docker returns the checker's Docker state, made on first use; nil in a
// file without Docker (after saying so at path).
func (c *checker) docker(path string) *dockerCheck {
	if c.dock != nil {
		return c.dock
	}
	d := c.ix.Graph().Docker
	if d == nil {
		c.bad(path, "this step is for Docker scenarios (networks, containers)")
		return nil
	}
	k := &dockerCheck{d: d, host: map[string]string{}, running: map[string]bool{}, eps: map[string][]string{}, gone: map[string]string{}, created: map[string]*created{}}
	for _, ct := range d.Containers {
		if ct.Attach != "" {
			continue
		}
		k.host[ct.Name], k.running[ct.Name] = ct.Host, true
		for _, e := range ct.Endpoints {
			k.eps[ct.Name] = append(k.eps[ct.Name], e.Network)
		}
	}
	c.dock = k
	return k
}

// network returns network name of host as it is at this step, or nil.
func (k *dockerCheck) network(host, name string) *topo.Network {
	if k.gone[host+"/"+name] != "" {
		return nil
	}
	if m := k.created[host+"/"+name]; m != nil {
		return &m.n
	}
	return k.d.Network(host, name)
}

// container checks that name is a container on a Docker host, and
// returns its host.
func (c *checker) container(k *dockerCheck, path, name string) (string, bool) {
	h, ok := k.host[name]
	if !ok {
		var names []string
		for n := range k.host {
			names = append(names, n)
		}
		slices.Sort(names)
		c.bad(path, "No such container: %s%s", name, c.f.didYouMean(name, names))
	}
	return h, ok
}

// userSubnet reports whether the file gives network name a subnet: Docker
// takes a static address only there.
func (c *checker) userSubnet(k *dockerCheck, host, name string) bool {
	if m := k.created[host+"/"+name]; m != nil && k.gone[host+"/"+name] == "" {
		return m.userSubnet
	}
	return slices.ContainsFunc(c.f.Networks, func(n NetworkConfig) bool { return n.Name == name && n.Subnet != "" })
}

func (s *NetworkStep) check(c *checker, p string) {
	k := c.docker(p)
	if k == nil {
		return
	}
	n := 0
	for _, v := range []string{s.Connect, s.Disconnect, s.Rm} {
		if v != "" {
			n++
		}
	}
	if s.Create != nil {
		n++
	}
	if n != 1 {
		c.bad(p, "a network step has exactly one of create, connect, disconnect and rm")
		return
	}
	c.oneOf(p+".expect", "expect", s.Expect, "", "done", "refused")
	refused := s.Expect == "refused"
	if s.Rm != "" {
		s.checkRm(c, k, p, refused)
		return
	}
	if s.Create != nil {
		s.checkCreate(c, k, p)
		return
	}
	field, name := "connect", s.Connect
	if s.Disconnect != "" {
		field, name = "disconnect", s.Disconnect
	}
	if s.Container == "" {
		c.bad(p+".container", "network %s needs a container", field)
		return
	}
	if s.Host != "" {
		c.bad(p+".host", "host is for rm: a container's networks are its Docker host's")
	}
	host, ok := c.container(k, p+".container", s.Container)
	if !ok {
		return
	}
	switch {
	case name == "host":
		c.bad(p+"."+field, "%s", fabric.ConflictHostNetwork)
		return
	case name == "none" && s.Connect != "":
		c.bad(p+".connect", "%s", fabric.ConflictNoNetwork)
		return
	}
	net := k.network(host, name)
	if net == nil && s.Disconnect != "" && !k.running[s.Container] && slices.Contains(k.eps[s.Container], name) {
		// Docker takes a stopped container off a network that is gone,
		// from its settings alone.
		k.eps[s.Container] = slices.DeleteFunc(slices.Clone(k.eps[s.Container]), func(x string) bool { return x == name })
		return
	}
	if net == nil {
		c.bad(p+"."+field, "%s", fabric.NetworkNotFound(name))
		return
	}
	if why := fabric.RuntimeDriver(net); why != "" {
		c.bad(p+"."+field, "%s", why)
		return
	}
	on := slices.Contains(k.eps[s.Container], name)
	if s.Disconnect != "" {
		if s.IP != "" || len(s.Aliases) > 0 {
			c.bad(p, "ip and aliases are for connect")
		}
		if !on {
			c.bad(p+".disconnect", "%s", fabric.NotConnected(s.Container, name))
			return
		}
		if !refused {
			k.eps[s.Container] = slices.DeleteFunc(slices.Clone(k.eps[s.Container]), func(x string) bool { return x == name })
		}
		return
	}
	switch {
	case on:
		c.bad(p+".connect", "%s", fabric.AlreadyConnected(s.Container, name))
		return
	case slices.Contains(k.eps[s.Container], "none"):
		c.bad(p+".container", "%s", fabric.ConflictNoNetwork)
		return
	case name == topo.DefaultNetwork && len(s.Aliases) > 0:
		c.bad(p+".aliases", "%s", fabric.AliasOnDefault)
	}
	if s.IP != "" {
		a, err := netip.ParseAddr(s.IP)
		switch {
		case err != nil || !a.Is4():
			c.bad(p+".ip", "%q is not an IPv4 address", s.IP)
		case name == topo.DefaultNetwork:
			c.bad(p+".ip", "%s", fabric.IPOnDefault)
		case !c.userSubnet(k, host, name):
			c.bad(p+".ip", "user specified IP address is supported only when connecting to networks with user configured subnets")
		case !net.Subnet.Contains(a):
			c.bad(p+".ip", "Invalid address %s: It does not belong to any of this network's subnets", a)
		}
	}
	for i, a := range s.Aliases {
		if err := topo.ValidDNSName(a); err != nil {
			c.bad(fmt.Sprintf("%s.aliases[%d]", p, i), "alias: %v", err)
		}
	}
	if !refused {
		k.eps[s.Container] = append(slices.Clone(k.eps[s.Container]), name)
	}
}

// checkRm checks a network rm: Docker refuses a predefined network, an
// unknown one, and one with running containers on it (which passes only
// with expect: refused).
func (s *NetworkStep) checkRm(c *checker, k *dockerCheck, p string, refused bool) {
	if s.Container != "" || s.IP != "" || len(s.Aliases) > 0 {
		c.bad(p, "container, ip and aliases are for connect and disconnect")
	}
	host, ok := c.dockerHost(k, p+".host", s.Host)
	if !ok {
		return
	}
	if s.Rm == topo.DefaultNetwork || s.Rm == "host" || s.Rm == "none" {
		c.bad(p+".rm", "%s", fabric.Predefined(s.Rm))
		return
	}
	net := k.network(host, s.Rm)
	if net == nil {
		c.bad(p+".rm", "%s", fabric.NetworkNotFound(s.Rm))
		return
	}
	if why := fabric.RuntimeDriver(net); why != "" {
		c.bad(p+".rm", "%s", why)
		return
	}
	var users []string
	for ct, nets := range k.eps {
		if k.host[ct] == host && k.running[ct] && slices.Contains(nets, s.Rm) {
			users = append(users, ct)
		}
	}
	slices.Sort(users)
	switch {
	case len(users) > 0 && !refused:
		c.bad(p+".rm", "%s (%s on it: disconnect or stop them first, or expect: refused)", fabric.ActiveEndpoints(host, s.Rm), strings.Join(users, ", "))
	case len(users) == 0 && refused:
		c.bad(p+".expect", "Docker removes %s here: no running container is on it", s.Rm)
	case len(users) == 0:
		k.gone[host+"/"+s.Rm] = c.stepName(c.step) + " removed it"
		delete(k.created, host+"/"+s.Rm)
	}
}

// dockerHost checks a step's host: a Docker host, default the first.
func (c *checker) dockerHost(k *dockerCheck, path, host string) (string, bool) {
	if host == "" {
		return k.d.Hosts[0].Name, true
	}
	if !slices.ContainsFunc(k.d.Hosts, func(h topo.DockerHost) bool { return h.Name == host }) {
		c.bad(path, "unknown Docker host %q", host)
		return "", false
	}
	return host, true
}

// checkCreate checks a network create: a bridge network with a name no
// network of the host has at this step, its addresses well formed (IPAM
// settles the rest when it runs).
func (s *NetworkStep) checkCreate(c *checker, k *dockerCheck, p string) {
	if s.Container != "" || s.IP != "" || len(s.Aliases) > 0 || s.Expect == "refused" {
		c.bad(p, "container, ip, aliases and expect: refused are for connect, disconnect and rm")
	}
	host, ok := c.dockerHost(k, p+".host", s.Host)
	if !ok {
		return
	}
	m := s.Create
	q := p + ".create"
	switch err := topo.ValidName(m.Name); {
	case m.Name == "":
		c.bad(q+".name", "a network needs a name")
		return
	case err != nil:
		c.bad(q+".name", "a network's %v", err)
		return
	case m.Name == "host" || m.Name == "none" || k.network(host, m.Name) != nil:
		c.bad(q+".name", "%s", fabric.NetworkExists(m.Name))
		return
	case len("br-"+m.Name) > topo.MaxIfaceNameLen:
		c.bad(q+".name", "the bridge device would be %q, longer than Linux's %d bytes: use at most %d characters", "br-"+m.Name, topo.MaxIfaceNameLen, topo.MaxIfaceNameLen-3)
		return
	}
	if d := cmp.Or(m.Driver, "bridge"); d != "bridge" {
		c.bad(q+".driver", "network %s: the %s driver is %s (bridge networks are)", m.Name, d, fabric.ErrNotModelled)
		return
	}
	if len(m.Hosts) > 0 || m.VNI != 0 {
		c.bad(q, "hosts and vni are an overlay's")
	}
	n := topo.Network{Name: m.Name, Host: host, Driver: "bridge", Internal: m.Internal, Bridge: "br-" + m.Name}
	bad := false
	if m.Subnet != "" {
		sub, err := netip.ParsePrefix(m.Subnet)
		if err != nil {
			c.bad(q+".subnet", "%q is not a subnet (want 172.30.0.0/24)", m.Subnet)
			bad = true
		} else if why := topo.SubnetProblem(sub); why != "" {
			c.bad(q+".subnet", "%s", why)
			bad = true
		}
		n.Subnet = sub
	}
	for _, a := range []struct{ field, v string }{{"gateway", m.Gateway}, {"ip_range", m.IPRange}} {
		if a.v == "" {
			continue
		}
		if m.Subnet == "" {
			c.bad(q+"."+a.field, "%s needs a subnet", a.field)
			bad = true
			continue
		}
		var err error
		if a.field == "gateway" {
			_, err = netip.ParseAddr(a.v)
		} else {
			_, err = netip.ParsePrefix(a.v)
		}
		if err != nil {
			c.bad(q+"."+a.field, "%q: %v", a.v, err)
			bad = true
		}
	}
	if !bad {
		delete(k.gone, host+"/"+m.Name)
		k.created[host+"/"+m.Name] = &created{n: n, userSubnet: m.Subnet != ""}
	}
}

func (s *NetworkStep) describe() string {
	switch {
	case s.Create != nil:
		d := "docker network create"
		if s.Create.Subnet != "" {
			d += " --subnet " + s.Create.Subnet
		}
		if s.Create.Gateway != "" {
			d += " --gateway " + s.Create.Gateway
		}
		if s.Create.IPRange != "" {
			d += " --ip-range " + s.Create.IPRange
		}
		if s.Create.Internal {
			d += " --internal"
		}
		d += " " + s.Create.Name
		if s.Host != "" {
			d += " on " + s.Host
		}
		return d
	case s.Connect != "":
		d := "docker network connect"
		if s.IP != "" {
			d += " --ip " + s.IP
		}
		for _, a := range s.Aliases {
			d += " --alias " + a
		}
		return d + " " + s.Connect + " " + s.Container
	case s.Disconnect != "":
		return fmt.Sprintf("docker network disconnect %s %s", s.Disconnect, s.Container)
	}
	d := "docker network rm " + s.Rm
	if s.Host != "" {
		d += " on " + s.Host
	}
	return d
}

func (s *NetworkStep) run(r *runner) (bool, string) {
	var what []string
	var err error
	switch {
	case s.Create != nil:
		m := s.Create
		req := fabric.NetworkRequest{Name: m.Name, Driver: m.Driver, Internal: m.Internal}
		req.Subnet, _ = netip.ParsePrefix(m.Subnet)
		req.Gateway, _ = netip.ParseAddr(m.Gateway)
		req.IPRange, _ = netip.ParsePrefix(m.IPRange)
		what, err = r.w.DockerCreateNetwork(cmp.Or(s.Host, r.w.Docker().Hosts[0].Name), req)
	case s.Connect != "":
		ip, _ := netip.ParseAddr(s.IP)
		what, err = r.w.DockerConnect(s.Container, s.Connect, ip, s.Aliases)
	case s.Disconnect != "":
		what, err = r.w.DockerDisconnect(s.Container, s.Disconnect)
	default:
		what, err = r.w.DockerRemoveNetwork(cmp.Or(s.Host, r.w.Docker().Hosts[0].Name), s.Rm)
	}
	return dockerOutcome(r, s.Expect == "refused", what, err)
}

// dockerOutcome is the verdict of a Docker change: done, or refused in
// Docker's words (the CLI's "Error response from daemon: ...").
func dockerOutcome(r *runner, refusal bool, what []string, err error) (bool, string) {
	switch {
	case err != nil && errors.Is(err, fabric.ErrDockerRefused):
		words := "Error response from daemon: " + strings.TrimPrefix(err.Error(), fabric.ErrDockerRefused.Error()+": ")
		if refusal {
			return true, "refused, as expected: " + words
		}
		return false, words
	case err != nil:
		return r.fail(err)
	case refusal:
		return false, "done, but expected Docker to refuse: " + strings.Join(what, "; ")
	}
	return true, strings.Join(what, "; ")
}
