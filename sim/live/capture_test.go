package live_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netyard/netyard/sim/live"
	"github.com/netyard/netyard/sim/trace"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// packet is one frame read back from a pcapng stream.
type packet struct {
	iface string
	ci    gopacket.CaptureInfo
	data  []byte
}

// openCapture opens a capture stream at query; the subscription is in
// place when it returns.
func (w *world) openCapture(query string) io.ReadCloser {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", w.web.URL+"/api/v1/capture"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != live.PcapngType {
		w.t.Fatalf("capture%s: %d %s", query, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	w.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	return resp.Body
}

// packets reads a pcapng stream with gopacket's NgReader, onto the
// channel returned.
func packets(t *testing.T, r io.Reader) <-chan packet {
	ch := make(chan packet, 1024)
	go func() {
		defer close(ch)
		ng, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
		if err != nil {
			t.Errorf("pcapng: %v", err)
			return
		}
		for {
			data, ci, err := ng.ReadPacketData()
			if err != nil {
				return
			}
			var name string
			if ifc, err := ng.Interface(ci.InterfaceIndex); err == nil {
				name = ifc.Name
			}
			ch <- packet{iface: name, ci: ci, data: data}
		}
	}()
	return ch
}

// take reads n packets from ch within 30s.
func take(t *testing.T, ch <-chan packet, n int) []packet {
	t.Helper()
	var out []packet
	deadline := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatalf("the capture ended after %d frames of %d", len(out), n)
			}
			out = append(out, p)
		case <-deadline:
			t.Fatalf("30s and %d frames of %d", len(out), n)
		}
	}
	return out
}

// readPcapng reads a whole pcapng file from url: want frames.
func readPcapng(t *testing.T, url string, want int) []packet {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []packet
	for p := range packets(t, bytes.NewReader(body)) {
		out = append(out, p)
	}
	if len(out) != want {
		t.Fatalf("%s: %d frames, want %d", url, len(out), want)
	}
	return out
}

// echo reports whether frame is an ICMP echo request from src.
func echo(frame []byte, src string) bool {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	icmp, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	return ip != nil && icmp != nil && ip.SrcIP.String() == src && icmp.TypeCode.Type() == layers.ICMPv4TypeEchoRequest
}

// TestCapture: the capture of one link, read back by gopacket's NgReader
// as it streams, has that link's frames, the echo requests of a ping
// among them, and only while someone captures does the world make frame
// events.
func TestCapture(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	if trace.Wants(w.bus, trace.Frame) {
		t.Fatal("frames are wanted before anyone captures")
	}
	ch := packets(t, w.openCapture("?at=containerA:eth0"))
	if !trace.Wants(w.bus, trace.Frame) {
		t.Fatal("a capture is open and frames are not wanted")
	}
	if got := w.ping("containerA", "172.18.0.10", 3); got != 3 {
		t.Fatalf("ping: %d replies of 3", got)
	}
	link := w.linkAt("containerA:eth0").Name()
	pkts := take(t, ch, 8) // ARP request and reply, 3 echo requests and replies
	var echoes int
	for _, p := range pkts {
		if p.iface != link {
			t.Fatalf("a frame on interface %q: the capture is of %q", p.iface, link)
		}
		if echo(p.data, "172.18.0.2") {
			echoes++
		}
	}
	if echoes != 3 {
		t.Fatalf("%d echo requests in the capture, want 3", echoes)
	}
}

// TestCaptureAll: with no link named, every link is an interface of the
// section and a ping's frames are on each link they cross.
func TestCaptureAll(t *testing.T) {
	w := serve(t, "docker-publish.yaml", nil)
	ch := packets(t, w.openCapture(""))
	w.ping("containerA", "172.18.0.10", 1)
	seen := map[string]bool{}
	for _, p := range take(t, ch, 8) { // ARP and echo, both ways, on both links
		seen[p.iface] = true
	}
	for _, e := range []string{"containerA:eth0", "containerB:eth0"} {
		if !seen[w.linkAt(e).Name()] {
			t.Errorf("no frame of the link at %s in %v", e, seen)
		}
	}
}

// TestCaptureTshark: the stream, piped into tshark -r -, is read as it
// comes (what netyard capture LINK | tshark -r - does).
func TestCaptureTshark(t *testing.T) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (apt-get install tshark)")
	}
	w := serve(t, "docker-publish.yaml", nil)
	body := w.openCapture("?at=containerA:eth0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-r", "-", "-c", "5", "-n")
	pr, pw, err := os.Pipe() // a file: Wait has no copying goroutine to wait for
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		defer pw.Close()
		_, _ = io.Copy(pw, body) // ends when tshark closes its end, or the stream does
	}()
	cmd.Stdin = pr
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	w.ping("containerA", "172.18.0.10", 5)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tshark: %v\n%s\n%s", err, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "ICMP") }) {
		t.Fatalf("tshark read:\n%s\n%s", out.String(), errb.String())
	}
	t.Logf("tshark -r -:\n%s", out.String())
}
