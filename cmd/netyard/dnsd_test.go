package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/internal/leak"
)

// TestDNSdTwentyThousandNames: netyard dnsd with bench/dns.sh's file of
// 20 000 names starts (it never did within 300 s when every name rebuilt
// the indexes) and answers over UDP and TCP on the one address.
func TestDNSdTwentyThousandNames(t *testing.T) {
	leak.Check(t) // the server and its signal watch are gone once its context ends
	var file bytes.Buffer
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&file, "net1 c%d 172.18.%d.%d\n", i, i/250, i%250+2)
	}
	names := filepath.Join(t.TempDir(), "names")
	if err := os.WriteFile(names, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	addr := make(chan netip.AddrPort, 1)
	code := make(chan int, 1)
	start := time.Now()
	go func() {
		code <- runDNSd(ctx, []string{"--names", names, "--listen", "127.0.0.1:0"}, &out, &errOut, func(a netip.AddrPort) { addr <- a })
	}()
	var at netip.AddrPort
	select {
	case at = <-addr:
	case c := <-code:
		t.Fatalf("netyard dnsd exited %d before answering: %s", c, errOut.String())
	}
	t.Logf("netyard dnsd with 20 000 names answering after %v", time.Since(start))
	if !strings.Contains(out.String(), "20000 names on "+at.String()) {
		t.Errorf("netyard dnsd said %q", out.String())
	}
	for _, tc := range []struct{ net, name, want string }{
		{"udp", "c1.", "172.18.0.3"},
		{"tcp", "c20000.net1.", "172.18.80.2"},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, dns.TypeA)
		r, _, err := (&dns.Client{Net: tc.net, Timeout: 10 * time.Second}).Exchange(q, at.String())
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != tc.want {
			t.Errorf("%s over %s = %v, %v, want %s", tc.name, tc.net, r, err, tc.want)
		}
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("netyard dnsd exited %d after its context ended, want 0", c)
	}
}

// TestDNSdErrors: a bad names file is its file:line and exit 2; --help
// is help, exit 0.
func TestDNSdErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("net1 web 172.18.0.2\nnet1 w/b 172.18.0.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"dnsd", "--names", bad, "--listen", "127.0.0.1:0"}, 2, "", bad + `:2: container name "w/b" has '/'`},
		{[]string{"dnsd", "--listen", "127.0.0.1:0"}, 2, "", "--names FILE is required"},
		{[]string{"dnsd", "--names", filepath.Join(dir, "nosuch")}, 2, "", "no such file"},
		{[]string{"dnsd", "--names", bad, "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"dnsd", "--help"}, 0, "usage: netyard dnsd", ""},
	}
	for _, tc := range tests {
		code, out, errOut := netyard(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("netyard %v: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tc.args, code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
