package dnsd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Bounds of a names file (ParseNames).
const (
	MaxNamesLine = 4096 // bytes in a line
	MaxAliases   = 64   // aliases of one endpoint
	MaxLabel     = 63   // bytes in a label (RFC 1035 §2.3.4)
	// MaxName bounds name.network (253 characters: with its final dot
	// and the length bytes, the 255 octets of RFC 1035 §2.3.4).
	MaxName = 253
)

// Endpoint is a container's endpoint on a network, as a line of a names
// file gives it.
type Endpoint struct {
	Network   string
	Container string
	Addr      netip.Addr
	Aliases   []string
}

// String returns e as a line of a names file, which ParseNames reads back
// as e.
func (e Endpoint) String() string {
	var b strings.Builder
	b.WriteString(e.Network)
	b.WriteByte(' ')
	b.WriteString(e.Container)
	b.WriteByte(' ')
	b.WriteString(e.Addr.String())
	for _, a := range e.Aliases {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	return b.String()
}

// ParseError is a line of a names file that ParseNames refused.
type ParseError struct {
	Line int    // from 1
	Msg  string // what is wrong
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseNames reads a names file: one endpoint a line, as
//
//	NETWORK CONTAINER ADDRESS [ALIAS...]
//
// separated by blanks; blank lines are skipped, and # starts a comment to
// the end of the line. ADDRESS is a unicast IPv4 address. Every name is
// one a query can reach: dot-separated labels of 1 to 63 letters, digits,
// '-' or '_' (the network and container names start with a letter or a
// digit, as Docker's do), and CONTAINER.NETWORK and ALIAS.NETWORK at most
// 253 characters. A container appears once per network. Lines are at most
// MaxNamesLine bytes, with at most MaxAliases aliases. A line it refuses
// is a *ParseError; reading stops there.
func ParseNames(r io.Reader) ([]Endpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), MaxNamesLine)
	type key struct{ network, container string }
	seen := map[key]int{}
	var eps []Endpoint
	line := 0
	for sc.Scan() {
		line++
		e, ok, err := parseLine(sc.Text())
		if err != nil {
			return nil, &ParseError{Line: line, Msg: err.Error()}
		}
		if !ok {
			continue
		}
		k := key{e.Network, e.Container}
		if first, dup := seen[k]; dup {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("container %s is already on network %s (line %d)", e.Container, e.Network, first)}
		}
		seen[k] = line
		eps = append(eps, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Line: line + 1, Msg: fmt.Sprintf("longer than %d bytes", MaxNamesLine)}
		}
		return nil, err
	}
	return eps, nil
}

// parseLine parses one line; ok is false for a blank or comment line.
func parseLine(s string) (e Endpoint, ok bool, err error) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return e, false, nil
	}
	if len(f) < 3 {
		return e, false, errors.New("want NETWORK CONTAINER ADDRESS [ALIAS...]")
	}
	if len(f)-3 > MaxAliases {
		return e, false, fmt.Errorf("%d aliases, at most %d", len(f)-3, MaxAliases)
	}
	e = Endpoint{Network: f[0], Container: f[1]}
	if err := checkName("network", f[0], true); err != nil {
		return e, false, err
	}
	if err := checkName("container", f[1], true); err != nil {
		return e, false, err
	}
	if e.Addr, err = netip.ParseAddr(f[2]); err != nil || !e.Addr.Is4() {
		return e, false, fmt.Errorf("%q is not an IPv4 address", f[2])
	}
	if a := e.Addr; a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return e, false, fmt.Errorf("%s is not a unicast address", a)
	}
	for _, a := range f[3:] {
		if err := checkName("alias", a, false); err != nil {
			return e, false, err
		}
	}
	if len(f) > 3 {
		e.Aliases = f[3:]
	}
	for _, n := range append([]string{e.Container}, e.Aliases...) {
		if len(n)+1+len(e.Network) > MaxName {
			return e, false, fmt.Errorf("%s.%s is longer than %d characters", n, e.Network, MaxName)
		}
	}
	return e, true, nil
}

// checkName reports why n is not a name a query reaches: labels of
// letters, digits, '-' and '_', 1 to 63 of them; starting with a letter or
// a digit when docker is set.
func checkName(what, n string, docker bool) error {
	if docker && !isAlnum(n[0]) {
		return fmt.Errorf("%s name %q does not start with a letter or a digit", what, n)
	}
	for label := range strings.SplitSeq(n, ".") {
		switch {
		case label == "":
			return fmt.Errorf("%s name %q has an empty label", what, n)
		case len(label) > MaxLabel:
			return fmt.Errorf("%s name %q has a label longer than %d characters", what, n, MaxLabel)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' && c != '_' {
				return fmt.Errorf("%s name %q has %q: only letters, digits, '-', '_' and '.' can be asked for", what, n, c)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
