package netdb

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/netyard/netyard/internal/header"
)

// The two tables the overlay driver uses, named as libnetwork names them.
const (
	// PeerTable holds one PeerRecord per container on an overlay
	// network, keyed by container name: what a VTEP needs to reach it.
	PeerTable = "overlay_peer_table"
	// EndpointTable holds one EndpointRecord per container, keyed by
	// container name: what the DNS server of another host needs.
	EndpointTable = "endpoint_table"
)

// PeerRecord is a peer-table value: a container on an overlay network and
// the VTEP (its Docker host's underlay address) behind which it sits.
type PeerRecord struct {
	Container string
	IP        netip.Addr
	MAC       header.MAC
	VTEP      netip.Addr
}

// EndpointRecord is an endpoint-table value: a container's name, address
// and aliases on a network, for name resolution from every host.
type EndpointRecord struct {
	Container string
	IP        netip.Addr
	Aliases   []string
}

var errRecord = errors.New("bad record")

// Marshal encodes the record: the container's name, its IP, its MAC, the
// VTEP's address (names length-prefixed, addresses by length 4 or 16).
func (r PeerRecord) Marshal() ([]byte, error) {
	if err := checkRecord(r.Container, r.IP); err != nil {
		return nil, err
	}
	if !r.VTEP.IsValid() {
		return nil, fmt.Errorf("netdb: peer record of %s: no VTEP address", r.Container)
	}
	b := appendStr(nil, r.Container)
	b = appendAddr(b, r.IP)
	b = append(b, r.MAC[:]...)
	return appendAddr(b, r.VTEP), nil
}

// Unmarshal decodes what Marshal encoded.
func (r *PeerRecord) Unmarshal(b []byte) error {
	d := decoder{b: b}
	c := d.str(MaxKey, false)
	ip := d.addr()
	mac := d.bytes(6)
	vtep := d.addr()
	if err := d.done(); err != nil {
		return fmt.Errorf("netdb: peer record: %w", err)
	}
	if !ip.IsValid() || !vtep.IsValid() {
		return fmt.Errorf("netdb: peer record: %w: no address", errRecord)
	}
	*r = PeerRecord{Container: c, IP: ip, MAC: header.MAC(mac), VTEP: vtep}
	return nil
}

// Marshal encodes the record: the container's name, its IP, then a count
// and the aliases.
func (r EndpointRecord) Marshal() ([]byte, error) {
	if err := checkRecord(r.Container, r.IP); err != nil {
		return nil, err
	}
	if len(r.Aliases) > 32 {
		return nil, fmt.Errorf("netdb: endpoint record of %s: %d aliases, at most 32", r.Container, len(r.Aliases))
	}
	b := appendStr(nil, r.Container)
	b = appendAddr(b, r.IP)
	b = append(b, byte(len(r.Aliases)))
	for _, a := range r.Aliases {
		if a == "" || len(a) > MaxKey {
			return nil, fmt.Errorf("netdb: endpoint record of %s: alias %q: empty or longer than %d bytes", r.Container, a, MaxKey)
		}
		b = appendStr(b, a)
	}
	if len(b) > MaxValue {
		return nil, fmt.Errorf("netdb: endpoint record of %s: %d bytes, at most %d", r.Container, len(b), MaxValue)
	}
	return b, nil
}

// Unmarshal decodes what Marshal encoded.
func (r *EndpointRecord) Unmarshal(b []byte) error {
	d := decoder{b: b}
	c := d.str(MaxKey, false)
	ip := d.addr()
	n := int(d.u8())
	var aliases []string
	for i := 0; i < n && d.err == nil; i++ {
		aliases = append(aliases, d.str(MaxKey, false))
	}
	if err := d.done(); err != nil {
		return fmt.Errorf("netdb: endpoint record: %w", err)
	}
	if !ip.IsValid() {
		return fmt.Errorf("netdb: endpoint record: %w: no address", errRecord)
	}
	*r = EndpointRecord{Container: c, IP: ip, Aliases: aliases}
	return nil
}

func checkRecord(name string, ip netip.Addr) error {
	if name == "" || len(name) > MaxKey {
		return fmt.Errorf("netdb: record: container name %q: empty or longer than %d bytes", name, MaxKey)
	}
	if !ip.IsValid() {
		return fmt.Errorf("netdb: record of %s: no IP address", name)
	}
	return nil
}

// done reports the first error, or trailing bytes.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail(errTrailing)
	}
	return d.err
}
