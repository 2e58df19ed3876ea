package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestUpDockerHost: under netyard up, a client reaches the host-network
// container at the host's address with a real kernel's TCP, and
// netyard exec of that container says it runs on the host's own stack.
func TestUpDockerHost(t *testing.T) {
	needRoot(t)
	cmd, prefix := startUp(t, "../../scenarios/docker-host.yaml")
	ex := exec.Command(os.Args[0], "exec", "--run", prefix, "hostweb", "--", "ip", "addr")
	ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	out, err := ex.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "hostweb is on the host network: it runs on the Docker host host1's own stack") {
		t.Errorf("netyard exec hostweb: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("bash"); err == nil { // bash's /dev/tcp: a connect, and nothing else
		for port, want := range map[string]bool{"8081": true, "8082": false} {
			ex = exec.Command(os.Args[0], "exec", "--run", prefix, "client", "--", "bash", "-c", "exec 3<>/dev/tcp/192.168.56.11/"+port)
			ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
			if out, err := ex.CombinedOutput(); (err == nil) != want {
				t.Errorf("connect from the client to 192.168.56.11:%s: %v, want connected %v\n%s", port, err, want, out)
			}
		}
	}
	interrupt(t, cmd, prefix)
}
