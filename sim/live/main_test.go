package live_test

import (
	"os"
	"testing"

	"github.com/netyard/netyard/internal/leak"
)

// TestMain checks that no test leaves a goroutine behind: the server's
// streams and subscribers end with their requests and Close.
func TestMain(m *testing.M) { os.Exit(leak.Run(m)) }
