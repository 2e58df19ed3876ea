package scenario_test

import (
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/scenario"
)

// TestVLANDriversRefuse: bad macvlan and ipvlan networks are refused at
// their field, with Docker's words where Docker has them (moby's
// libnetwork/drivers/macvlan and ipvlan).
func TestVLANDriversRefuse(t *testing.T) {
	const mv = `networks:
  - {name: a, driver: macvlan, subnet: 192.168.56.0/24, driver_opts: {parent: eth0}}
`
	tests := []struct{ name, yaml, want string }{
		{"a second macvlan on one parent", mv + "  - {name: b, driver: macvlan, subnet: 192.168.57.0/24, driver_opts: {parent: eth0}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:3: network a is already using parent interface eth0"},
		{"an ipvlan on a macvlan's parent", mv + "  - {name: b, driver: ipvlan, subnet: 192.168.57.0/24, driver_opts: {parent: eth0}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:3: network a is already using parent interface eth0"},
		{"an unknown macvlan mode", strings.Replace(mv, "{parent: eth0}", "{parent: eth0, macvlan_mode: bridged}", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: requested macvlan mode 'bridged' is not valid, 'bridge' mode is the macvlan driver default"},
		{"an unknown ipvlan mode", "networks:\n  - {name: a, driver: ipvlan, driver_opts: {ipvlan_mode: l4}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default"},
		{"an unknown ipvlan flag", "networks:\n  - {name: a, driver: ipvlan, driver_opts: {ipvlan_flag: public}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: requested ipvlan flag 'public' is not valid, 'bridge' is the ipvlan driver default"},
		{"a parent the host does not have", strings.Replace(mv, "parent: eth0", "parent: eth1", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: invalid subinterface vlan name eth1, example formatting is eth0.10"},
		{"a sub-interface of a parent the host does not have", strings.Replace(mv, "parent: eth0", "parent: eth1.10", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: -o parent interface was not found on the host: eth1"},
		{"a VLAN out of range", strings.Replace(mv, "parent: eth0", "parent: eth0.4095", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: vlan id must be between 1-4094, received: 4095"},
		{"loopback", strings.Replace(mv, "parent: eth0", "parent: lo", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: loopback interface is not a valid macvlan parent link"},
		{"an option the driver lacks", strings.Replace(mv, "parent: eth0", "parent: eth0, macvlan_mod: private", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			`bad.yaml:2: the macvlan driver has no option "macvlan_mod" (it takes parent, macvlan_mode); did you mean macvlan_mode?`},
		{"several subnets on macvlan", strings.Replace(mv, "subnet: 192.168.56.0/24,", "subnet: 192.168.56.0/24, subnets: [10.9.0.0/24],", 1) + "containers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: several subnets are modelled for ipvlan l3 only"},
		{"an address the LAN has", mv + "containers:\n  - {name: x, networks: [{name: a, ip: 192.168.56.11}]}\n",
			"bad.yaml:4: 192.168.56.11, from network a, is taken on the LAN (by the Docker host host1): keep IPAM off it with ip_range, or reserve it with aux_addresses"},
		{"an address a client has", mv + "containers:\n  - {name: x, networks: [a]}\n  - {name: c, attach: lan, address: 192.168.56.2/24}\n",
			"is taken on the LAN (by c)"},
		{"a bridge on the LAN's subnet", "networks:\n  - {name: a, subnet: 192.168.56.0/24}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: ipam: subnet overlaps an allocated one: 192.168.56.0/24 overlaps network lan"},
		{"an auxiliary address off the subnet", "networks:\n  - {name: a, subnet: 10.0.0.0/24, aux_addresses: {router: 10.9.9.9}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			"bad.yaml:2: ipam: address outside the subnet or range: auxiliary address router=10.9.9.9 is not a free usable address of 10.0.0.0/24"},
		{"a bad auxiliary address", "networks:\n  - {name: a, subnet: 10.0.0.0/24, aux_addresses: {router: 10.9.9}}\ncontainers:\n  - {name: x, networks: [a]}\n",
			`bad IPv4 address "10.9.9"`},
		{"publish on macvlan", mv + "containers:\n  - {name: x, networks: [a], publish: [\"8080:80\"]}\n",
			"bad.yaml:4: a container on the macvlan network a has its own address on the LAN, reachable directly: Docker maps ports on bridge networks only"},
		{"two containers on passthru", strings.Replace(mv, "{parent: eth0}", "{parent: eth0, macvlan_mode: passthru}", 1) + "containers:\n  - {name: x, networks: [a]}\n  - {name: y, networks: [a]}\n",
			"bad.yaml:5: the macvlan network a is in passthru mode: its parent eth0 is x's alone"},
		{"vlan on a container", mv + "containers:\n  - {name: x, networks: [a], vlan: 10}\n",
			"bad.yaml:4: vlan is for a client attached to the LAN (attach: lan)"},
		{"a client in a VLAN without its address", mv + "containers:\n  - {name: x, attach: lan, vlan: 10}\n",
			"a client in VLAN 10 needs its address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

// TestAuxAddressesReserved: no container gets an auxiliary address, on a
// bridge network as on a macvlan one.
func TestAuxAddressesReserved(t *testing.T) {
	f, err := scenario.Parse("aux.yaml", []byte(`networks:
  - {name: a, subnet: 10.0.0.0/24, aux_addresses: {router: 10.0.0.2, nas: 10.0.0.3}}
containers:
  - {name: x, networks: [a]}
steps:
  - expect: {ipam: {network: a, containers: {x: 10.0.0.4}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scenario.Run(f, scenario.Options{})
	if err != nil || !rep.OK() {
		t.Fatalf("%v %+v", err, rep)
	}
}
