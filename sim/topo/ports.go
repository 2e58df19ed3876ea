package topo

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// PortMapping is a published port, as docker run -p writes it. HostPort 0
// leaves the host port to the Docker host's port allocator (its range,
// PortAllocator); HostPortEnd above HostPort is a range the allocator picks
// the host port from ("8000-8010:80"). HostIP, when set, is the one host
// address the port is published on ("127.0.0.1:8080:80"); unset, it is
// published on all of them (0.0.0.0), as Docker does.
type PortMapping struct {
	Proto         string // tcp or udp
	HostPort      uint16
	ContainerPort uint16
	HostIP        netip.Addr
	HostPortEnd   uint16 // 0, or above HostPort: a range to pick from
}

// String returns the mapping as ParsePortMapping reads it: "8080:80/tcp",
// "127.0.0.1:8080:80/tcp", "8000-8010:80/tcp", "127.0.0.1::80/tcp", or
// "80/tcp" without a host port or address.
func (m PortMapping) String() string {
	host := ""
	if m.HostPort != 0 {
		host = strconv.Itoa(int(m.HostPort))
		if m.HostPortEnd > m.HostPort {
			host += "-" + strconv.Itoa(int(m.HostPortEnd))
		}
	}
	switch {
	case m.HostIP.IsValid():
		return fmt.Sprintf("%s:%s:%d/%s", m.HostIP, host, m.ContainerPort, m.Proto)
	case host != "":
		return fmt.Sprintf("%s:%d/%s", host, m.ContainerPort, m.Proto)
	}
	return fmt.Sprintf("%d/%s", m.ContainerPort, m.Proto)
}

// ParsePortMapping reads one mapping: "8080:80/tcp", "8080:80", "80/udp",
// "80", with a host address in front ("127.0.0.1:8080:80",
// "127.0.0.1::80"), or a host range for one container port
// ("8000-8010:80"). A range of container ports is ParsePortSpec's.
func ParsePortMapping(s string) (PortMapping, error) {
	ms, err := ParsePortSpec(s)
	if err != nil {
		return PortMapping{}, err
	}
	if len(ms) != 1 {
		return PortMapping{}, fmt.Errorf("publish %q: %d ports, want one", s, len(ms))
	}
	return ms[0], nil
}

// maxPortSpec bounds the mappings one spec expands to: a spec of every
// port is a mistake, not a publish.
const maxPortSpec = 1024

