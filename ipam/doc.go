// Package ipam hands out subnets to networks and addresses to endpoints, as
// Docker's default IPAM driver does.
//
// # Pools
//
// Networks without an explicit subnet get the next free one from the
// default pools, in Docker's order: 172.17.0.0/16 (the default bridge
// network), then 172.18.0.0/16 up to 172.31.0.0/16, then the /20 slices of
// 192.168.0.0/16. A subnet that overlaps one already allocated is refused,
// whether asked for or from a pool.
//
// # Addresses
//
// In a network the gateway is the first usable address unless one is given;
// the network and broadcast addresses, the gateway and auxiliary addresses
// are never handed out. Addresses come from the ip_range sub-range when one
// is set (which must lie inside the subnet), else from the whole subnet,
// serially as Docker does: the next free address after the last one given,
// wrapping around, so a released address is reused only once the range has
// gone round. A static address must be inside the subnet and free.
//
// # Persistence
//
// Save writes the whole state as JSON to a temporary file in the target's
// directory and renames it over the target, so a reader never sees half a
// file; Load restores it. The long-running `netyard up` keeps its state
// this way.
//
// # Concurrency
//
// An Allocator is safe for concurrent use; one mutex guards everything.
package ipam
