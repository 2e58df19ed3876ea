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
// docker network commands do: connect a container (docker network
// connect [--ip] [--alias]), disconnect it, or rm a network. Exactly one
// of connect, disconnect and rm. Only bridge networks change at run
// time. expect: refused passes when Docker refuses the change (rm of a
// network in use), with Docker's words in the report; otherwise a
// change Docker would refuse is a problem of the file.
type NetworkStep struct {
	Connect    string   `yaml:"connect"`    // the network to connect container to
	Disconnect string   `yaml:"disconnect"` // the network to disconnect container from
	Rm         string   `yaml:"rm"`         // the network to remove
	Container  string   `yaml:"container"`  // connect, disconnect: the container
	IP         string   `yaml:"ip"`         // connect: a static address (a network with a subnet of the file's only)
	Aliases    []string `yaml:"aliases"`    // connect: its DNS aliases on the network
	Host       string   `yaml:"host"`       // rm: the Docker host whose network goes; default the first
	Expect     string   `yaml:"expect"`     // done (default) or refused
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
	k := &dockerCheck{d: d, host: map[string]string{}, running: map[string]bool{}, eps: map[string][]string{}, gone: map[string]string{}}
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
func (c *checker) userSubnet(name string) bool {
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
	if n != 1 {
		c.bad(p, "a network step has exactly one of connect, disconnect and rm")
		return
	}
	c.oneOf(p+".expect", "expect", s.Expect, "", "done", "refused")
	refused := s.Expect == "refused"
	if s.Rm != "" {
		s.checkRm(c, k, p, refused)
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
	if s.Rm == "" && s.Host != "" {
		c.bad(p+".host", "host is for rm: a container's networks are its Docker host's")
	}
	host, ok := c.container(k, p+".container", s.Container)
	if !ok {
		return
	}
	net := k.network(host, name)
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
		c.bad(p+".container", "container %s is on the none network and cannot be connected to another", s.Container)
		return
	}
	if s.IP != "" {
		a, err := netip.ParseAddr(s.IP)
		switch {
		case err != nil || !a.Is4():
			c.bad(p+".ip", "%q is not an IPv4 address", s.IP)
		case name == topo.DefaultNetwork:
			c.bad(p+".ip", "user specified IP address is supported on user defined networks only")
		case !c.userSubnet(name):
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
	host := k.d.Hosts[0].Name
	if s.Host != "" {
		if !slices.ContainsFunc(k.d.Hosts, func(h topo.DockerHost) bool { return h.Name == s.Host }) {
			c.bad(p+".host", "unknown Docker host %q", s.Host)
			return
		}
		host = s.Host
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
	}
}

func (s *NetworkStep) describe() string {
	switch {
	case s.Connect != "":
		d := fmt.Sprintf("docker network connect %s %s", s.Connect, s.Container)
		if s.IP != "" {
			d = fmt.Sprintf("docker network connect --ip %s %s %s", s.IP, s.Connect, s.Container)
		}
		for _, a := range s.Aliases {
			d += " --alias " + a
		}
		return d
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
