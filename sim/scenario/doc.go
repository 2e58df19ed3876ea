// Package scenario reads netyard scenario files and runs them.
//
// A scenario is a YAML file: a topology (switches, hosts, links with
// impairments), a seed, and steps with expectations. Load parses and
// validates it, refusing a bad file with one error per problem, each as
// file:line: what is wrong. Run compiles it to a topo.Graph, starts a
// backend and runs the steps in order, printing each with PASS or FAIL, and
// returns a Report.
//
// # File format
//
//	name: l2-learning
//	seed: 1
//	switches:
//	  - name: s1
//	    ageing: 300s                       # optional, default 300s
//	    ports:                             # optional: port order and VLANs
//	      - {name: p1, vlan: 10}           # access port in VLAN 10
//	      - {name: p9, mode: trunk, allowed: [10, 20], native: 1}
//	    mirror: {to: p8, from: [p1]}       # optional port mirroring
//	    stp: {priority: 4096, hello: 1s, max_age: 6s, forward_delay: 4s}  # spanning tree on
//	    # ports may add cost, priority, edge, bpdu_guard, root_guard
//	hosts:
//	  - {name: h1, address: 10.0.0.1/24, listen: [tcp/80]}  # one interface, eth0; accepts TCP on 80
//	  - name: r1
//	    gateway: 10.0.1.254
//	    interfaces: [{name: eth0, address: 10.0.1.1/24, mac: "02:aa:00:00:00:01"}]
//	links:
//	  - h1:eth0 -- s1:p1                   # a string
//	  - [h2, s1]                           # a pair; host: eth0, switch: next free pN
//	  - {ends: [h3, s1:p3], latency: 10ms, jitter: 1ms, loss: 5%, rate: 10Mbit, queue: 100}
//	steps:
//	  - ping: {from: h1, to: h2, count: 3}            # expect: reply (default) or no-reply
//	  - ping: {from: h1, to: h3, count: 100, received: ">=90", rtt: 20ms..25ms}
//	  - udp: {from: h1, to: h2, port: 5000}           # expect: delivered (default) or not-delivered
//	  - connect: {from: h2, to: h1, port: 80}         # TCP handshake; expect: open (default), refused or timeout
//	  - wait: 10s
//	  - link: {at: h1:eth0, state: down}
//	  - port: {at: s1:p2, state: up}
//	  - move: {iface: h3:eth0, to: s1:p4}
//	  - bpdus: {switch: s1, state: off}              # a root that goes silent
//	  - ping: {from: h1, to: h2, expect: storm}      # the run must hit its budget
//	  - expect:
//	      fdb: {switch: s1, has: [{mac: h1, port: p1, vlan: 1}], lacks: [{mac: h3}], size: 2}
//	      counters: {at: s1:p2, rx_frames: ">=1", drops: {vlan: 0}}
//	      reach: {h1: [h2], h2: [h1], h3: []}       # who reaches whom among these hosts
//	      stp: {switch: s3, root: s1, root_port: p1, ports: [{port: p2, role: alternate, state: blocking}]}
//
// Counts accept 3, ">=3", "<=3", ">3", "<3" and "3..5". Any step may carry a
// name: label for the report.
//
// # Docker scenarios
//
// A file with networks or containers describes Docker's model instead of
// switches and links (which it may not have); its hosts are Docker hosts,
// a name and a LAN address (one host, host1 at 192.168.56.11/24, when
// omitted). topo.Docker.Compile turns it into switches, a gateway node and
// sandboxes; see sim/topo.
//
//	hosts: [{name: host1, address: 192.168.56.11/24}]
//	networks:
//	  - {name: mybridge}                          # driver: bridge; subnet, gateway, ip_range from IPAM unless given
//	  - {name: backend, subnet: 172.30.0.0/24, internal: true}
//	containers:
//	  - {name: a, networks: [mybridge]}           # no networks: the default network, bridge; [none]: loopback only
//	  - name: b
//	    networks: [{name: mybridge, ip: 172.18.0.10, aliases: [db]}]
//	    publish: ["8080:80/tcp", "443", "53/udp"] # no host port: one from 49153 up
//	    listen: [tcp/80, udp/53]
//	  - {name: client, attach: lan}               # on the hosts' LAN; address: optional
//	steps:
//	  - resolve: {from: a, name: db, expect: [b]} # or nxdomain, servfail, no-answer, timeout
//	  - resolve: {from: a, name: b, type: AAAA, expect: no-answer}
//	  - resolve: {from: a, name: 172.18.0.10, type: PTR, expect: [b.mybridge]}  # as dig -x
//	  - ping: {from: a, to: b}                    # a container's name is looked up by the sender's DNS
//	  - ping: {from: a, to: b:eth0}               # host:iface is the graph's address: no DNS
//	  - connect: {from: client, to: host1, port: 8080, seen_from: client}
//	  - expect:
//	      nat: {host: host1, flows: ">=1", has: [{kind: published, proto: tcp, from: client, to: b, state: established}]}
//	      ipam: {network: mybridge, subnet: 172.18.0.0/16, gateway: 172.18.0.1, containers: {a: 172.18.0.2}}
//
// A destination that does not resolve is not tried: ping passes only with
// expect: no-reply, udp only with not-delivered, connect never.
//
// The YAML is only a front end: the same topology can be built as a
// topo.Graph and driven from Go through sim/mem.
package scenario
