package scenario_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/netyard/netyard/sim/scenario"
)

// FuzzRun parses whatever it is given as a scenario and, if it is one,
// runs it in memory twice, under a small budget: nothing panics, and the
// two runs give the same report and trace.
func FuzzRun(f *testing.F) {
	for _, path := range files(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("switches: [{name: s1}]\nhosts: [{name: h1, address: 10.0.0.1/24}, {name: h2, address: 10.0.0.2/24}]\nlinks: [h1 -- s1, h2 -- s1]\nsteps: [{ping: {from: h1, to: h2}}, {wait: 1h}, {expect: {reach: {h1: [h2], h2: [h1]}}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := scenario.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if file.Budget == 0 || file.Budget > 200_000 {
			file.Budget = 200_000
		}
		var reports [2][]byte
		var traces [2]bytes.Buffer
		for i := range reports {
			rep, err := scenario.Run(file, scenario.Options{Explain: &traces[i], Out: &traces[i]})
			if err != nil {
				return // a file that validates but a backend refuses: reported, not a panic
			}
			reports[i], _ = json.Marshal(rep)
		}
		if !bytes.Equal(reports[0], reports[1]) || !bytes.Equal(traces[0].Bytes(), traces[1].Bytes()) {
			t.Fatalf("two runs of the same file differ:\n%s\n%s", reports[0], reports[1])
		}
	})
}
