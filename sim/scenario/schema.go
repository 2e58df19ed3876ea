package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is a scenario file as written.
type File struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Seed        uint64         `yaml:"seed"`
	Budget      uint64         `yaml:"budget"` // bound on simulated events (mem) or frames on links (netns); 0: DefaultBudget
	Switches    []SwitchConfig `yaml:"switches"`
	Hosts       []HostConfig   `yaml:"hosts"`
	Nodes       []NodeConfig   `yaml:"nodes"` // netyard's own nodes of registered kinds (a router)
	Links       []LinkConfig   `yaml:"links"`
	// The Docker model: with networks or containers, hosts are Docker
	// hosts (name and LAN address) and the topology is compiled from them.
	Networks   []NetworkConfig   `yaml:"networks"`
	Containers []ContainerConfig `yaml:"containers"`
	Steps      []Step            `yaml:"steps"`

	path      string         // the file it came from
	lines     map[string]int // field path -> line
	suggested int            // "did you mean" searches over long lists so far
}

// SwitchConfig is a switch as written.
type SwitchConfig struct {
	Name       string        `yaml:"name"`
	Ageing     time.Duration `yaml:"ageing"`
	MaxEntries int           `yaml:"max_entries"`
	Ports      []PortConfig  `yaml:"ports"`
	Mirror     *MirrorConfig `yaml:"mirror"`
	STP        *STPConfig    `yaml:"stp"`
}

// STPConfig turns spanning tree on for a switch; unset timers take the
// 802.1D defaults (hello 2s, max age 20s, forward delay 15s).
type STPConfig struct {
	Priority     *uint16       `yaml:"priority"` // default 32768
	Hello        time.Duration `yaml:"hello"`
	MaxAge       time.Duration `yaml:"max_age"`
	ForwardDelay time.Duration `yaml:"forward_delay"`
}

// PortConfig is a switch port as written.
type PortConfig struct {
	Name    string   `yaml:"name"`
	Mode    string   `yaml:"mode"` // access (default) or trunk
	VLAN    uint16   `yaml:"vlan"`
	Allowed []uint16 `yaml:"allowed"`
	Native  uint16   `yaml:"native"`
	// Spanning tree settings, used when the switch runs STP.
	Cost      uint32 `yaml:"cost"`       // path cost; default 100
	Priority  uint8  `yaml:"priority"`   // port priority; default 128
	Edge      *bool  `yaml:"edge"`       // default: true for ports facing hosts
	BPDUGuard bool   `yaml:"bpdu_guard"` // an edge port that hears a BPDU is disabled
	RootGuard bool   `yaml:"root_guard"` // a superior BPDU blocks the port
}

// MirrorConfig is port mirroring as written.
type MirrorConfig struct {
	To   string   `yaml:"to"`
	From []string `yaml:"from"`
}

// HostConfig is a host as written: either address (one interface, eth0) or
// interfaces.
type HostConfig struct {
	Name       string        `yaml:"name"`
	Address    string        `yaml:"address"`
	MAC        string        `yaml:"mac"`
	Gateway    string        `yaml:"gateway"`
	Interfaces []IfaceConfig `yaml:"interfaces"`
	Listen     []string      `yaml:"listen"` // e.g. tcp/80: ports that accept connections
	// AllowDirectRouting is a Docker host's dockerd option
	// allow-direct-routing: LAN clients with a route to a bridge's subnet
	// via the host reach published container ports directly.
	AllowDirectRouting bool `yaml:"allow_direct_routing"`
	// PortRange is a Docker host's range for published ports without a
	// host port, "32768-60999" (Linux's ip_local_port_range, the default).
	PortRange string   `yaml:"port_range"`
	DNS       []string `yaml:"dns"` // a Docker host's resolvers (its resolv.conf's nameservers), at most 3
}

// NodeConfig is a node of a registered kind (topo.RegisterKind) as
// written: a name, a kind, interfaces as a host's, and the kind's own
// fields, read into Spec (the kind's spec struct).
type NodeConfig struct {
	Name       string
	Kind       string
	Interfaces []IfaceConfig
	Spec       any // the kind's New(), filled; nil for an unknown kind
}

// IfaceConfig is a host interface as written.
type IfaceConfig struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	MAC     string `yaml:"mac"`
}

