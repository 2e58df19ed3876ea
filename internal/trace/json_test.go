package trace_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/trace"
)

// TestJSONRoundTrip: every event of the narration table survives a JSON
// line and back with every field, and the line's detail is its sentence.
func TestJSONRoundTrip(t *testing.T) {
	origin := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range narrated {
		t.Run(c.name, func(t *testing.T) {
			e := c.e
			e.Time = origin.Add(1500 * time.Millisecond)
			var buf bytes.Buffer
			trace.JSONLines(&buf, origin, func() int64 { return 3 })(e)
			var r trace.Record
			if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", buf.String(), err)
			}
			if r.T != 1.5 || r.Step != 3 {
				t.Errorf("t %v step %d, want 1.5 and 3", r.T, r.Step)
			}
			got := r.ToEvent(origin)
			switch e.Kind {
			case trace.Host, trace.STP, trace.State, trace.Routed, trace.Overlay:
				if want := trace.Text(e); got.Detail != want {
					t.Errorf("detail %q, want the sentence %q", got.Detail, want)
				}
				got.Detail = e.Detail
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("round trip:\n got %+v\nwant %+v\nline %s", got, e, buf.String())
			}
			if trace.Narrate(got) != c.want {
				t.Errorf("narration after the round trip %q, want %q", trace.Narrate(got), c.want)
			}
		})
	}
}

// TestJSONFields: the names a program reads, for the documentation.
func TestJSONFields(t *testing.T) {
	for _, c := range []struct {
		name string
		want string // a substring of the line
	}{
		{"arp-request", `"kind":"host","op":"arp-request","port":"eth0","detail":"ARP who-has 172.17.0.3? tell 172.17.0.2 (request 1 of 3)"`},
		{"arp-request", `"src_ip":"172.17.0.2","dst_ip":"172.17.0.3","try":1,"tries":3`},
		{"echo-reply", `"proto":"icmp","src_ip":"172.17.0.3","dst_ip":"172.17.0.2","id":1,"seq":2,"dur":0.0015`},
		{"icmp-error", `"icmp":{"type":3,"code":3}`},
		{"tcp-sent", `"tcp_flags":["PSH","ACK"],"len":120`},
		{"dns-answer-tcp-tc-upstream", `"proto":"tcp"`},
		{"dns-answer-tcp-tc-upstream", `"name":"x.","rcode":"NOERROR","tc":true,"upstream":"8.8.8.8:53"`},
		{"dns-forwarded", `"new_id":4242`},
		{"routed", `"nat_src":"192.168.56.11:32768","nat_dst":"192.168.56.12:80","nat_flow":"created"`},
		{"role", `"role":"alternate","was_role":"designated","root":"8000.020000000001","bridge":"8000.020000000001"`},
		{"state", `"reason":"forward delay 15s passed"`},
		{"state", `"state":"learning","was_state":"listening"`},
		{"root", `"cost":19,"root_port":"p1"`},
		{"lost", `"link":"h1:eth0--s1:p1"`},
		{"frame", `"len":42,"link":"l","summary":"ARP"`},
	} {
		var line string
		for _, n := range narrated {
			if n.name == c.name {
				var buf bytes.Buffer
				trace.JSONLines(&buf, time.Time{}, nil)(n.e)
				line = buf.String()
			}
		}
		if !strings.Contains(line, c.want) {
			t.Errorf("%s: line %s lacks %s", c.name, line, c.want)
		}
	}
}

func TestJSONRejectsUnknownNames(t *testing.T) {
	for _, line := range []string{
		`{"node":"n","kind":"host","op":"no-such-op"}`,
		`{"node":"n","kind":"routed","proto":"sctp?"}`,
		`{"node":"n","kind":"routed","tcp_flags":["XYZ"]}`,
		`{"node":"n","kind":"routed","nat_flow":"reborn"}`,
	} {
		var r trace.Record
		if err := json.Unmarshal([]byte(line), &r); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, want one", line)
		}
	}
}
