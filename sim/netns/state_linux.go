package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/netyard/netyard/internal/nsutil"
)

// StateDir holds one file per running `netyard up`, so that netyard exec,
// ls and cleanup can find what it built.
var StateDir = "/run/netyard"

// mark is the alias netyard gives every device it makes, and the first
// line of every resolv.conf it writes: what a cleanup checks before it
// removes anything.
func mark(prefix string) string { return "netyard run " + prefix }

// journal is the state file of a named run, written before each object
// the run makes, so that a crash at any point leaves a record of
// everything it made.
type journal struct {
	mu   sync.Mutex // guards info and the file
	path string
	info RunInfo
}

// newJournal starts this process's state file.
func newJournal() (*journal, error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, err
	}
	j := &journal{path: filepath.Join(StateDir, Prefix+".json"),
		info: RunInfo{Prefix: Prefix, PID: os.Getpid(), Started: started(os.Getpid()), Hosts: map[string]string{}, Addrs: map[string]string{}}}
	if _, err := os.Stat(j.path); err == nil {
		return nil, fmt.Errorf("netns: state file %s exists already", j.path)
	}
	return j, j.saveLocked()
}

// add records an object about to be made, and returns its index.
func (j *journal) add(kind, name string) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.info.Owned = append(j.info.Owned, Owned{Kind: kind, Name: name})
	return len(j.info.Owned) - 1, j.saveLocked()
}

// made records the identity of object i, now made.
func (j *journal) made(i int, id uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.info.Owned[i].ID = id
	return j.saveLocked()
}

// update changes the record with f and writes it.
func (j *journal) update(f func(r *RunInfo)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.info)
	return j.saveLocked()
}

// saveLocked writes the state file atomically.
func (j *journal) saveLocked() error {
	b, err := json.MarshalIndent(j.info, "", "  ")
	if err != nil {
		return err
	}
	tmp := j.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, j.path)
}

// remove deletes the state file and the run's IPAM files.
func (j *journal) remove() {
	removeIPAM(j.info.Prefix)
	os.Remove(j.path)
}

// ipamFile is where a run keeps a Docker host's allocations, as Docker
// keeps its IPAM state: the first host's as <prefix>.ipam.json, another's
// as <prefix>.<host>.ipam.json.
func ipamFile(prefix string, i int, host string) string {
	if i == 0 {
		return filepath.Join(StateDir, prefix+".ipam.json")
	}
	return filepath.Join(StateDir, prefix+"."+host+".ipam.json")
}

// removeIPAM deletes a run's IPAM files, and only its own.
func removeIPAM(prefix string) {
	os.Remove(ipamFile(prefix, 0, ""))
	more, _ := filepath.Glob(filepath.Join(StateDir, prefix+".*.ipam.json"))
	for _, f := range more {
		os.Remove(f)
	}
}

// SaveState records what a running `netyard up` of file runs, beside
// what it made, and returns the state file's path. The network must be
// Named.
func (n *Network) SaveState(file string) (string, error) {
	if n.journal == nil {
		return "", errors.New("netns: SaveState needs a Named network")
	}
	if d := n.world.Docker(); d != nil {
		for i, h := range d.Hosts { // the addresses each handed out
			if err := h.IPAM.Save(ipamFile(Prefix, i, h.Name)); err != nil {
				return "", err
			}
		}
	}
	err := n.journal.update(func(r *RunInfo) {
		r.File = file
		for _, h := range n.world.Graph().Hosts {
			if h.Router == nil { // a gateway is netyard's own node, in this process
				r.Hosts[h.Name] = n.Namespace(h.Name)
			}
			var a []string
			for _, f := range h.Ifaces {
				a = append(a, f.Name+" "+f.Addr.String())
			}
			r.Addrs[h.Name] = strings.Join(a, ", ")
		}
		if d := n.world.Graph().Docker; d != nil {
			for _, c := range d.Containers {
				if c.OnHostNetwork() {
					if r.Shared == nil {
						r.Shared = map[string]string{}
					}
					r.Shared[c.Name] = c.Host
				}
			}
		}
	})
	return n.journal.path, err
}