// NetworkConfig is a Docker network as written, in docker network
// create's words.
type NetworkConfig struct {
	Name     string   `yaml:"name"`
	Driver   string   `yaml:"driver"` // bridge (default)
	Subnet   string   `yaml:"subnet"`
	Gateway  string   `yaml:"gateway"`
	IPRange  string   `yaml:"ip_range"`
	Internal bool     `yaml:"internal"`
	Hosts    []string `yaml:"hosts"` // overlay: the Docker hosts it is on; default every host
	VNI      uint32   `yaml:"vni"`   // overlay: its VXLAN network identifier; default the next free from 4096
	// DriverOpts are the driver's options, docker network create -o
	// (macvlan: parent, macvlan_mode; ipvlan: parent, ipvlan_mode,
	// ipvlan_flag; bridge: com.docker.network.bridge.enable_icc, ...).
	DriverOpts map[string]string `yaml:"driver_opts"`
	// AuxAddresses are addresses IPAM keeps for devices outside Docker
	// (compose's ipam config aux_addresses, --aux-address): name -> address.
	AuxAddresses map[string]string `yaml:"aux_addresses"`
	// Subnets are more subnets after subnet (an ipvlan l3 network routes
	// between them).
	Subnets []string `yaml:"subnets"`
}

// ContainerConfig is a container as written, in docker compose's words.
type ContainerConfig struct {
	Name     string           `yaml:"name"`
	Host     string           `yaml:"host"`     // the Docker host it runs on; default the first
	Networks []EndpointConfig `yaml:"networks"` // a list, or compose's map of name to {aliases, ipv4_address}; default: the default network, bridge
	Attach   string           `yaml:"attach"`   // lan: a client on the hosts' LAN
	Address  string           `yaml:"address"`  // with attach: its LAN address
	Publish  []string         `yaml:"publish"`  // "8080:80/tcp", "80"; compose's ports (short syntax) is the same
	Listen   []string         `yaml:"listen"`   // "tcp/80", "udp/53"
	Routes   []RouteConfig    `yaml:"routes"`   // with attach: a LAN client's static routes
	Serve    *ServeConfig     `yaml:"serve"`    // with attach: the servers the client runs
	VLAN     uint16           `yaml:"vlan"`     // with attach: lan, the VLAN of its LAN switch port (an access port); default 1
}

// RouteConfig is a static route as written: to a subnet, via a Docker
// host's name or an address.
type RouteConfig struct {
	To  string `yaml:"to"`
	Via string `yaml:"via"`
}

// ServeConfig is what a LAN client serves: dns, a small authoritative DNS
// server on its port 53 with A records for its names (name: address),
// NXDOMAIN for every other, the Docker hosts' upstream (a host's dns:).
type ServeConfig struct {
	DNS map[string]string `yaml:"dns"`
}

// EndpointConfig is a container's network: a name, or a mapping with ip
// (or compose's ipv4_address) and aliases.
type EndpointConfig struct {
	Name    string   `yaml:"name"`
	IP      string   `yaml:"ip"`
	Aliases []string `yaml:"aliases"`
	// GwPriority is compose's gw_priority (Docker 28's --gw-priority): the
	// endpoint with the highest gives the container its default route.
	GwPriority int `yaml:"gw_priority"`
}

// endpointMapping is the mapping form of an endpoint; ipv4_address
// (compose's word) is another name for ip.
type endpointMapping EndpointConfig

// UnmarshalYAML accepts a network's name or a mapping.
func (e *EndpointConfig) UnmarshalYAML(n *yaml.Node) error { return decodeWith(n, e) }

// LinkConfig is a link as written: "a -- b", [a, b], or a mapping with ends
// and impairments.
type LinkConfig struct {
	Ends    [2]string
	Latency time.Duration
	Jitter  time.Duration
	Loss    float64
	Rate    uint64
	Queue   int
}

// linkMapping is the mapping form of a link.
type linkMapping struct {
	Ends    []string      `yaml:"ends"`
	Latency time.Duration `yaml:"latency"`
	Jitter  time.Duration `yaml:"jitter"`
	Loss    Probability   `yaml:"loss"`
	Rate    Rate          `yaml:"rate"`
	Queue   int           `yaml:"queue"`
}

// UnmarshalYAML accepts the three forms of a link.
func (l *LinkConfig) UnmarshalYAML(n *yaml.Node) error { return decodeWith(n, l) }

// Count is an expected number: 3, ">=3", "<=3", ">3", "<3" or "3..5".
type Count struct {
	Min, Max uint64 // inclusive
	text     string
}

// UnmarshalYAML parses a count.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad count: want 3, \">=3\", \"<3\" or \"3..5\"", n.Line)
	}
	v, err := ParseCount(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad count %q: %v (want 3, \">=3\", \"<3\" or \"3..5\")", n.Line, n.Value, err)
	}
	*c = v
	return nil
}

