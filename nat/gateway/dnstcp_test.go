package gateway_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netyard/netyard/nat/gateway"
)

// queryTCP asks the gateway at server over TCP from the client container
// and runs the world until the answer or a minute.
func (w *world) queryTCP(server netip.Addr, name string) (*dns.Msg, error) {
	w.t.Helper()
	var got *dns.Msg
	var gotErr error
	done := false
	if _, err := w.client.QueryTCP(server, name, dns.TypeA, func(m *dns.Msg, err error) { got, gotErr, done = m, err, true }); err != nil {
		w.t.Fatal(err)
	}
	w.e.AdvanceUntil(func() bool { return done }, time.Minute)
	if !done {
		w.t.Fatalf("no answer over TCP:\n%s", w.narration())
	}
	return got, gotErr
}

// TestDNSOverTCP: the gateway's DNS server answers over TCP as over UDP,
// and whole where UDP must cut (TC): a client told TC retries over TCP
// and gets every record; a name for the upstreams is forwarded and
// relayed over the client's connection; the connection is closed once
// answered.
func TestDNSOverTCP(t *testing.T) {
	w := newWorld(t, gateway.Config{}, "192.168.56.53:53")
	w.upstream("192.168.56.53", answers, nil)
	for i := range 150 { // 150 A records: about 2.4 KB, TC over UDP
		w.dns.Add("net1", fmt.Sprintf("web%d", i), netip.AddrFrom4([4]byte{172, 18, 1, byte(i)}), "web")
	}
	r, err := w.queryTCP(gwAddr, "a")
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("a over TCP: %v %v\n%s", r, err, w.narration())
	}
	r, err = w.queryTCP(gwAddr, "web")
	if err != nil || r.Truncated || len(r.Answer) != 150 {
		t.Fatalf("web over TCP: %d records, TC %v, %v", len(r.Answer), r != nil && r.Truncated, err)
	}
	r, err = w.queryTCP(gwAddr, "outside.test")
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.1.2.3" {
		t.Fatalf("outside.test over TCP, through the upstream: %v %v\n%s", r, err, w.narration())
	}
	if st := w.gw.Stats(); st.DNSAnswered != 3 || st.DNSRelayed != 1 {
		t.Errorf("stats %+v", st)
	}
	w.e.Advance(time.Minute)
	if n := w.gw.Host().TCPConns(); n != 0 {
		t.Errorf("%d TCP connections left on the gateway after the clients closed", n)
	}
}

// TestDNSOverTCPOnlyOnBridges: port 53 of the gateway's LAN address takes
// no TCP connection from the outside, as the UDP server answers no query
// there.
func TestDNSOverTCPOnlyOnBridges(t *testing.T) {
	w := newWorld(t, gateway.Config{})
	outside := w.host("outside", w.lan, outerMAC, netip.MustParsePrefix("192.168.56.12/24"))
	done := false
	var gotErr error
	if _, err := outside.QueryTCP(lanAddr, "a", dns.TypeA, func(_ *dns.Msg, err error) { gotErr, done = err, true }); err != nil {
		t.Fatal(err)
	}
	w.e.AdvanceUntil(func() bool { return done }, time.Minute)
	if !done || gotErr == nil {
		t.Errorf("a query over TCP to the LAN address: done %v, %v", done, gotErr)
	}
	if st := w.gw.Stats(); st.DNSAnswered != 0 || st.DNSDropped == 0 {
		t.Errorf("stats %+v", st)
	}
}
