package fabric

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/netyard/netyard/dnsd"
	"github.com/netyard/netyard/internal/header"
	"github.com/netyard/netyard/internal/link"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/netdb"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/switch/vxlan"
)

// GossipPort is the control plane's UDP port (Docker's swarm gossip).
const GossipPort = 7946

// overlay is a Docker host's part of its overlay networks: a VTEP per
// network behind one VXLAN socket on the host's own stack (so the outer
// packets cross the LAN, and the pcaps), and the control plane, a
// NetworkDB on UDP 7946 of the same stack, whose peer table programs the
// VTEPs and whose endpoint table feeds the host's DNS. Everything runs
// on the gateway's Loop.
type overlay struct {
	host   string
	mux    *vxlan.Mux
	vteps  map[string]*vxlan.VTEP // by network
	db     *netdb.DB
	dns    *dnsd.Server
	swarm  map[string]netip.Addr // member -> its address
	self   netip.Addr
	locals []topo.RouterOverlay
}

// outRecv hands what a VTEP decapsulates to its port's Out.
type outRecv struct{ o *link.Out }

func (r outRecv) Receive(fr []byte) error                        { return r.o.Send(fr) }
func (r outRecv) ReceiveOffload(fr []byte, o link.Offload) error { return r.o.SendOffload(fr, o) }
func (r outRecv) Carrier(up bool)                                { r.o.Carrier(up) }

// stackTransport sends VXLAN packets from a UDP socket of a host stack.
type stackTransport struct{ c *stack.UDPConn }

func (t stackTransport) Send(dst netip.AddrPort, pkt []byte) error { return t.c.SendTo(dst, pkt) }

// addOverlays builds h's VTEPs on ports numbered from first, returning
// their ports by interface name and an input for them (by port number
// less first).
func (f *Fabric) addOverlays(node *Gateway, h topo.Host, host *stack.Host, dns *dnsd.Server, first int) (func(i int, fr []byte, o link.Offload), error) {
	r := h.Router
	clk := node.Clock()
	self := h.Iface(r.LAN).Addr.Addr()
	ov := &overlay{host: h.Name, vteps: map[string]*vxlan.VTEP{}, dns: dns, swarm: map[string]netip.Addr{h.Name: self}, self: self, locals: r.Overlays}
	for _, m := range r.Swarm {
		ov.swarm[m.Host] = m.Addr
	}
	vx, err := host.ListenUDP(header.VXLANPort)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: vxlan: %w", h.Name, err)
	}
	ov.mux = vxlan.NewMux(stackTransport{vx}, vxlan.Options{Clock: clk, Tracer: f.opts.Tracer, Node: h.Name})
	vx.OnRecv = func(src, _ netip.AddrPort, pkt []byte) { ov.mux.Input(src, pkt) }
	var byIdx []*vxlan.VTEP
	for k, o := range r.Overlays {
		v, err := ov.mux.Add(vxlan.Config{Name: o.Iface, VNI: o.VNI, ProxyARP: true})
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %s: %w", h.Name, o.Iface, err)
		}
		p := node.Port(first+k, func(up bool) { v.Carrier(up) })
		v.Attach(outRecv{&p.Out})
		node.ports[o.Iface] = p
		ov.vteps[o.Network] = v
		byIdx = append(byIdx, v)
	}
	gc, err := host.ListenUDP(GossipPort)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: gossip: %w", h.Name, err)
	}
	db, err := netdb.New(netdb.Config{
		Name: h.Name, Addr: netip.AddrPortFrom(self, GossipPort), Clock: clk,
		Rand: sim.Stream(f.opts.Seed, h.Name, "gossip"), Tracer: f.opts.Tracer,
		Send:     gc.SendTo,
		Accept:   ov.accept,
		OnChange: ov.changed,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", h.Name, err)
	}
	gc.OnRecv = func(src, _ netip.AddrPort, msg []byte) { db.Input(src, msg) }
	ov.db = db
	node.overlay = ov
	f.build.OnStart(func() { node.Do(ov.start) })
	return func(i int, fr []byte, o link.Offload) { _ = byIdx[i].ReceiveOffload(fr, o) }, nil
}

