package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netyard/netyard/sim/topo"
)

func init() { registerStep[PeersStep]("peers", 95) }

// PeersStep checks what a Docker host's VTEP knows of an overlay's
// containers on other hosts: its peer table, as the control plane
// programmed it.
type PeersStep struct {
	Host    string        `yaml:"host"`    // the Docker host
	Network string        `yaml:"network"` // the overlay
	Has     []string      `yaml:"has"`     // containers it must know
	Lacks   []string      `yaml:"lacks"`   // containers it must not know
	Within  time.Duration `yaml:"within"`  // how long the tables may take to get there; default at once
}

func (p *PeersStep) check(c *checker, q string) {
	d := c.ix.Graph().Docker
	if d == nil {
		c.bad(q, "peers is for Docker scenarios with an overlay network")
		return
	}
	if d.Network(p.Host, p.Network) == nil || d.Network(p.Host, p.Network).Scope != topo.ScopeSwarm {
		c.bad(q, "%s has no overlay network %q", p.Host, p.Network)
		return
	}
	on := p.members(d.Containers)
	for _, name := range p.Has {
		if _, ok := on[name]; !ok {
			c.bad(q+".has", "%q is no container on the overlay %s", name, p.Network)
		}
	}
	for _, name := range p.Lacks {
		if !slices.ContainsFunc(d.Containers, func(ct topo.Container) bool { return ct.Name == name }) {
			c.bad(q+".lacks", "%q is no container", name)
		}
	}
	if len(p.Has)+len(p.Lacks) == 0 {
		c.bad(q, "peers needs has or lacks")
	}
}

// members maps the network's containers to their addresses on it.
func (p *PeersStep) members(cts []topo.Container) map[string]netip.Addr {
	out := map[string]netip.Addr{}
	for _, ct := range cts {
		for _, e := range ct.Endpoints {
			if e.Network == p.Network && e.Addr.IsValid() {
				out[ct.Name] = e.Addr.Addr()
			}
		}
	}
	return out
}

// addrs returns container name's addresses: on the network, or, for one
// not on it, every address it has (none of which the VTEP may know).
func (p *PeersStep) addrs(cts []topo.Container, name string) []netip.Addr {
	var all []netip.Addr
	for _, ct := range cts {
		if ct.Name != name {
			continue
		}
		for _, e := range ct.Endpoints {
			if e.Network == p.Network {
				return []netip.Addr{e.Addr.Addr()}
			}
			if e.Addr.IsValid() {
				all = append(all, e.Addr.Addr())
			}
		}
	}
	return all
}

func (p *PeersStep) describe() string {
	s := fmt.Sprintf("peers of %s on %s", p.Host, p.Network)
	if p.Within > 0 {
		s += fmt.Sprintf(" within %v", p.Within)
	}
	return s
}

func (p *PeersStep) run(r *runner) (bool, string) {
	cts := r.w.Docker().Containers
	on := p.members(cts)
	start := r.b.Elapsed()
	for {
		peers, err := r.w.Peers(p.Host, p.Network)
		if err != nil {
			return r.fail(err)
		}
		known := map[netip.Addr]netip.Addr{}
		for _, pe := range peers {
			known[pe.IP] = pe.VTEP
		}
		var problems, list []string
		for _, name := range p.Has {
			if _, ok := known[on[name]]; !ok {
				problems = append(problems, fmt.Sprintf("%s does not know %s (%s)", p.Host, name, on[name]))
			}
		}
		for _, name := range p.Lacks {
			for _, a := range p.addrs(cts, name) {
				if v, ok := known[a]; ok {
					problems = append(problems, fmt.Sprintf("%s knows %s (%s at VTEP %s)", p.Host, name, a, v))
				}
			}
		}
		byAddr := map[netip.Addr]string{}
		for name, a := range on {
			byAddr[a] = name
		}
		for _, pe := range peers {
			list = append(list, fmt.Sprintf("%s %s at %s", cmp.Or(byAddr[pe.IP], "?"), pe.IP, pe.VTEP))
		}
		seen := fmt.Sprintf("at %s %s knows [%s]", stamp(r.b.Elapsed()), p.Host, strings.Join(list, "; "))
		waited := r.b.Elapsed() - start
		if len(problems) == 0 {
			return true, seen
		}
		if waited >= p.Within {
			return false, strings.Join(problems, "; ") + " (" + seen + ")"
		}
		if err := r.b.Wait(min(10*time.Millisecond, p.Within-waited)); err != nil {
			return r.fail(err)
		}
	}
}
