package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// command is one of netyard's commands.
type command struct {
	name    string
	args    string // what follows the name in a usage line
	summary string // one line, for netyard's usage
	about   string // what netyard NAME --help explains
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands are netyard's commands, in the order usage lists them.
var commands []command

func init() {
	commands = []command{
		{"run", "FILE [--seed N] [--pcap OUT.pcapng] [--explain] [--trace-json OUT] [--json] [--backend mem|netns|both]", "run a scenario's steps and say which pass",
			"Runs FILE's steps in memory (virtual time, no root) or in real network namespaces (--backend netns, root), or in both, comparing their verdicts. Exits 0 when every step passed, 1 when a step failed, 2 when the file or the command line is wrong.", cmdRun},
		{"validate", "FILE...", "check scenario files, reporting every problem with its line",
			"Loads each FILE and reports every problem in it as FILE:LINE: what is wrong, in one run. Exits 0 when every file is good, 2 otherwise.", cmdValidate},
		{"draw", "FILE", "print the topology in Graphviz's language",
			"Prints FILE's topology as a Graphviz graph: netyard draw lab.yaml | dot -Tsvg > lab.svg", cmdDraw},
		{"up", "FILE [--explain] [--offloads=false] [--host NAME [--join ADDR[,ADDR]]]", "(root) build the topology in namespaces until Ctrl-C",
			"Builds FILE's topology in named network namespaces and keeps it up until it is interrupted (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT), then removes everything it made. Its steps are not run. Needs root. " +
				"With --host NAME it builds only Docker host NAME's part, for a real machine: NAME's gateway, the switches of its networks and its containers; not the LAN switch, the other Docker hosts or the clients on the LAN. " +
				"Its gateway's LAN leg then has no cable: this machine's own network is the underlay. NAME's overlays reach the other hosts (each brought up on its own machine with its own --host) by VXLAN over a kernel UDP socket on NAME's address from FILE, port 4789, and by a memberlist control plane on the same address, TCP and UDP 7946, seeded by --join or else by the other hosts' addresses from FILE. That address must be one of this machine's. Published ports and docker_gwbridge's way out reach nothing beyond the host.", cmdUp},
		{"exec", "[--run PREFIX] NODE -- CMD [ARG...]", "(root) run a command inside a node's namespace",
			"Runs CMD inside NODE's namespace of a running netyard up, with the node's resolv.conf, and exits with CMD's status. --run names the up when several run (netyard ls shows them). Needs root.", cmdExec},
		{"ls", "[--json]", "list running ups and their nodes",
			"Lists the netyard ups that run, or that died and left something netyard cleanup removes.", cmdLs},
		{"cleanup", "", "(root) remove what crashed ups left behind",
			"Removes what crashed netyard ups left behind: exactly the namespaces, devices and resolv.conf directories their state files record, each only while it still carries the run's mark. Nothing else is touched, whatever its name. Needs root.", cmdCleanup},
		{"dnsd", "--names FILE [--listen 127.0.0.1:5300] [--client 127.0.0.1]", "the embedded DNS server on kernel sockets (UDP and TCP)",
			"Serves the embedded DNS server over UDP and TCP on kernel sockets, with the endpoints of FILE, until Ctrl-C: for benchmarks (bench/dns.sh) and for trying the server with dig. FILE has one endpoint a line, NETWORK CONTAINER ADDRESS [ALIAS...], with # comments. Queries are answered as for a container on every network.", cmdDNSd},
		{"version", "", "print netyard's version", "Prints netyard's version and the Go it was built with.", cmdVersion},
		{"help", "[COMMAND]", "explain a command", "Prints netyard's usage, or a command's help.", cmdHelp},
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// usage is netyard's usage, from the command table.
func usage() string {
	var b strings.Builder
	b.WriteString("netyard: container networking, rebuilt in userspace, that you can watch.\n\nusage:\n")
	for _, c := range commands {
		line := "  netyard " + strings.TrimSpace(c.name+" "+c.args)
		if len(line) > 38 {
			fmt.Fprintf(&b, "%s\n  %-37s %s\n", line, "", c.summary)
		} else {
			fmt.Fprintf(&b, "%-39s %s\n", line, c.summary)
		}
	}
	b.WriteString("\nnetyard COMMAND --help explains a command. up, exec and cleanup need root; run needs none.\n")
	return b.String()
}

// flags returns a command's flag set, whose problems go to stderr.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parse prints what is needed
	return fs
}

// parse parses a command's arguments: flags anywhere among the
// positional ones, unless stopAtFirst (exec, whose command line follows
// the node). It returns the positional arguments and, when the caller is
// to return at once, done with the exit code: 0 after printing help (-h,
// --help, anywhere), 2 after a bad flag.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, stopAtFirst bool) (pos []string, done bool, code int) {
	var err error
	if stopAtFirst {
		err = fs.Parse(args)
		pos = fs.Args()
	} else {
		pos, err = parseInterspersed(fs, args)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(fs.Name(), fs, stdout)
		return nil, true, 0
	case err != nil:
		fmt.Fprintf(stderr, "usage: netyard %s (netyard %s --help explains)\n", strings.TrimSpace(fs.Name()+" "+lookup(fs.Name()).args), fs.Name())
		return nil, true, 2
	}
	return pos, false, 0
}

// printHelp prints a command's usage line, what it does and its flags.
func printHelp(name string, fs *flag.FlagSet, w io.Writer) {
	c := lookup(name)
	fmt.Fprintf(w, "usage: netyard %s\n\n", strings.TrimSpace(c.name+" "+c.args))
	for _, l := range wrap(c.about, 76) {
		fmt.Fprintln(w, l)
	}
	any := false
	fs.VisitAll(func(*flag.Flag) { any = true })
	if any {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones. After "--",
// everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flags("version", stderr)
	if _, done, code := parse(fs, args, stdout, stderr, false); done {
		return code
	}
	v, goVersion := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "(devel)" {
				v = "(devel) " + s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "netyard %s, built with %s\n", v, goVersion)
	return 0
}

func cmdHelp(args []string, stdout, stderr io.Writer) int {
	pos, done, code := parse(flags("help", stderr), args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprint(stdout, usage())
		return 0
	}
	c := lookup(pos[0])
	if c == nil {
		fmt.Fprintf(stderr, "netyard help: no command %q\n\n%s", pos[0], usage())
		return 2
	}
	return c.run([]string{"--help"}, stdout, stderr)
}
