package scenario

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netyard/netyard/sim/topo"
)

// The decoder reads a scenario's YAML nodes into the schema's structs. It
// does what yaml.v3's own decoder does for these types, and three things
// more: it reports every problem (an unknown field, a value of the wrong
// kind, a bad count) with the path of its field, and goes on; it suggests
// the field meant; and it accepts compose's ways of writing the same thing
// (ports for publish, a map of networks, a bare number of seconds).

// maxVisits bounds the values one file may decode to, aliases expanded: a
// file of at most MaxFileSize bytes has far fewer nodes, and a "billion
// laughs" of nested aliases stops here.
const maxVisits = 1 << 21

type decoder struct {
	f      *File
	errs   Errors
	visits int
	over   bool // maxVisits reached: decoding stopped
}

// nodeDecoder is a schema type that reads itself from a node.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// bad records a problem at path (and line, that of the node at fault).
func (d *decoder) bad(path string, line int, format string, a ...any) {
	d.errs = append(d.errs, &Error{File: d.f.path, Line: line, Msg: fmt.Sprintf(format, a...), path: path})
}

// mark records the line of the field at path.
func (d *decoder) mark(path string, line int) {
	if _, ok := d.f.lines[path]; !ok && path != "" {
		d.f.lines[path] = line
	}
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// what names a node's kind for messages.
func what(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	fileType      = reflect.TypeFor[File]()
	endpointsType = reflect.TypeFor[[]EndpointConfig]()
	unmarshaler   = reflect.TypeFor[yaml.Unmarshaler]()
	nodeDec       = reflect.TypeFor[nodeDecoder]()
)

// decode reads n into v, the field at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if d.over {
		return
	}
	if d.visits++; d.visits > maxVisits {
		d.over = true
		d.bad(path, n.Line, "the file expands (through aliases) to more than %d values", maxVisits)
		return
	}
	n = resolve(n)
	if n == nil || isNull(n) {
		return // left out: the zero value, as yaml does
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	switch {
	case reflect.PointerTo(t).Implements(nodeDec):
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n, path)
		return
	case reflect.PointerTo(t).Implements(unmarshaler):
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.yamlError(path, n.Line, err)
		}
		return
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			d.bad(path, n.Line, "want a duration like 10s or 250ms, not %s", what(n))
			return
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			d.bad(path, n.Line, "%v", err)
			return
		}
		v.SetInt(int64(dur))
		return
	case t == endpointsType && n.Kind == yaml.MappingNode:
		d.composeNetworks(n, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.bad(path, n.Line, "%s: want a list, not %s", field(path), what(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.mark(p, c.Line)
			d.decode(c, s.Index(i), p)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.bad(path, n.Line, "%s: want a mapping, not %s", field(path), what(n))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for _, kv := range d.pairs(n, path) {
			p := path + "." + kv.key.Value
			d.mark(p, kv.key.Line)
			e := reflect.New(t.Elem()).Elem()
			d.decode(kv.val, e, p)
			m.SetMapIndex(reflect.ValueOf(kv.key.Value).Convert(t.Key()), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.bad(path, n.Line, "%s: want a string, not %s", field(path), what(n))
			return
		}
		v.SetString(n.Value)
	default: // bool, ints, uints, floats: yaml's own rules for scalars
		if n.Kind != yaml.ScalarNode {
			d.bad(path, n.Line, "%s: want %s, not %s", field(path), kindName(t), what(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.bad(path, n.Line, "%s: want %s, not %q", field(path), kindName(t), n.Value)
		}
	}
}

// field is the last element of a path, for messages: "count", "vlan".
func field(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		if path[i] == '[' {
			return field(path[:i]) + path[i:]
		}
		return path[i+1:]
	}
	return path
}

// kindName says what a basic kind accepts.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	}
	return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<(t.Bits()-1)*2-1)
}

// yamlError records an error an UnmarshalYAML returned, without its
// "line N: " (the path says where).
func (d *decoder) yamlError(path string, line int, err error) {
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	for _, m := range msgs {
		l := line
		if g := lineRE.FindStringSubmatch(m); g != nil {
			l, _ = strconv.Atoi(g[1])
			m = g[2]
		}
		d.bad(path, l, "%s", m)
	}
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's keys and values, merge keys (<<) expanded
// (keys given explicitly win, then earlier merged mappings), refusing a
// key given twice.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.bad(path, n.Content[i].Line, "a key must be a plain name, not %s", what(n.Content[i]))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		if first := seen[k.Value]; first != nil {
			d.bad(path+"."+k.Value, k.Line, "%q is given twice (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, m := range merges {
		var srcs []*yaml.Node
		switch m = resolve(m); {
		case m == nil:
		case m.Kind == yaml.MappingNode:
			srcs = []*yaml.Node{m}
		case m.Kind == yaml.SequenceNode:
			srcs = m.Content
		default:
			d.bad(path, m.Line, "a merge (<<) takes a mapping or a list of them, not %s", what(m))
		}
		for _, src := range srcs {
			if src = resolve(src); src == nil || src.Kind != yaml.MappingNode {
				d.bad(path, m.Line, "a merge (<<) takes a mapping or a list of them")
				continue
			}
			if d.visits += len(src.Content); d.visits > maxVisits {
				if !d.over {
					d.over = true
					d.bad(path, m.Line, "the file expands (through aliases) to more than %d values", maxVisits)
				}
				return out
			}
			for _, kv := range d.pairs(src, path) {
				if seen[kv.key.Value] == nil {
					seen[kv.key.Value] = kv.key
					out = append(out, kv)
				}
			}
		}
	}
	return out
}

// structInfo is what the decoder knows of a struct type.
type structInfo struct {
	fields  map[string]int    // yaml name -> field index
	names   []string          // yaml names, in order
	aliases map[string]string // another word -> yaml name
}

var structInfos sync.Map // reflect.Type -> *structInfo

// fieldAliases are other words for fields: compose's, where they mean
// the same as ours.
var fieldAliases = map[reflect.Type]map[string]string{
	reflect.TypeFor[ContainerConfig](): {"ports": "publish"},
	reflect.TypeFor[endpointMapping](): {"ipv4_address": "ip"},
	reflect.TypeFor[composeEndpoint](): {"ipv4_address": "ip"},
}

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]int{}, aliases: fieldAliases[t]}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !t.Field(i).IsExported() {
			continue
		}
		si.fields[name] = i
		si.names = append(si.names, name)
	}
	structInfos.Store(t, si)
	return si
}

