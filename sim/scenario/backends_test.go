package scenario_test

// The backends register themselves; the runner imports none.
import (
	_ "github.com/netyard/netyard/sim/mem"
	_ "github.com/netyard/netyard/sim/netns"
)
