package scenario_test

import (
	"errors"
	"fmt"
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
		{"static address outside the subnet", docker + "  - {name: x, networks: [{name: a, ip: 10.0.1.5}]}\n", "bad.yaml:4: no configured subnet or ip-range contain the IP address 10.0.1.5"},
		{"overlapping subnets", strings.Replace(docker, "containers:", "  - {name: b, subnet: 10.0.0.128/25}\ncontainers:", 1) + "  - {name: x}\n", "bad.yaml:3: ipam: subnet overlaps an allocated one: 10.0.0.128/25 overlaps network a"},
		{"unknown network", docker + "  - {name: x, networks: [nosuch]}\n", `bad.yaml:4: unknown network "nosuch"`},
		{"none and another", docker + "  - {name: x, networks: [a, none]}\n", "bad.yaml:4: a container on the none network has no other network"},
		{"host port twice", docker + "  - {name: x, networks: [a], publish: [\"8080:80\", \"8080:81\"]}\n", "bad.yaml:4: Bind for 0.0.0.0:8080 failed: port is already allocated"},
		{"bad publish", docker + "  - {name: x, publish: [abc]}\n", `bad.yaml:4: publish "abc": invalid containerPort: abc`},
		{"name taken", docker + "  - {name: host1}\n", `bad.yaml:4: name "host1" is taken (the Docker host)`},
		{"switches in a Docker file", docker + "  - {name: x}\nswitches: [{name: s1}]\n", "a Docker scenario (networks, containers) builds its own switches"},
		{"unknown driver", strings.Replace(docker, "subnet: 10.0.0.0/24", "driver: ipvlam", 1) + "  - {name: x}\n", `bad.yaml:2: driver "ipvlam" is not supported yet`},
		{"empty", "", "bad.yaml:1: empty scenario"},
		// Names that would become paths or devices (issue 9, item 2).
		{"host name with a path", strings.Replace(good, "{name: h2,", `{name: "a/../../../../tmp/X",`, 1), `bad.yaml:5: name "a/../../../../tmp/X": use letters, digits`},
		{"host name with a newline", strings.Replace(good, "{name: h2,", `{name: "a\nb",`, 1), `bad.yaml:5: name "a\nb": use letters`},
		{"300-byte host name", strings.Replace(good, "{name: h2,", "{name: "+strings.Repeat("h", 300)+",", 1), "bad.yaml:5: name \"hhhhhhhhhhhhhhhhhhhhhhhh\"... is 300 bytes long, more than 63"},
		{"interface named ..", strings.Replace(strings.Replace(good, "{name: h1, address: 10.0.0.1/24}", `{name: h1, interfaces: [{name: "..", address: 10.0.0.1/24}]}`, 1), "h1 -- s1:p1", "h1:.. -- s1:p1", 1), `bad.yaml:4: interface name "..": use letters`},
		{"interface name too long", strings.Replace(good, "{name: h1, address: 10.0.0.1/24}", `{name: h1, interfaces: [{name: eth0123456789abc, address: 10.0.0.1/24}]}`, 1), "bad.yaml:4: interface name \"eth0123456789abc\" is 16 bytes long"},
		{"switch name", strings.Replace(strings.ReplaceAll(good, "s1", "s:1"), "[{name: s:1}]", `[{name: "s/1"}]`, 1), `bad.yaml:2: name "s/1"`},
		{"port name", strings.Replace(good, "[{name: s1}]", "[{name: s1, ports: [{name: ../p}]}]", 1), `bad.yaml:2: port name "../p"`},
		{"container name", docker + "  - {name: \"x\\ny\"}\n", `bad.yaml:4: a container's name "x\ny"`},
		{"client name", docker + "  - {name: -c, attach: lan}\n", `bad.yaml:4: a container's name "-c"`},
		{"two clients, one address", docker + "  - {name: c1, attach: lan, address: 192.168.56.20/24}\n  - {name: c2, attach: lan, address: 192.168.56.20/24}\n", `bad.yaml:5: 192.168.56.20 is taken (by c1)`},
		{"a client on the host's address", docker + "  - {name: c3, attach: lan, address: 192.168.56.11/24}\n", `bad.yaml:4: 192.168.56.11 is taken (by the Docker host host1)`},
		{"blank network name", strings.Replace(docker, "name: a,", "name: \" \",", 1) + "  - {name: x}\n", `bad.yaml:2: invalid name: name is empty`},
		{"network twice", strings.Replace(docker, "containers:", "  - {name: a}\ncontainers:", 1) + "  - {name: x}\n", `bad.yaml:3: network with name a already exists`},
		{"predefined network", strings.Replace(docker, "containers:", "  - {name: host}\ncontainers:", 1) + "  - {name: x}\n", `bad.yaml:3: operation is not permitted on predefined host network`},
		// Static addresses as Docker takes them (issue 12, item 6).
		{"static ip without a subnet", "networks:\n  - {name: n}\ncontainers:\n  - {name: x, networks: [{name: n, ip: 172.18.0.5}]}\n", "bad.yaml:4: user specified IP address is supported only when connecting to networks with user configured subnets"},
		{"static ip on the default bridge", docker + "  - {name: x, networks: [{name: bridge, ip: 172.17.0.5}]}\n", "bad.yaml:4: user specified IP address is supported on user defined networks only"},
		{"static ip an earlier container took", docker + "  - {name: y, networks: [a]}\n  - {name: z, networks: [{name: a, ip: 10.0.0.2}]}\n", "bad.yaml:5: Address already in use: 10.0.0.2 is y's"},
		{"static ip the gateway", docker + "  - {name: z, networks: [{name: a, ip: 10.0.0.1}]}\n", "bad.yaml:4: Address already in use: 10.0.0.1 is the gateway of a"},
		// Options and publishing (issue 12).
		{"driver option not a bool", strings.Replace(docker, "subnet: 10.0.0.0/24", "subnet: 10.0.0.0/24, driver_opts: {com.docker.network.bridge.enable_icc: maybe}", 1) + "  - {name: x}\n", `bad.yaml:2: failed to parse com.docker.network.bridge.enable_icc value: maybe (strconv.ParseBool: parsing "maybe": invalid syntax)`},
		{"driver option unknown", strings.Replace(docker, "subnet: 10.0.0.0/24", "subnet: 10.0.0.0/24, driver_opts: {com.docker.network.bridge.enable_icc_: \"false\"}", 1) + "  - {name: x}\n", `did you mean com.docker.network.bridge.enable_icc?`},
		{"bad mtu", strings.Replace(docker, "subnet: 10.0.0.0/24", "subnet: 10.0.0.0/24, driver_opts: {com.docker.network.driver.mtu: \"-1\"}", 1) + "  - {name: x}\n", `bad.yaml:2: invalid MTU number: -1`},
		{"bad port range", "hosts: [{name: host1, port_range: 5000-4000}]\n" + docker + "  - {name: x}\n", `bad.yaml:1: port range "5000-4000"`},
		{"overlay option", strings.Replace(docker, "subnet: 10.0.0.0/24", "driver: overlay, driver_opts: {encrypted: \"\"}", 1) + "  - {name: x}\n", `bad.yaml:2: option "encrypted": netyard's overlay driver takes no options`},
		{"port range on a plain host", strings.Replace(good, "{name: h1,", "{name: h1, port_range: 1-2,", 1), `bad.yaml:4: port_range is a Docker host's`},
		{"publish ranges that differ", docker + "  - {name: x, networks: [a], publish: [\"8000-8010:80-85\"]}\n", "bad.yaml:4: publish \"8000-8010:80-85\": invalid ranges specified for container and host Ports: 80-85 and 8000-8010"},
		{"publish on an address the host lacks", docker + "  - {name: x, networks: [a], publish: [\"192.168.56.99:8080:80\"]}\n", "bad.yaml:4: listen tcp4 192.168.56.99:8080: bind: cannot assign requested address"},
		{"publish range taken", docker + "  - {name: x, networks: [a], publish: [\"8080:80\", \"8080-8081:81-82\"]}\n", "bad.yaml:4: Bind for 0.0.0.0:8080 failed: port is already allocated"},
		{"bad alias", docker + "  - {name: x, networks: [{name: a, aliases: [\"d b\"]}]}\n", `bad.yaml:4: alias: DNS name "d b"`},
		// Odd addresses (item 16).
		{"multicast host", strings.Replace(good, "10.0.0.2/24", "224.0.0.2/24", 1), "bad.yaml:5: 224.0.0.2 is a multicast address"},
		{"this network", strings.Replace(good, "10.0.0.2/24", "0.0.0.1/8", 1), "bad.yaml:5: 0.0.0.1 is in 0.0.0.0/8"},
		{"zero address", strings.Replace(good, "10.0.0.2/24", "0.0.0.0/24", 1), "bad.yaml:5: 0.0.0.0 is in 0.0.0.0/8"},
		{"loopback host", strings.Replace(good, "10.0.0.2/24", "127.0.0.2/8", 1), "bad.yaml:5: 127.0.0.2 is a loopback address"},
		{"/0", strings.Replace(good, "10.0.0.2/24", "10.0.0.2/0", 1), "bad.yaml:5: 10.0.0.2/0: want a prefix length from /8 to /30"},
		{"subnet's broadcast", strings.Replace(good, "10.0.0.2/24", "10.0.0.255/24", 1), "bad.yaml:5: 10.0.0.255 is the broadcast address of 10.0.0.0/24"},
		{"subnet's network", strings.Replace(good, "10.0.0.2/24", "10.0.0.0/24", 1), "bad.yaml:5: 10.0.0.0 is the network address of 10.0.0.0/24"},
		{"broadcast gateway", strings.Replace(good, "{name: h2, address: 10.0.0.2/24}", "{name: h2, address: 10.0.0.2/24, gateway: 10.0.0.255}", 1), "bad.yaml:5: gateway 10.0.0.255 is the broadcast address"},
		{"multicast subnet", strings.Replace(docker, "10.0.0.0/24", "239.0.0.0/24", 1) + "  - {name: x}\n", "bad.yaml:2: 239.0.0.0 is a multicast address"},
		{"loopback static ip", docker + "  - {name: x, networks: [{name: a, ip: 127.0.0.1}]}\n", "bad.yaml:4: 127.0.0.1 is a loopback address"},
		{"Docker host on a broadcast address", "hosts: [{name: host1, address: 192.168.56.255/24}]\n" + docker + "  - {name: x}\n", "bad.yaml:1: 192.168.56.255 is the broadcast address"},
		// STP timers (item 16).
		{"hello 1ns", strings.Replace(good, "[{name: s1}]", "[{name: s1, stp: {hello: 1ns}}]", 1), "bad.yaml:2: hello 1ns is outside 802.1D's range 1s to 10s"},
		{"max age 50s", strings.Replace(good, "[{name: s1}]", "[{name: s1, stp: {max_age: 50s}}]", 1), "bad.yaml:2: max_age 50s is outside 802.1D's range 6s to 40s"},
		{"forward delay 2s", strings.Replace(good, "[{name: s1}]", "[{name: s1, stp: {forward_delay: 2s}}]", 1), "bad.yaml:2: forward_delay 2s is outside 802.1D's range 4s to 30s"},
		{"timers that do not fit", strings.Replace(good, "[{name: s1}]", "[{name: s1, stp: {forward_delay: 4s}}]", 1), "bad.yaml:2: 802.1D needs 2*(forward_delay-1s) >= max_age >= 2*(hello+1s); here forward_delay 4s, max_age 20s, hello 2s"},
		// Counts (item 16).
		{"count overflow", good + "  - ping: {from: h1, to: h2, received: '>18446744073709551615'}\n", `bad.yaml:11: bad count ">18446744073709551615": nothing is above 18446744073709551615`},
		{"count beyond uint64", good + "  - expect: {fdb: {switch: s1, size: 99999999999999999999}}\n", `bad.yaml:11: bad count "99999999999999999999": 99999999999999999999 is more than any counter holds`},
		{"received above count", good + "  - ping: {from: h1, to: h2, count: 10, received: \">=20\"}\n", "bad.yaml:11: received >=20 can never pass: the ping sends 10 probes"},
		{"received above the default count", good + "  - ping: {from: h1, to: h2, received: 2}\n", "bad.yaml:11: received 2 can never pass: the ping sends 1 probes"},
		{"received and expect", good + "  - ping: {from: h1, to: h2, expect: no-reply, received: 0}\n", "bad.yaml:11: give expect or received, not both"},
		{"fdb size above max_entries", strings.Replace(good, "[{name: s1}]", "[{name: s1, max_entries: 10}]", 1) + "  - expect: {fdb: {switch: s1, size: \">10\"}}\n", "bad.yaml:11: size >10 can never pass: s1 holds at most 10 entries"},
		// The file as a whole (item 16).
		{"second document", good + "---\nname: other\n", "bad.yaml:12: a second YAML document"},
		{"nothing to run", "name: cut\nswitches:\n", "bad.yaml:1: nothing to run"},
		{"only a name", "name: x\n", "bad.yaml:1: nothing to run"},
		// Suggestions and compose (item 16).
		{"step kind misspelt", good + "  - pign: {from: h1, to: h2}\n", `bad.yaml:11: unknown field "pign" in a step; did you mean ping?`},
		{"unknown step kind", good + "  - sleep: 1s\n", `bad.yaml:11: unknown field "sleep" in a step (it has name, ping, udp, wait,`},
		{"field misspelt", good + "  - ping: {from: h1, to: h2, cuont: 3}\n", `bad.yaml:11: unknown field "cuont" in ping; did you mean count?`},
		{"unknown top field suggests", "name: x\nswitchs: []\n", "bad.yaml:2: unknown field \"switchs\" in the scenario; did you mean switches?"},
		{"publish misspelt", docker + "  - {name: x, publsh: [\"80\"]}\n", `bad.yaml:4: unknown field "publsh" in a container; did you mean publish?`},
		{"ports and publish", docker + "  - {name: x, ports: [\"80\"], publish: [\"81\"]}\n", "bad.yaml:4: ports and publish mean the same here: give one"},
		{"ports long syntax", docker + "  - {name: x, ports: [{target: 80}]}\n", "bad.yaml:4: publish[0]: want a string, not a mapping"},
		{"unknown drop reason lists them", good + "  - expect: {counters: {at: s1:p1, drops: {gremlins: 1}}}\n", `bad.yaml:11: unknown drop reason "gremlins" (the reasons: runt, bad-source, vlan, filtered, port-down, link-local, fdb-full, tx-error, monitor, stp-blocked, bpdu, double-tag, isolated)`},
		{"drop reason misspelt", good + "  - expect: {counters: {at: s1:p1, drops: {vlna: 1}}}\n", `bad.yaml:11: unknown drop reason "vlna"; did you mean vlan?`},
		{"unknown host suggests", strings.Replace(good, "from: h1", "from: h11", 1), `bad.yaml:10: unknown host "h11"; did you mean h1?`},
		{"unknown node in a link suggests", strings.Replace(good, "h1 -- s1:p1", "h1 -- s11:p1", 1), `bad.yaml:7: unknown node "s11" in link end "s11:p1"; did you mean s1?`},
		{"unknown switch suggests", good + "  - expect: {fdb: {switch: s2}}\n", `bad.yaml:11: unknown switch "s2"; did you mean s1?`},
		{"bad expect suggests", strings.Replace(good, "to: h2}", "to: h2, expect: noreply}", 1), `bad.yaml:10: expect must be reply, no-reply or storm, not "noreply"; did you mean no-reply?`},
		{"unknown network suggests", docker + "  - {name: x, networks: [b]}\n", `bad.yaml:4: unknown network "b"`},
		{"network listed twice", docker + "  - {name: x, networks: [a, a]}\n", `bad.yaml:4: network "a" is listed twice`},
		{"network listed twice in compose's form", docker + "  - name: x\n    networks:\n      a: {}\n      a: {aliases: [db]}\n", `bad.yaml:7: "a" is given twice (first at line 6)`},
		{"key given twice", "name: x\nname: y\n", `bad.yaml:2: "name" is given twice (first at line 1)`},
		// Values of the wrong kind, and values out of range.
		{"a list for a string", strings.Replace(good, "from: h1", "from: [h1]", 1), "bad.yaml:10: from: want a string, not a list"},
		{"a mapping for a list", "name: x\nhosts: {name: h1}\n", "bad.yaml:2: hosts: want a list, not a mapping"},
		{"a port beyond 65535", good + "  - udp: {from: h1, to: h2, port: 70000}\n", `bad.yaml:11: port: want a whole number from 0 to 65535, not "70000"`},
		{"not a number", good + "  - ping: {from: h1, to: h2, count: many}\n", `bad.yaml:11: count: want a whole number, not "many"`},
		{"negative duration", good + "  - wait: -1s\n", `bad.yaml:11: bad duration "-1s": must not be negative`},
		{"duration overflow", good + "  - wait: 1e300\n", `bad.yaml:11: bad duration "1e300": more than`},
		{"NaN rate", strings.Replace(good, "  - [h2, s1]", "  - {ends: [h2, s1], rate: nan}", 1), `bad.yaml:8: bad rate "nan"`},
		{"rate below a bit", strings.Replace(good, "  - [h2, s1]", "  - {ends: [h2, s1], rate: 0.4bit}", 1), `bad.yaml:8: bad rate "0.4bit"`},
		{"merge bomb", mergeBomb(8), "the file expands (through aliases) to more than"},
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

// mergeBomb is a file whose steps merge (<<) the step before ten times
// over, levels deep: 10^levels keys from a few hundred bytes.
func mergeBomb(levels int) string {
	var b strings.Builder
	b.WriteString("steps:\n  - &a0 {wait: 1s}\n")
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "  - &a%d {<<: [%s]}\n", l, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", l-1), 10), ", "))
	}
	return b.String()
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
	f.Add([]byte(docker + "  - {name: x, networks: {a: {ipv4_address: 10.0.0.9, aliases: [db]}}, ports: [\"80\"]}\nsteps: [{wait: 10}]\n"))
	f.Add([]byte(mergeBomb(3)))
	f.Add([]byte("hosts:\n  - &h {name: h1, address: 10.0.0.1/24}\n  - {<<: *h, name: h2, address: 10.0.0.2/24}\nswitches: [{name: s1}]\nlinks: [h1 -- s1, h2 -- s1]\n---\n"))
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
