package scenario

import (
	"fmt"

	"github.com/netyard/netyard/sim/fabric"
)

func init() { registerStep[ContainerStep]("container", 48) }

// ContainerStep stops, starts or restarts a Docker container while the
// world runs, as docker stop, start and restart do: a stop deletes its
// interfaces, gives its addresses back to IPAM and takes its names out
// of DNS, so it is unreachable; a start makes its interfaces again from
// eth0, in the order of its networks, each with an address asked of
// IPAM again (a static one the same; a dynamic one the lowest free,
// which another container may have taken meanwhile). Exactly one of
// stop, start and restart.
type ContainerStep struct {
	Stop    string `yaml:"stop"`
	Start   string `yaml:"start"`
	Restart string `yaml:"restart"`
}

// which returns the verb and the container.
func (s *ContainerStep) which() (verb, name string) {
	switch {
	case s.Stop != "":
		return "stop", s.Stop
	case s.Start != "":
		return "start", s.Start
	}
	return "restart", s.Restart
}

func (s *ContainerStep) check(c *checker, p string) {
	k := c.docker(p)
	if k == nil {
		return
	}
	n := 0
	for _, v := range []string{s.Stop, s.Start, s.Restart} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		c.bad(p, "a container step has exactly one of stop, start and restart")
		return
	}
	verb, name := s.which()
	at := p + "." + verb
	host, ok := c.container(k, at, name)
	if !ok {
		return
	}
	for _, nw := range k.eps[name] {
		if nw == "none" {
			continue
		}
		net := k.network(host, nw)
		if net == nil {
			if verb != "stop" {
				c.bad(at, "%s", fabric.NetworkNotFound(nw)) // Docker cannot start it: a network it is on is gone
				return
			}
			continue
		}
		if why := fabric.RuntimeDriver(net); why != "" {
			c.bad(at, "%s", why)
			return
		}
	}
	switch {
	case verb == "stop" && !k.running[name]:
		c.bad(at, "%s", fabric.AlreadyStopped)
	case verb == "start" && k.running[name]:
		c.bad(at, "%s", fabric.AlreadyStarted)
	case verb == "restart" && !k.running[name]:
		// docker restart starts a stopped container
		k.running[name] = true
	default:
		k.running[name] = verb != "stop"
	}
}

func (s *ContainerStep) describe() string {
	verb, name := s.which()
	return fmt.Sprintf("docker %s %s", verb, name)
}

func (s *ContainerStep) run(r *runner) (bool, string) {
	verb, name := s.which()
	var what []string
	var err error
	switch verb {
	case "stop":
		what, err = r.w.DockerStop(name)
	case "start":
		what, err = r.w.DockerStart(name)
	default:
		what, err = r.w.DockerRestart(name)
	}
	return dockerOutcome(r, false, what, err)
}
