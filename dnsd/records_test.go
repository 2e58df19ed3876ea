package dnsd_test

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/netyard/netyard/dnsd"
)

// TestRecords lists what the server answers for, sorted, and follows
// Add and Remove.
func TestRecords(t *testing.T) {
	s := dnsd.New(dnsd.Options{})
	s.Add("net2", "b", netip.MustParseAddr("172.19.0.2"))
	s.Add("net1", "web", netip.MustParseAddr("172.18.0.10"), "www", "api")
	s.Add("net1", "a", netip.MustParseAddr("172.18.0.2"))
	want := []dnsd.Record{
		{Network: "net1", Container: "a", Addr: netip.MustParseAddr("172.18.0.2")},
		{Network: "net1", Container: "web", Addr: netip.MustParseAddr("172.18.0.10"), Aliases: []string{"www", "api"}},
		{Network: "net2", Container: "b", Addr: netip.MustParseAddr("172.19.0.2")},
	}
	if got := s.Records(); !reflect.DeepEqual(got, want) {
		t.Errorf("Records() = %v, want %v", got, want)
	}
	s.Remove("net1", "web")
	if got := s.Records(); len(got) != 2 || got[1].Container != "b" {
		t.Errorf("after Remove(net1, web): %v", got)
	}
}
