package scenario_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/scenario"
)

const good = `name: t
switches: [{name: s1}]
hosts:
  - {name: h1, address: 10.0.0.1/24}
  - {name: h2, address: 10.0.0.2/24}
links:
  - h1 -- s1:p1
  - [h2, s1]
steps:
  - ping: {from: h1, to: h2}
`

// TestBadFiles checks that each mistake gives one clear file:line error.
func TestBadFiles(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"yaml syntax", "name: [x\n", "bad.yaml:1: did not find expected"},
		{"unknown top field", "name: x\nswitchs: []\n", `bad.yaml:2: unknown field "switchs" in the scenario`},
		{"unknown host field", strings.Replace(good, "{name: h1,", "{name: h1, adress: 1.2.3.4,", 1), `bad.yaml:4: unknown field "adress" in a host`},
		{"unknown link field", strings.Replace(good, "  - [h2, s1]", "  - {ends: [h2, s1], latncy: 1ms}", 1), `bad.yaml:8: unknown field "latncy" in a link`},
		{"bad CIDR", strings.Replace(good, "10.0.0.2/24", "10.0.0.2/33", 1), `bad.yaml:5: bad CIDR "10.0.0.2/33"`},
		{"no prefix", strings.Replace(good, "10.0.0.2/24", "10.0.0.2", 1), `bad.yaml:5: bad CIDR "10.0.0.2"`},
		{"duplicate address", strings.Replace(good, "10.0.0.2/24", "10.0.0.1/24", 1), "bad.yaml:5: duplicate address 10.0.0.1 (also on h1:eth0)"},
		{"duplicate name", strings.Replace(good, "links:", "  - {name: h2, address: 10.0.0.3/24}\nlinks:", 1), `bad.yaml:6: duplicate name "h2"`},
		{"unknown node in link", strings.Replace(good, "h1 -- s1:p1", "h9 -- s1:p1", 1), `bad.yaml:7: unknown node "h9"`},
		{"port used twice", strings.Replace(good, "[h2, s1]", "[h2, s1:p1]", 1), "bad.yaml:8: s1:p1 is already linked by links[0]"},
		{"bad link form", strings.Replace(good, "h1 -- s1:p1", "h1 to s1", 1), `bad.yaml:7: link "h1 to s1": want "a -- b"`},
		{"unknown host in step", strings.Replace(good, "from: h1", "from: h7", 1), `bad.yaml:10: unknown host "h7"`},
		{"bad target", strings.Replace(good, "to: h2", "to: h8", 1), `bad.yaml:10: "h8" is neither a host nor an IPv4 address`},
		{"two kinds in a step", good + "  - {wait: 1s, ping: {from: h1, to: h2}}\n", "bad.yaml:11: a step has exactly one of"},
		{"bad expect", strings.Replace(good, "to: h2}", "to: h2, expect: yes}", 1), `bad.yaml:10: expect must be reply, no-reply or storm`},
		{"bad count", good + "  - ping: {from: h1, to: h2, received: lots}\n", `bad.yaml:11: bad count "lots"`},
		{"bad loss", strings.Replace(good, "  - [h2, s1]", "  - {ends: [h2, s1], loss: 150%}", 1), `bad.yaml:8: bad loss "150%"`},
		{"bad duration", good + "  - wait: soon\n", `bad.yaml:11: bad duration "soon"`},
		{"unknown drop reason", good + "  - expect: {counters: {at: s1:p1, drops: {gremlins: 1}}}\n", `bad.yaml:11: unknown drop reason "gremlins"`},
		{"unknown switch port", good + "  - port: {at: s1:p7, state: down}\n", `bad.yaml:11: no switch port "s1:p7"`},
		{"bad state", good + "  - link: {at: h1:eth0, state: sideways}\n", `bad.yaml:11: state must be up or down`},
		{"gateway off subnet", strings.Replace(good, "{name: h2, address: 10.0.0.2/24}", "{name: h2, address: 10.0.0.2/24, gateway: 10.9.0.1}", 1), "bad.yaml:5: gateway 10.9.0.1 is on none of h2's subnets"},
		{"bad vlan", strings.Replace(good, "[{name: s1}]", "[{name: s1, ports: [{name: p1, vlan: 5000}]}]", 1), "bad.yaml:2: VLAN 5000 out of range"},
		{"trunk settings on access", strings.Replace(good, "[{name: s1}]", "[{name: s1, ports: [{name: p1, native: 5}]}]", 1), "bad.yaml:2: allowed and native are for trunk ports"},
		{"not a mapping", "- 1\n- 2\n", "bad.yaml:1: a scenario is a mapping"},
		{"static address outside the subnet", docker + "  - {name: x, networks: [{name: a, ip: 10.0.1.5}]}\n", "bad.yaml:4: ipam: address outside the subnet or range: 10.0.1.5"},
		{"overlapping subnets", strings.Replace(docker, "containers:", "  - {name: b, subnet: 10.0.0.128/25}\ncontainers:", 1) + "  - {name: x}\n", "bad.yaml:3: ipam: subnet overlaps an allocated one: 10.0.0.128/25 overlaps network a"},
		{"unknown network", docker + "  - {name: x, networks: [nosuch]}\n", `bad.yaml:4: unknown network "nosuch"`},
		{"none and another", docker + "  - {name: x, networks: [a, none]}\n", "bad.yaml:4: a container on the none network has no other network"},
		{"host port twice", docker + "  - {name: x, networks: [a], publish: [\"8080:80\", \"8080:81\"]}\n", "bad.yaml:4: host port 8080/tcp is already published"},
		{"bad publish", docker + "  - {name: x, publish: [abc]}\n", `bad.yaml:4: publish "abc": want HOSTPORT:PORT`},
		{"name taken", docker + "  - {name: host1}\n", `bad.yaml:4: name "host1" is taken (the Docker host)`},
		{"switches in a Docker file", docker + "  - {name: x}\nswitches: [{name: s1}]\n", "a Docker scenario (networks, containers) builds its own switches"},
		{"unknown driver", strings.Replace(docker, "subnet: 10.0.0.0/24", "driver: overlay", 1) + "  - {name: x}\n", `bad.yaml:2: driver "overlay" is not supported yet`},
		{"empty", "", "bad.yaml:1: empty scenario"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.yaml)
			}
			var es scenario.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not scenario.Errors: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

