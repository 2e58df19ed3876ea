package mem

import "github.com/netyard/netyard/internal/stack"

// Stack returns a simulated host's stack, for tests that drive it below
// the probes.
func (n *Network) Stack(name string) *stack.Host { return n.host(name) }
