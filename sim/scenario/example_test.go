package scenario_test

import (
	"fmt"
	"time"

	"github.com/netyard/netyard/sim/scenario"
)

// A step's action is one typed value per kind: a program reads it with a
// type switch, and can append steps of its own before Run.
func ExampleStep() {
	src := `switches: [{name: s1}]
hosts: [{name: h1, address: 10.0.0.1/24}, {name: h2, address: 10.0.0.2/24}]
links: [h1 -- s1:p1, h2 -- s1:p2]
steps:
  - ping: {from: h1, to: h2}
  - link: {at: h2:eth0, latency: 50ms}
  - unplug: {at: s1:p2}
  - plug: h2 -- s1:p3
`
	f, err := scenario.Parse("example.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	wait := scenario.WaitStep(time.Second)
	f.Steps = append(f.Steps, scenario.Step{Name: "settle", Action: &wait})
	for _, s := range f.Steps {
		switch a := s.Action.(type) {
		case *scenario.PingStep:
			fmt.Println(s.Kind(), a.From, "to", a.To)
		case *scenario.LinkStep:
			fmt.Println(s.Kind(), a.At, *a.Latency)
		case *scenario.PlugStep:
			fmt.Println(s.Kind(), a.Ends[0], "--", a.Ends[1])
		default:
			fmt.Println(s.Kind())
		}
	}
	fmt.Println(scenario.StepKinds())
	// Output:
	// ping h1 to h2
	// link h2:eth0 50ms
	// unplug
	// plug h2 -- s1:p3
	// wait
	// [ping udp wait link unplug plug network container port move bpdus frames connect resolve peers expect]
}
