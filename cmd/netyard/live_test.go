package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netyard/netyard/internal/nsutil/nstest"
	"github.com/netyard/netyard/sim/netns"
)

// TestMain lets the test binary act as netyard when NETYARD_AS_MAIN is set,
// so tests can run `netyard up` as a process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("NETYARD_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// As root, every test runs in a throwaway mount and network
	// namespace: netyard up, exec and cleanup there never see the host's.
	nstest.Main(m)
}

func needRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux: netyard up creates network namespaces")
	}
}

// startUp runs `netyard up FILE` and waits until it reports the topology up;
// it returns the process and the run's prefix.
func startUp(t *testing.T, file string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "up", file)
	cmd.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "is up (run "); ok {
			prefix, _, _ := strings.Cut(rest, ")")
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd, prefix
		}
	}
	t.Fatal("netyard up never came up")
	return nil, ""
}

// leftovers lists the namespaces and devices named with prefix.
func leftovers(t *testing.T, prefix string) []string {
	t.Helper()
	var found []string
	entries, _ := os.ReadDir("/var/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			found = append(found, "namespace "+e.Name())
		}
	}
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		if strings.HasPrefix(l.Name(), prefix+"t") {
			found = append(found, "device "+l.Name())
		}
	}
	return found
}

// interrupt stops a netyard up as Ctrl-C does, and checks it removed
// everything it made.
func interrupt(t *testing.T, cmd *exec.Cmd, prefix string) { stopWith(t, cmd, prefix, os.Interrupt) }

// stopWith sends sig to a netyard up and checks that it tore everything
// down and exited 0.
func stopWith(t *testing.T, cmd *exec.Cmd, prefix string, sig os.Signal) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("up after %v: %v", sig, err)
	}
	if l := leftovers(t, prefix); len(l) > 0 {
		t.Errorf("left behind after %v: %v", sig, l)
	}
	if _, err := os.Stat(filepath.Join(netns.StateDir, prefix+".json")); err == nil {
		t.Errorf("state file left behind after %v", sig)
	}
}

// TestHangupAndQuitTearDown: closing up's terminal (SIGHUP) or Ctrl-\
// (SIGQUIT) tears the topology down as Ctrl-C does.
func TestHangupAndQuitTearDown(t *testing.T) {
	needRoot(t)
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM} {
		cmd, prefix := startUp(t, "../../scenarios/l2-learning.yaml")
		stopWith(t, cmd, prefix, sig)
	}
}

// TestUpExecInterrupt: up, exec a command in a node, Ctrl-C: nothing left.
func TestUpExecInterrupt(t *testing.T) {
	needRoot(t)
	cmd, prefix := startUp(t, "../../scenarios/l2-learning.yaml")
	if len(leftovers(t, prefix)) != 3 {
		t.Fatalf("expected 3 namespaces, have %v", leftovers(t, prefix))
	}
	probe := []string{"exec", "--run", prefix, "h1", "--", "ip", "-4", "addr", "show", "eth0"}
	if _, err := exec.LookPath("ping"); err == nil {
		probe = []string{"exec", "--run", prefix, "h1", "--", "ping", "-c", "2", "-W", "2", "10.0.0.2"}
	}
	ex := exec.Command(os.Args[0], probe...)
	ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	if out, err := ex.CombinedOutput(); err != nil {
		t.Errorf("netyard %s: %v\n%s", strings.Join(probe, " "), err, out)
	}
	// A command killed by a signal exits as a shell says: 128 + the signal.
	killed := exec.Command(os.Args[0], "exec", "--run", prefix, "h1", "--", "sh", "-c", "kill -TERM $$")
	killed.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
	var ee *exec.ExitError
	if err := killed.Run(); !errors.As(err, &ee) || ee.ExitCode() != 128+15 {
		t.Errorf("exec of a command killed by SIGTERM: %v, want exit status 143", err)
	}
	interrupt(t, cmd, prefix)
}

// TestKillThenCleanup: SIGKILL leaves named namespaces; cleanup removes them.
func TestKillThenCleanup(t *testing.T) {
	needRoot(t)
	cmd, prefix := startUp(t, "../../scenarios/port-mirror.yaml")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	code, out, errOut := netyard("cleanup")
	if code != 0 {
		t.Fatalf("cleanup: exit %d\n%s%s", code, out, errOut)
	}
	if l := leftovers(t, prefix); len(l) > 0 {
		t.Errorf("left behind after SIGKILL and cleanup: %v\n%s", l, out)
	}
}

