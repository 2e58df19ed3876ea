package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a scenario file.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in a file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// MaxFileSize bounds what Load reads.
const MaxFileSize = 1 << 20

// Load reads and validates the scenario file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and validates a scenario; name is used in error messages.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErrors(name, err)
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: name, Line: 1, Msg: "empty scenario"}}
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Line: root.Content[0].Line, Msg: "a scenario is a mapping with name, switches, hosts, links and steps"}}
	}
	f := &File{path: name, lines: map[string]int{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, yamlErrors(name, err)
	}
	walkLines(root.Content[0], "", f.lines)
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the file the scenario was read from.
func (f *File) Path() string { return f.path }

// Line returns the line of the field at path (hosts[1].address), or of its
// nearest enclosing field.
func (f *File) Line(path string) int {
	for p := path; p != ""; {
		if l, ok := f.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// errAt makes an Error located at a field path.
func (f *File) errAt(path, format string, a ...any) *Error {
	return &Error{File: f.path, Line: f.Line(path), Msg: fmt.Sprintf(format, a...)}
}

func walkLines(n *yaml.Node, path string, lines map[string]int) {
	if path != "" {
		if _, ok := lines[path]; !ok {
			lines[path] = n.Line
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			lines[p] = k.Line
			walkLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkLines(c, path+"["+strconv.Itoa(i)+"]", lines)
		}
	}
}

var (
	lineRE  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	fieldRE = regexp.MustCompile(`field (\S+) not found in type scenario\.(\w+)`)
)

// typeNames says what each schema type is, for messages.
var typeNames = map[string]string{
	"File": "the scenario", "SwitchConfig": "a switch", "PortConfig": "a port",
	"MirrorConfig": "mirror", "HostConfig": "a host", "IfaceConfig": "an interface",
	"linkMapping": "a link", "Step": "a step", "PingStep": "ping", "UDPStep": "udp",
	"StateStep": "link/port", "MoveStep": "move", "ExpectStep": "expect",
	"FDBExpect": "fdb", "FDBMatch": "an fdb entry", "CounterExpect": "counters",
	"STPConfig": "stp", "BPDUStep": "bpdus", "STPExpect": "an stp check", "PortState": "a port state", "ConnectStep": "connect",
	"NetworkConfig": "a network", "ContainerConfig": "a container", "endpointMapping": "a container's network",
	"ResolveStep": "resolve", "NATExpect": "nat", "FlowMatch": "a flow", "IPAMExpect": "ipam",
}

// yamlErrors turns the YAML library's errors into file:line errors.
func yamlErrors(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Errors
	for _, m := range msgs {
		e := &Error{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := lineRE.FindStringSubmatch(m); g != nil {
			e.Line, _ = strconv.Atoi(g[1])
			e.Msg = g[2]
		}
		if g := fieldRE.FindStringSubmatch(e.Msg); g != nil {
			e.Msg = fmt.Sprintf("unknown field %q in %s", g[1], typeNames[g[2]])
		}
		e.Msg = strings.ReplaceAll(e.Msg, "!!str ", "")
		out = append(out, e)
	}
	return out
}

// strictKeys refuses mapping keys that v's struct does not have (the
// decoder's KnownFields does not reach inside custom unmarshalers).
func strictKeys(n *yaml.Node, v any) error {
	t := reflect.TypeOf(v)
	known := map[string]bool{}
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		known[tag] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !known[k.Value] {
			return fmt.Errorf("line %d: unknown field %q in %s", k.Line, k.Value, typeNames[t.Name()])
		}
	}
	return nil
}
