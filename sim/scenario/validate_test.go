package scenario_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/scenario"
)

// errorLines returns each error of Parse as "file:line: msg".
func errorLines(t *testing.T, src string) []string {
	t.Helper()
	_, err := scenario.Parse("bad.yaml", []byte(src))
	if err == nil {
		return nil
	}
	var es scenario.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not scenario.Errors: %v", err, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

// TestEveryMistakeInOneRun: a file with mistakes at every stage (an
// unknown field, a value of the wrong kind, a bad address, a name that
// would be a path, an unknown node in a link, STP timers, a bad step, an
// unknown drop reason) gets them all in one run, in line order, each
// once, and nothing that only follows from them.
func TestEveryMistakeInOneRun(t *testing.T) {
	src := `name: five
switches:
  - {name: s1, stp: {hello: 1ns}}
hosts:
  - {name: h1, adress: 10.0.0.1/24}
  - {name: h2, address: 10.0.0.255/24}
  - {name: "x/../y", address: 10.0.0.3/24}
  - {name: h4, address: [10.0.0.4/24]}
links:
  - h1 -- s1:p1
  - [h2, s1]
  - h9 -- s1
  - h4 -- s1
steps:
  - pign: {from: h2, to: h1}
  - ping: {from: h2, to: h1, count: 3, received: ">=4"}
  - wait: soon
  - expect: {counters: {at: s1:p2, drops: {gremlins: 1}}}
  - ping: {from: h1, to: h4}
`
	want := []string{
		`bad.yaml:3: hello 1ns is outside 802.1D's range 1s to 10s`,
		`bad.yaml:5: unknown field "adress" in a host; did you mean address?`,
		`bad.yaml:6: 10.0.0.255 is the broadcast address of 10.0.0.0/24, not a host address`,
		`bad.yaml:7: name "x/../y": use letters, digits, '_', '.' and '-', starting with a letter or digit (Docker's rule for container names)`,
		`bad.yaml:8: address: want a string, not a list`,
		`bad.yaml:12: unknown node "h9" in link end "h9"`,
		`bad.yaml:15: unknown field "pign" in a step; did you mean ping?`,
		`bad.yaml:16: received >=4 can never pass: the ping sends 3 probes (count)`,
		`bad.yaml:17: bad duration "soon": want like 10s, 250ms or 1m30s (a bare number is seconds)`,
		`bad.yaml:18: unknown drop reason "gremlins" (the reasons: runt, bad-source, vlan, filtered, port-down, link-local, fdb-full, tx-error, monitor, stp-blocked, bpdu, double-tag, isolated)`,
	}
	got := errorLines(t, src)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNothingFollowsFromAMistake: a mistake is reported once, without
// what it makes wrong further on (a host without its address has no
// interface, its link no end, a step without its kind is no step).
func TestNothingFollowsFromAMistake(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"misspelt address", strings.Replace(good, "{name: h1, address:", "{name: h1, adress:", 1), `bad.yaml:4: unknown field "adress" in a host; did you mean address?`},
		{"address of the wrong kind", strings.Replace(good, "address: 10.0.0.1/24", "address: [10.0.0.1/24]", 1), "bad.yaml:4: address: want a string, not a list"},
		{"misspelt step kind", strings.Replace(good, "  - ping: {from: h1, to: h2}", "  - pnig: {from: h1, to: h2}", 1), `bad.yaml:10: unknown field "pnig" in a step; did you mean ping?`},
		{"misspelt ends", strings.Replace(good, "  - [h2, s1]", "  - {ens: [h2, s1]}", 1), `bad.yaml:8: unknown field "ens" in a link; did you mean ends?`},
		{"a host name that is a path", strings.ReplaceAll(good, "h2", "../h2"), `bad.yaml:5: name "../h2": use letters`},
		{"a network IPAM refuses", docker + "  - {name: x, networks: [a]}\n" + "steps:\n  - expect: {ipam: {network: a}}\n  - ping: {from: x, to: x}\n",
			""}, // no problem at all: the control
		{"a refused network", strings.Replace(docker, "10.0.0.0/24", "10.0.0.0/31", 1) + "  - {name: x, networks: [a]}\n" + "steps:\n  - expect: {ipam: {network: a}}\n  - ping: {from: x, to: x}\n",
			"bad.yaml:2: 10.0.0.0/31: want a prefix length from /8 to /30"},
		{"a refused driver", strings.Replace(docker, "subnet: 10.0.0.0/24", "driver: maclan", 1) + "  - {name: x, networks: [a]}\n" + "steps:\n  - resolve: {from: x, name: x, expect: [x]}\n",
			`bad.yaml:2: driver "maclan" is not supported yet`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := errorLines(t, c.src)
			if c.want == "" && len(got) == 0 {
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], c.want) {
				t.Errorf("Parse reported:\n%s\nwant one problem, %s", strings.Join(got, "\n"), c.want)
			}
		})
	}
}

