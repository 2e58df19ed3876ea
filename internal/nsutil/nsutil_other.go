//go:build !linux

package nsutil

import (
	"fmt"
	"runtime"
)

// NsHandle stands in for netns.NsHandle off Linux.
type NsHandle int

// NetnsDir is where named namespaces would be mounted.
const NetnsDir = "/run/netns"

var errUnimplemented = fmt.Errorf("nsutil: network namespaces need Linux, not %s/%s", runtime.GOOS, runtime.GOARCH)

// Do is unavailable off Linux.
func Do(ns NsHandle, f func() error) error { return errUnimplemented }

// New is unavailable off Linux.
func New() (NsHandle, error) { return 0, errUnimplemented }

// NewNamed is unavailable off Linux.
func NewNamed(name string) (NsHandle, uint64, error) { return 0, 0, errUnimplemented }

// Identity is unavailable off Linux.
func Identity(name string) (uint64, error) { return 0, errUnimplemented }

// DeleteNamed is unavailable off Linux.
func DeleteNamed(name string) error { return errUnimplemented }
