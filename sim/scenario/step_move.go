package scenario

import (
	"fmt"

	"github.com/netyard/netyard/sim/topo"
)

func init() { registerStep[MoveStep]("move", 60) }

// MoveStep replugs a host interface's link into another switch port: a
// laptop carried to another port. The link keeps its impairments.
type MoveStep struct {
	Iface string `yaml:"iface"` // host:iface
	To    string `yaml:"to"`    // a free switch port
}

func (m *MoveStep) check(c *checker, p string) {
	e, ok := c.endpoint(p+".iface", m.Iface)
	var k *cable
	if ok {
		switch k = c.cables[e]; {
		case c.ix.Kind(e.Node) != topo.HostNode || k == nil && c.gone[e] == "":
			c.bad(p+".iface", "%q is not a linked host interface", m.Iface)
			k = nil
		case k == nil:
			c.bad(p+".iface", "%q is not a linked host interface: %s", m.Iface, c.gone[e])
		}
	}
	before := len(c.errs)
	c.switchPort(p+".to", m.To)
	if to := endpoint(m.To); len(c.errs) == before && c.free(p+".to", to) && k != nil {
		c.move(k, e, to)
	}
}

func (m *MoveStep) describe() string { return fmt.Sprintf("move %s to %s", m.Iface, m.To) }

func (m *MoveStep) run(r *runner) (bool, string) {
	if err := r.w.Move(endpoint(m.Iface), endpoint(m.To)); err != nil {
		return r.fail(err)
	}
	return true, "replugged"
}
