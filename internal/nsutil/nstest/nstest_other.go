//go:build !linux

package nstest

import (
	"os"
	"testing"
)

// Main runs the tests of m and exits: off Linux there is no sandbox, and
// the privileged tests skip.
func Main(m *testing.M) { os.Exit(m.Run()) }

// Inside reports false: off Linux there is no sandbox.
func Inside() bool { return false }
