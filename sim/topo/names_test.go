package topo_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/netyard/netyard/sim/topo"
)

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"h1", true},
		{"web-1.backend_a", true},
		{"H", true},
		{"0", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a", 300), false},
		{"", false},
		{".", false},
		{"..", false},
		{".h", false},
		{"-h", false},
		{"_h", false},
		{"a/../../../../tmp/X", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"a b", false},
		{"a:b", false},
		{"a%d", false},
		{"é", false},
	} {
		if err := topo.ValidName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestValidIfaceName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"eth0", true},
		{"br-backend", true},
		{strings.Repeat("e", 15), true},
		{strings.Repeat("e", 16), false},
		{"", false},
		{".", false},
		{"..", false},
		{"lo", false},
		{"eth%d", false},
		{"eth0:1", false},
		{"a/b", false},
		{"a b", false},
		{"a\tb", false},
	} {
		if err := topo.ValidIfaceName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidIfaceName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestValidDNSName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"db", true},
		{"db.backend", true},
		{"my_db-1", true},
		{"", false},
		{"a..b", false},
		{".db", false},
		{"db/x", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 127) + "a", false},
	} {
		if err := topo.ValidDNSName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidDNSName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestNearest(t *testing.T) {
	for _, c := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"pign", []string{"ping", "udp", "wait"}, "ping"},                                // a swap
		{"switchs", []string{"name", "switches", "hosts"}, "switches"},                   // a deletion
		{"adress", []string{"name", "address", "mac"}, "address"},                        // an insertion
		{"latncy", []string{"ends", "latency", "jitter"}, "latency"},                     //
		{"vlna", []string{"vlan", "runt", "bpdu"}, "vlan"},                               //
		{"h7", []string{"h1", "h2"}, ""},                                                 // two as near: no hint
		{"h11", []string{"h1", "h2"}, "h1"},                                              //
		{"ports", []string{"name", "networks", "publish"}, ""},                           // too far
		{"xyz", []string{"ping"}, ""},                                                    //
		{"ping", []string{"ping", "pong"}, "pong"},                                       // the word itself is no hint
		{"forward_dely", []string{"hello", "max_age", "forward_delay"}, "forward_delay"}, //
	} {
		if got := topo.Nearest(c.word, c.candidates); got != c.want {
			t.Errorf("Nearest(%q, %q) = %q, want %q", c.word, c.candidates, got, c.want)
		}
	}
}

// FuzzValidName checks that a name either validator accepts is safe
// where sim/netns puts it: one path element under /var/run/netns and
// /etc/netns, neither . nor .., no NUL, whitespace or control byte, within
// NAME_MAX with the namespace prefix; an interface name also within
// IFNAMSIZ and Linux's dev_valid_name.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"h1", "web-1.backend", "eth0", "..", ".", "a/../../tmp/X", "a\nb", "lo", "eth%d", strings.Repeat("x", 300), "br-0123456789ab", "-x", "a:b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		safe := func(what string) {
			if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00:%") {
				t.Fatalf("%s accepts %q", what, s)
			}
			for _, r := range s {
				if unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII {
					t.Fatalf("%s accepts %q, which has %q", what, s, r)
				}
			}
			for _, dir := range []string{"/var/run/netns", "/etc/netns"} {
				p := filepath.Join(dir, "nyzzzzzzz-"+s)
				if filepath.Dir(p) != dir || filepath.Base(p) != "nyzzzzzzz-"+s {
					t.Fatalf("%s accepts %q, which leaves %s: %s", what, s, dir, p)
				}
			}
		}
		if topo.ValidName(s) == nil {
			safe("ValidName")
			if len("ny"+"zzzzzzz"+"-"+s) > 255 {
				t.Fatalf("ValidName accepts %q: its namespace name is longer than NAME_MAX", s)
			}
		}
		if topo.ValidIfaceName(s) == nil {
			safe("ValidIfaceName")
			if len(s) > 15 || !devValidName(s) {
				t.Fatalf("ValidIfaceName accepts %q, which Linux refuses", s)
			}
		}
	})
}

// devValidName is Linux's dev_valid_name (net/core/dev.c), the slow
// reference: not empty, shorter than IFNAMSIZ, not . or .., and no '/',
// ':' or whitespace (isspace).
func devValidName(s string) bool {
	if s == "" || len(s) >= 16 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/', ':', ' ', '\t', '\n', '\v', '\f', '\r':
			return false
		}
	}
	return true
}

// FuzzParsePortMapping checks that a mapping ParsePortMapping accepts has
// a protocol and ports in range, and that its String parses back to it.
func FuzzParsePortMapping(f *testing.F) {
	for _, s := range []string{"8080:80/tcp", "8080:80", "53/udp", "80", "0.0.0.0:80:80", "80/sctp", "70000", "0", "", ":80", "80:", "1:1/udp", " 443 ", "080:0080/tcp", "127.0.0.1:8080:80", "127.0.0.1::80/udp", "8000-8010:80", "8000-8001:80-81", "::1:80:80", "1.2.3.4:0:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := topo.ParsePortMapping(s)
		if err != nil {
			return
		}
		if m.Proto != "tcp" && m.Proto != "udp" || m.ContainerPort == 0 {
			t.Fatalf("ParsePortMapping(%q) = %+v", s, m)
		}
		back, err := topo.ParsePortMapping(m.String())
		if err != nil || back != m {
			t.Fatalf("ParsePortMapping(%q) = %+v, whose String %q parses to %+v, %v", s, m, m.String(), back, err)
		}
	})
}

// FuzzParsePortSpec checks that what ParsePortSpec accepts is at most
// maxPortSpec mappings, each one ParsePortMapping reads back from its
// String, with container ports in sequence.
func FuzzParsePortSpec(f *testing.F) {
	for _, s := range []string{"8000-8010:80-90", "192.168.56.11:8000-8002:80-82/udp", "1-65535", "80-79", "8000-8010:80-85", "65535-65535:1", "0.0.0.0::80-81", "-", "1-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := topo.ParsePortSpec(s)
		if err != nil {
			return
		}
		if len(ms) == 0 || len(ms) > 1024 {
			t.Fatalf("ParsePortSpec(%q): %d mappings", s, len(ms))
		}
		for i, m := range ms {
			if m.ContainerPort != ms[0].ContainerPort+uint16(i) {
				t.Fatalf("ParsePortSpec(%q)[%d] = %+v: out of sequence", s, i, m)
			}
			back, err := topo.ParsePortMapping(m.String())
			if err != nil || back != m {
				t.Fatalf("ParsePortSpec(%q)[%d] = %+v, whose String %q parses to %+v, %v", s, i, m, m.String(), back, err)
			}
		}
	})
}
