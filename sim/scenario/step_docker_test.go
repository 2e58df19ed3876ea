package scenario_test

import (
	"strings"
	"testing"

	"github.com/netyard/netyard/sim/fabric"
)

// TestDockerStepsRefusedInDockersWords: what Docker would refuse at run
// time is a problem of the file, at its line, in Docker's words, knowing
// the Docker state as the steps before have changed it.
func TestDockerStepsRefusedInDockersWords(t *testing.T) {
	src := `name: bad
hosts: [{name: host1, address: 192.168.56.11/24, }]
networks:
  - {name: front}
  - {name: back, subnet: 172.30.0.0/24}
  - {name: ov, driver: overlay}
containers:
  - {name: web, networks: [front]}
  - {name: db, networks: [back]}
  - {name: pub, networks: [front], publish: ["8080:80"]}
steps:
  - network: {connect: nosuch, container: web}
  - network: {disconnect: back, container: web}
  - container: {stop: db}
  - container: {stop: db}
  - container: {start: web}
  - network: {connect: front, container: web}
  - network: {connect: front, container: db, ip: 172.18.0.9}
  - network: {connect: ov, container: web}
  - network: {rm: back}
  - network: {rm: front}
  - network: {rm: bridge}
  - container: {stop: pub}
  - container: {start: pub}
  - network: {connect: back, container: nobody}
  - network: {connect: back, disconnect: back, container: web}
  - network: {create: {name: front}}
  - network: {create: {name: mac, driver: macvlan}}
  - network: {create: {name: back, subnet: 172.31.0.0/24}}
  - network: {connect: back, container: web, ip: 172.31.0.9}
  - network: {connect: back, container: pub, ip: 172.30.0.9}
  - network: {connect: host, container: web}
  - network: {connect: bridge, container: web, aliases: [x]}
`
	id := fabric.ID("container", "web")
	want := []string{
		`bad.yaml:12: network nosuch not found`,
		`bad.yaml:13: container ` + id + ` is not connected to network back`,
		`bad.yaml:15: Container is already stopped`,
		`bad.yaml:16: Container is already started`,
		`bad.yaml:17: endpoint with name web already exists in network front`,
		`bad.yaml:18: user specified IP address is supported only when connecting to networks with user configured subnets`,
		`bad.yaml:19: network ov: the overlay driver is not modelled at run time yet (bridge networks are)`,
		`bad.yaml:21: error while removing network: network front id ` + fabric.ID("network", "host1/front") + ` has active endpoints (pub, web on it: disconnect or stop them first, or expect: refused)`,
		`bad.yaml:22: bridge is a pre-defined network and cannot be removed`,
		`bad.yaml:25: No such container: nobody`,
		`bad.yaml:26: a network step has exactly one of create, connect, disconnect and rm`,
		`bad.yaml:27: network with name front already exists`,
		`bad.yaml:28: network mac: the macvlan driver is not modelled at run time yet (bridge networks are)`,
		`bad.yaml:31: Invalid address 172.30.0.9: It does not belong to any of this network's subnets`,
		`bad.yaml:32: container cannot be disconnected from host network or connected to host network`,
		`bad.yaml:33: network-scoped alias is supported only for containers in user defined networks`,
	}
	got := errorLines(t, src)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
