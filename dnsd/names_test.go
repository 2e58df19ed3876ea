package dnsd_test

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/dnsd"
)

func TestParseNames(t *testing.T) {
	ep := func(network, container, addr string, aliases ...string) dnsd.Endpoint {
		return dnsd.Endpoint{Network: network, Container: container, Addr: netip.MustParseAddr(addr), Aliases: aliases}
	}
	long := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   string
		want []dnsd.Endpoint
	}{
		{"empty", "", nil},
		{"one", "net1 web 172.18.0.2\n", []dnsd.Endpoint{ep("net1", "web", "172.18.0.2")}},
		{"aliases, tabs, no final newline", "net1\tweb  172.18.0.2 www db", []dnsd.Endpoint{ep("net1", "web", "172.18.0.2", "www", "db")}},
		{"comments and blanks", "# a file\n\n  \nnet1 web 172.18.0.2 # the web server\n", []dnsd.Endpoint{ep("net1", "web", "172.18.0.2")}},
		{"CRLF", "net1 web 172.18.0.2\r\nnet1 db 172.18.0.3\r\n", []dnsd.Endpoint{ep("net1", "web", "172.18.0.2"), ep("net1", "db", "172.18.0.3")}},
		{"dots, dashes, underscores", "my-net.x web_1.a-b 10.0.0.1 _svc.x", []dnsd.Endpoint{ep("my-net.x", "web_1.a-b", "10.0.0.1", "_svc.x")}},
		{"a label of 63", "n " + long + " 10.0.0.1", []dnsd.Endpoint{ep("n", long, "10.0.0.1")}},
		{"same container on two networks", "n1 web 10.0.0.1\nn2 web 10.1.0.1", []dnsd.Endpoint{ep("n1", "web", "10.0.0.1"), ep("n2", "web", "10.1.0.1")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dnsd.ParseNames(strings.NewReader(tc.in))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseNames(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseNamesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string // a part of the message
	}{
		{"too few fields", "# x\nnet1 web\n", 2, "want NETWORK CONTAINER ADDRESS"},
		{"not an address", "net1 web 172.18.0\n", 1, "not an IPv4 address"},
		{"IPv6", "net1 web ::1\n", 1, "not an IPv4 address"},
		{"mapped IPv6", "net1 web ::ffff:10.0.0.1\n", 1, "not an IPv4 address"},
		{"unspecified", "net1 web 0.0.0.0\n", 1, "not a unicast"},
		{"multicast", "net1 web 224.0.0.1\n", 1, "not a unicast"},
		{"broadcast", "net1 web 255.255.255.255\n", 1, "not a unicast"},
		{"empty label", "net1 a..b 10.0.0.1\n", 1, "empty label"},
		{"trailing dot", "net1 web. 10.0.0.1\n", 1, "empty label"},
		{"label of 64", "net1 " + strings.Repeat("a", 64) + " 10.0.0.1\n", 1, "longer than 63"},
		{"bad character", "net1 w/eb 10.0.0.1\n", 1, "only letters"},
		{"non-ASCII", "net1 wéb 10.0.0.1\n", 1, "only letters"},
		{"NUL", "net1 w\x00b 10.0.0.1\n", 1, "only letters"},
		{"bad alias", "net1 web 10.0.0.1 ok no*\n", 1, `alias name "no*"`},
		{"container starting with _", "net1 _client 10.0.0.1\n", 1, "does not start with a letter or a digit"},
		{"network starting with -", "-net web 10.0.0.1\n", 1, "does not start with a letter or a digit"},
		{"name.network too long", "n " + strings.Repeat("abcdefgh.", 28) + "abc 10.0.0.1\n", 1, "longer than 253"},
		{"duplicate", "n web 10.0.0.1\nn db 10.0.0.2\nn web 10.0.0.3\n", 3, "already on network n (line 1)"},
		{"too many aliases", "n web 10.0.0.1" + strings.Repeat(" x", dnsd.MaxAliases+1) + "\n", 1, "aliases, at most"},
		{"line too long", "n a 10.0.0.1\n" + "n web 10.0.0.1 " + strings.Repeat("x", dnsd.MaxNamesLine) + "\n", 2, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dnsd.ParseNames(strings.NewReader(tc.in))
			var pe *dnsd.ParseError
			if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("ParseNames(%.60q) = %v, %v, want a line %d error with %q", tc.in, got, err, tc.line, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("error %q does not start with its line", err)
			}
		})
	}
}

// FuzzParseNames: any input is refused with a line number or accepted;
// every accepted endpoint prints as a line that parses back to it, and
// every name of it is reachable by a query.
func FuzzParseNames(f *testing.F) {
	f.Add("net1 web 172.18.0.2 www db\n")
	f.Add("# c\n\nnet1 web 172.18.0.2 # x\r\nnet2 web 10.0.0.1\n")
	f.Add("n a..b 10.0.0.1")
	f.Add("n web 10.0.0.1\nn web 10.0.0.2")
	f.Add("my-net.x web_1.a-b 10.0.0.1 _svc.x\n")
	f.Add("n w\x00b 10.0.0.1\xff\n")
	f.Fuzz(func(t *testing.T, in string) {
		eps, err := dnsd.ParseNames(strings.NewReader(in))
		if err != nil {
			var pe *dnsd.ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > strings.Count(in, "\n")+1 {
				t.Fatalf("ParseNames(%q) error %v: not a ParseError with a line of the input", in, err)
			}
			return
		}
		client := netip.MustParseAddr("127.0.0.1")
		s := dnsd.New(dnsd.Options{})
		for _, e := range eps {
			again, err := dnsd.ParseNames(strings.NewReader(e.String()))
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], e) {
				t.Fatalf("%+v printed as %q, parsed back as %+v, %v", e, e.String(), again, err)
			}
			s.Add(e.Network, e.Container, e.Addr, e.Aliases...)
			s.Add(e.Network, "_client", client)
		}
		for _, e := range eps {
			for _, n := range append([]string{e.Container}, e.Aliases...) {
				for _, fq := range []string{n + ".", n + "." + e.Network + "."} {
					q := new(dns.Msg)
					q.SetQuestion(fq, dns.TypeA)
					if _, err := q.Pack(); err != nil {
						t.Fatalf("%+v: a query for %q does not pack: %v", e, fq, err)
					}
					if r := s.Answer(client, q); r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
						t.Fatalf("%+v: %q answered %s with %d records", e, fq, dns.RcodeToString[r.Rcode], len(r.Answer))
					}
				}
			}
		}
	})
}
