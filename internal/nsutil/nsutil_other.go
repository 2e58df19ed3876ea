//go:build !linux

package nsutil

import (
	"fmt"
	"runtime"
)

// NsHandle stands in for netns.NsHandle off Linux.
type NsHandle int

var errUnimplemented = fmt.Errorf("nsutil: network namespaces need Linux, not %s/%s", runtime.GOOS, runtime.GOARCH)

// Do is unavailable off Linux.
func Do(ns NsHandle, f func() error) error { return errUnimplemented }

// New is unavailable off Linux.
func New(name string) (NsHandle, error) { return 0, errUnimplemented }
