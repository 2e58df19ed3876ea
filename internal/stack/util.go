package stack

import (
	"net/netip"
	"slices"
)

func sortBy[T any](s []T, key func(T) netip.Addr) {
	slices.SortFunc(s, func(a, b T) int { return key(a).Compare(key(b)) })
}
