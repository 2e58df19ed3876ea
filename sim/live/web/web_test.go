package web_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/netyard/netyard/sim/live/web"
	"github.com/netyard/netyard/sim/scenario"
)

// record runs scenarios/NAME.yaml into a recording.
func record(t *testing.T, name string, o scenario.Options) (*web.Recording, *scenario.Report) {
	t.Helper()
	f, err := scenario.Load("../../../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec, rep, err := web.Record(f, o)
	if err != nil {
		t.Fatal(err)
	}
	return rec, rep
}

// TestServeByHand serves a recording for a person to look at, with
// NETYARD_WEB_SERVE=ADDR (and NETYARD_WEB_FILE=NAME, default stp-triangle).
func TestServeByHand(t *testing.T) {
	addr := os.Getenv("NETYARD_WEB_SERVE")
	if addr == "" {
		t.Skip("set NETYARD_WEB_SERVE=127.0.0.1:PORT to serve a recording by hand")
	}
	name := os.Getenv("NETYARD_WEB_FILE")
	if name == "" {
		name = "stp-triangle"
	}
	rec, _ := record(t, name, scenario.Options{})
	t.Log(http.ListenAndServe(addr, web.Recorded(rec)))
}