// ParsePortSpec reads a publish as docker run -p does
// ([[IP:][HOSTPORT[-END]]:]PORT[-END][/tcp|udp], go-connections'
// nat.ParsePortSpec), into one mapping per container port: "8000-8010:80-90"
// is 8000:80, 8001:81, ... 8010:90. A host range for a single container port
// is a range to pick from. The two ranges must be as long, with Docker's
// words when they are not.
func ParsePortSpec(s string) ([]PortMapping, error) {
	bad := func(format string, a ...any) ([]PortMapping, error) {
		return nil, fmt.Errorf("publish %q: %s", s, fmt.Sprintf(format, a...))
	}
	spec, proto, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return bad("protocol %q, want tcp or udp", proto)
	}
	var ipPart, hostPart, ctrPart string
	switch parts := strings.Split(spec, ":"); len(parts) {
	case 1:
		ctrPart = parts[0]
	case 2:
		hostPart, ctrPart = parts[0], parts[1]
	case 3:
		ipPart, hostPart, ctrPart = parts[0], parts[1], parts[2]
	default:
		return bad("want [IP:][HOSTPORT:]PORT[/tcp|udp]")
	}
	var ip netip.Addr
	if ipPart != "" {
		a, err := netip.ParseAddr(ipPart)
		if err != nil || !a.Is4() || a.Zone() != "" {
			return bad("invalid IP address: %s (netyard publishes on IPv4 addresses)", ipPart)
		}
		if !a.IsUnspecified() { // 0.0.0.0 is every address, as none
			ip = a
		}
	}
	cFirst, cLast, ok := portRange(ctrPart)
	if !ok {
		return bad("invalid containerPort: %s (want a port or a range of ports, 1-65535)", ctrPart)
	}
	var hFirst, hLast uint16
	if hostPart != "" {
		if hFirst, hLast, ok = portRange(hostPart); !ok {
			return bad("invalid hostPort: %s (want a port or a range of ports, 1-65535)", hostPart)
		}
		if hLast-hFirst != cLast-cFirst && cLast != cFirst {
			return bad("invalid ranges specified for container and host Ports: %s and %s", ctrPart, hostPart)
		}
	}
	n := int(cLast-cFirst) + 1
	if n > maxPortSpec {
		return bad("%d ports; netyard publishes at most %d in one spec", n, maxPortSpec)
	}
	out := make([]PortMapping, 0, n)
	for i := range n {
		m := PortMapping{Proto: proto, ContainerPort: cFirst + uint16(i), HostIP: ip}
		if hostPart != "" {
			m.HostPort = hFirst + uint16(i)
			if n == 1 && hLast > hFirst {
				m.HostPortEnd = hLast
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// portRange reads "80" or "80-90".
func portRange(s string) (first, last uint16, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	port := func(t string) (uint16, bool) {
		n, err := strconv.ParseUint(t, 10, 16)
		return uint16(n), err == nil && n >= 1
	}
	if first, ok = port(a); !ok {
		return 0, 0, false
	}
	last = first
	if isRange {
		if last, ok = port(b); !ok || last < first {
			return 0, 0, false
		}
	}
	return first, last, true
}

// Linux's net.ipv4.ip_local_port_range, the range a Docker host hands
// published ports out of when none is given (Docker reads it from /proc;
// 49153-65535 is only its fallback when it cannot).
const (
	DefaultPortFirst = 32768
	DefaultPortLast  = 60999
)

// PortAllocator hands out one Docker host's published host ports as
// Docker's port allocator does (moby daemon/libnetwork/portallocator):
// per protocol and host address, where a port taken on all addresses
// (the zero address, 0.0.0.0) is taken on each of them and the other way
// round. A port left to it comes from First-Last (or the mapping's own
// range), the one after the last it handed out from that range for that
// protocol and address, wrapping round: a freed port is not handed out
// again until the others have been. The zero value is not usable; it is
// safe for concurrent use.
type PortAllocator struct {
	First, Last uint16
	mu          sync.Mutex
	used        map[portUse]bool      // guarded by mu
	last        map[portCursor]uint16 // guarded by mu
}

type portUse struct {
	proto string
	ip    netip.Addr // zero: all addresses
	port  uint16
}

type portCursor struct {
	proto       string
	ip          netip.Addr
	first, last uint16
}

// NewPortAllocator returns an allocator for the range first-last.
func NewPortAllocator(first, last uint16) *PortAllocator {
	return &PortAllocator{First: first, Last: last, used: map[portUse]bool{}, last: map[portCursor]uint16{}}
}

// takenLocked reports whether port is taken for proto on ip.
func (a *PortAllocator) takenLocked(proto string, ip netip.Addr, port uint16) bool {
	if a.used[portUse{proto, ip, port}] || a.used[portUse{proto, netip.Addr{}, port}] {
		return true
	}
	if !ip.IsValid() {
		for u := range a.used { // bounded by the ports handed out
			if u.proto == proto && u.port == port {
				return true
			}
		}
	}
	return false
}

// Request takes a host port for proto on ip (zero: all addresses): port
// itself when end is 0 or port, one from port-end when end is above it,
// one from the allocator's range when port is 0. The error of a port taken
// is Docker's.
func (a *PortAllocator) Request(proto string, ip netip.Addr, port, end uint16) (uint16, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if port != 0 && end <= port {
		if a.takenLocked(proto, ip, port) {
			return 0, &PortAllocatedError{IP: ip, Port: port}
		}
		a.used[portUse{proto, ip, port}] = true
		return port, nil
	}
	first, last := a.First, a.Last
	if port != 0 {
		first, last = port, end
	}
	cur := portCursor{proto, ip, first, last}
	p, ok := a.last[cur]
	if !ok {
		p = last
	}
	for range int(last-first) + 1 {
		if p++; p > last || p < first {
			p = first
		}
		if !a.takenLocked(proto, ip, p) {
			a.used[portUse{proto, ip, p}] = true
			a.last[cur] = p
			return p, nil
		}
	}
	return 0, fmt.Errorf("all ports are allocated (%d-%d/%s)", first, last, proto)
}

// PortAllocatedError is a host port asked for that is taken, in Docker's
// words.
type PortAllocatedError struct {
	IP   netip.Addr // zero: all addresses
	Port uint16
}

func (e *PortAllocatedError) Error() string {
	bind := "0.0.0.0"
	if e.IP.IsValid() {
		bind = e.IP.String()
	}
	return "Bind for " + bind + ":" + strconv.Itoa(int(e.Port)) + " failed: port is already allocated"
}

// Release frees a port Request handed out.
func (a *PortAllocator) Release(proto string, ip netip.Addr, port uint16) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, portUse{proto, ip, port})
}
