package tracetest_test

import (
	"slices"
	"testing"

	"github.com/netyard/netyard/internal/trace"
	"github.com/netyard/netyard/internal/trace/tracetest"
)

// TestEveryOpKnown: Missing knows the fields of every op, so a new op
// gets its fields checked wherever events are.
func TestEveryOpKnown(t *testing.T) {
	for _, o := range trace.Ops() {
		if miss := tracetest.Missing(trace.Event{Node: "n", Kind: trace.Host, Op: o}); slices.Contains(miss, "Op") {
			t.Errorf("Missing does not know op %s", o)
		}
	}
}

func TestMissing(t *testing.T) {
	for _, c := range []struct {
		name string
		e    trace.Event
		want []string
	}{
		{"complete", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpTCAck, Port: "p1", Bridge: "8000.020000000001"}, nil},
		{"a field short", trace.Event{Node: "s1", Kind: trace.STP, Op: trace.OpTCAck, Port: "p1"}, []string{"Bridge"}},
		{"a kind without ops", trace.Event{Node: "s1", Kind: trace.Learned, Port: "p1", VLAN: 1}, []string{"Src"}},
		{"a sentence instead of fields", trace.Event{Node: "h", Kind: trace.Host, Detail: "something"}, []string{"Op"}},
		{"no node", trace.Event{Kind: trace.STP, Op: trace.OpBPDUStopped}, []string{"Node"}},
	} {
		if got := tracetest.Missing(c.e); !slices.Equal(got, c.want) {
			t.Errorf("%s: Missing = %v, want %v", c.name, got, c.want)
		}
	}
}
