package fabric

import (
	"os"
	"testing"

	"github.com/netyard/netyard/internal/leak"
)

// TestMain fails the run when a goroutine (a serialised gateway's loop)
// outlives the tests.
func TestMain(m *testing.M) { os.Exit(leak.Run(m)) }
