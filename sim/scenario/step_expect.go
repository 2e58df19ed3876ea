package scenario

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/netyard/netyard/nat"
	"github.com/netyard/netyard/sim/topo"
	vswitch "github.com/netyard/netyard/switch"
)

func init() {
	registerStep[ExpectStep]("expect", 100)
	nameTypes(map[string]string{
		"FDBExpect": "fdb", "FDBMatch": "an fdb entry", "CounterExpect": "counters",
		"STPExpect": "an stp check", "PortState": "a port state", "NATExpect": "nat",
		"FlowMatch": "a flow", "IPAMExpect": "ipam",
	})
}

// ExpectStep checks state.
type ExpectStep struct {
	FDB      *FDBExpect          `yaml:"fdb"`
	Counters *CounterExpect      `yaml:"counters"`
	Reach    map[string][]string `yaml:"reach"`
	STP      *STPExpect          `yaml:"stp"`
	NAT      *NATExpect          `yaml:"nat"`
	IPAM     *IPAMExpect         `yaml:"ipam"`
}

// NATExpect checks a Docker host's connection tracking table.
type NATExpect struct {
	Host  string      `yaml:"host"`  // the Docker host
	Flows *Count      `yaml:"flows"` // how many live flows
	Has   []FlowMatch `yaml:"has"`
}

// FlowMatch matches a tracked flow; empty fields match anything.
type FlowMatch struct {
	Kind  string `yaml:"kind"`  // masquerade, published, hairpin or routed
	Proto string `yaml:"proto"` // tcp, udp or icmp
	From  string `yaml:"from"`  // who started it: a host or an address
	To    string `yaml:"to"`    // where it really goes: a host or an address
	State string `yaml:"state"` // TCP state: syn-sent, established, close, ...
}

// IPAMExpect checks what IPAM gave a network.
type IPAMExpect struct {
	Host       string            `yaml:"host"` // the Docker host whose network it is; default the first
	Network    string            `yaml:"network"`
	Subnet     string            `yaml:"subnet"`
	Gateway    string            `yaml:"gateway"`
	Containers map[string]string `yaml:"containers"` // container -> address on this network
}

// STPExpect checks a switch's spanning tree.
type STPExpect struct {
	Switch   string      `yaml:"switch"`
	Root     string      `yaml:"root"`      // the switch that is root
	RootPort string      `yaml:"root_port"` // "none" on the root
	Ports    []PortState `yaml:"ports"`
}

// PortState is an expected port role and state; empty fields match anything.
type PortState struct {
	Port  string `yaml:"port"`
	Role  string `yaml:"role"`  // root, designated, alternate, backup, disabled
	State string `yaml:"state"` // forwarding, learning, listening, blocking, disabled
}

// FDBExpect checks a switch's forwarding database.
type FDBExpect struct {
	Switch string     `yaml:"switch"`
	Has    []FDBMatch `yaml:"has"`
	Lacks  []FDBMatch `yaml:"lacks"`
	Size   *Count     `yaml:"size"`
}

// FDBMatch matches entries; empty fields match anything.
type FDBMatch struct {
	MAC  string `yaml:"mac"` // a MAC, or host / host:iface
	Port string `yaml:"port"`
	VLAN uint16 `yaml:"vlan"`
}

// CounterExpect checks a switch port's counters.
type CounterExpect struct {
	At       string           `yaml:"at"`
	RxFrames *Count           `yaml:"rx_frames"`
	TxFrames *Count           `yaml:"tx_frames"`
	RxBytes  *Count           `yaml:"rx_bytes"`
	TxBytes  *Count           `yaml:"tx_bytes"`
	Drops    map[string]Count `yaml:"drops"`
}

