// Package capture writes what crosses netyard's links as one pcapng file,
// with one interface per link, readable by Wireshark and tshark, and
// decodes a frame in one line for traces and test logs (Summarize).
//
// The section header carries fixed strings (hardware "netyard", OS
// "netyard", application "netyard"), never the machine's, so a capture of a
// deterministic run is the same bytes everywhere. Timestamps are whatever
// the caller gives: virtual time in the mem backend.
package capture

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Writer writes a pcapng stream. It is safe for concurrent use.
type Writer struct {
	mu     sync.Mutex
	w      *pcapgo.NgWriter // guarded by mu
	ifaces map[string]int   // guarded by mu
	err    error            // guarded by mu
}

// section is the fixed section header: nothing from the machine.
var section = pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
	Hardware: "netyard", OS: "netyard", Application: "netyard",
}}

// New starts a pcapng stream on w whose interfaces are the given names, in
// order (one per link). A name Write meets later is added then (a link laid
// while the world runs).
func New(w io.Writer, names []string) (*Writer, error) {
	if len(names) == 0 {
		names = []string{"none"}
	}
	iface := ngIface
	ng, err := pcapgo.NewNgWriterInterface(w, iface(names[0]), section)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c := &Writer{w: ng, ifaces: map[string]int{names[0]: 0}}
	for _, n := range names[1:] {
		id, err := ng.AddInterface(iface(n))
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		c.ifaces[n] = id
	}
	return c, nil
}

// ngIface describes the pcapng interface of the link named n.
func ngIface(n string) pcapgo.NgInterface {
	return pcapgo.NgInterface{Name: n, LinkType: layers.LinkTypeEthernet, SnapLength: 0, OS: "netyard"}
}

// Write records frame as seen on the interface named iface at t. Errors are
// kept and returned by Flush, so a capture problem never disturbs a run.
func (c *Writer) Write(iface string, t time.Time, frame []byte, comment string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	id, ok := c.ifaces[iface]
	if !ok { // a link laid while the world runs: pcapng allows interfaces later in a section
		var err error
		if id, err = c.w.AddInterface(ngIface(iface)); err != nil {
			c.err = fmt.Errorf("capture: %w", err)
			return
		}
		c.ifaces[iface] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame), Length: len(frame), InterfaceIndex: id}
	var opts pcapgo.NgPacketOptions
	if comment != "" {
		opts.Comments = []string{comment}
	}
	if err := c.w.WritePacketWithOptions(ci, frame, opts); err != nil {
		c.err = fmt.Errorf("capture: %w", err)
	}
}

// Flush writes out what is buffered and returns the first error met.
func (c *Writer) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = fmt.Errorf("capture: %w", err)
	}
	return c.err
}
