package live

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/trace"
)

// FrameInfo is what GET /api/v1/frames/N answers: frame event N, decoded.
type FrameInfo struct {
	N       uint64 `json:"n"`
	Link    string `json:"link"`
	From    string `json:"from"` // the end it left from
	Len     int    `json:"len"`
	Summary string `json:"summary"`
	Decode  string `json:"decode"` // gopacket's dump of its layers
}

// frame answers frame event N, as JSON or (N.pcapng) a pcapng file of it
// alone, from the history.
func (s *Server) frame(w http.ResponseWriter, r *http.Request) {
	arg := r.PathValue("n")
	num, pcap := strings.CutSuffix(arg, ".pcapng")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		writeError(w, badRequest("frame %q: want an entry's number (1 or more), or N.pcapng", arg))
		return
	}
	it, err := s.frameItem(n)
	if err != nil {
		writeError(w, err)
		return
	}
	e := it.e
	if !pcap {
		p := gopacket.NewPacket(e.Bytes, layers.LayerTypeEthernet, gopacket.Default)
		writeJSON(w, http.StatusOK, FrameInfo{N: n, Link: e.Link, From: e.Port, Len: len(e.Bytes), Summary: e.Summary, Decode: p.Dump()})
		return
	}
	var buf bytes.Buffer
	c, err := capture.New(&buf, []string{e.Link})
	if err == nil {
		c.Write(e.Link, e.Time, e.Bytes, fmt.Sprintf("netyard event %d, from %s", n, e.Port))
		err = c.Flush()
	}
	if err != nil {
		writeError(w, fmt.Errorf("frame %d as pcapng: %w", n, err))
		return
	}
	w.Header().Set("Content-Type", PcapngType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"frame-%d.pcapng\"", n))
	_, _ = w.Write(buf.Bytes())
}

// frameItem returns frame event n from the history.
func (s *Server) frameItem(n uint64) (item, error) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ring == nil {
		return item{}, notFound("frame %d: this world keeps no history of frames (netyard up --web keeps the last %d events)", n, HistorySize)
	}
	it, ok := h.ring.find(n)
	switch {
	case !ok && n > h.n:
		return item{}, notFound("event %d: there have been %d events so far", n, h.n)
	case !ok:
		return item{}, notFound("event %d is no longer held (the history holds the last %d)", n, HistorySize)
	case it.e.Kind != trace.Frame:
		return item{}, notFound("event %d is not a frame (it is %s)", n, it.e.Kind)
	}
	return it, nil
}
