// Package scenario reads netyard scenario files and runs them.
//
// A scenario is a YAML file: a topology (switches, hosts, links with
// impairments), a seed, and steps with expectations. Load parses and
// validates it, refusing a bad file with every problem in it at once, in
// line order, each as file:line: what is wrong (with "did you mean" where
// a known word is near). Run compiles it to a topo.Graph, starts a backend
// and runs the steps in order, printing each with PASS or FAIL, and
// returns a Report.
//
// # File format
//
// This is the whole format: every field, with its default when left out.
//
//	name: l2-learning                      # for the report; default: the file's path
//	description: what it shows             # printed before the steps
//	seed: 1                                # randomness of loss and jitter (mem); default 0
//	budget: 20000000                       # events (mem) or frames on links (netns) before the run stops; default 20 000 000
//	switches:
//	  - name: s1
//	    ageing: 300s                       # FDB ageing time; default 300s
//	    max_entries: 8192                  # FDB bound; default 8192
//	    ports:                             # optional: port order and settings; links name the others
//	      - {name: p1, vlan: 10}           # access port (mode: access, the default) in VLAN 10; default VLAN 1
//	      - {name: p9, mode: trunk, allowed: [10, 20], native: 1}  # allowed: default all; native: default none
//	      - {name: p2, cost: 100, priority: 128, edge: true, bpdu_guard: false, root_guard: false}
//	      - {name: p8}
//	      - {name: p7}
//	    mirror: {to: p8, from: [p1]}       # p8 gets a copy of what p1 receives and sends
//	    stp: {priority: 4096, hello: 1s, max_age: 6s, forward_delay: 4s}
//	hosts:
//	  - {name: h1, address: 10.0.0.1/24, listen: [tcp/80, udp/53]}
//	  - {name: h2, address: 10.0.0.2/24, mac: "02:aa:00:00:00:02", gateway: 10.0.0.254}
//	  - name: h3                           # two interfaces, one per subnet; hosts do not forward between them
//	    interfaces:
//	      - {name: eth0, address: 10.0.0.3/24}
//	      - {name: eth1, address: 10.0.1.3/24, mac: "02:aa:00:00:01:03"}
//	nodes: []                              # netyard's own nodes of registered kinds: see Nodes
//	links:
//	  - h1:eth0 -- s1:p1                   # a string
//	  - [h2, s1]                           # a pair: a host's first interface, a switch's lowest pN not named
//	  - {ends: [h3, s1:p3], latency: 10ms, jitter: 1ms, loss: 5%, rate: 10Mbit, queue: 100}
//	  - {ends: [h3:eth1, s1:p4]}           # queue: default 1000 frames; rate: default unlimited
//	steps:
//	  - ping: {from: h1, to: h2}
//	  - ping: {from: h1, to: h3:eth0, count: 100, interval: 100ms, timeout: 2s, received: ">=90", rtt: 20ms..25ms}
//	  - ping: {from: h1, to: 10.0.9.9, expect: no-reply}
//	  - udp: {from: h1, to: h2, port: 5000, timeout: 2s, expect: delivered}
//	  - connect: {from: h2, to: h1, port: 80, timeout: 4s, expect: open, seen_from: h2}
//	  - wait: 10s
//	  - link: {at: h1:eth0, state: down}   # either end of the link
//	  - link: {at: h3:eth0, latency: 50ms, jitter: 5ms, loss: 10%, rate: 1Mbit, queue: 100}  # only what it names changes
//	  - unplug: {at: h2:eth0}              # the link is gone; both its ends are free
//	  - plug: {ends: [h2, s1:p6], latency: 1ms}  # a new link, written as in links; s1 gets a port p6
//	  - port: {at: s1:p2, state: up}
//	  - move: {iface: h3:eth1, to: s1:p7}
//	  - bpdus: {switch: s1, state: off}    # a root that goes silent; on resumes
//	  - frames: {on: s1:p1, match: "vlan 10", count: ">=2"}  # frames its link carried so far
//	  - ping: {from: h1, to: h2, expect: storm}
//	  - name: a label for the report       # any step may have one
//	    expect:
//	      fdb: {switch: s1, has: [{mac: h1, port: p1, vlan: 10}], lacks: [{mac: h3}], size: 2}
//	      counters: {at: s1:p2, rx_frames: ">=1", tx_frames: 4, rx_bytes: ">0", tx_bytes: "<10000", drops: {vlan: 0}}
//	      reach: {h1: [h2], h2: [h1], h3: []}
//	      stp: {switch: s1, root: s1, root_port: none, ports: [{port: p9, role: designated, state: forwarding}]}
//
// # Nodes
//
// nodes lists netyard's own nodes of kinds registered with
// topo.RegisterKind (a router: package sim/kinds/router), each with a
// name, a kind, interfaces written as a host's, and the fields of its
// kind, read and checked by the kind's own spec, every problem at its
// field:
//
//	nodes:
//	  - name: edge
//	    kind: router
//	    interfaces: [{name: eth0, address: 10.0.1.1/24}, {name: eth1, address: 10.0.2.1/24}]
//	    routes: [{to: 10.0.3.0/24, via: 10.0.2.2}]
//
// Links name their interfaces as a host's; steps run from hosts, not
// from nodes.
//
// # Names and addresses
//
// Every name of a node (switch, host, switch port, and in Docker files the
// Docker host, networks and containers) follows Docker's rule for
// container names: letters, digits, '_', '.' and '-', starting with a
// letter or digit, at most 63 bytes (topo.ValidName); in netns a host is a
// namespace named after it. An interface name follows the same rule in at
// most 15 bytes, and is not lo (topo.ValidIfaceName). A network's name is
// at most 12 bytes, as its bridge is br-NAME.
//
// A host's address is IPv4 with a prefix from /8 to /30, neither the
// subnet's network nor its broadcast address, and not in 0.0.0.0/8,
// 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4. A MAC, when given, is unicast;
// otherwise hosts get 02:00:00:00:00:01 upwards in file order. A gateway
// is on one of the host's subnets. Two hosts never share an address.
//
// # Values
//
// Durations are written as Go writes them (10s, 250ms, 1m30s) or as a bare
// number of seconds (10, 2.5); none is negative. A count (received, size,
// flows, the counters) is 3, ">=3", "<=3", ">3", "<3" or "3..5", within
// 0 to 18446744073709551615. A duration range (rtt) is "20ms..25ms", or
// one duration for an exact value. loss is a probability, 0.05 or "5%". A
// rate is bits per second, 1000000 or with a unit, 64kbit, 10Mbit, 1Gbit
// (or, in a link step, unlimited).
// listen takes tcp/PORT and udp/PORT.
//
// STP timers keep to 802.1D's ranges, hello 1-10s (default 2s), max_age
// 6-40s (20s), forward_delay 4-30s (15s), with 2*(forward_delay-1s) >=
// max_age >= 2*(hello+1s); priority is a multiple of 4096 (default
// 32768). A port's cost defaults to 100, its priority to 128; a port
// whose link leads to a host is an edge port unless edge: false.
//
// # Steps
//
// Each step is exactly one of these; from is always a host (or, in a
// Docker file, a container or client), to a host, host:iface or an IPv4
// address.
//
//   - ping sends count echo requests (default 1), interval apart (default
//     1s), each waiting timeout for its reply (default 2s). It passes with
//     expect: reply (the default) when every probe is answered, no-reply
//     when none is, storm when the run hits its budget; or, with received
//     (instead of expect), when the number of replies is within that count,
//     which must be reachable with count probes. rtt bounds every RTT.
//   - udp sends one datagram to port and waits timeout (default 2s) for it
//     to arrive: expect delivered (default) or not-delivered.
//   - connect tries a TCP handshake to port within timeout (default 4s):
//     expect open (default: a listener answered), refused (an RST) or
//     timeout; seen_from is the client's address as the listener must see
//     it (a host, or an address), its own or the one NAT gave it.
//   - resolve asks from's nameserver (or server, an address or a host,
//     as dig @server) for name, of type A (default), AAAA, MX (the answer
//     names the mail exchangers) or PTR (name is then an address, and the
//     answer names), within timeout (default 2s): expect a list
//     (addresses, or hosts and host:iface for theirs, in any order) or
//     nxdomain, servfail, no-answer (NOERROR without addresses), timeout
//     or refused (an ICMP port unreachable came back: nobody serves DNS
//     there). ttl is every answer record's TTL; flags the answer's
//     header flags, exactly, as dig prints them (qr aa tc rd ra ad cd).
//   - wait lets time pass.
//   - link brings the link at one of its ends up or down, or changes its
//     impairments, or both: the impairments it names (latency, jitter,
//     loss, rate, which may be unlimited, and queue, 0 for the default)
//     change at once in both directions, the others stay as they are.
//   - unplug takes the link at one of its ends away, as pulling its cable
//     out does: both ends lose carrier (a switch forgets what it learned
//     there), frames on the way are lost, and nothing is left for a later
//     step to bring up or change; plug lays a new link, written as an
//     entry of links is, between two ends that are free at its step
//     (never linked, or freed by an unplug or a move), a switch getting
//     the port if it has none (an access port in VLAN 1).
//   - port brings a switch port up or down; move replugs a host
//     interface's link into another, free, switch port; bpdus stops (off)
//     or resumes (on) a switch's BPDUs while its links stay up.
//   - frames counts the frames the link at one of its ends (on) has
//     carried since the run began whose one-line decoding (as --explain's
//     frame lines give it: "vlan 10", "ARP who-has", "ICMP") contains
//     match (empty: every frame), and checks the count (default ">=1").
//   - expect checks state; it has one or more of:
//     fdb, a switch's forwarding database: has and lacks list entries
//     (mac, a MAC or host or host:iface, with port and vlan optional), size
//     counts them, at most max_entries;
//     counters, a switch port's: rx_frames, tx_frames, rx_bytes, tx_bytes,
//     and drops by reason: runt, bad-source, vlan, filtered, port-down,
//     link-local, fdb-full, tx-error, monitor, stp-blocked, bpdu,
//     double-tag (a frame in its port's untagged VLAN that carries
//     another VLAN tag: a VLAN hop refused), isolated (between two
//     isolated ports: a Docker network with enable_icc false);
//     reach, a matrix of who reaches whom among its hosts (one ping each
//     way per pair, timeout 2s);
//     stp, a switch's spanning tree: root (a switch), root_port ("none" on
//     the root), ports with role (root, designated, alternate, backup,
//     disabled) and state (forwarding, learning, listening, blocking,
//     disabled);
//     nat, a Docker host's connection tracking: flows counts them, has
//     lists flows by kind (masquerade, published, hairpin, routed:
//     tracked, not translated, direct routing to a published port or
//     leaving unmasqueraded), proto (tcp,
//     udp, icmp), from and to (hosts or addresses) and TCP state
//     (syn-sent, syn-recv, established, fin-wait, close);
//     ipam, what IPAM gave a Docker network: subnet, gateway, and
//     containers, each container's address on it.
//
// A step's problems are found before anything runs: unknown hosts,
// switches and ports, counts that can never pass, and links as they will
// be when it runs: a link unplugged at step 3 is not there to change at
// step 5, and an end linked already takes no second link.
//
// # Docker scenarios
//
// A file with networks or containers describes Docker's model instead of
// switches and links (which it may not have); its hosts are Docker hosts,
// a name and a LAN address (one host, host1 at 192.168.56.11/24, when
// omitted; several share one LAN, each with its own networks, IPAM,
// gateway and DNS), and its resolvers (dns:, the host's resolv.conf, at
// most 3). Package sim/topo/docker compiles it into switches, a gateway
// node per Docker host and sandboxes.
//
//	hosts: [{name: host1, address: 192.168.56.11/24, dns: [192.168.56.50], allow_direct_routing: false, port_range: 32768-60999}]  # dns: its resolvers; dockerd's allow-direct-routing; port_range: where -p PORT's host ports come from
//	networks:
//	  - {name: mybridge, subnet: 172.18.0.0/16}   # driver: bridge (or none); subnet, gateway, ip_range from IPAM unless given (a static ip needs subnet)
//	  - {name: backend, subnet: 172.30.0.0/24, gateway: 172.30.0.254, ip_range: 172.30.0.128/25, internal: true}
//	  - {name: ov, driver: overlay, hosts: [host1], vni: 4096}  # across Docker hosts: see below
//	  - {name: mv, driver: macvlan, subnet: 192.168.56.0/24, driver_opts: {parent: eth0.10, macvlan_mode: bridge}, aux_addresses: {router: 192.168.56.2}}
//	  - {name: iv, driver: ipvlan, subnets: [10.1.214.0/24], driver_opts: {parent: eth0, ipvlan_mode: l3, ipvlan_flag: bridge}}
//	  - name: quiet                               # docker network create -o, in Docker's keys
//	    driver_opts: {com.docker.network.bridge.enable_icc: "false", com.docker.network.bridge.enable_ip_masquerade: "false", com.docker.network.driver.mtu: "1400"}
//	containers:
//	  - {name: a, networks: [mybridge], host: host1}  # no networks: the default network, bridge; [none]: loopback only; host: default the first
//	  - name: b
//	    networks: [{name: mybridge, ip: 172.18.0.10, aliases: [db]}, backend]
//	    publish: ["8080:80/tcp", "443", "53/udp", "8100-8101:80-81", "127.0.0.1:9090:80"] # no host port: the host's next from its port_range
//	    listen: [tcp/80, udp/53]
//	  - name: c                                   # compose's words work too:
//	    networks: {mybridge: {ipv4_address: 172.18.0.11, aliases: [cache], gw_priority: 1}, backend: }
//	    ports: ["8081:80"]                        # ports is publish (short syntax only)
//	  - name: client                              # on the hosts' LAN
//	    attach: lan
//	    address: 192.168.56.50/24                 # default: the next free
//	    serve: {dns: {outside.test: 192.168.56.50}}  # a DNS server on the client: A for its names, NXDOMAIN for others, aa
//	  - {name: router-client, attach: lan, routes: [{to: 172.18.0.0/16, via: host1}]}  # via a Docker host or an address
//	  - {name: nginx, networks: [host], listen: [tcp/8000]}  # the host's own stack: no sandbox, no other network
//	  - {name: v10, attach: lan, vlan: 10, address: 192.168.10.50/24}  # on an access port of VLAN 10
//	steps:
//	  - resolve: {from: a, name: db, expect: [b], ttl: 600, flags: [qr, rd, ra]} # or nxdomain, servfail, no-answer, timeout, refused
//	  - resolve: {from: a, name: outside.test, expect: [client]}  # not a container's: forwarded to host1's dns
//	  - resolve: {from: a, name: db, server: 172.18.0.1, expect: refused}  # dig @gateway: Docker's gateway serves no DNS
//	  - resolve: {from: a, name: b, type: AAAA, expect: no-answer}
//	  - resolve: {from: a, name: 172.18.0.10, type: PTR, expect: [b.mybridge]}  # as dig -x
//	  - ping: {from: a, to: b}                    # a container's name is looked up by the sender's DNS
//	  - ping: {from: a, to: b:eth0}               # host:iface is the graph's address: no DNS
//	  - connect: {from: client, to: host1, port: 8080, seen_from: client}
//	  - connect: {from: host1, to: 127.0.0.1, port: 8080}  # from the Docker host itself, or from nginx: the same stack
//	  - peers: {host: host1, network: ov, lacks: [a], within: 5s}  # what host1's VTEP learned from the gossip
//	  - network: {connect: backend, container: a, ip: 172.30.0.140, aliases: [api]}  # docker network connect: the next ethN
//	  - network: {disconnect: backend, container: a}  # the interface, its address and its names go at once
//	  - container: {stop: a}                      # its addresses back to IPAM, its names out of DNS
//	  - container: {start: a}                     # asked again: the lowest free
//	  - container: {restart: a}                   # stop, then start
//	  - network: {rm: mybridge, host: host1, expect: refused}  # a and b run on it: Docker refuses
//	  - network: {create: {name: late, subnet: 172.31.0.0/24, internal: true}, host: host1}  # a bridge, made while running
//	  - expect:
//	      nat: {host: host1, flows: ">=1", has: [{kind: published, proto: tcp, from: client, to: b, state: established}]}
//	      ipam: {network: mybridge, subnet: 172.18.0.0/16, gateway: 172.18.0.1, containers: {a: 172.18.0.2}, host: host1}
//
// An overlay network spans Docker hosts (its hosts:, default every host):
// one address space from 10.0.0.0/8 in /24s, a VNI from 4096 (or vni:),
// MTU 1450, names resolvable from every host of it; a container whose
// first network is a non-internal overlay goes out through its host's
// docker_gwbridge. The peers step checks what a host's VTEP learned from
// the control plane (has, lacks: containers), waiting up to within for
// the gossip.
//
// A macvlan or ipvlan network (driver_opts: parent eth0, or eth0.N, an
// 802.1Q sub-interface netyard makes: the LAN switch's port to the host
// becomes a trunk; no parent: an internal network on a dummy) puts its
// containers on the LAN through the host's card, a node of its own
// (host1's is eth0): macvlan children with their own MACs
// (macvlan_mode bridge, private, vepa or passthru), ipvlan children
// with the card's (ipvlan_mode l2 or l3, ipvlan_flag bridge, private or
// vepa; l3 children are NOARP with a default route dev eth0, and the
// card routes between their subnets: subnets lists those after subnet).
// Their subnet may be the LAN's own; an address IPAM hands out that the
// LAN's hosts or clients have is refused (ip_range or aux_addresses keep
// IPAM off it). As in Linux the host cannot reach its children, nor they
// it. One such network per parent, as Docker 20.10. aux_addresses (any
// driver) are reserved in IPAM.
//
// A container's networks, in either form, are eth0, eth1, ... in the order
// written (docker run's network, then docker network connect's); its
// default route, nameserver and published ports come from the one Docker
// sorts first: the highest gw_priority, then not internal, then one with
// a gateway, then by name (an internal network gives no default route).
// Its nameserver: as in Docker, on the default bridge its host's resolvers
// (Docker's fallback, 8.8.8.8 and 8.8.4.4, when the host has no dns:),
// which know no container; on any other network the embedded DNS server
// at 127.0.0.11 in the container's own sandbox, which answers the names
// of the containers sharing a network with it (qr rd ra, TTL 600) and
// forwards the rest to its host's dns from the container's sandbox (they
// cross its bridge, masqueraded), SERVFAIL when none answers within 4s
// each, as current Docker; with no dns on the host, netyard, which has no
// Internet, answers NXDOMAIN for them. The gateway serves no DNS: a query
// to it is refused. A static ip needs the network's subnet given, and
// is not taken on the default bridge (Docker's words); addresses are given out in container
// order, so one an earlier container took is refused. -p on a container
// on internal networks only is ignored, as Docker ignores it. Network
// names bridge, host and none are Docker's own; any other name is taken,
// its bridge br-NAME, or br- and 12 hex digits of its ID (the SHA-256 of
// the name) when br-NAME is not a valid Linux device name. Every network
// is made on every Docker host; with several hosts their bridges are
// named after them (host2.br-mybridge). ipam's host is whose view it
// checks (default the first).
//
// Steps may run from a Docker host (from: host1): from its own stack,
// the gateway's, which reaches its containers' addresses over its bridge
// legs and a published port at 127.0.0.1 or at its own address, as
// Docker's OUTPUT rules and docker-proxy do (the container sees the
// gateway's address on its network). A container on the host network is
// that stack: its listen ports are the host's, steps from it run from
// the host, its name stands for the host's address, its publish is
// discarded with Docker's warning, and it has no other network (Docker's
// words refuse one). A LAN client's routes lead to a bridge's subnet via
// a Docker host; what it sends there straight to a container reaches a
// published port only when the host allows direct routing
// (allow_direct_routing, dockerd's allow-direct-routing, off by default
// as in Docker 28.2 and later), an unpublished one never.
//
// Docker changes while it runs. network creates a bridge network (create,
// written as an entry of networks is), connects a container to a network
// (ip: a static address, on a network whose subnet the file gives;
// aliases), disconnects it, or removes a network (create and rm on host,
// default the first Docker host); container stops, starts or restarts
// one. A connect gives a running container the next interface of its
// sandbox (eth1, then eth2 after a disconnect, as Docker 20.10 numbers
// them), an address from the host's IPAM and its names in DNS at once; a
// disconnect or a stop takes them away. IPAM hands out the lowest free
// address, so a start may get another address than the stop gave back.
// Only bridge networks change at run time (overlays and the other
// drivers are refused); a stop takes a container's published ports
// away (clients are refused) and a start publishes them again. What Docker would refuse is a problem of the file, in
// Docker's words, except a network's rm with expect: refused, which
// passes when Docker refuses it (running containers on it).
//
// A destination that does not resolve is not tried: ping passes only with
// expect: no-reply, udp only with not-delivered, connect never.
//
// # YAML
//
// A file is one YAML document of at most MaxFileSize bytes. Anchors,
// aliases and merge keys (<<) work as in any YAML; a key given twice is
// refused. Top-level fields whose names start with x- are ignored, as
// compose's extension fields are, to hold anchors:
//
//	x-slow: &slow {latency: 50ms, loss: 1%}
//	links: [{<<: *slow, ends: [h1, s1]}]
//
// The YAML is only a front end: the same topology can be built as a
// topo.Graph and driven from Go through sim/mem.
package scenario
