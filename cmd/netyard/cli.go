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
		{"up", "FILE [-d] [--listen 127.0.0.1:PORT] [--web] [--explain] [--offloads=false] [--ports=queued|ppoll|uring] [--host NAME [--join ADDR[,ADDR]]]", "(root) build the topology in namespaces and serve its API until down or Ctrl-C",
			"Builds FILE's topology in named network namespaces and keeps it up until netyard down or an interrupt (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT), then removes everything it made. Its steps are not run. Needs root. " +
				"While it is up it serves its API (docs/live/api.md), which netyard inspect, capture, events, link, port, network, container and down speak: on a unix socket /run/netyard/RUN.sock that only its user can open, or with --listen on plain HTTP at a loopback address (another address only with --listen-any). With --web it also serves the page at / on HTTP (the --listen address, or a free port on 127.0.0.1) and prints its URL. " +
				"With -d it runs detached: it prints the run's name once the topology is up and returns, the run's output going to /run/netyard/RUN.log; if it cannot come up, it says why, exits 1 and leaves nothing behind. " +
				"With --host NAME it builds only Docker host NAME's part, for a real machine: NAME's gateway, the switches of its networks and its containers; not the LAN switch, the other Docker hosts or the clients on the LAN. " +
				"Its gateway's LAN leg then has no cable: this machine's own network is the underlay. NAME's overlays reach the other hosts (each brought up on its own machine with its own --host) by VXLAN over a kernel UDP socket on NAME's address from FILE, port 4789, and by a memberlist control plane on the same address, TCP and UDP 7946, seeded by --join or else by the other hosts' addresses from FILE. That address must be one of this machine's. Published ports and docker_gwbridge's way out reach nothing beyond the host.", cmdUp},
		{"down", "[RUN]", "tear a running up down and wait until it is gone",
			"Asks the run's netyard up to tear its topology down (as Ctrl-C does), waits until its process is gone and its state file removed, and checks that nothing it recorded is left: no namespace, device, socket or log. RUN is the run's name as netyard ls shows it (ny...); with one run up it can be left out.", cmdDown},
		{"inspect", "[RUN] [NAME] [--json]", "show a running world: networks, containers, switches (FDB, STP, counters), NAT, DNS, IPAM, links",
			"Prints everything of the run as tables, or one thing by NAME: a Docker network (mybridge or its bridge br-mybridge), a switch, a container or host, a Docker host's gateway, a link's end (A:IF). --json prints it as JSON instead, networks and containers in docker inspect's words (Containers, IPv4Address, MacAddress...). RUN can be left out with one run up.", cmdInspect},
		{"capture", "[RUN] [A:IF...]", "stream the frames crossing a running world's links as pcapng, into wireshark or tshark",
			"Streams the frames crossing the links at A:IF (each a link's end, as containerA:eth0; none: every link) as they cross, as pcapng on stdout, until Ctrl-C or until the reader goes: netyard capture containerA:eth0 | wireshark -k -i -, or | tshark -r -. It refuses a terminal as stdout. A reader slower than the world loses frames (the run's log counts them); the world never waits. RUN can be left out with one run up.", cmdCapture},
		{"events", "[RUN] [--node N,...] [--kind K,...] [--json]", "follow a running world's decisions as they happen, narrated",
			"Prints each decision of the run as it happens, with its time since the run started, in the words of --explain; --json prints each entry as a JSON line instead (the --trace-json record with its n and its text). --node and --kind filter (comma-separated; a link's events are node \"link NAME\"; frames only with --kind frame). A reader slower than the world loses events, and is told how many. Until Ctrl-C. RUN can be left out with one run up.", cmdEvents},
		{"link", "set [RUN] A:IF state up|down | latency 20ms jitter 5ms loss 1% rate 10mbit queue N", "change a running world's link: carrier or impairments",
			"netyard link set changes the link at one of its ends, A:IF, in both directions, as a link step of a scenario does: state up or down, and the impairments latency, jitter, loss, rate (or unlimited) and queue. Words left out stay as they are.", group("link")},
		{"port", "set [RUN] SWITCH:PORT state up|down", "bring a running world's switch port down or up",
			"netyard port set brings a switch's port administratively down or up, as a port step of a scenario does.", group("port")},
		{"network", "connect|disconnect [RUN] NET CONTAINER [--ip A] [--alias N]", "connect a running world's container to a Docker network, or disconnect it",
			"As docker network connect and disconnect: the container gets (or loses) an endpoint on network NET, its address from the network's IPAM or --ip, its names in the network's DNS.", group("network")},
		{"container", "stop|start|restart [RUN] NAME", "stop, start or restart a running world's container",
			"As docker stop, start and restart: a stopped container keeps its endpoints' configuration but leaves its networks' DNS and answers nothing.", group("container")},
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
	subcommands = []command{
		{"link set", "[RUN] A:IF state up|down | latency 20ms jitter 5ms loss 1% rate 10mbit queue N", "change a link's carrier or impairments",
			"Changes the link at its end A:IF, in both directions, as a link step of a scenario does: state up (carrier back) or down (carrier lost), and the impairments latency, jitter, loss (a percentage or a fraction), rate (10mbit, 1gbit, or unlimited) and queue (frames). Words left out stay as they are: latency 0s takes a latency away. Prints what changed. RUN can be left out with one run up.", cmdLinkSet},
		{"port set", "[RUN] SWITCH:PORT state up|down", "bring a switch port down or up",
			"Brings a switch's port administratively down or up, as a port step of a scenario does. Prints what changed. RUN can be left out with one run up.", cmdPortSet},
		{"network connect", "[RUN] NET CONTAINER [--ip A] [--alias N]...", "connect a container to a Docker network",
			"As docker network connect: the container gets an endpoint on NET, its address from NET's IPAM or --ip (NET needs a subnet given for that, as in Docker), its name and --alias names in NET's DNS. Prints what changed, or Docker's refusal. RUN can be left out with one run up.", cmdNetworkConnect},
		{"network disconnect", "[RUN] NET CONTAINER", "disconnect a container from a Docker network",
			"As docker network disconnect: the container's endpoint on NET goes, with its address and its names. Prints what changed, or Docker's refusal. RUN can be left out with one run up.", cmdNetworkDisconnect},
		{"container stop", "[RUN] NAME", "stop a container", "As docker stop: the container stops answering and leaves its networks' DNS; its endpoints' configuration stays for start. RUN can be left out with one run up.", cmdContainer("stop")},
		{"container start", "[RUN] NAME", "start a stopped container", "As docker start: a stopped container comes back on its networks. RUN can be left out with one run up.", cmdContainer("start")},
		{"container restart", "[RUN] NAME", "restart a container", "As docker restart: stop, then start. RUN can be left out with one run up.", cmdContainer("restart")},
	}
}