// ParseCount parses the forms Count accepts. A bound beyond what a
// uint64 holds is refused, never wrapped.
func ParseCount(s string) (Count, error) {
	s = strings.TrimSpace(s)
	num := func(t string) (uint64, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is more than any counter holds", strings.TrimSpace(t))
		}
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", strings.TrimSpace(t))
		}
		return n, nil
	}
	c := Count{text: s}
	var err error
	switch {
	case strings.HasPrefix(s, ">="):
		c.Min, err = num(s[2:])
		c.Max = math.MaxUint64
	case strings.HasPrefix(s, "<="):
		c.Max, err = num(s[2:])
	case strings.HasPrefix(s, ">"):
		c.Min, err = num(s[1:])
		if err == nil && c.Min == math.MaxUint64 {
			return Count{}, fmt.Errorf("nothing is above %d", c.Min)
		}
		c.Min++
		c.Max = math.MaxUint64
	case strings.HasPrefix(s, "<"):
		c.Max, err = num(s[1:])
		if err == nil && c.Max == 0 {
			return Count{}, fmt.Errorf("nothing is below 0")
		}
		c.Max--
	case strings.Contains(s, ".."):
		a, b, _ := strings.Cut(s, "..")
		if c.Min, err = num(a); err == nil {
			c.Max, err = num(b)
		}
		if err == nil && c.Min > c.Max {
			err = fmt.Errorf("empty range")
		}
	default:
		c.Min, err = num(s)
		c.Max = c.Min
	}
	if err != nil {
		return Count{}, err
	}
	return c, nil
}

// Match reports whether v is within the count.
func (c Count) Match(v uint64) bool { return v >= c.Min && v <= c.Max }

// String returns the count as written.
func (c Count) String() string { return c.text }

// ParseDuration reads a duration as time.ParseDuration does ("10s",
// "250ms", "1m30s"), or a bare number as seconds ("10", "2.5": the habit
// of sleep and of compose files). A negative duration, or one beyond what
// a time.Duration holds, is refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	d, err := time.ParseDuration(t)
	if err != nil {
		v, ferr := strconv.ParseFloat(t, 64)
		switch {
		case ferr != nil || math.IsNaN(v):
			return 0, fmt.Errorf("bad duration %q: want like 10s, 250ms or 1m30s (a bare number is seconds)", s)
		case math.Abs(v*1e9) >= math.MaxInt64:
			return 0, fmt.Errorf("bad duration %q: more than %v", s, time.Duration(math.MaxInt64))
		}
		d = time.Duration(math.Round(v * 1e9))
	}
	if d < 0 {
		return 0, fmt.Errorf("bad duration %q: must not be negative", s)
	}
	return d, nil
}

// DurRange is a range of durations, "20ms..25ms", or one duration (exact).
type DurRange struct {
	Min, Max time.Duration
}

// UnmarshalYAML parses a duration range.
func (r *DurRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad duration range: want like 20ms..25ms", n.Line)
	}
	v, err := ParseDurRange(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration range %q: want like 20ms..25ms", n.Line, n.Value)
	}
	*r = v
	return nil
}

// ParseDurRange parses the forms DurRange accepts; each end is read as
// ParseDuration reads it.
func ParseDurRange(s string) (DurRange, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	var r DurRange
	var err1, err2 error
	r.Min, err1 = ParseDuration(a)
	r.Max, err2 = ParseDuration(b)
	if err := cmp.Or(err1, err2); err != nil {
		return DurRange{}, err
	}
	if r.Min > r.Max {
		return DurRange{}, fmt.Errorf("bad duration range %q: empty", s)
	}
	return r, nil
}

// String returns "min..max".
func (r DurRange) String() string { return fmt.Sprintf("%v..%v", r.Min, r.Max) }

// Probability is a loss rate: 0.05 or "5%".
type Probability float64

// UnmarshalYAML parses a probability.
func (p *Probability) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad loss: want a probability like 0.05 or 5%%", n.Line)
	}
	v, err := ParseProbability(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad loss %q: want a probability like 0.05 or 5%%", n.Line, n.Value)
	}
	*p = v
	return nil
}

// ParseProbability parses the forms Probability accepts: a number from 0
// to 1, or a percentage from 0% to 100%.
func ParseProbability(s string) (Probability, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if u, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(u), 100
	}
	v, err := strconv.ParseFloat(t, 64)
	v /= scale
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, fmt.Errorf("bad loss %q: want a probability like 0.05 or 5%%", s)
	}
	return Probability(v), nil
}

// Rate is a link rate in bits per second: 1000000, "10Mbit", "1Gbit", "64kbit".
type Rate uint64

// MaxRate is the fastest rate a link takes, 1 Pbit/s.
const MaxRate = 1e15

// UnmarshalYAML parses a rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad rate: want bits per second like 10Mbit", n.Line)
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad rate %q: want bits per second like 10Mbit", n.Line, n.Value)
	}
	*r = v
	return nil
}

// ParseRate parses the forms Rate accepts: bits per second from 1 to
// MaxRate, with an optional unit bit, kbit, mbit or gbit (any case).
func ParseRate(s string) (Rate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	bits := math.Round(v * mult)
	if err != nil || !(bits >= 1 && bits <= MaxRate) {
		return 0, fmt.Errorf("bad rate %q: want bits per second from 1 to 1Pbit, like 10Mbit", s)
	}
	return Rate(bits), nil
}
