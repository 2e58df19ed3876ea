package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"
)

func init() { registerStep[ConnectStep]("connect", 80) }

// ConnectStep tries a TCP handshake.
type ConnectStep struct {
	From    string        `yaml:"from"`
	To      string        `yaml:"to"`
	Port    uint16        `yaml:"port"`
	Timeout time.Duration `yaml:"timeout"` // default 4s
	Expect  string        `yaml:"expect"`  // open (default), refused or timeout
	// SeenFrom is the client's address as the listener should see it (a
	// host or an address): the client's own, or the one NAT gave it.
	SeenFrom string `yaml:"seen_from"`
}

func (s *ConnectStep) check(c *checker, q string) {
	c.host(q+".from", s.From)
	c.addr(q+".to", s.To)
	if s.Port == 0 {
		c.bad(q+".port", "connect needs a port (1-65535)")
	}
	c.oneOf(q+".expect", "expect", s.Expect, "", "open", "refused", "timeout")
	if w := s.SeenFrom; w != "" && !c.known(w) {
		c.notAddr(q+".seen_from", w)
	}
}

func (s *ConnectStep) describe() string {
	return fmt.Sprintf("connect %s -> %s:%d", s.From, s.To, s.Port)
}

func (s *ConnectStep) run(r *runner) (bool, string) {
	to, why, err := r.addr(s.From, s.To)
	if err != nil {
		return r.fail(err)
	}
	if why != "" {
		return false, "not tried: " + why
	}
	got, err := r.b.Dial(s.From, netip.AddrPortFrom(to, s.Port), cmp.Or(s.Timeout, 4*time.Second))
	if err != nil {
		return r.fail(err)
	}
	pass := string(got.Result) == cmp.Or(s.Expect, "open")
	r.seen.Result = string(got.Result)
	if got.Peer.IsValid() {
		r.seen.Peer = got.Peer.String()
	}
	detail := fmt.Sprintf("%s:%d is %s", to, s.Port, got.Result)
	if got.Peer.IsValid() {
		detail += fmt.Sprintf(", the listener saw the client as %s", got.Peer.Addr())
	}
	if s.SeenFrom != "" {
		want, _ := r.g.ResolveAddr(s.SeenFrom)
		if got.Peer.Addr() != want {
			pass = false
			detail += fmt.Sprintf("; expected it to see %s", want)
		}
	}
	return pass, detail
}
