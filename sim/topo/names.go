package topo

import (
	"fmt"
	"strings"
)

// Names become paths, namespaces and devices. In sim/netns a host named
// h1 is the namespace /var/run/netns/<prefix>-h1 with its resolv.conf in
// /etc/netns/<prefix>-h1/, and its interfaces are real devices whose names
// also appear under /proc/sys/net/ipv4/conf/. A name with '/' or ".."
// would walk out of those directories; one with a newline or a NUL would
// confuse every tool that lists them. So names follow Docker's rule for
// container names, and lengths follow Linux's bounds.

// MaxNameLen bounds node names (hosts, switches, switch ports, Docker
// hosts, networks and containers): a DNS label's 63 bytes, which Docker's
// hostnames also keep to. A namespace name, "ny", up to 7 base-36 digits of
// the process id, "-" and the host name, then fits NAME_MAX (255) with room
// to spare.
const MaxNameLen = 63

// MaxIfaceNameLen is the longest interface name Linux takes: IFNAMSIZ (16)
// less the terminating NUL.
const MaxIfaceNameLen = 15

// validChars reports whether s is non-empty and matches Docker's pattern
// for container names, [a-zA-Z0-9][a-zA-Z0-9_.-]* (moby's
// daemon/names.RestrictedNameChars). A leading letter or digit already
// rules out ".", ".." and names that look like options.
func validChars(s string) bool {
	if s == "" || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// charsRule says what validChars accepts, for messages.
const charsRule = "use letters, digits, '_', '.' and '-', starting with a letter or digit (Docker's rule for container names)"

// ValidName returns nil if name can name a node (a host, switch, switch
// port, Docker host, network or container), or an error saying why not:
// Docker's pattern for container names, [a-zA-Z0-9][a-zA-Z0-9_.-]*, and
// at most MaxNameLen bytes. A name that passes is a single path element
// that is neither "." nor "..", with no NUL, space, newline or '/', so it
// is safe to join to a directory. Validate applies it to every node; the
// code that joins names to directories (internal/nsutil) checks again
// what it joins.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name %s is %d bytes long, more than %d", short(name), len(name), MaxNameLen)
	case !validChars(name):
		return fmt.Errorf("name %q: %s", name, charsRule)
	}
	return nil
}

// ValidIfaceName returns nil if name can name a host interface, a real
// device in sim/netns, or an error saying why not: Docker's pattern for
// names (which already keeps Linux's dev_valid_name rules: not "." or "..",
// no '/', ':' or whitespace), at most MaxIfaceNameLen bytes, no '%' (a
// device name template for the kernel), and not lo, which every namespace
// has already.
func ValidIfaceName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty interface name")
	case len(name) > MaxIfaceNameLen:
		return fmt.Errorf("interface name %s is %d bytes long, more than Linux's %d (IFNAMSIZ)", short(name), len(name), MaxIfaceNameLen)
	case !validChars(name):
		return fmt.Errorf("interface name %q: %s", name, charsRule)
	case name == "lo":
		return fmt.Errorf("interface name %q: every host has lo already", name)
	}
	return nil
}

// ValidDNSName returns nil if name can be a DNS name a container answers
// to (an alias): dot-separated labels of letters, digits, '-' and '_', each
// 1-63 bytes, at most 253 bytes in all (RFC 1035 §2.3.4).
func ValidDNSName(name string) error {
	if name == "" || len(name) > 253 {
		return fmt.Errorf("DNS name %s: want 1-253 bytes", short(name))
	}
	for _, l := range strings.Split(name, ".") {
		ok := l != "" && len(l) <= 63
		for i := 0; ok && i < len(l); i++ {
			ok = alnum(l[i]) || l[i] == '-' || l[i] == '_'
		}
		if !ok {
			return fmt.Errorf("DNS name %q: want dot-separated labels of 1-63 letters, digits, '-' or '_'", name)
		}
	}
	return nil
}

// short quotes s, cut to its first 24 bytes if it is longer.
func short(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%q...", s[:24])
	}
	return fmt.Sprintf("%q", s)
}

// Nearest returns the one candidate closest to word, for a "did you mean"
// hint: within an edit distance (insertions, deletions, substitutions and
// swaps of neighbours) of 1 for words of up to 5 bytes and 2 for longer
// ones, and strictly closer than every other candidate. It returns "" when
// there is none, or no single best. The cost is linear in the candidates.
func Nearest(word string, candidates []string) string {
	limit := 1
	if len(word) > 5 {
		limit = 2
	}
	best, bestD, ties := "", limit+1, 0
	for _, c := range candidates {
		if c == word || abs(len(c)-len(word)) > limit {
			continue
		}
		switch d := editDistance(word, c, limit); {
		case d < bestD:
			best, bestD, ties = c, d, 1
		case d == bestD && c != best:
			ties++
		}
	}
	if ties != 1 {
		return ""
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein plus swaps of neighbours), or limit+1 if it is more than
// limit. Words are short: it allocates three rows.
func editDistance(a, b string, limit int) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

// DidYouMean is "; did you mean X?" for the candidate nearest word (see
// Nearest), or "".
func DidYouMean(word string, candidates []string) string {
	if s := Nearest(word, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}
