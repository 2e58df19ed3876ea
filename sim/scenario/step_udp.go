package scenario

import (
	"cmp"
	"fmt"
	"time"
)

func init() { registerStep[UDPStep]("udp", 20) }

// UDPStep sends one datagram.
type UDPStep struct {
	From    string        `yaml:"from"`
	To      string        `yaml:"to"`
	Port    uint16        `yaml:"port"`
	Timeout time.Duration `yaml:"timeout"` // default 2s (DefaultTimeout)
	Expect  string        `yaml:"expect"`  // delivered (default) or not-delivered
}

func (u *UDPStep) check(c *checker, q string) {
	c.host(q+".from", u.From)
	c.addr(q+".to", u.To)
	if u.Port == 0 {
		c.bad(q+".port", "udp needs a port (1-65535)")
	}
	c.oneOf(q+".expect", "expect", u.Expect, "", "delivered", "not-delivered")
}

func (u *UDPStep) describe() string { return fmt.Sprintf("udp %s -> %s:%d", u.From, u.To, u.Port) }

func (u *UDPStep) run(r *runner) (bool, string) {
	to, why, err := r.addr(u.From, u.To)
	if err != nil {
		return r.fail(err)
	}
	if why != "" {
		return u.Expect == "not-delivered", "not sent: " + why
	}
	res, err := r.b.UDP(u.From, to, u.Port, cmp.Or(u.Timeout, DefaultTimeout))
	if err != nil {
		return r.fail(err)
	}
	r.seen.Delivered, r.seen.Error = &res.Delivered, res.Err
	want := u.Expect != "not-delivered"
	if res.Delivered {
		return want, "delivered"
	}
	return !want, "not delivered: " + res.Err
}
