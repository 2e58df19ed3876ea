package stack_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netyard/netyard/internal/clock"
	"github.com/netyard/netyard/internal/stack"
	"github.com/netyard/netyard/internal/trace"
)

// streamByte is the byte a fuzzed peer sends at sequence number s.
func streamByte(s uint32) byte { return byte(s) ^ byte(s>>8)*3 ^ byte(s>>16)*5 ^ byte(s>>24)*7 }

// FuzzTCPStream feeds a listening host a sequence of TCP segments from two
// peer ports, with time passing between them. Each 7-byte step is: flags
// (FIN SYN RST PSH ACK in the low bits), the sequence number relative to
// what the peer sent last (x 37), the acknowledgement relative to what the
// host sent last, a data length, the window (x 256), milliseconds to wait
// (x 10) and the peer port. The data a segment carries is the peer's
// stream at that sequence number (streamByte), so whatever the host
// delivers must be that stream, in order, from the first byte after the
// SYN it acknowledged. Whatever comes, the host must not
// panic, must keep its bounds, and must forget every connection once the
// peer falls silent.
func FuzzTCPStream(f *testing.F) {
	const syn, fin, rst, psh, ack = 2, 1, 4, 8, 16
	step := func(flags, seq, ackd, n, wnd, wait, port byte) []byte {
		return []byte{flags, seq, ackd, n, wnd, wait, port}
	}
	cat := func(steps ...[]byte) []byte { return bytes.Join(steps, nil) }
	f.Add(cat(step(syn, 0, 0, 0, 255, 0, 0), step(ack, 0, 0, 0, 255, 0, 0), step(psh|ack, 0, 0, 100, 255, 0, 0),
		step(psh|ack, 0, 0, 50, 255, 1, 0), step(fin|ack, 0, 0, 0, 255, 1, 0)))
	f.Add(cat(step(syn, 0, 0, 0, 255, 0, 0), step(ack, 0, 0, 0, 0, 0, 0), step(psh|ack, 0, 0, 40, 0, 100, 0), step(ack, 0, 0, 0, 255, 200, 0)))
	f.Add(cat(step(syn, 0, 0, 0, 255, 0, 0), step(ack, 0, 0, 0, 255, 0, 0), step(psh|ack, 3, 0, 100, 255, 0, 0), step(rst, 0, 0, 0, 0, 0, 0)))
	f.Add(cat(step(syn, 0, 0, 0, 255, 0, 0), step(syn, 0, 0, 0, 255, 0, 1), step(ack, 0, 0, 0, 255, 0, 1), step(rst|ack, 1, 0, 0, 0, 0, 1),
		step(syn, 0, 0, 0, 255, 0, 0), step(ack, 0, 5, 0, 255, 0, 0), step(fin|ack, 0, 0, 0, 255, 0, 0)))
	f.Add(cat(step(syn|fin, 0, 0, 9, 1, 0, 0), step(ack|fin, 0xff, 0x80, 255, 1, 255, 0)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) { tcpSteps(t, in) })
}

func tcpSteps(t *testing.T, in []byte) {
	const syn, fin, rst, psh, ack = 2, 1, 4, 8, 16
	{
		var tr trace.Tracer
		if testing.Verbose() {
			tr = trace.Func(func(e trace.Event) { t.Logf("%v %s", e.Time.Sub(clock.Epoch), trace.Narrate(e)) })
		}
		r := newRawPeer(t, tr)
		r.e.Limit = 1_000_000 // a runaway of timers or segments fails the run instead of hanging it
		r.h.Input(0, arpReply(peerMAC, "10.0.0.9", "10.0.0.1"))
		origin := map[uint16]uint32{} // by peer port, from the host's latest SYN-ACK
		l, err := r.h.ListenTCPStream(80, func(c *stack.TCPStream) {
			port, next := c.Peer().Port(), origin[c.Peer().Port()]
			c.OnData = func(b []byte) {
				for i, x := range b {
					if want := streamByte(next + uint32(i)); x != want {
						t.Fatalf("port %d: delivered byte %d is %#x, want %#x: not the peer's stream, in order, from its start", port, next+uint32(i)-origin[port], x, want)
					}
				}
				next += uint32(len(b))
				_ = c.Write(b) // an echo server: the host has something to send
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		l.MaxConns = 4
		l.SendBuffer = 2000
		type peer struct{ nxt, hostNxt uint32 }
		peers := map[uint16]*peer{}
		for len(in) >= 7 {
			s := in[:7]
			in = in[7:]
			port := 1000 + uint16(s[6]&1)
			p := peers[port]
			if p == nil {
				p = &peer{nxt: 1000 * uint32(port)}
				peers[port] = p
			}
			seq := p.nxt + uint32(int32(int8(s[1])))*37
			tcp := &layers.TCP{SYN: s[0]&syn != 0, FIN: s[0]&fin != 0, RST: s[0]&rst != 0, PSH: s[0]&psh != 0, ACK: s[0]&ack != 0,
				Seq: seq, Ack: p.hostNxt + uint32(int32(int8(s[2]))), Window: uint16(s[4]) << 8}
			data := make([]byte, int(s[3]))
			for i := range data {
				data[i] = streamByte(seq + uint32(i))
			}
			if tcp.SYN { // data in a SYN comes after the SYN's number
				for i := range data {
					data[i] = streamByte(seq + 1 + uint32(i))
				}
			}
			r.h.Input(0, seg(port, tcp, data))
			if !tcp.RST {
				p.nxt = seq + uint32(len(data))
				if tcp.SYN || tcp.FIN {
					p.nxt++
				}
			}
			for _, rep := range r.replies() {
				q := peers[uint16(rep.DstPort)]
				if q == nil {
					continue
				}
				if rep.SYN && rep.ACK {
					origin[uint16(rep.DstPort)] = rep.Ack
				}
				end := rep.Seq + uint32(len(rep.Payload))
				if rep.SYN || rep.FIN {
					end++
				}
				if int32(end-q.hostNxt) > 0 || q.hostNxt == 0 || rep.SYN {
					q.hostNxt = end
				}
			}
			if l.Conns() > 4 || r.h.TCPConns() > 4 {
				t.Fatalf("%d connections, listener bound 4", r.h.TCPConns())
			}
			if !r.e.Advance(time.Duration(s[5]) * 10 * time.Millisecond) {
				t.Fatalf("runaway: %d events", r.e.Fired())
			}
		}
		if !r.e.Advance(30 * time.Minute) { // the longest life: idle, then TCPRetries+1 waits of at most TCPRTOMax
			t.Fatalf("runaway: %d events", r.e.Fired())
		}
		if n := r.h.TCPConns(); n != 0 {
			t.Errorf("%d connections left 30 minutes after the peer fell silent", n)
		}
	}
}
