// Package ipam hands out subnets to networks and addresses to endpoints, as
// Docker's default IPAM driver does.
//
// # Pools
//
// Networks without an explicit subnet get a free one from the default
// pools, in Docker's order: 172.17.0.0/16 (the default bridge network),
// then 172.18.0.0/16 up to 172.31.0.0/16, then the /20 slices of
// 192.168.0.0/16. A subnet that overlaps one already allocated is refused,
// whether asked for or from a pool. The pools' subnets are searched round
// robin, as Docker 20.10 did (libnetwork/ipam/allocator.go,
// getPredefinedPool and updateStartIndex): from the one after the last
// handed out, so a released subnet is given again only once the list has
// wrapped. Docker 27 replaced this with a linear search from the first
// pool (moby commit 9d288b5b43, daemon/libnetwork/ipams/defaultipam/
// address_space.go, allocatePredefinedPool), which would give the freed
// subnet back at once; netyard follows 20.10, the engine its tutorials
// were observed on.
//
// # Addresses
//
// In a network the gateway is the first usable address unless one is given;
// the network and broadcast addresses, the gateway and auxiliary addresses
// are never handed out. Addresses come from the ip_range sub-range when one
// is set (which must lie inside the subnet), else from the whole subnet:
// the lowest free one, so a released address is the next given, as
// Docker's bitmap hands out the first free bit (bitseq's SetAny(serial
// false) in 20.10, bitmap's in current moby; only swarm's allocator asks
// for serial addresses, com.docker.network.ipam.serial, which
// Request.Serial models: the next free after the last given, wrapping).
// A static address must be inside the subnet and free.
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