// TestComposeForms: compose's ways of writing what netyard has a word for
// mean the same: networks as a map (in file order), ipv4_address for ip,
// ports for publish, a bare number of seconds, top-level x- fields to
// hold anchors; and YAML's anchors and merge keys work as yaml.v3 has
// them.
func TestComposeForms(t *testing.T) {
	ours := docker + `  - name: db
    networks: [{name: a, ip: 10.0.0.10, aliases: [database]}, {name: b}]
    publish: ["5432:5432"]
    listen: [tcp/5432]
  - {name: web, networks: [a]}
steps:
  - wait: 10s
  - resolve: {from: web, name: database, expect: [db], timeout: 1.5s}
`
	ours = strings.Replace(ours, "containers:", "  - {name: b}\ncontainers:", 1)
	compose := docker + `  - name: db
    networks:
      a: {ipv4_address: 10.0.0.10, aliases: [database]}
      b:
    ports: ["5432:5432"]
    listen: [tcp/5432]
  - {name: web, networks: {a: }}
steps:
  - wait: 10
  - resolve: {from: web, name: database, expect: [db], timeout: 1.5}
`
	compose = strings.Replace(compose, "containers:", "  - {name: b}\ncontainers:", 1)
	a, err := scenario.Parse("ours.yaml", []byte(ours))
	if err != nil {
		t.Fatal(err)
	}
	b, err := scenario.Parse("compose.yaml", []byte(compose))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Containers, b.Containers) {
		t.Errorf("compose's containers = %+v\nwant %+v", b.Containers, a.Containers)
	}
	wait, ok1 := b.Steps[0].Action.(*scenario.WaitStep)
	resolve, ok2 := b.Steps[1].Action.(*scenario.ResolveStep)
	if !ok1 || !ok2 {
		t.Fatalf("steps are %T and %T, want a wait and a resolve", b.Steps[0].Action, b.Steps[1].Action)
	}
	if time.Duration(*wait) != 10*time.Second || resolve.Timeout != 1500*time.Millisecond {
		t.Errorf("wait: 10 = %v, timeout: 1.5 = %v; want 10s and 1.5s", time.Duration(*wait), resolve.Timeout)
	}
	ga, _ := a.Graph()
	gb, _ := b.Graph()
	if !reflect.DeepEqual(ga.Hosts, gb.Hosts) || !reflect.DeepEqual(ga.Links, gb.Links) {
		t.Error("the two forms compile to different graphs")
	}

	anchors := `x-slow: &slow {latency: 10ms}
switches: [{name: s1}]
hosts:
  - &h {name: h1, address: 10.0.0.1/24, listen: [tcp/80]}
  - {<<: *h, name: h2, address: 10.0.0.2/24}
links: [h1 -- s1, h2 -- s1]
`
	anchors = strings.Replace(anchors, "links: [h1 -- s1, h2 -- s1]", "links: [h1 -- s1, {<<: *slow, ends: [h2, s1]}]", 1)
	f, err := scenario.Parse("anchors.yaml", []byte(anchors))
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Links[1]; l.Latency != 10*time.Millisecond || l.Ends != [2]string{"h2", "s1"} {
		t.Errorf("link with merged defaults = %+v, want h2 -- s1 with 10ms", l)
	}
	if h := f.Hosts[1]; h.Name != "h2" || h.Address != "10.0.0.2/24" || len(h.Listen) != 1 {
		t.Errorf("merged host = %+v, want h2 at 10.0.0.2/24 listening on tcp/80", h)
	}
}

