//go:build !linux

package netns

import "path/filepath"

// SetAPI is unavailable off Linux.
func (n *Network) SetAPI(api string) error { return errUnimplemented }

// Running is false off Linux: no run is up.
func (r RunInfo) Running() bool { return false }

// RunFile returns the path of a run's file beside its state: its API's
// socket (ext ".sock") or a detached run's log (".log").
func RunFile(prefix, ext string) string { return filepath.Join(StateDir, prefix+ext) }
