package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/nsutil"
)

// StateDir holds one file per running `netyard up`, so that netyard exec,
// ls and cleanup can find what it built.
var StateDir = "/run/netyard"

// nsDir is where named namespaces are bind-mounted (as by ip netns add).
const nsDir = "/var/run/netns"

// RunInfo describes a running (or crashed) `netyard up`.
type RunInfo struct {
	Prefix string            `json:"prefix"`
	PID    int               `json:"pid"`
	File   string            `json:"file"`
	Hosts  map[string]string `json:"hosts"` // host -> namespace
	Addrs  map[string]string `json:"addrs"` // host -> addresses, for ls
	Alive  bool              `json:"-"`
}

// SaveState records n as the network of a running `netyard up` of file.
func (n *Network) SaveState(file string) (string, error) {
	info := RunInfo{Prefix: Prefix, PID: os.Getpid(), File: file, Hosts: map[string]string{}, Addrs: map[string]string{}}
	for _, h := range n.Graph().Hosts {
		if h.Router == nil { // a gateway is netyard's own node, in this process
			info.Hosts[h.Name] = n.Namespace(h.Name)
		}
		var a []string
		for _, f := range h.Ifaces {
			a = append(a, f.Name+" "+f.Addr.String())
		}
		info.Addrs[h.Name] = strings.Join(a, ", ")
	}
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return "", err
	}
	if d := n.Graph().Docker; d != nil && d.IPAM != nil {
		// The addresses handed out, as Docker keeps its IPAM state.
		if err := d.IPAM.Save(filepath.Join(StateDir, Prefix+".ipam.json")); err != nil {
			return "", err
		}
	}
	path := filepath.Join(StateDir, Prefix+".json")
	b, _ := json.MarshalIndent(info, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// Runs lists the recorded `netyard up` runs, alive or not, by prefix.
func Runs() ([]RunInfo, error) {
	files, err := filepath.Glob(filepath.Join(StateDir, "ny*.json"))
	if err != nil {
		return nil, err
	}
	var out []RunInfo
	for _, f := range files {
		if strings.HasSuffix(f, ".ipam.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var r RunInfo
		if json.Unmarshal(b, &r) != nil {
			continue
		}
		r.Alive = alive(r.PID)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RunInfo) int { return strings.Compare(a.Prefix, b.Prefix) })
	return out, nil
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) state ...: the state follows the last ')'.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// ours matches netyard's names: the prefix ny<pid in base 36>, then a
// namespace's "-host" or a TAP device's "t<n>".
var ours = regexp.MustCompile(`^ny([0-9a-z]+)(-.+|t[0-9]+)$`)

// owner returns the pid encoded in one of netyard's names.
func owner(name string) (int, bool) {
	m := ours.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	pid, err := strconv.ParseInt(m[1], 36, 64)
	return int(pid), err == nil
}

// Cleanup removes what crashed netyard processes left behind: their named
// namespaces, TAP devices and state files. It touches only names of
// netyard's own pattern whose process is gone, and returns what it removed.
func Cleanup() ([]string, error) {
	var removed []string
	var errs []error
	entries, _ := os.ReadDir(nsDir)
	for _, e := range entries {
		if pid, ok := owner(e.Name()); ok && !alive(pid) {
			if err := vnetns.DeleteNamed(e.Name()); err != nil {
				errs = append(errs, fmt.Errorf("namespace %s: %w", e.Name(), err))
				continue
			}
			removed = append(removed, "namespace "+e.Name())
		}
	}
	dirs, _ := os.ReadDir(resolvConfDir)
	for _, e := range dirs {
		if pid, ok := owner(e.Name()); ok && !alive(pid) {
			if err := os.RemoveAll(filepath.Join(resolvConfDir, e.Name())); err == nil {
				removed = append(removed, "resolv.conf of "+e.Name())
			}
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		name := l.Attrs().Name
		if pid, ok := owner(name); ok && !alive(pid) {
			if err := netlink.LinkDel(l); err != nil {
				errs = append(errs, fmt.Errorf("device %s: %w", name, err))
				continue
			}
			removed = append(removed, "device "+name)
		}
	}
	runs, _ := Runs()
	for _, r := range runs {
		if !r.Alive {
			os.Remove(filepath.Join(StateDir, r.Prefix+".ipam.json"))
			if err := os.Remove(filepath.Join(StateDir, r.Prefix+".json")); err == nil {
				removed = append(removed, "state "+r.Prefix)
			}
		}
	}
	return removed, errors.Join(errs...)
}

// FindHost returns the namespace of host in the running `netyard up`
// (prefix "" means the only one running).
func FindHost(prefix, host string) (string, error) {
	runs, err := Runs()
	if err != nil {
		return "", err
	}
	var found []string
	gateway := false
	for _, r := range runs {
		if !r.Alive || (prefix != "" && r.Prefix != prefix) {
			continue
		}
		if ns, ok := r.Hosts[host]; ok {
			found = append(found, ns)
		} else if _, ok := r.Addrs[host]; ok {
			gateway = true
		}
	}
	if len(found) == 0 && gateway {
		return "", fmt.Errorf("%s is a Docker host: its gateway is netyard's own node, in the netyard up process, not a namespace; exec into a container or a client", host)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no running netyard up has a host %q (netyard ls shows what runs)", host)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d running netyard ups have a host %q: name one with --run PREFIX", len(found), host)
}

// Exec runs argv inside the namespace ns with the caller's standard
// streams, and returns its exit code.
func Exec(ns string, argv []string) (int, error) {
	h, err := vnetns.GetFromName(ns)
	if err != nil {
		return 0, fmt.Errorf("namespace %s: %w", ns, err)
	}
	defer h.Close()
	if ip, err := exec.LookPath("ip"); err == nil {
		// ip netns exec also mounts /etc/netns/NS/resolv.conf over
		// /etc/resolv.conf: a container's names resolve as in Docker.
		cmd := exec.Command(ip, append([]string{"netns", "exec", ns}, argv...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return 0, err
	}
	code := 0
	err = nsutil.Do(h, func() error {
		// The child is forked from this thread, so it starts in ns.
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
			return nil
		}
		return err
	})
	return code, err
}