// structure reads a mapping into a struct.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if n.Kind != yaml.MappingNode {
		d.bad(path, n.Line, "want %s (a mapping with %s), not %s", typeName(t), strings.Join(infoOf(t).names, ", "), what(n))
		return
	}
	si := infoOf(t)
	given := map[string]string{} // yaml name -> the word used
	for _, kv := range d.pairs(n, path) {
		key := kv.key.Value
		name := key
		if a, ok := si.aliases[key]; ok {
			name = a
		}
		p := joinPath(path, key)
		d.mark(p, kv.key.Line)
		if t == fileType && strings.HasPrefix(key, "x-") {
			continue // compose's extension fields: a place for anchors
		}
		i, ok := si.fields[name]
		if !ok {
			d.bad(p, kv.key.Line, "unknown field %q in %s%s", key, typeName(t), suggestField(key, si.names))
			continue
		}
		if w, dup := given[name]; dup {
			d.bad(p, kv.key.Line, "%s and %s mean the same here: give one", w, key)
			continue
		}
		given[name] = key
		fp := joinPath(path, name)
		d.mark(fp, kv.key.Line)
		d.decode(kv.val, v.Field(i), fp)
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggestField is "; did you mean X?" or the list of fields.
func suggestField(key string, names []string) string {
	if s := topo.DidYouMean(key, names); s != "" {
		return s
	}
	return " (it has " + strings.Join(names, ", ") + ")"
}

// typeName says what a schema type is, for messages.
func typeName(t reflect.Type) string {
	if key := stepByType[reflect.PointerTo(t)]; key != "" {
		return key
	}
	if s := typeNames[t.Name()]; s != "" {
		return s
	}
	return t.Name()
}

// composeEndpoint is a network's settings in compose's map form,
// networks: {backend: {aliases: [db], ipv4_address: 172.30.0.10}}.
type composeEndpoint struct {
	IP         string   `yaml:"ip"`
	Aliases    []string `yaml:"aliases"`
	GwPriority int      `yaml:"gw_priority"`
}

// composeNetworks reads compose's map form of a container's networks, in
// the order the file gives them (which makes eth0, eth1, ...).
func (d *decoder) composeNetworks(n *yaml.Node, v reflect.Value, path string) {
	var eps []EndpointConfig
	for _, kv := range d.pairs(n, path) {
		p := path + "[" + strconv.Itoa(len(eps)) + "]"
		d.mark(p, kv.key.Line)
		var c composeEndpoint
		d.decode(kv.val, reflect.ValueOf(&c).Elem(), p)
		eps = append(eps, EndpointConfig{Name: kv.key.Value, IP: c.IP, Aliases: c.Aliases, GwPriority: c.GwPriority})
	}
	v.Set(reflect.ValueOf(eps))
}

func (e *EndpointConfig) decodeNode(d *decoder, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		e.Name = n.Value
	case yaml.MappingNode:
		var m endpointMapping
		d.decode(n, reflect.ValueOf(&m).Elem(), path)
		*e = EndpointConfig(m)
	default:
		d.bad(path, n.Line, "a container's network is a name or {name, ip, aliases}, not %s", what(n))
	}
}

