package vswitch_test

import "sync/atomic"

func nextPort(p *int32) int32 { return atomic.AddInt32(p, 1) - 1 }
