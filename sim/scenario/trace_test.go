package scenario_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
	"github.com/netyard/netyard/sim"
	"github.com/netyard/netyard/sim/scenario"
)

// TestTraceJSONCarriesFields: in every scenario's --trace-json, each line
// decodes to an event with every field its op or kind promises (so no
// program has to read detail), and detail is the narrated sentence.
func TestTraceJSONCarriesFields(t *testing.T) {
	ops := map[trace.Op]int{}
	for _, path := range files(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			f, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var tj bytes.Buffer
			if _, err := scenario.Run(f, scenario.Options{TraceJSON: &tj}); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&tj)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var r trace.Record
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%s: %v", sc.Text(), err)
				}
				e := r.ToEvent(sim.Epoch)
				typed := e
				typed.Detail = ""
				if miss := tracetest.Missing(typed); len(miss) > 0 {
					t.Errorf("%s: missing %v", sc.Text(), miss)
				}
				if d := trace.Text(typed); e.Detail != d {
					t.Errorf("%s: detail is not the sentence %q", sc.Text(), d)
				}
				ops[e.Op]++
			}
		})
	}
	// The scenarios exercise most ops; the others have node tests.
	for _, o := range []trace.Op{trace.OpARPRequest, trace.OpARPReply, trace.OpARPResolved, trace.OpARPFailed,
		trace.OpEchoRequest, trace.OpEchoAnswered, trace.OpEchoReply, trace.OpICMPError,
		trace.OpUDPSent, trace.OpUDPReceived, trace.OpUDPUnreachable, trace.OpDNSQuery, trace.OpDNSAnswer,
		trace.OpTCPSent, trace.OpTCPReceived, trace.OpTCPNoRoute, trace.OpCarrier, trace.OpAdmin,
		trace.OpClaimsRoot, trace.OpRoot, trace.OpRole, trace.OpState, trace.OpTCNotify, trace.OpTC, trace.OpHello,
		trace.OpTCNReceived, trace.OpTCAck, trace.OpMaxAge, trace.OpBPDUStopped} {
		if ops[o] == 0 {
			t.Errorf("no scenario traced a %s event", o)
		}
	}
}
