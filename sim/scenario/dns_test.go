package scenario_test

import (
	"strings"
	"testing"
)

// TestDNSFieldsRefused: the DNS fields of a Docker scenario refuse bad
// input at their line, with what is wrong.
func TestDNSFieldsRefused(t *testing.T) {
	head := "hosts:\n  - {name: host1, address: 192.168.56.11/24, dns: [%s]}\nnetworks: [{name: n}]\ncontainers:\n  - {name: a, networks: [n]}\n"
	for _, c := range []struct{ name, src, want string }{
		{"bad resolver", strings.Replace(head, "%s", "8.8.8", 1) + "steps:\n  - resolve: {from: a, name: a, expect: [a]}\n",
			`bad.yaml:2: bad IPv4 address "8.8.8"`},
		{"four resolvers", strings.Replace(head, "%s", "1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4", 1) + "steps:\n  - resolve: {from: a, name: a, expect: [a]}\n",
			`bad.yaml:2: 4 resolvers: a resolv.conf has 3 at most`},
		{"serve on a container", strings.Replace(head, "%s", "", 1) + "  - {name: b, networks: [n], serve: {dns: {x.test: 192.168.56.2}}}\nsteps:\n  - resolve: {from: a, name: a, expect: [a]}\n",
			`bad.yaml:6: serve is for a client attached to the LAN`},
		{"serve a bad address", strings.Replace(head, "%s", "", 1) + "  - {name: r, attach: lan, serve: {dns: {x.test: nowhere}}}\nsteps:\n  - resolve: {from: a, name: a, expect: [a]}\n",
			`bad.yaml:6: x.test: bad IPv4 address "nowhere"`},
		{"unknown flag", strings.Replace(head, "%s", "", 1) + "steps:\n  - resolve: {from: a, name: a, expect: [a], flags: [qr, zz]}\n",
			`bad.yaml:7: flag "zz": a DNS header's flags are qr, aa, tc, rd, ra, ad, cd`},
		{"ttl of no answer", strings.Replace(head, "%s", "", 1) + "steps:\n  - resolve: {from: a, name: x, expect: nxdomain, ttl: 600}\n",
			`bad.yaml:7: ttl is the answer records', and expect nxdomain has none`},
		{"unknown server", strings.Replace(head, "%s", "", 1) + "steps:\n  - resolve: {from: a, name: a, server: nobody, expect: refused}\n",
			`bad.yaml:7:`},
		{"mx is a type", strings.Replace(head, "%s", "", 1) + "steps:\n  - resolve: {from: a, name: a, type: srv, expect: no-answer}\n",
			`bad.yaml:7: type must be`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(errorLines(t, c.src), "\n")
			if !strings.Contains(got, c.want) {
				t.Errorf("errors:\n%s\nwant one containing %q", got, c.want)
			}
		})
	}
}