func (x *ExpectStep) check(c *checker, p string) {
	f, ix := c.f, c.ix
	if x.FDB == nil && x.Counters == nil && x.Reach == nil && x.STP == nil && x.NAT == nil && x.IPAM == nil {
		c.bad(p, "expect needs fdb, counters, reach, stp, nat or ipam")
	}
	if n := x.NAT; n != nil {
		if h := ix.Host(n.Host); h == nil || h.Router == nil {
			c.bad(p+".nat.host", "%q is not a Docker host", n.Host)
		}
		for _, m := range n.Has {
			c.oneOf(p+".nat.has", "kind", m.Kind, "", "masquerade", "published", "hairpin", "routed")
			c.oneOf(p+".nat.has", "proto", m.Proto, "", "tcp", "udp", "icmp")
			for _, a := range []string{m.From, m.To} {
				if a != "" && !c.known(a) {
					c.bad(p+".nat.has", "%q is neither a host nor an IPv4 address", a)
				}
			}
		}
	}
	if m := x.IPAM; m != nil {
		networks := []string{topo.DefaultNetwork}
		for _, n := range f.Networks {
			networks = append(networks, n.Name)
		}
		var hosts []string // as compiled: host1 when the file names none
		if d := ix.Graph().Docker; d != nil {
			for _, h := range d.Hosts {
				hosts = append(hosts, h.Name)
			}
		}
		if ix.Graph().Docker == nil {
			c.bad(p+".ipam", "ipam is for Docker scenarios (networks, containers)")
		} else if !slices.Contains(networks, m.Network) {
			c.bad(p+".ipam.network", "unknown network %q%s", m.Network, f.didYouMean(m.Network, networks))
		}
		if m.Host != "" && !slices.Contains(hosts, m.Host) {
			c.bad(p+".ipam.host", "unknown Docker host %q%s", m.Host, f.didYouMean(m.Host, hosts))
		}
	}
	if s := x.STP; s != nil {
		c.stpSwitch(p+".stp.switch", s.Switch)
		if s.Root != "" && ix.Switch(s.Root) == nil {
			c.bad(p+".stp.root", "unknown switch %q%s", s.Root, f.didYouMean(s.Root, c.switches()))
		}
		for _, ps := range s.Ports {
			if ix.Switch(s.Switch) != nil && !c.hasPort(s.Switch, ps.Port) {
				c.bad(p+".stp.ports", "no port %q on %s%s", ps.Port, s.Switch, f.didYouMean(ps.Port, ix.PortNames(s.Switch)))
			}
			c.oneOf(p+".stp.ports", "role", ps.Role, "", "root", "designated", "alternate", "backup", "disabled")
			c.oneOf(p+".stp.ports", "state", ps.State, "", "forwarding", "learning", "listening", "blocking", "disabled")
		}
	}
	if d := x.FDB; d != nil {
		sw := ix.Switch(d.Switch)
		if sw == nil {
			c.bad(p+".fdb.switch", "unknown switch %q%s", d.Switch, f.didYouMean(d.Switch, c.switches()))
		}
		for _, m := range append(slices.Clone(d.Has), d.Lacks...) {
			if m.MAC == "" {
				c.bad(p+".fdb", "an fdb entry needs a mac (an address or a host name)")
			} else if _, err := ix.ResolveMAC(m.MAC); err != nil && !c.known(m.MAC) {
				node, _, _ := strings.Cut(m.MAC, ":")
				c.bad(p+".fdb", "%q is neither a MAC nor a host%s", m.MAC, f.didYouMean(node, c.hosts()))
			}
		}
		if sw != nil && d.Size != nil {
			if most := uint64(cmp.Or(sw.MaxEntries, vswitch.DefaultMaxEntries)); d.Size.Min > most {
				c.bad(p+".fdb.size", "size %s can never pass: %s holds at most %d entries (max_entries)", d.Size, d.Switch, most)
			}
		}
	}
	if n := x.Counters; n != nil {
		c.switchPort(p+".counters.at", n.At)
		var reasons []string
		for _, r := range vswitch.DropReasons() {
			reasons = append(reasons, r.String())
		}
		for _, name := range slices.Sorted(maps.Keys(n.Drops)) {
			if _, ok := vswitch.ParseDropReason(name); !ok {
				c.bad(p+".counters.drops."+name, "unknown drop reason %q%s (the reasons: %s)", name, f.didYouMean(name, reasons), strings.Join(reasons, ", "))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(x.Reach)) {
		c.host(p+".reach."+name, name)
		for _, peer := range x.Reach[name] {
			if _, ok := x.Reach[peer]; !ok {
				c.bad(p+".reach."+name, "%q is not one of the hosts of this reach matrix", peer)
			}
		}
	}
}

func (x *ExpectStep) describe() string {
	var parts []string
	if x.FDB != nil {
		parts = append(parts, "fdb of "+x.FDB.Switch)
	}
	if x.Counters != nil {
		parts = append(parts, "counters of "+x.Counters.At)
	}
	if x.STP != nil {
		parts = append(parts, "spanning tree of "+x.STP.Switch)
	}
	if x.NAT != nil {
		parts = append(parts, "conntrack of "+x.NAT.Host)
	}
	if x.IPAM != nil {
		parts = append(parts, "addresses of "+x.IPAM.Network)
	}
	if x.Reach != nil {
		parts = append(parts, "reachability among "+strings.Join(slices.Sorted(maps.Keys(x.Reach)), " "))
	}
	return "expect " + strings.Join(parts, ", ")
}

func (x *ExpectStep) run(r *runner) (bool, string) {
	var problems, seen []string
	if d := x.FDB; d != nil {
		entries, err := r.w.FDB(d.Switch)
		if err != nil {
			return r.fail(err)
		}
		match := func(m FDBMatch) bool {
			mac, _ := r.g.ResolveMAC(m.MAC)
			for _, e := range entries {
				if e.MAC == mac && (m.Port == "" || m.Port == e.Port) && (m.VLAN == 0 || m.VLAN == e.VLAN) {
					return true
				}
			}
			return false
		}
		for _, m := range d.Has {
			if !match(m) {
				problems = append(problems, fmt.Sprintf("%s lacks %s", d.Switch, describeMatch(m)))
			}
		}
		for _, m := range d.Lacks {
			if match(m) {
				problems = append(problems, fmt.Sprintf("%s has %s", d.Switch, describeMatch(m)))
			}
		}
		if d.Size != nil && !d.Size.Match(uint64(len(entries))) {
			problems = append(problems, fmt.Sprintf("%s has %d entries, expected %s", d.Switch, len(entries), d.Size))
		}
		var list []string
		data := []FDBSeen{}
		for _, e := range entries {
			list = append(list, fmt.Sprintf("%s@%s/vlan%d", e.MAC, e.Port, e.VLAN))
			data = append(data, FDBSeen{MAC: e.MAC.String(), Host: r.hostOf(e.MAC), Port: e.Port, VLAN: e.VLAN})
		}
		r.seen.FDB = map[string][]FDBSeen{d.Switch: data}
		seen = append(seen, fmt.Sprintf("fdb %s: [%s]", d.Switch, strings.Join(list, " ")))
	}
	if c := x.Counters; c != nil {
		st, err := r.w.Stats(endpoint(c.At))
		if err != nil {
			return r.fail(err)
		}
		check := func(name string, want *Count, got uint64) {
			if want != nil && !want.Match(got) {
				problems = append(problems, fmt.Sprintf("%s %s = %d, expected %s", c.At, name, got, want))
			}
		}
		check("rx_frames", c.RxFrames, st.RxFrames)
		check("tx_frames", c.TxFrames, st.TxFrames)
		check("rx_bytes", c.RxBytes, st.RxBytes)
		check("tx_bytes", c.TxBytes, st.TxBytes)
		for _, reason := range slices.Sorted(maps.Keys(c.Drops)) {
			want := c.Drops[reason]
			check("drops."+reason, &want, st.Drops[reason])
		}
		r.seen.Counters = map[string]CounterSeen{c.At: {RxFrames: st.RxFrames, TxFrames: st.TxFrames, RxBytes: st.RxBytes, TxBytes: st.TxBytes, Drops: st.Drops}}
		drops := "none"
		if len(st.Drops) > 0 {
			var d []string
			for _, k := range slices.Sorted(maps.Keys(st.Drops)) {
				d = append(d, fmt.Sprintf("%s=%d", k, st.Drops[k]))
			}
			drops = strings.Join(d, " ")
		}
		seen = append(seen, fmt.Sprintf("%s rx %d tx %d, drops %s", c.At, st.RxFrames, st.TxFrames, drops))
	}
	if c := x.STP; c != nil {
		st, err := r.w.STP(c.Switch)
		if err != nil {
			return r.fail(err)
		}
		root := st.Root.String()
		for _, sw := range r.g.Switches { // name the root, if it is one of ours
			if o, err := r.w.STP(sw.Name); err == nil && o.Bridge == st.Root {
				root = sw.Name
			}
		}
		rp := cmp.Or(st.RootPort, "none")
		if c.Root != "" && c.Root != root {
			problems = append(problems, fmt.Sprintf("%s sees %s as root, expected %s", c.Switch, root, c.Root))
		}
		if c.RootPort != "" && c.RootPort != rp {
			problems = append(problems, fmt.Sprintf("%s root port is %s, expected %s", c.Switch, rp, c.RootPort))
		}
		var ports []string
		data := STPSeen{Root: root, RootPort: st.RootPort, Ports: []STPPortSeen{}}
		for _, ps := range st.Ports {
			ports = append(ports, fmt.Sprintf("%s %s/%s", ps.Port, ps.Role, ps.State))
			data.Ports = append(data.Ports, STPPortSeen{Port: ps.Port, Role: ps.Role.String(), State: ps.State.String()})
			for _, want := range c.Ports {
				if want.Port == ps.Port && (want.Role != "" && want.Role != ps.Role.String() || want.State != "" && want.State != ps.State.String()) {
					problems = append(problems, fmt.Sprintf("%s %s is %s/%s, expected %s/%s", c.Switch, ps.Port, ps.Role, ps.State, cmp.Or(want.Role, "*"), cmp.Or(want.State, "*")))
				}
			}
		}
		r.seen.STP = map[string]STPSeen{c.Switch: data}
		seen = append(seen, fmt.Sprintf("%s: root %s via %s; %s", c.Switch, root, rp, strings.Join(ports, ", ")))
	}
	if x.Reach != nil {
		hosts := slices.Sorted(maps.Keys(x.Reach))
		reached := 0
		for _, a := range hosts {
			for _, b := range hosts {
				if a == b {
					continue
				}
				to, _ := r.g.ResolveAddr(b)
				st, err := r.b.Ping(a, to, 1, DefaultInterval, DefaultTimeout)
				if err != nil {
					return r.fail(err)
				}
				got, want := st.Received > 0, slices.Contains(x.Reach[a], b)
				if got {
					reached++
				}
				if got != want {
					verb := map[bool]string{true: "reaches", false: "does not reach"}
					problems = append(problems, fmt.Sprintf("%s %s %s", a, verb[got], b))
				}
			}
		}
		pairs := len(hosts) * (len(hosts) - 1)
		r.seen.Reached, r.seen.Pairs = &reached, &pairs
		seen = append(seen, fmt.Sprintf("%d of %d pairs reach each other", reached, pairs))
	}
	if c := x.NAT; c != nil {
		flows, err := r.w.NAT(c.Host)
		if err != nil {
			return r.fail(err)
		}
		if c.Flows != nil && !c.Flows.Match(uint64(len(flows))) {
			problems = append(problems, fmt.Sprintf("%s tracks %d flows, expected %s", c.Host, len(flows), c.Flows))
		}
		for _, m := range c.Has {
			if !slices.ContainsFunc(flows, func(f nat.Flow) bool { return r.flowMatch(m, f) }) {
				problems = append(problems, fmt.Sprintf("%s tracks no %s", c.Host, describeFlow(m)))
			}
		}
		var list []string
		data := []FlowSeen{}
		for _, f := range flows {
			proto, _, _ := strings.Cut(f.Orig.String(), " ")
			data = append(data, FlowSeen{Kind: f.Kind, Proto: proto, Src: f.Orig.Src.String(), Dst: f.Orig.Dst.String(),
				Reply: f.Reply.Src.String() + " -> " + f.Reply.Dst.String(), State: f.State})
			state := ""
			if f.State != "" {
				state = " " + f.State
			}
			list = append(list, fmt.Sprintf("%s %s (reply %s -> %s)%s", f.Kind, f.Orig, f.Reply.Src, f.Reply.Dst, state))
		}
		r.seen.NAT = map[string][]FlowSeen{c.Host: data}
		seen = append(seen, fmt.Sprintf("conntrack %s: [%s]", c.Host, strings.Join(list, "; ")))
	}
	if c := x.IPAM; c != nil {
		p, s := r.ipam(c)
		problems = append(problems, p...)
		seen = append(seen, s)
	}
	if len(problems) > 0 {
		r.seen.Problems = problems
		return false, strings.Join(problems, "; ") + " (" + strings.Join(seen, "; ") + ")"
	}
	return true, strings.Join(seen, "; ")
}

// flowMatch reports whether a tracked flow matches m.
func (r *runner) flowMatch(m FlowMatch, f nat.Flow) bool {
	proto := map[uint8]string{nat.TCP: "tcp", nat.UDP: "udp", nat.ICMP: "icmp"}[f.Orig.Proto]
	addrIs := func(want string, got ...netip.Addr) bool {
		if want == "" {
			return true
		}
		a, err := r.g.ResolveAddr(want)
		return err == nil && slices.Contains(got, a)
	}
	return (m.Kind == "" || m.Kind == f.Kind) && (m.Proto == "" || m.Proto == proto) &&
		(m.State == "" || m.State == f.State) &&
		addrIs(m.From, f.Orig.Src.Addr()) && addrIs(m.To, f.Orig.Dst.Addr(), f.Reply.Src.Addr())
}

func describeFlow(m FlowMatch) string {
	s := cmp.Or(m.Kind, "any") + " " + cmp.Or(m.Proto, "") + " flow"
	if m.From != "" {
		s += " from " + m.From
	}
	if m.To != "" {
		s += " to " + m.To
	}
	if m.State != "" {
		s += " in state " + m.State
	}
	return s
}

// ipam checks a network's allocation against the world's Docker state.
func (r *runner) ipam(c *IPAMExpect) (problems []string, seen string) {
	d := r.w.Docker()
	host := cmp.Or(c.Host, d.Hosts[0].Name)
	n := d.Network(host, c.Network)
	if n == nil {
		return []string{fmt.Sprintf("no network %q", c.Network)}, ""
	}
	if c.Subnet != "" && c.Subnet != n.Subnet.String() {
		problems = append(problems, fmt.Sprintf("%s has subnet %s, expected %s", n.Name, n.Subnet, c.Subnet))
	}
	if c.Gateway != "" && c.Gateway != n.Gateway.String() {
		problems = append(problems, fmt.Sprintf("%s has gateway %s, expected %s", n.Name, n.Gateway, c.Gateway))
	}
	got := map[string]string{}
	for _, ct := range d.Containers {
		for _, e := range ct.Endpoints {
			// An overlay's addresses are the swarm's: every host's
			// containers on it share one space.
			if (ct.Host == host || n.Scope == topo.ScopeSwarm) && e.Network == n.Name && e.Addr.IsValid() {
				got[ct.Name] = e.Addr.Addr().String()
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Containers)) {
		if got[name] != c.Containers[name] {
			problems = append(problems, fmt.Sprintf("%s has %s on %s, expected %s", name, cmp.Or(got[name], "no address"), n.Name, c.Containers[name]))
		}
	}
	var list []string
	for _, name := range slices.Sorted(maps.Keys(got)) {
		list = append(list, name+"="+got[name])
	}
	return problems, fmt.Sprintf("%s: subnet %s gateway %s; %s", n.Name, n.Subnet, n.Gateway, strings.Join(list, " "))
}

func describeMatch(m FDBMatch) string {
	s := m.MAC
	if m.Port != "" {
		s += " on " + m.Port
	}
	if m.VLAN != 0 {
		s += fmt.Sprintf(" vlan %d", m.VLAN)
	}
	return s
}