// Runs lists the recorded `netyard up` runs, alive or not, by prefix. A
// state file that does not parse is reported in bad, and left alone.
func Runs() (runs []RunInfo, bad []string, err error) {
	files, err := filepath.Glob(filepath.Join(StateDir, "ny*.json"))
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".ipam.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		r, err := parseRun(b)
		if err != nil || filepath.Base(f) != r.Prefix+".json" {
			if err == nil {
				err = fmt.Errorf("names run %s", r.Prefix)
			}
			bad = append(bad, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		r.Alive = alive(r.PID, r.Started)
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b RunInfo) int { return strings.Compare(a.Prefix, b.Prefix) })
	return runs, bad, nil
}

// started returns process pid's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), 0 if it cannot be read.
func started(pid int) uint64 {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ...: the fields after the last ')' start at the
	// third.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// alive reports whether process pid exists, is not a zombie and, when
// start is known, is the process that started then.
func alive(pid int, start uint64) bool {
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
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return start == 0 || started(pid) == start
}

// Swept is what a cleanup did.
type Swept struct {
	Removed []string // what it removed, each as "namespace ny1a-h1"
	Left    []string // what it found but did not remove, and why
}

// Cleanup removes what crashed `netyard up` runs left behind: exactly the
// objects their state files record, each only if it still carries the
// run's mark (a namespace's identity, a device's alias, a resolv.conf's
// first line). Anything else, whatever its name, is never touched: a
// namespace, device or directory made by hand stays, and so does one
// that took a dead run's name since. A state file is removed once every
// object it names is gone or was left for a reason it reports.
func Cleanup() (Swept, error) {
	var sw Swept
	var errs []error
	runs, bad, err := Runs()
	if err != nil {
		return sw, err
	}
	for _, b := range bad {
		sw.Left = append(sw.Left, "state file "+b+": not netyard's, left alone")
	}
	for _, r := range runs {
		if r.Alive {
			continue
		}
		failed := false
		for i := len(r.Owned) - 1; i >= 0; i-- {
			o := r.Owned[i]
			removed, left, err := sweep(r.Prefix, o)
			switch {
			case err != nil:
				failed = true
				errs = append(errs, fmt.Errorf("%s %s: %w", o.Kind, o.Name, err))
			case removed:
				sw.Removed = append(sw.Removed, o.Kind+" "+o.Name)
			case left != "":
				sw.Left = append(sw.Left, o.Kind+" "+o.Name+": "+left)
			}
		}
		if failed {
			continue // try again next time
		}
		removeIPAM(r.Prefix)
		sw.Removed = append(sw.Removed, sweepRunFiles(r.Prefix)...)
		if err := os.Remove(filepath.Join(StateDir, r.Prefix+".json")); err == nil {
			sw.Removed = append(sw.Removed, "state "+r.Prefix)
		}
	}
	return sw, errors.Join(errs...)
}

// sweep removes one recorded object if it is still the run's: removed
// when it did; left says why it did not (nothing when the object is gone).
func sweep(prefix string, o Owned) (removed bool, left string, err error) {
	switch o.Kind {
	case KindNamespace:
		id, err := nsutil.Identity(o.Name)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return false, "", nil
		case err != nil:
			return false, err.Error(), nil
		case o.ID == 0:
			return false, "its run died while making it, so it cannot be told from another (ip netns del removes it)", nil
		case id != o.ID:
			return false, "not the namespace run " + prefix + " made (another has its name now)", nil
		}
		return true, "", nsutil.DeleteNamed(o.Name)
	case KindResolvConf:
		dir, err := nsutil.Inside(resolvConfDir, o.Name)
		if err != nil {
			return false, err.Error(), nil
		}
		b, err := os.ReadFile(filepath.Join(dir, "resolv.conf"))
		if errors.Is(err, os.ErrNotExist) {
			if os.Remove(dir) == nil { // made, never written
				return true, "", nil
			}
			return false, "", nil
		}
		first, _, _ := strings.Cut(string(b), "\n")
		if err != nil || first != "# "+mark(prefix) {
			return false, "not written by run " + prefix, nil
		}
		if err := os.Remove(filepath.Join(dir, "resolv.conf")); err != nil {
			return false, "", err
		}
		_ = os.Remove(dir) // fails if something else is in it: the directory stays
		return true, "", nil
	case KindDevice:
		l, err := netlink.LinkByName(o.Name)
		var nf netlink.LinkNotFoundError
		switch {
		case errors.As(err, &nf):
			return false, "", nil
		case err != nil:
			return false, err.Error(), nil
		case l.Attrs().Alias != mark(prefix):
			return false, "not marked as run " + prefix + "'s", nil
		}
		return true, "", netlink.LinkDel(l)
	}
	return false, "unknown kind", nil
}

