package live

import (
	"fmt"
	"io"

	"github.com/netyard/netyard/sim/fabric"
)

// Inspection is everything a world shows (docs/live/api.md, Inspect).
type Inspection struct {
	Networks   []any `json:"networks"`
	Containers []any `json:"containers"`
	Switches   []any `json:"switches"`
	Gateways   []any `json:"gateways"`
	Hosts      []any `json:"hosts"`
	Links      []any `json:"links"`
}

// Inspect reads everything of the running world w. The caller holds
// whatever keeps w still (the mem world's lock).
func Inspect(w *fabric.Fabric) Inspection { return Inspection{} }

// InspectOne reads one thing of w by name: a Docker network (its name or
// its bridge's), a switch, a container or host, a gateway, a link
// (A:IF). An unknown name is ErrNotFound.
func InspectOne(w *fabric.Fabric, name string) (any, error) {
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// WriteText writes v (an Inspection or what InspectOne returned) as the
// tables a person reads.
func WriteText(out io.Writer, v any) error { return nil }