// TestStepsKnowTheLinks: the checks of link, unplug, plug and move know
// which links exist at their step (the plan's, less those unplugged, plus
// those plugged, with moves), and say what happened to a link that is
// gone, all at file:line before anything runs.
func TestStepsKnowTheLinks(t *testing.T) {
	for _, c := range []struct {
		name, steps string
		want        []string // nil: the file loads
	}{
		{"unplug, then plug at the freed ends", "  - unplug: {at: h1:eth0}\n  - plug: [h1, s1:p1]\n  - link: {at: s1:p1, latency: 5ms}\n", nil},
		{"plug into a port the switch lacks, then use it", "  - unplug: {at: s1:p1}\n  - plug: {ends: [h1, s1:p7], loss: 5%}\n  - port: {at: s1:p7, state: down}\n  - expect: {counters: {at: s1:p7, rx_frames: 0}}\n", nil},
		{"a port before the plug that makes it", "  - port: {at: s1:p7, state: down}\n  - unplug: {at: s1:p1}\n  - plug: h1 -- s1:p7\n",
			[]string{`bad.yaml:11: no switch port "s1:p7"`}},
		{"change an unplugged link", "  - unplug: {at: h1:eth0}\n  - wait: 1s\n  - link: {at: s1:p1, latency: 50ms}\n  - link: {at: h1:eth0, state: up}\n",
			[]string{`bad.yaml:13: no link at "s1:p1": step 2 (line 11) unplugged it`, `bad.yaml:14: no link at "h1:eth0": step 2 (line 11) unplugged it`}},
		{"unplug twice", "  - unplug: {at: h2:eth0}\n  - unplug: {at: s1:p2}\n",
			[]string{`bad.yaml:12: no link at "s1:p2": step 2 (line 11) unplugged it`}},
		{"plug into a linked end", "  - plug: {ends: [h1, s1:p5]}\n",
			[]string{"bad.yaml:11: h1:eth0 is already linked, by links[0] (line 7)"}},
		{"plug twice", "  - unplug: {at: h1:eth0}\n  - plug: h1 -- s1:p5\n  - plug: s1:p5 -- h2:eth0\n",
			[]string{"bad.yaml:13: s1:p5 is already linked, by the plug of step 3 (line 12)", "bad.yaml:13: h2:eth0 is already linked, by links[1] (line 8)"}},
		{"move into a linked port", "  - move: {iface: h1:eth0, to: s1:p2}\n",
			[]string{"bad.yaml:11: s1:p2 is already linked, by links[1] (line 8)"}},
		{"move, then the old end", "  - unplug: {at: h2:eth0}\n  - move: {iface: h1:eth0, to: s1:p2}\n  - link: {at: s1:p1, state: down}\n  - link: {at: s1:p2, state: down}\n",
			[]string{`bad.yaml:13: no link at "s1:p1": step 3 (line 12) moved it to s1:p2`}},
		{"move an unplugged interface", "  - unplug: {at: h1:eth0}\n  - move: {iface: h1:eth0, to: s1:p1}\n",
			[]string{`bad.yaml:12: "h1:eth0" is not a linked host interface: step 2 (line 11) unplugged it`}},
		{"a link step that changes nothing", "  - link: {at: h1:eth0}\n",
			[]string{"bad.yaml:11: link needs a state (up or down) or an impairment to change (latency, jitter, loss, rate, queue)"}},
		{"a bad rate", "  - link: {at: h1:eth0, rate: fast}\n",
			[]string{`bad.yaml:11: bad rate "fast": want bits per second like 10Mbit, or unlimited`}},
		{"a negative queue", "  - link: {at: h1:eth0, queue: -1}\n",
			[]string{"bad.yaml:11: queue -1 must not be negative"}},
		{"a plug without the switch's port", "  - unplug: {at: h1:eth0}\n  - plug: [h1, s1]\n",
			[]string{"bad.yaml:12: plug s1: name the switch's port, like s1:p9"}},
		{"a plug to no interface", "  - plug: [h1:eth7, s1:p5]\n",
			[]string{`bad.yaml:11: host h1 has no interface "eth7"`}},
		{"a plug to no node", "  - plug: [h9, s1:p5]\n",
			[]string{`bad.yaml:11: unknown node "h9" in link end "h9"`}},
		{"a plug from a node to itself", "  - plug: [s1:p5, s1:p6]\n",
			[]string{"bad.yaml:11: a link must join two different nodes"}},
		{"a plug misspelt", "  - unplug: {at: h1:eth0}\n  - plug: {ends: [h1, s1:p5], latncy: 1ms}\n",
			[]string{`bad.yaml:12: unknown field "latncy" in a link; did you mean latency?`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := errorLines(t, good+c.steps)
			if len(c.want) == 0 && len(got) == 0 {
				return
			}
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], c.want[i])
			}
			if !ok {
				t.Errorf("Parse reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestHostNetworkMistakes: the host network with a bridge is refused in
// Docker's words at its line, and so are routes with a bad next hop;
// published ports on the host network are a warning in the report, not
// an error.
func TestHostNetworkMistakes(t *testing.T) {
	src := `name: host-net
networks:
  - {name: mine}
containers:
  - {name: a, networks: [host, mine]}
  - {name: b, networks: [mine, host]}
  - {name: c, attach: lan, routes: [{to: 172.18.0.0/16, via: nowhere}]}
steps:
  - connect: {from: host1, to: 127.0.0.1, port: 80, expect: refused}
`
	want := []string{
		"bad.yaml:5: container sharing network namespace with another container or host cannot be connected to any other network",
		"bad.yaml:6: container cannot be disconnected from host network or connected to host network",
		`bad.yaml:7: via "nowhere": want a Docker host's name or an address on the LAN 192.168.56.0/24`,
	}
	if got := errorLines(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	f, err := scenario.Parse("ok.yaml", []byte(`name: warned
containers:
  - {name: a, networks: [host], publish: ["8080:80"]}
steps:
  - connect: {from: a, to: 127.0.0.1, port: 8080, expect: refused}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scenario.Run(f, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Warnings) != 1 || rep.Warnings[0] != "ok.yaml:3: a: WARNING: Published ports are discarded when using host network mode" {
		t.Errorf("report ok %v, warnings %q", rep.OK(), rep.Warnings)
	}
}
