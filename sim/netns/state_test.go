package netns

import (
	"encoding/json"
	"testing"
)

func FuzzParseRun(f *testing.F) {
	f.Add([]byte(`{"prefix":"ny1a","pid":42,"started":7,"file":"x.yaml","hosts":{"h1":"ny1a-h1"},"addrs":{},"owned":[{"kind":"namespace","name":"ny1a-h1","id":4026532000},{"kind":"resolv.conf","name":"ny1a-h1"},{"kind":"device","name":"ny1at1"}]}`))
	f.Add([]byte(`{"prefix":"ny1a","pid":42,"owned":[{"kind":"namespace","name":"../../etc"}]}`))
	f.Add([]byte(`{"prefix":"nyprod","pid":1,"owned":[{"kind":"device","name":"eth0"}]}`))
	f.Add([]byte(`{"prefix":"ny1","pid":1}{}`))
	f.Add([]byte(`{"prefix":"ny1","pid":1,"extra":true}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"prefix":"ny1a","pid":42,"api":"unix:/run/netyard/ny1a.sock"}`))
	f.Add([]byte(`{"prefix":"ny1a","pid":42,"api":"http://127.0.0.1:8080"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRun(b)
		if err != nil {
			return
		}
		// Whatever parses names only objects inside netyard's directories,
		// and survives a round trip.
		for _, o := range r.Owned {
			if o.Name == "" || o.Name == "." || o.Name == ".." {
				t.Fatalf("accepted name %q", o.Name)
			}
			for _, c := range o.Name {
				if c == '/' || c == 0 {
					t.Fatalf("accepted name %q", o.Name)
				}
			}
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseRun(out); err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
	})
}

func TestParseRunRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"escape", `{"prefix":"ny1","pid":1,"owned":[{"kind":"namespace","name":"a/../../tmp/X"}]}`},
		{"dot dot", `{"prefix":"ny1","pid":1,"owned":[{"kind":"resolv.conf","name":".."}]}`},
		{"newline", `{"prefix":"ny1","pid":1,"owned":[{"kind":"namespace","name":"a\nb"}]}`},
		{"unknown kind", `{"prefix":"ny1","pid":1,"owned":[{"kind":"file","name":"passwd"}]}`},
		{"long device", `{"prefix":"ny1","pid":1,"owned":[{"kind":"device","name":"abcdefghijklmnop"}]}`},
		{"bad prefix", `{"prefix":"prod","pid":1}`},
		{"no pid", `{"prefix":"ny1"}`},
		{"unknown field", `{"prefix":"ny1","pid":1,"sweep":"all"}`},
		{"two values", `{"prefix":"ny1","pid":1} {"prefix":"ny1","pid":1}`},
		{"api relative", `{"prefix":"ny1","pid":1,"api":"unix:run/ny1.sock"}`},
		{"api escape", `{"prefix":"ny1","pid":1,"api":"unix:/run/netyard/../../etc/x.sock"}`},
		{"api not a socket name", `{"prefix":"ny1","pid":1,"api":"unix:/etc/passwd"}`},
		{"api host name", `{"prefix":"ny1","pid":1,"api":"http://example.com:80"}`},
		{"api path", `{"prefix":"ny1","pid":1,"api":"http://127.0.0.1:80/x"}`},
		{"api no port", `{"prefix":"ny1","pid":1,"api":"http://127.0.0.1"}`},
		{"api https", `{"prefix":"ny1","pid":1,"api":"https://127.0.0.1:443"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseRun([]byte(tc.in)); err == nil {
				t.Errorf("parseRun(%s) accepted it", tc.in)
			}
		})
	}
}

func TestParseRunAPI(t *testing.T) {
	for _, api := range []string{"", "unix:/run/netyard/ny1a.sock", "http://127.0.0.1:8080", "http://[::1]:8080"} {
		in := `{"prefix":"ny1a","pid":42,"api":"` + api + `"}`
		r, err := parseRun([]byte(in))
		if err != nil || r.API != api {
			t.Errorf("parseRun(%s) = %q, %v; want %q", in, r.API, err, api)
		}
	}
}
