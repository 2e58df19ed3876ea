package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/netyard/netyard/sim"
)

func init() { registerStep[PingStep]("ping", 10) }

// PingStep pings from a host to a host or address.
type PingStep struct {
	From     string        `yaml:"from"`
	To       string        `yaml:"to"`
	Count    int           `yaml:"count"`    // probes, 1-10000; default 1
	Interval time.Duration `yaml:"interval"` // default 1s (DefaultInterval)
	Timeout  time.Duration `yaml:"timeout"`  // per probe, default 2s (DefaultTimeout)
	Expect   string        `yaml:"expect"`   // reply (every probe), no-reply (none), or storm (the run hits its budget); default reply unless received is set
	Received *Count        `yaml:"received"` // replies expected, instead of expect; at most count
	RTT      *DurRange     `yaml:"rtt"`      // every RTT within
}

func (p *PingStep) check(c *checker, q string) {
	c.host(q+".from", p.From)
	c.addr(q+".to", p.To)
	if p.Count < 0 || p.Count > 10000 {
		c.bad(q+".count", "count must be 1-10000")
	}
	c.oneOf(q+".expect", "expect", p.Expect, "", "reply", "no-reply", "storm")
	if r := p.Received; r != nil {
		count := uint64(max(p.Count, 1))
		switch {
		case p.Expect != "":
			c.bad(q+".received", "give expect or received, not both (received says how many replies pass)")
		case r.Min > count:
			c.bad(q+".received", "received %s can never pass: the ping sends %d probes (count)", r, count)
		}
	}
}

func (p *PingStep) describe() string {
	return fmt.Sprintf("ping %s -> %s x%d", p.From, p.To, cmp.Or(p.Count, 1))
}

func (p *PingStep) run(r *runner) (bool, string) {
	to, why, err := r.addr(p.From, p.To)
	if err != nil {
		return r.fail(err)
	}
	if why != "" {
		return p.Expect == "no-reply", "not sent: " + why
	}
	count := cmp.Or(p.Count, 1)
	st, err := r.b.Ping(p.From, to, count, cmp.Or(p.Interval, DefaultInterval), cmp.Or(p.Timeout, DefaultTimeout))
	if p.Expect == "storm" {
		// On the wall clock (netns) the reply can come back before the
		// looping copies of the ARP request have crossed a cable often
		// enough to be called a loop; a storm has until the probe's
		// timeout to show. In memory it has always shown by now.
		for waited, tick := time.Duration(0), 10*time.Millisecond; err == nil && waited < cmp.Or(p.Timeout, DefaultTimeout); waited += tick {
			err = r.b.Wait(tick)
		}
		if sim.Stopped(err) {
			r.spent = err
			return true, "a storm, as expected: " + err.Error()
		}
		return false, fmt.Sprintf("no storm: no frame looped and the run stayed within its budget (%d/%d replies, %v)", st.Received, st.Sent, err)
	}
	if err != nil {
		return r.fail(err)
	}
	detail := fmt.Sprintf("%d/%d replies from %s", st.Received, st.Sent, to)
	r.seen.Sent, r.seen.Received = &st.Sent, &st.Received
	if len(st.RTTs) > 0 {
		lo, hi := slices.Min(st.RTTs), slices.Max(st.RTTs)
		var sum time.Duration
		for _, d := range st.RTTs {
			sum += d
		}
		avg := sum / time.Duration(len(st.RTTs))
		r.seen.RTT = &RTT{Min: lo.Seconds(), Avg: avg.Seconds(), Max: hi.Seconds()}
		detail += fmt.Sprintf(", rtt min/avg/max %v/%v/%v", lo, avg, hi)
	}
	if len(st.Errors) > 0 {
		r.seen.Errors = map[string]int{}
		for _, e := range st.Errors {
			r.seen.Errors[e]++
		}
		detail += " (" + summarise(st.Errors) + ")"
	}
	var ok bool
	switch {
	case p.Received != nil:
		ok = p.Received.Match(uint64(st.Received))
		detail += fmt.Sprintf("; expected %s replies", p.Received)
	case p.Expect == "no-reply":
		ok = st.Received == 0
	default:
		ok = st.Received == st.Sent
	}
	if p.RTT != nil && len(st.RTTs) > 0 {
		// Times are exact in memory. On the wall clock (netns) a busy
		// machine can make anything slower, never faster than the links'
		// latencies: only the lower bound holds there.
		in := slices.Min(st.RTTs) >= p.RTT.Min
		if r.b.VirtualTime() {
			in = in && slices.Max(st.RTTs) <= p.RTT.Max
		}
		switch {
		case !in && r.b.VirtualTime():
			detail += fmt.Sprintf("; rtt outside %s", p.RTT)
		case !in:
			detail += fmt.Sprintf("; rtt below %v (on the wall clock only the lower bound of %s is checked)", p.RTT.Min, p.RTT)
		}
		ok = ok && in
	}
	return ok, detail
}