func (r *ResolveExpect) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.SequenceNode {
		d.decode(n, reflect.ValueOf(&r.Addrs).Elem(), path)
		return
	}
	if err := r.UnmarshalYAML(n); err != nil {
		d.yamlError(path, n.Line, err)
	}
}

func (l *LinkConfig) decodeNode(d *decoder, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		a, b, ok := strings.Cut(n.Value, "--")
		if !ok {
			d.bad(path, n.Line, "link %q: want \"a -- b\"", n.Value)
			return
		}
		l.Ends = [2]string{strings.TrimSpace(a), strings.TrimSpace(b)}
	case yaml.SequenceNode:
		var ends []string
		d.decode(n, reflect.ValueOf(&ends).Elem(), path+".ends")
		if len(ends) != 2 {
			d.bad(path, n.Line, "a link joins exactly two ends, not %d", len(ends))
			return
		}
		l.Ends = [2]string(ends)
	case yaml.MappingNode:
		var m linkMapping
		before := len(d.errs)
		d.decode(n, reflect.ValueOf(&m).Elem(), path)
		switch {
		case len(m.Ends) == 2:
			l.Ends = [2]string(m.Ends)
		case len(d.errs) > before: // a misspelt ends, or ends that could not be read
		default:
			d.bad(path, n.Line, "a link needs ends: [a, b]")
		}
		l.Latency, l.Jitter, l.Loss, l.Rate, l.Queue = m.Latency, m.Jitter, float64(m.Loss), uint64(m.Rate), m.Queue
	default:
		d.bad(path, n.Line, "a link is \"a -- b\", [a, b] or a mapping")
	}
}

// decodeNode reads a node of a registered kind: its common fields, then
// the rest into its kind's spec, every problem reported at its field.
func (c *NodeConfig) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.bad(path, n.Line, "want a node (a mapping with name, kind, interfaces and the kind's fields), not %s", what(n))
		return
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	kindLine := n.Line
	for _, kv := range d.pairs(n, path) {
		p := joinPath(path, kv.key.Value)
		d.mark(p, kv.key.Line)
		switch kv.key.Value {
		case "name":
			d.decode(kv.val, reflect.ValueOf(&c.Name).Elem(), p)
		case "kind":
			kindLine = kv.key.Line
			d.decode(kv.val, reflect.ValueOf(&c.Kind).Elem(), p)
		case "interfaces":
			d.decode(kv.val, reflect.ValueOf(&c.Interfaces).Elem(), p)
		default:
			rest.Content = append(rest.Content, kv.key, kv.val)
		}
	}
	if c.Kind == "" {
		d.bad(joinPath(path, "kind"), kindLine, "a node needs a kind (registered: %s)", strings.Join(topo.KindNames(), ", "))
		return
	}
	k, ok := topo.LookupKind(c.Kind)
	if !ok {
		d.bad(joinPath(path, "kind"), kindLine, "unknown kind %q (registered: %s)%s", c.Kind, strings.Join(topo.KindNames(), ", "), topo.DidYouMean(c.Kind, topo.KindNames()))
		return
	}
	c.Spec = k.New()
	d.structure(rest, reflect.ValueOf(c.Spec).Elem(), path)
}

// decodeWith runs the decoder on one value, for the UnmarshalYAML of a
// type decoded outside Parse: problems come back as a *yaml.TypeError.
func decodeWith(n *yaml.Node, v any) error {
	d := &decoder{f: &File{lines: map[string]int{}}}
	d.decode(n, reflect.ValueOf(v).Elem(), "")
	if len(d.errs) == 0 {
		return nil
	}
	te := &yaml.TypeError{}
	for _, e := range d.errs {
		te.Errors = append(te.Errors, fmt.Sprintf("line %d: %s", e.Line, e.Msg))
	}
	return te
}
