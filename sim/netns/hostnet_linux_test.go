package netns

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netyard/netyard/internal/nsutil/nstest"
)

// TestExecHostNetwork: netyard exec of a container on the host network
// says where it runs (the Docker host's own stack in the up process)
// rather than that it does not exist.
func TestExecHostNetwork(t *testing.T) {
	needRoot(t)
	if !nstest.Inside() {
		t.Fatal("not in the test sandbox: this test would touch the host")
	}
	prefix := Prefix + "x"
	rec := RunInfo{Prefix: prefix, PID: os.Getpid(), File: "docker-host.yaml",
		Hosts: map[string]string{"client": prefix + "-client"}, Addrs: map[string]string{"host1": "eth0 192.168.56.11/24"},
		Shared: map[string]string{"hostweb": "host1"}}
	b, _ := json.Marshal(rec)
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(StateDir, prefix+".json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	_, err := FindHost(prefix, "hostweb")
	if err == nil || !strings.Contains(err.Error(), "hostweb is on the host network: it runs on the Docker host host1's own stack") {
		t.Errorf("FindHost(hostweb) = %v", err)
	}
	if ns, err := FindHost(prefix, "client"); err != nil || ns != prefix+"-client" {
		t.Errorf("FindHost(client) = %q, %v", ns, err)
	}
}