// start joins the cluster and announces the host's own endpoints.
func (ov *overlay) start() {
	var seeds []netip.AddrPort
	for _, m := range slices.Sorted(maps.Keys(ov.swarm)) {
		if m != ov.host {
			seeds = append(seeds, netip.AddrPortFrom(ov.swarm[m], GossipPort))
		}
	}
	for _, o := range ov.locals {
		_ = ov.db.JoinNetwork(o.Network)
		for _, e := range o.Endpoints {
			if b, err := (netdb.PeerRecord{Container: e.Container, IP: e.Addr, MAC: header.MAC(e.MAC), VTEP: ov.self}).Marshal(); err == nil {
				_ = ov.db.Put(o.Network, netdb.PeerTable, e.Container, b)
			}
			if b, err := (netdb.EndpointRecord{Container: e.Container, IP: e.Addr, Aliases: e.Aliases}).Marshal(); err == nil {
				_ = ov.db.Put(o.Network, netdb.EndpointTable, e.Container, b)
			}
		}
	}
	ov.db.Join(seeds)
}

// accept refuses a peer record whose VTEP is not its owner's address: a
// host may announce only containers behind itself.
func (ov *overlay) accept(e netdb.Entry) string {
	if e.Table != netdb.PeerTable || e.Deleted {
		return ""
	}
	var pr netdb.PeerRecord
	if err := pr.Unmarshal(e.Value); err != nil {
		return fmt.Sprintf("a peer record that does not decode: %v", err)
	}
	if a, ok := ov.swarm[e.Owner]; !ok {
		return fmt.Sprintf("%s is not a member of the swarm", e.Owner)
	} else if pr.VTEP != a {
		return fmt.Sprintf("%s claims %s behind VTEP %s, which is not its address %s", e.Owner, pr.Container, pr.VTEP, a)
	}
	return ""
}

// changed programs the data plane from the tables: a remote peer's MAC
// and address into the VTEP, a remote endpoint's names into the DNS.
func (ov *overlay) changed(c netdb.Change) {
	e, del := c.Entry, c.Op == netdb.OpDelete
	if e.Owner == ov.host {
		return
	}
	switch e.Table {
	case netdb.PeerTable:
		v := ov.vteps[e.Network]
		if v == nil {
			return
		}
		var pr netdb.PeerRecord
		if err := pr.Unmarshal(e.Value); err != nil {
			return
		}
		if del {
			v.RemovePeer(pr.MAC)
			return
		}
		_ = v.AddPeer(vxlan.Peer{IP: pr.IP, MAC: pr.MAC, VTEP: pr.VTEP})
	case netdb.EndpointTable:
		var er netdb.EndpointRecord
		if err := er.Unmarshal(e.Value); err != nil {
			return
		}
		if del {
			ov.dns.Remove(e.Network, er.Container)
			return
		}
		ov.dns.Add(e.Network, er.Container, er.IP, er.Aliases...)
	}
}

// Peers returns the VTEP peers of Docker host host on overlay network,
// as its data plane has them.
func (f *Fabric) Peers(host, network string) ([]vxlan.Peer, error) {
	g := f.Gateway(host)
	if g == nil {
		return nil, fmt.Errorf("%w Docker host %q", ErrUnknown, host)
	}
	if g.overlay == nil || g.overlay.vteps[network] == nil {
		return nil, fmt.Errorf("%w overlay %q on %s", ErrUnknown, network, host)
	}
	var out []vxlan.Peer
	g.Do(func() { out = g.overlay.vteps[network].Peers() })
	return out, nil
}

// Members returns the cluster members Docker host host's control plane
// knows, with their states.
func (f *Fabric) Members(host string) ([]netdb.Member, error) {
	g := f.Gateway(host)
	if g == nil || g.overlay == nil {
		return nil, fmt.Errorf("%w Docker host %q on an overlay", ErrUnknown, host)
	}
	var out []netdb.Member
	g.Do(func() { out = g.overlay.db.Members() })
	return out, nil
}
