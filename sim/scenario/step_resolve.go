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

	"github.com/netyard/netyard/sim/backend"
)

func init() { registerStep[ResolveStep]("resolve", 90) }

// ResolveStep asks a container's nameserver for a name's addresses.
type ResolveStep struct {
	From    string        `yaml:"from"`
	Name    string        `yaml:"name"`
	Type    string        `yaml:"type"`    // A (default), AAAA, MX (answered with mail exchangers' names) or PTR (name: an address, answered with names)
	Timeout time.Duration `yaml:"timeout"` // default 2s (DefaultTimeout)
	Expect  ResolveExpect `yaml:"expect"`
	// Server asks this server (an address, or a host, host:iface) rather
	// than the container's nameserver, as dig @server does.
	Server string `yaml:"server"`
	// TTL, when set, is every answer record's TTL (Docker's are 600).
	TTL *uint32 `yaml:"ttl"`
	// Flags, when set, are the answer's header flags, exactly, as dig
	// prints them: qr, aa, tc, rd, ra, ad, cd (Docker's: qr rd ra).
	Flags []string `yaml:"flags"`
}

// dnsFlags are the header flags a resolve step can assert, in dig's order.
var dnsFlags = []string{"qr", "aa", "tc", "rd", "ra", "ad", "cd"}

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
		case "nxdomain", "servfail", "no-answer", "timeout", "refused":
			r.Rcode = n.Value
			return nil
		}
	}
	return fmt.Errorf("line %d: resolve expects a list of addresses, nxdomain, servfail, no-answer, timeout or refused", n.Line)
}

func (q *ResolveStep) check(c *checker, p string) {
	c.host(p+".from", q.From)
	if q.Name == "" {
		c.bad(p+".name", "resolve needs a name")
	}
	if q.Expect.Rcode == "" && len(q.Expect.Addrs) == 0 {
		c.bad(p+".expect", "resolve needs expect: a list of addresses, or nxdomain, servfail, no-answer, timeout, refused")
	}
	t := strings.ToUpper(q.Type)
	c.oneOf(p+".type", "type", t, "", "A", "AAAA", "PTR", "MX")
	if q.Server != "" && !c.known(q.Server) {
		c.notAddr(p+".server", q.Server)
	}
	for i, fl := range q.Flags {
		if !slices.Contains(dnsFlags, strings.ToLower(fl)) {
			c.bad(fmt.Sprintf("%s.flags[%d]", p, i), "flag %q: a DNS header's flags are %s", fl, strings.Join(dnsFlags, ", "))
		}
	}
	if (q.TTL != nil || q.Flags != nil) && (q.Expect.Rcode == "timeout" || q.Expect.Rcode == "refused") {
		c.bad(p+".expect", "ttl and flags are an answer's, and expect %s is no answer", q.Expect.Rcode)
	}
	if q.TTL != nil && q.Expect.Rcode != "" {
		c.bad(p+".ttl", "ttl is the answer records', and expect %s has none", q.Expect.Rcode)
	}
	for _, a := range q.Expect.Addrs {
		if t == "PTR" || t == "MX" {
			continue // names, as the answer gives them
		}
		if !c.known(a) {
			c.notAddr(p+".expect", a)
		}
	}
}

func (q *ResolveStep) describe() string {
	s := fmt.Sprintf("resolve %s %s from %s", strings.ToUpper(cmp.Or(q.Type, "A")), q.Name, q.From)
	if q.Server != "" {
		s += " @" + q.Server
	}
	return s
}

func (q *ResolveStep) run(r *runner) (bool, string) {
	qtype, name := dns.StringToType[strings.ToUpper(cmp.Or(q.Type, "A"))], q.Name
	if qtype == dns.TypePTR {
		if a, err := netip.ParseAddr(name); err == nil {
			name, _ = dns.ReverseAddr(a.String()) // as dig -x asks
		}
	}
	var res backend.Resolved
	var err error
	if q.Server != "" {
		srv, _ := r.g.ResolveAddr(q.Server)
		res, err = r.b.ResolveAt(q.From, srv, name, qtype, cmp.Or(q.Timeout, DefaultTimeout))
	} else {
		res, err = r.b.Resolve(q.From, name, qtype, cmp.Or(q.Timeout, DefaultTimeout))
	}
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
	if q.Flags != nil || q.TTL != nil {
		if ok, why := q.header(res); !ok {
			return false, detail + "; " + why
		} else if res.Rcode != "" {
			detail += " (" + why + ")"
		}
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
	case "refused":
		return res.Err == "port unreachable", detail
	}
	var want []string
	for _, w := range q.Expect.Addrs {
		if qtype == dns.TypePTR || qtype == dns.TypeMX {
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

// header checks the answer's flags and its records' TTL against the
// step's, and says what they were.
func (q *ResolveStep) header(res backend.Resolved) (bool, string) {
	if res.Rcode == "" {
		return false, "no answer to read flags or a TTL from"
	}
	got := "flags " + strings.Join(res.Flags, " ")
	if q.Flags != nil {
		var want []string
		for _, f := range dnsFlags {
			if slices.ContainsFunc(q.Flags, func(w string) bool { return strings.EqualFold(w, f) }) {
				want = append(want, f)
			}
		}
		if !slices.Equal(want, res.Flags) {
			return false, got + ", expected flags " + strings.Join(want, " ")
		}
	}
	if q.TTL != nil {
		if len(res.TTLs) == 0 {
			return false, got + ": no record to read a TTL from"
		}
		for _, ttl := range res.TTLs {
			if ttl != *q.TTL {
				return false, fmt.Sprintf("%s, TTL %d, expected %d", got, ttl, *q.TTL)
			}
		}
		got += fmt.Sprintf(", TTL %d", *q.TTL)
	}
	return true, got
}