// exitStatus is a finished command's status as a shell gives it: its exit
// code, or 128 + the signal that killed it.
func exitStatus(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// FindHost returns the namespace of host in the running `netyard up`
// (prefix "" means the only one running).
func FindHost(prefix, host string) (string, error) {
	runs, _, err := Runs()
	if err != nil {
		return "", err
	}
	var found []string
	gateway, shared := false, ""
	for _, r := range runs {
		if !r.Alive || (prefix != "" && r.Prefix != prefix) {
			continue
		}
		if ns, ok := r.Hosts[host]; ok {
			found = append(found, ns)
		} else if _, ok := r.Addrs[host]; ok {
			gateway = true
		} else if h, ok := r.Shared[host]; ok {
			shared = h
		}
	}
	if len(found) == 0 && shared != "" {
		return "", fmt.Errorf("%s is on the host network: it runs on the Docker host %s's own stack, netyard's own node in the netyard up process, not a namespace; exec into a container or a client (a step from: %s runs from %s)", host, shared, host, shared)
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
	if err := nsutil.CheckName(ns); err != nil {
		return 0, err
	}
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
			return exitStatus(ee), nil
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
			code = exitStatus(ee)
			return nil
		}
		return err
	})
	return code, err
}

// SetAPI records where the run serves its live API (unix:PATH or
// http://IP:PORT) in its state file, for the verbs to find.
func (n *Network) SetAPI(api string) error {
	if n.journal == nil {
		return errors.New("netns: SetAPI needs a Named network")
	}
	if err := checkAPI(api); err != nil {
		return fmt.Errorf("netns: api %q: %w", api, err)
	}
	return n.journal.update(func(r *RunInfo) { r.API = api })
}

// Running reports whether the run's process is still the one that
// started it, now (Alive is as of Runs).
func (r RunInfo) Running() bool { return alive(r.PID, r.Started) }

// RunFile returns the path of a run's file beside its state: its API's
// socket (ext ".sock") or a detached run's log (".log").
func RunFile(prefix, ext string) string { return filepath.Join(StateDir, prefix+ext) }

// sweepRunFiles removes a dead run's socket and log, if they are there
// (the socket only if it is one).
func sweepRunFiles(prefix string) (removed []string) {
	if fi, err := os.Lstat(RunFile(prefix, ".sock")); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if os.Remove(RunFile(prefix, ".sock")) == nil {
			removed = append(removed, "socket "+RunFile(prefix, ".sock"))
		}
	}
	if fi, err := os.Lstat(RunFile(prefix, ".log")); err == nil && fi.Mode().IsRegular() {
		if os.Remove(RunFile(prefix, ".log")) == nil {
			removed = append(removed, "log "+RunFile(prefix, ".log"))
		}
	}
	return removed
}
