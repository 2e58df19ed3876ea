package scenario

import (
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Step is one step as written: an optional name and exactly one action,
// whose kind is the YAML key it is written under (ping, udp, wait, link,
// ...).
type Step struct {
	Name string `yaml:"name"` // a label for the report
	// Action is what the step does: a *PingStep, *UDPStep, *WaitStep,
	// *LinkStep, ... (StepKinds lists the kinds; NewAction makes one).
	Action Action
}

// Kind returns the YAML key of the step's action ("ping", "link"), or ""
// for a step without one.
func (s Step) Kind() string {
	if s.Action == nil {
		return ""
	}
	return stepByType[reflect.TypeOf(s.Action)]
}

// Action is one kind of step. Each kind is one type in its own file
// (step_ping.go, step_link.go, ...), registered by its YAML key, that
// checks itself before anything runs (every problem at its field, knowing
// which links exist at its step), describes itself for the report, and
// runs itself against a backend's probes and world. Its methods are
// unexported: the kinds are this package's own, and a new one is a file
// here (plus its docs in doc.go and a scenario).
type Action interface {
	// check reports the action's problems at path (steps[3].ping) and
	// tells c what it changes (a link unplugged, a link plugged).
	check(c *checker, path string)
	// describe returns the one-line description of the report
	// ("ping h1 -> h2 x1"), without the step's name.
	describe() string
	// run runs the action: whether it passed and what was seen.
	run(r *runner) (pass bool, detail string)
}

// stepKind is a registered kind of step.
type stepKind struct {
	key  string // the YAML key
	rank int    // its place in lists of the kinds (messages), lowest first
	new  func() Action
}

var (
	stepKinds  []*stepKind // by rank
	stepByKey  = map[string]*stepKind{}
	stepByType = map[reflect.Type]string{} // action type (a pointer) -> key
)

// registerStep makes *T the step kind written under key. rank places it
// in the lists of kinds messages give (ping 10, udp 20, ...: leave gaps).
// It is called from the init of the kind's file; it panics on a key
// registered twice.
func registerStep[T any, P interface {
	*T
	Action
}](key string, rank int) {
	if _, dup := stepByKey[key]; dup || key == "name" {
		panic("scenario: step kind " + key + " registered twice")
	}
	k := &stepKind{key: key, rank: rank, new: func() Action { return P(new(T)) }}
	stepByKey[key] = k
	stepByType[reflect.TypeFor[P]()] = key
	i, _ := slices.BinarySearchFunc(stepKinds, rank, func(k *stepKind, r int) int { return k.rank - r })
	for i < len(stepKinds) && stepKinds[i].rank == rank {
		i++
	}
	stepKinds = slices.Insert(stepKinds, i, k)
}

// StepKinds returns the YAML keys of the kinds of step, in the order the
// documentation lists them.
func StepKinds() []string {
	keys := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		keys[i] = k.key
	}
	return keys
}

// NewAction returns a new, empty action of the kind written under key
// ("ping"), or nil for a key that is no kind.
func NewAction(key string) Action {
	if k := stepByKey[key]; k != nil {
		return k.new()
	}
	return nil
}

// stepFields lists what a step may have: name, then the kinds.
func stepFields() []string { return append([]string{"name"}, StepKinds()...) }

// decodeNode reads a step: its name, and its action, of the kind its key
// names; every problem at its field.
func (s *Step) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.bad(path, n.Line, "want a step (a mapping with %s), not %s", strings.Join(stepFields(), ", "), what(n))
		return
	}
	before := len(d.errs)
	var kinds []pair
	for _, kv := range d.pairs(n, path) {
		key := kv.key.Value
		p := joinPath(path, key)
		d.mark(p, kv.key.Line)
		switch {
		case key == "name":
			d.decode(kv.val, reflect.ValueOf(&s.Name).Elem(), p)
		case stepByKey[key] != nil:
			kinds = append(kinds, kv)
		default:
			d.bad(p, kv.key.Line, "unknown field %q in a step%s", key, suggestField(key, stepFields()))
		}
	}
	switch {
	case len(kinds) == 1:
		kv := kinds[0]
		s.Action = stepByKey[kv.key.Value].new()
		d.decode(kv.val, reflect.ValueOf(s.Action).Elem(), joinPath(path, kv.key.Value))
	case len(kinds) > 1 || len(d.errs) == before: // none, and no misspelt one
		d.bad(path, n.Line, "a step has exactly one of %s (found %d)", strings.Join(StepKinds(), ", "), len(kinds))
	}
}

// describe returns a step's kind and its description, with its name.
func describe(s Step) (kind, desc string) {
	if s.Action == nil {
		return "", "a step with nothing to do"
	}
	desc = s.Action.describe()
	if s.Name != "" {
		desc = s.Name + ": " + desc
	}
	return s.Kind(), desc
}
