package topo

import "github.com/netyard/netyard/internal/registry"

// A NodeKind is a registered kind of node, as configuration: what its own
// settings are and how they are checked. Its runtime half registers with
// the fabric (fabric.Register); both are done by the kind's registration
// package, so adding a kind touches nothing here.
type NodeKind struct {
	// New returns an empty spec: a pointer to a struct a loader fills
	// from the node's own fields (scenario files read its yaml tags).
	New func() any
	// Compile checks a filled spec against the node's interfaces and
	// returns what Host.Spec holds for the node. bad records a problem
	// at a field of the spec, as a path relative to the node
	// ("routes[1].via"); a spec with problems may return anything.
	Compile func(spec any, ifaces []Iface, bad func(field, format string, args ...any)) any
}

var kinds = registry.New[NodeKind]("topo: kind", nil)

// RegisterKind makes a kind of node known to loaders. It panics on a kind
// registered twice or one of the kinds that are not registered (a program
// error, found at init).
func RegisterKind(name string, k NodeKind) {
	if name == SandboxKind || name == GatewayKind || name == SwitchKind || k.New == nil || k.Compile == nil {
		panic("topo: kind " + name + " is reserved or incomplete")
	}
	kinds.Add(name, k)
}

// LookupKind returns the registered kind named name.
func LookupKind(name string) (NodeKind, bool) { return kinds.Get(name) }

// KindNames returns the registered kinds, sorted.
func KindNames() []string { return kinds.Names() }
