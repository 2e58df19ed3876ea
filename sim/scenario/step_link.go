package scenario

import "fmt"

func init() { registerStep[LinkStep]("link", 40) }

// LinkStep brings the link at one of its ends up or down.
type LinkStep struct {
	At    string `yaml:"at"`    // either end: node:port
	State string `yaml:"state"` // up or down
}

func (s *LinkStep) check(c *checker, p string) {
	c.linkAt(p+".at", s.At)
	c.oneOf(p+".state", "state", s.State, "up", "down")
}

func (s *LinkStep) describe() string { return fmt.Sprintf("link at %s %s", s.At, s.State) }

func (s *LinkStep) run(r *runner) (bool, string) {
	if err := r.w.SetLink(endpoint(s.At), s.State == "up"); err != nil {
		return r.fail(err)
	}
	return true, "link " + s.State
}