// docker is the start of a Docker scenario; cases add containers.
const docker = `networks:
  - {name: a, subnet: 10.0.0.0/24}
containers:
`

func TestGoodFileAndShorthand(t *testing.T) {
	f, err := scenario.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Links[1].Name(); got != "h2:eth0 -- s1:p2" {
		t.Errorf("[h2, s1] became %q, want h2:eth0 -- s1:p2", got)
	}
	if m := g.Host("h1").Ifaces[0].MAC.String(); m != "02:00:00:00:00:01" {
		t.Errorf("h1's MAC = %s", m)
	}
}

// FuzzParse feeds arbitrary bytes to the loader: it must refuse or accept,
// never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("name: [x\n"))
	f.Add([]byte("links: [{ends: [a]}]\n"))
	f.Add([]byte("steps: [{expect: {counters: {drops: {x: '3..1'}}}}]\n"))
	for _, p := range files(f) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data)
		if err != nil {
			var es scenario.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not scenario.Errors: %v", err, err)
			}
			return
		}
		if _, err := s.Graph(); err != nil {
			t.Fatalf("a file that loads does not compile: %v", err)
		}
	})
}

func TestBadInterfaceName(t *testing.T) {
	src := strings.Replace(good, "{name: h1, address: 10.0.0.1/24}", "{name: h1, interfaces: [{name: eth%d, address: 10.0.0.1/24}]}", 1)
	src = strings.Replace(src, "h1 -- s1:p1", "h1:eth%d -- s1:p1", 1)
	if _, err := scenario.Parse("bad.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "bad.yaml:4: interface name \"eth%d\"") {
		t.Errorf("got %v", err)
	}
}
