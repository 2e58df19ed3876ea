package scenario

import "fmt"

func init() { registerStep[UnplugStep]("unplug", 44) }

// UnplugStep takes the link at one of its ends away, as pulling a cable
// out does: both ends lose carrier (a switch forgets what it learned
// there), frames on the way are lost, and both ends are free for a plug
// or a move. Unlike link: {state: down}, nothing is left to bring back
// up.
type UnplugStep struct {
	At string `yaml:"at"` // either end: node:port
}

func (u *UnplugStep) check(c *checker, p string) {
	if k, ok := c.linkAt(p+".at", u.At); ok {
		c.unplug(k)
	}
}

func (u *UnplugStep) describe() string { return fmt.Sprintf("unplug the link at %s", u.At) }

func (u *UnplugStep) run(r *runner) (bool, string) {
	e := endpoint(u.At)
	name := u.At
	for _, l := range r.w.Links() {
		if l.A == e || l.B == e {
			name = l.Name()
		}
	}
	if err := r.w.RemoveLink(e); err != nil {
		return r.fail(err)
	}
	return true, "unplugged " + name
}
