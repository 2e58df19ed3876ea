package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"
)

func init() { registerStep[ResolveStep]("resolve", 90) }

// ResolveStep asks a container's nameserver for a name's addresses.
type ResolveStep struct {
	From    string        `yaml:"from"`
	Name    string        `yaml:"name"`
	Type    string        `yaml:"type"`    // A (default), AAAA or PTR (name: an address, answered with names)
	Timeout time.Duration `yaml:"timeout"` // default 2s (DefaultTimeout)
	Expect  ResolveExpect `yaml:"expect"`
}

// ResolveExpect is what a name should resolve to: a list of addresses
// (or host names and host:iface, for their addresses) in any order, or
// an rcode: nxdomain, servfail, or no-answer (NOERROR without addresses).
type ResolveExpect struct {
	Addrs []string
	Rcode string
}

// UnmarshalYAML accepts a list or an rcode.
func (r *ResolveExpect) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		return n.Decode(&r.Addrs)
	case yaml.ScalarNode:
		switch n.Value {
		case "nxdomain", "servfail", "no-answer", "timeout":
			r.Rcode = n.Value
			return nil
		}
	}
	return fmt.Errorf("line %d: resolve expects a list of addresses, nxdomain, servfail, no-answer or timeout", n.Line)
}

func (q *ResolveStep) check(c *checker, p string) {
	c.host(p+".from", q.From)
	if q.Name == "" {
		c.bad(p+".name", "resolve needs a name")
	}
	if q.Expect.Rcode == "" && len(q.Expect.Addrs) == 0 {
		c.bad(p+".expect", "resolve needs expect: a list of addresses, or nxdomain, servfail, no-answer, timeout")
	}
	t := strings.ToUpper(q.Type)
	c.oneOf(p+".type", "type", t, "", "A", "AAAA", "PTR")
	for _, a := range q.Expect.Addrs {
		if t == "PTR" {
			continue // names, as the answer gives them
		}
		if !c.known(a) {
			c.notAddr(p+".expect", a)
		}
	}
}

func (q *ResolveStep) describe() string {
	return fmt.Sprintf("resolve %s %s from %s", strings.ToUpper(cmp.Or(q.Type, "A")), q.Name, q.From)
}

func (q *ResolveStep) run(r *runner) (bool, string) {
	qtype, name := dns.StringToType[strings.ToUpper(cmp.Or(q.Type, "A"))], q.Name
	if qtype == dns.TypePTR {
		if a, err := netip.ParseAddr(name); err == nil {
			name, _ = dns.ReverseAddr(a.String()) // as dig -x asks
		}
	}
	res, err := r.b.Resolve(q.From, name, qtype, cmp.Or(q.Timeout, DefaultTimeout))
	if err != nil {
		return r.fail(err)
	}
	got := res.Names
	for _, a := range res.Addrs {
		got = append(got, a.String())
	}
	r.seen.Rcode, r.seen.Answers, r.seen.Error = res.Rcode, got, res.Err
	detail := fmt.Sprintf("%s: %s", q.Name, cmp.Or(res.Rcode, res.Err))
	if len(got) > 0 {
		detail += " " + strings.Join(got, " ")
	}
	switch q.Expect.Rcode {
	case "nxdomain":
		return res.Rcode == "NXDOMAIN", detail
	case "servfail":
		return res.Rcode == "SERVFAIL", detail
	case "no-answer":
		return res.Rcode == "NOERROR" && len(got) == 0, detail
	case "timeout":
		return res.Err == "timeout", detail
	}
	var want []string
	for _, w := range q.Expect.Addrs {
		if qtype == dns.TypePTR {
			want = append(want, dns.Fqdn(w))
			continue
		}
		a, _ := r.g.ResolveAddr(w)
		want = append(want, a.String())
	}
	slices.Sort(want)
	sorted := slices.Sorted(slices.Values(got))
	if res.Rcode == "NOERROR" && slices.Equal(sorted, want) {
		return true, detail
	}
	return false, detail + "; expected " + strings.Join(want, " ")
}
