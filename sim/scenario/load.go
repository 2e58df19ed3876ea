package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	path string // the field at fault, for leaving out what follows from it
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
// It reports every problem in the file at once, in line order, as Errors:
// those of the YAML (if the file is not YAML, nothing more can be said),
// then of the fields, the topology and the steps, leaving out a problem
// that only follows from one already reported.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && err != io.EOF {
		return nil, yamlErrors(name, err)
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == io.EOF:
	case err != nil:
		return nil, yamlErrors(name, err)
	default:
		line := more.Line
		if len(more.Content) > 0 {
			line = more.Content[0].Line
		}
		return nil, Errors{{File: name, Line: max(line, 1), Msg: "a second YAML document: a scenario file holds one (remove the ---, or split the file)"}}
	}
	if len(root.Content) == 0 || isNull(root.Content[0]) {
		return nil, Errors{{File: name, Line: 1, Msg: "empty scenario"}}
	}
	doc := resolve(root.Content[0])
	if doc == nil || doc.Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Line: root.Content[0].Line, Msg: "a scenario is a mapping with name, switches, hosts, links and steps"}}
	}
	f := &File{path: name, lines: map[string]int{}}
	d := &decoder{f: f}
	d.structure(doc, reflect.ValueOf(f).Elem(), "")
	if d.over {
		return nil, d.errs
	}
	if err := f.validate(d.errs); err != nil {
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

// errAt makes an Error located at a field path (or the nearest field
// that encloses it, if the file does not have that one).
func (f *File) errAt(path, format string, a ...any) *Error {
	p := path
	for p != "" {
		if _, ok := f.lines[p]; ok {
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
			break
		}
		p = p[:i]
	}
	return &Error{File: f.path, Line: f.lines[p], Msg: fmt.Sprintf(format, a...), path: p}
}

// taint is the set of fields problems were reported at, and of the fields
// that enclose them: a later problem at one of them, or inside one of the
// first, follows from what was reported (a field left out after a typo,
// a value that could not be read) and is left out.
type taint struct{ at, around map[string]bool }

func newTaint(errs Errors) taint {
	t := taint{at: map[string]bool{}, around: map[string]bool{}}
	for _, e := range errs {
		t.add(e.path)
	}
	return t
}

func (t taint) add(p string) {
	t.at[p] = true
	for {
		t.around[p] = true
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	t.around[""] = true
}

// covers reports whether a problem at path p follows from one reported.
func (t taint) covers(p string) bool {
	if t.around[p] {
		return true
	}
	for {
		if t.at[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// keep returns the errors of errs that t does not cover.
func (t taint) keep(errs Errors) Errors {
	var out Errors
	for _, e := range errs {
		if !t.covers(e.path) {
			out = append(out, e)
		}
	}
	return out
}

var (
	lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// typeNames says what each schema type is, for messages; a step kind is
// its key, and a step's file names its own types (nameTypes).
var typeNames = map[string]string{
	"File": "the scenario", "SwitchConfig": "a switch", "PortConfig": "a port",
	"MirrorConfig": "mirror", "HostConfig": "a host", "IfaceConfig": "an interface",
	"linkMapping": "a link", "Step": "a step", "STPConfig": "stp",
	"NetworkConfig": "a network", "ContainerConfig": "a container", "endpointMapping": "a container's network",
	"composeEndpoint": "a container's network",
}

// nameTypes adds the names of a step's schema types, from its file's
// init.
func nameTypes(names map[string]string) {
	for t, name := range names {
		typeNames[t] = name
	}
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
		e.Msg = strings.ReplaceAll(e.Msg, "!!str ", "")
		out = append(out, e)
	}
	return out
}
