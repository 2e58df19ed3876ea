package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netyard/netyard/sim/netns"
)

// self runs the test binary as netyard with args, returning its exit
// code and output; it is killed after a minute.
func self(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer kill.Stop()
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestDetachedUpInspectCaptureLinkDown is the README's live session:
// up -d, inspect, inspect br-mybridge --json, capture | tshark while a
// ping runs, link set ... state down (a ping then fails), down, and
// nothing of the run is left.
func TestDetachedUpInspectCaptureLinkDown(t *testing.T) {
	needRoot(t)
	code, out, errs := self(t, "up", "-d", "../../scenarios/docker-publish.yaml")
	if code != 0 {
		t.Fatalf("up -d: exit %d: %s%s", code, out, errs)
	}
	run := strings.TrimSpace(out)
	if !strings.HasPrefix(run, "ny") || strings.ContainsAny(run, " \n") {
		t.Fatalf("up -d printed %q, want the run's name", out)
	}
	var pid int
	if runs, _, err := netns.Runs(); err == nil {
		for _, r := range runs {
			if r.Prefix == run {
				pid = r.PID
			}
		}
	}
	if pid == 0 {
		t.Fatalf("run %s is not in the state directory", run)
	}
	t.Cleanup(func() { // a failed test still takes its run down
		if syscall.Kill(pid, 0) == nil {
			self(t, "down", run)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	code, out, errs = self(t, "inspect")
	if code != 0 || !strings.Contains(out, "mybridge") || !strings.Contains(out, "br-mybridge") || !strings.Contains(out, "containerB") {
		t.Fatalf("inspect: exit %d: %s%s", code, out, errs)
	}

	code, out, errs = self(t, "inspect", "br-mybridge", "--json")
	if code != 0 {
		t.Fatalf("inspect br-mybridge --json: exit %d: %s", code, errs)
	}
	var one struct {
		Kind    string
		Network struct {
			Name       string
			Containers map[string]struct{ Name, IPv4Address, MacAddress string }
		}
	}
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatalf("inspect br-mybridge --json is not JSON: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, c := range one.Network.Containers {
		got[c.Name] = c.IPv4Address
	}
	if one.Network.Name != "mybridge" || got["containerA"] != "172.18.0.2/16" || got["containerB"] != "172.18.0.10/16" {
		t.Errorf("inspect br-mybridge: network %q, containers %v; want mybridge with containerA 172.18.0.2/16, containerB 172.18.0.10/16", one.Network.Name, got)
	}

	if tshark, err := exec.LookPath("tshark"); err != nil {
		t.Log("no tshark: the capture is not read back (apt-get install tshark)")
	} else {
		capture := exec.Command(os.Args[0], "capture", "containerA:eth0")
		capture.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
		read := exec.Command(tshark, "-r", "-", "-c", "5")
		pipe, err := capture.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		read.Stdin = pipe
		var lines bytes.Buffer
		read.Stdout = &lines
		if err := capture.Start(); err != nil {
			t.Fatal(err)
		}
		if err := read.Start(); err != nil {
			t.Fatal(err)
		}
		ping := exec.Command(os.Args[0], "exec", "containerA", "--", "ping", "-c", "20", "-i", "0.2", "172.18.0.10")
		ping.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
		if err := ping.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- read.Wait() }()
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			_ = read.Process.Kill()
			err = <-done
		}
		_ = capture.Process.Kill()
		_ = capture.Wait()
		_ = ping.Wait()
		var n int
		text := lines.String()
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) != "" {
				n++
			}
		}
		if err != nil || n != 5 || !strings.Contains(text, "ICMP") {
			t.Errorf("capture | tshark -r - -c 5: %v, %d lines, want 5 with ICMP:\n%s", err, n, text)
		}
	}

	if code, out, errs = self(t, "exec", "containerA", "--", "ping", "-c", "1", "-W", "5", "172.18.0.10"); code != 0 {
		t.Fatalf("a ping before the link goes down: exit %d: %s%s", code, out, errs)
	}
	if code, out, errs = self(t, "link", "set", "containerA:eth0", "state", "down"); code != 0 || !strings.Contains(out, "down") {
		t.Fatalf("link set containerA:eth0 state down: exit %d: %s%s", code, out, errs)
	}
	if code, out, _ = self(t, "exec", "containerA", "--", "ping", "-c", "2", "-W", "1", "172.18.0.10"); code == 0 {
		t.Errorf("a ping with containerA's link down succeeded:\n%s", out)
	}
	if code, _, errs = self(t, "link", "set", "nosuch:eth0", "state", "down"); code != 1 || !strings.Contains(errs, "nosuch:eth0") {
		t.Errorf("link set on a node that does not exist: exit %d, %q; want 1 and an error naming it", code, errs)
	}

	if code, out, errs = self(t, "down"); code != 0 {
		t.Fatalf("down: exit %d: %s%s", code, out, errs)
	}
	if !gone(pid) {
		t.Errorf("run %s's process %d is still there after down", run, pid)
	}
	if l := leftovers(t, run); len(l) > 0 {
		t.Errorf("left behind after down: %v", l)
	}
	for _, ext := range []string{".json", ".sock", ".log"} {
		if _, err := os.Stat(netns.RunFile(run, ext)); err == nil {
			t.Errorf("%s left behind after down", netns.RunFile(run, ext))
		}
	}
}

// gone reports whether process pid has ended (a zombie nobody reaped yet
// has), waiting for it up to 30 s.
func gone(pid int) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if _, rest, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(rest, "Z") {
			return true
		}
	}
	return false
}
