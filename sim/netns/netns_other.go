//go:build !linux

package netns

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/netyard/netyard/sim/backend"
	"github.com/netyard/netyard/sim/capture"
	"github.com/netyard/netyard/sim/topo"
	"github.com/netyard/netyard/sim/trace"
)

// ErrNeedRoot is returned when the backend runs without root.
var ErrNeedRoot = errors.New("the netns backend needs root (it creates network namespaces and TAP devices); --backend mem needs none")

var errUnimplemented = fmt.Errorf("netns: network namespaces need Linux, not %s/%s", runtime.GOOS, runtime.GOARCH)

// Options configure a Network.
type Options struct {
	Seed        uint64
	Tracer      trace.Tracer
	Capture     *capture.Writer
	Named       bool
	NoOffloads  bool
	PortQueue   int
	PPollReads  bool
	URingReads  bool
	FrameBudget uint64
	Logf        func(format string, args ...any)
	Machine     *Machine
}

// DefaultPortQueue is the egress queue length of netyard up --ports=queued.
const DefaultPortQueue = 512

// Network is unavailable off Linux.
type Network struct{ backend.Backend }

// New is unavailable off Linux.
func New(g *topo.Graph, o Options) (*Network, error) { return nil, errUnimplemented }

// Namespace is unavailable off Linux.
func (n *Network) Namespace(host string) string { return "" }

// Prefix is this process's name prefix.
var Prefix = "ny"

// SaveState is unavailable off Linux.
func (n *Network) SaveState(file string) (string, error) { return "", errUnimplemented }

// Runs is unavailable off Linux.
func Runs() ([]RunInfo, []string, error) { return nil, nil, errUnimplemented }

// Swept is what a cleanup did.
type Swept struct{ Removed, Left []string }

// Cleanup is unavailable off Linux.
func Cleanup() (Swept, error) { return Swept{}, errUnimplemented }

// FindHost is unavailable off Linux.
func FindHost(prefix, host string) (string, error) { return "", errUnimplemented }

// Exec is unavailable off Linux.
func Exec(ns string, argv []string) (int, error) { return 0, errUnimplemented }

// StateDir holds one file per running `netyard up` (Linux only).
var StateDir = "/run/netyard"
