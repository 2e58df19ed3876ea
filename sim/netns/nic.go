package netns

// A Docker host with macvlan or ipvlan networks has its network card as
// a node of netyard's own (topo.NICKind); every world that runs Docker
// models builds it, so the backend brings its registration along.
import _ "github.com/netyard/netyard/sim/kinds/nic"