// subcommands are the commands under link, port, network and container,
// each named "GROUP SUB".
var subcommands []command

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	for i := range subcommands {
		if subcommands[i].name == name {
			return &subcommands[i]
		}
	}
	return nil
}

// group returns the command that runs a group's subcommands (link set,
// network connect...): the first argument names the subcommand; help
// anywhere before one is named prints the group's help.
func group(name string) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 {
			if c := lookup(name + " " + args[0]); c != nil && strings.HasPrefix(c.name, name+" ") {
				return c.run(args[1:], stdout, stderr)
			}
		}
		for _, a := range args {
			switch a {
			case "-h", "-help", "--help":
				printGroupHelp(name, stdout)
				return 0
			}
		}
		var subs []string
		for _, c := range subcommands {
			if strings.HasPrefix(c.name, name+" ") {
				subs = append(subs, strings.TrimPrefix(c.name, name+" "))
			}
		}
		what := "which?"
		if len(args) > 0 {
			what = fmt.Sprintf("no %s %q:", name, args[0])
		}
		fmt.Fprintf(stderr, "netyard %s: %s want %s (netyard %s --help explains)\n", name, what, strings.Join(subs, ", "), name)
		return 2
	}
}

// printGroupHelp prints a group's usage, what it does and its subcommands.
func printGroupHelp(name string, w io.Writer) {
	c := lookup(name)
	fmt.Fprintf(w, "usage: netyard %s %s\n\n", c.name, c.args)
	for _, l := range wrap(c.about, 76) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "\ncommands:")
	for _, s := range subcommands {
		if strings.HasPrefix(s.name, name+" ") {
			fmt.Fprintf(w, "  netyard %s %s\n      %s\n", s.name, s.args, s.summary)
		}
	}
	fmt.Fprintf(w, "\nnetyard %s COMMAND --help explains each.\n", name)
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
	b.WriteString("\nnetyard COMMAND --help explains a command. up, exec and cleanup need root; run needs none.\nRUN is a running up's name, as netyard up -d prints it and netyard ls lists it (ny...); with one up running it can be left out.\n")
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
