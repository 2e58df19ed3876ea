package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/netyard/netyard/dnsd"
)

// cmdDNSd serves the embedded DNS server on kernel sockets until SIGINT or
// SIGTERM.
func cmdDNSd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDNSd(ctx, args, stdout, stderr, nil)
}

// runDNSd is cmdDNSd until ctx is done; ready, if not nil, is called with
// the address once the server answers.
func runDNSd(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(netip.AddrPort)) int {
	fs := flags("dnsd", stderr)
	listen := fs.String("listen", "127.0.0.1:5300", "`ADDRESS:PORT` to answer on, over UDP and TCP (port 0: any free port)")
	names := fs.String("names", "", "`FILE` of endpoints, one per line: NETWORK CONTAINER ADDRESS [ALIAS...]")
	client := fs.String("client", "127.0.0.1", "the `ADDRESS` queries come from, made a member of every network (names are scoped by network)")
	pos, done, code := parse(fs, args, stdout, stderr, false)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "netyard dnsd: unexpected argument %q (the names file is --names FILE)\n", pos[0])
		return 2
	}
	from, err := netip.ParseAddr(*client)
	if err != nil {
		fmt.Fprintf(stderr, "netyard dnsd: --client %q is not an address\n", *client)
		return 2
	}
	if *names == "" {
		fmt.Fprintln(stderr, "netyard dnsd: --names FILE is required")
		return 2
	}
	s := dnsd.New(dnsd.Options{})
	count, err := loadNames(s, *names, from)
	if err != nil {
		fmt.Fprintln(stderr, "netyard dnsd:", err)
		return 2
	}
	v, err := s.Listen(*listen)
	if err != nil {
		fmt.Fprintln(stderr, "netyard dnsd:", err)
		return 1
	}
	defer v.Close()
	fmt.Fprintf(stdout, "netyard dnsd: %d names on %s (UDP and TCP); Ctrl-C stops\n", count, v.Addr())
	if ready != nil {
		ready(v.Addr())
	}
	<-ctx.Done()
	return 0
}

// loadNames adds the endpoints of file to s, and client to each network
// (as container _client, a name no file can give), and returns how many
// the file has. Errors carry the file and line.
func loadNames(s *dnsd.Server, file string, client netip.Addr) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	eps, err := dnsd.ParseNames(f)
	if pe := (*dnsd.ParseError)(nil); errors.As(err, &pe) {
		return 0, fmt.Errorf("%s:%d: %s", file, pe.Line, pe.Msg)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	nets := map[string]bool{}
	for _, e := range eps {
		s.Add(e.Network, e.Container, e.Addr, e.Aliases...)
		if !nets[e.Network] {
			nets[e.Network] = true
			s.Add(e.Network, "_client", client)
		}
	}
	return len(eps), nil
}
