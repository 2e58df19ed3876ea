package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/netyard/netyard/dnsd"
)

// cmdDNSd serves the embedded DNS server on a kernel UDP socket, with the
// names of a file, until SIGINT or SIGTERM: for benchmarks (bench/dns.sh)
// and for trying the server with dig.
func cmdDNSd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dnsd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5300", "UDP address to answer on")
	names := fs.String("names", "", "file of endpoints, one per line: NETWORK CONTAINER ADDRESS [ALIAS...]")
	client := fs.String("client", "127.0.0.1", "the address queries come from, made a member of every network (names are scoped by network)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	from, err := netip.ParseAddr(*client)
	if err != nil {
		fmt.Fprintf(stderr, "netyard dnsd: --client %q is not an address\n", *client)
		return 2
	}
	s := dnsd.New(dnsd.Options{})
	count, err := loadNames(s, *names, from)
	if err != nil {
		fmt.Fprintln(stderr, "netyard dnsd:", err)
		return 2
	}
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "netyard dnsd:", err)
		return 1
	}
	ready := make(chan struct{})
	srv := s.Serve(pc, func() { close(ready) })
	<-ready
	fmt.Fprintf(stdout, "netyard dnsd: %d names on %s; Ctrl-C stops\n", count, pc.LocalAddr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = srv.Shutdown()
	return 0
}

// loadNames adds the endpoints of file to s, and client to each network.
func loadNames(s *dnsd.Server, file string, client netip.Addr) (int, error) {
	if file == "" {
		return 0, fmt.Errorf("--names FILE is required")
	}
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	nets := map[string]bool{}
	n := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 3 {
			return n, fmt.Errorf("%s:%d: want NETWORK CONTAINER ADDRESS [ALIAS...]", file, line)
		}
		a, err := netip.ParseAddr(fields[2])
		if err != nil || !a.Is4() {
			return n, fmt.Errorf("%s:%d: %q is not an IPv4 address", file, line, fields[2])
		}
		s.Add(fields[0], fields[1], a, fields[3:]...)
		if !nets[fields[0]] {
			nets[fields[0]] = true
			s.Add(fields[0], "_client", client)
		}
		n++
	}
	return n, sc.Err()
}
