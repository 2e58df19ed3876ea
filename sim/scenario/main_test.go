package scenario_test

import (
	"testing"

	"github.com/netyard/netyard/internal/nsutil/nstest"
)

// TestMain runs the package's tests, as root, in a throwaway mount and
// network namespace: the netns runs of TestBothWorlds make their TAP
// devices and namespaces there, never beside the host's.
func TestMain(m *testing.M) { nstest.Main(m) }
