package topo

import (
	"net/netip"

	vswitch "github.com/netyard/netyard/switch"
)

// NICKind is the kind of a Docker host's network card as a node of its
// own: what a host with macvlan or ipvlan networks has between the LAN
// switch and its gateway's LAN leg (package switch/macvlan forwards for
// it; sim/kinds/nic registers it). Its interfaces are ports with no
// address: NICWire to the LAN switch, NICHost to the gateway's eth0, and
// one per child (a container's interface on a macvlan or ipvlan network).
// Its Spec is a *NIC.
const NICKind = "nic"

// The NIC node's fixed ports.
const (
	NICWire = "wire" // the cable to the LAN switch
	NICHost = "host" // the host's own stack: the gateway's eth0
)

// NIC is the plan of a NIC node.
type NIC struct {
	// MAC is the card's address: the gateway's eth0 has it, and so do
	// the ipvlan children, which share their parent's.
	MAC vswitch.MAC
	// Host and HostAddr are the Docker host and its own address on the
	// card, for narration.
	Host     string
	HostAddr netip.Addr
	// Children are the containers' interfaces hanging off the card, in
	// port order after NICWire and NICHost.
	Children []NICChild
}

// NICChild is a container's interface on a macvlan or ipvlan network.
type NICChild struct {
	Port      string       // the NIC node's port the child's link ends at
	Container string       // the container, for narration
	Network   string       // its Docker network
	Parent    string       // eth0, eth0.10 (an 802.1Q sub-interface), or dm-NAME/di-NAME (a dummy)
	VLAN      uint16       // the sub-interface's VLAN ID; 0: untagged
	Dummy     bool         // the parent is a dummy (a network with no parent): no wire
	Driver    string       // macvlan or ipvlan
	Mode      string       // macvlan: bridge, private, vepa, passthru; ipvlan: l2, l3
	Flag      string       // ipvlan: bridge, private, vepa
	MAC       vswitch.MAC  // its own (macvlan) or the card's (ipvlan)
	Addr      netip.Prefix // its address
}
