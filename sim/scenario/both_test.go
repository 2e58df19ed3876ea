package scenario_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/netyard/netyard/internal/leak"
	"github.com/netyard/netyard/sim/scenario"
)

// TestBothWorlds runs every scenario in mem and in real network namespaces
// and checks that every step passes in both, with the same verdicts.
func TestBothWorlds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the netns backend needs Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the netns backend creates network namespaces and TAP devices (make test runs it as root in CI)")
	}
	if testing.Short() {
		t.Skip("-short: the netns runs take about a minute of wall time")
	}
	leak.Check(t) // after every subtest: the netns runs leave no goroutine behind
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rep, err := scenario.Run(f, scenario.Options{Backend: "both", Out: &out})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Errorf("%s:\n%s", path, out.String())
			}
		})
	}
}