// TestUpDockerPublish: the Docker model in real namespaces, with real
// tools. From the client on the LAN, curl reaches the published port and
// the container answers with the client's address; a container's
// resolv.conf says nameserver 127.0.0.11, dig asks the embedded DNS server
// there (the gateway refuses), and getent and ping (libc, through the
// resolv.conf netyard wrote) resolve containers' names.
func TestUpDockerPublish(t *testing.T) {
	needRoot(t)
	cmd, prefix := startUp(t, "../../scenarios/docker-publish.yaml")
	run := func(tool string, argv ...string) string {
		t.Helper()
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s is not installed: that check is skipped (.ci/run installs it)", tool)
			return ""
		}
		ex := exec.Command(os.Args[0], append([]string{"exec", "--run", prefix}, argv...)...)
		ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
		out, err := ex.CombinedOutput()
		if err != nil {
			t.Errorf("netyard exec %s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		return string(out)
	}
	if out := run("curl", "client", "--", "curl", "-s", "-m", "5", "http://192.168.56.11:8080/"); out != "" && !strings.Contains(out, "hello from containerB port 80: you are 192.168.56.12:") {
		t.Errorf("curl to the published port: %q", out)
	}
	if out := run("nc", "client", "--", "nc", "-z", "-w", "3", "192.168.56.11", "32768"); strings.Contains(out, "refused") {
		t.Errorf("nc to the ephemeral published port: %q", out)
	}
	if out := run("cat", "containerA", "--", "cat", "/etc/resolv.conf"); !strings.Contains(out, "\nnameserver 127.0.0.11\n") || !strings.Contains(out, "options ndots:0") {
		t.Errorf("containerA's /etc/resolv.conf, want Docker's embedded DNS server, nameserver 127.0.0.11, options ndots:0:\n%s", out)
	}
	if out := run("dig", "containerA", "--", "dig", "+short", "+time=3", "containerB"); out != "" && strings.TrimSpace(out) != "172.18.0.10" {
		t.Errorf("dig containerB (127.0.0.11, in containerA's namespace): %q", out)
	}
	if out := run("dig", "containerA", "--", "dig", "+short", "+tcp", "+time=3", "@127.0.0.11", "containerB"); out != "" && strings.TrimSpace(out) != "172.18.0.10" {
		t.Errorf("dig +tcp @127.0.0.11 containerB (DNS over TCP, from a kernel): %q", out)
	}
	if _, err := exec.LookPath("dig"); err == nil {
		ex := exec.Command(os.Args[0], "exec", "--run", prefix, "containerA", "--", "dig", "+time=2", "+tries=1", "@172.18.0.1", "containerB")
		ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
		if out, err := ex.CombinedOutput(); err == nil || !strings.Contains(string(out), "refused") {
			t.Errorf("dig @172.18.0.1 containerB: %v, want refused, as on Docker (the gateway serves no DNS):\n%s", err, out)
		}
	}
	if out := run("getent", "containerA", "--", "getent", "hosts", "web"); out != "" && !strings.HasPrefix(out, "172.18.0.10") {
		t.Errorf("getent hosts web (an alias): %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(netns.StateDir, prefix+".ipam.json")); err != nil || !strings.Contains(string(b), `"172.18.0.10"`) {
		t.Errorf("IPAM state of the run: %v\n%s", err, b)
	}
	if out := run("ping", "containerA", "--", "ping", "-c", "1", "-W", "3", "containerB"); out != "" && !strings.Contains(out, "1 received") {
		t.Errorf("ping containerB by name: %q", out)
	}
	interrupt(t, cmd, prefix)
	if _, err := os.Stat(filepath.Join(netns.StateDir, prefix+".ipam.json")); err == nil {
		t.Errorf("IPAM state left behind")
	}
	if m, _ := filepath.Glob("/etc/netns/" + prefix + "-*"); len(m) > 0 {
		t.Errorf("resolv.conf directories left behind: %v", m)
	}
}

// TestUpHintsWork: every command netyard up suggests works in the running
// topology (docker-isolation once suggested a ping across isolated
// networks).
func TestUpHintsWork(t *testing.T) {
	needRoot(t)
	for _, file := range []string{"vlan-isolation", "docker-isolation", "docker-publish"} {
		t.Run(file, func(t *testing.T) {
			path := "../../scenarios/" + file + ".yaml"
			_, g, ok := loadGraph(path, os.Stderr)
			if !ok {
				t.Fatal("load")
			}
			tips := hints(g, "")
			if len(tips) == 0 {
				t.Fatalf("no hints for %s", file)
			}
			cmd, prefix := startUp(t, path)
			for _, tip := range tips {
				argv := strings.Fields(strings.TrimPrefix(tip, "netyard "))
				tool := argv[3]
				if _, err := exec.LookPath(tool); err != nil {
					t.Logf("%s is not installed: %q not tried", tool, tip)
					continue
				}
				argv = append([]string{"exec", "--run", prefix}, argv[1:]...)
				ex := exec.Command(os.Args[0], argv...)
				ex.Env = append(os.Environ(), "NETYARD_AS_MAIN=1")
				if out, err := ex.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) == "" {
					t.Errorf("hint %q: %v\n%s", tip, err, out)
				}
			}
			interrupt(t, cmd, prefix)
		})
	}
}
