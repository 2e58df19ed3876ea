package scenario

import "fmt"

func init() { registerStep[PortStep]("port", 50) }

// PortStep brings a switch port administratively up or down.
type PortStep struct {
	At    string `yaml:"at"`    // switch:port
	State string `yaml:"state"` // up or down
}

func (s *PortStep) check(c *checker, p string) {
	c.switchPort(p+".at", s.At)
	c.oneOf(p+".state", "state", s.State, "up", "down")
}

func (s *PortStep) describe() string { return fmt.Sprintf("port %s %s", s.At, s.State) }

func (s *PortStep) run(r *runner) (bool, string) {
	if err := r.w.SetPort(endpoint(s.At), s.State == "up"); err != nil {
		return r.fail(err)
	}
	return true, "port " + s.State
}
