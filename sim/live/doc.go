// Package live serves a running world: an HTTP API (on a unix socket or
// loopback) to inspect its networks, switches, NAT and DNS, to stream its
// trace events and frames, and to change it while it runs (links, ports,
// Docker connect and stop). The verbs of cmd/netyard and the web page of
// sim/live/web speak only this API; docs/live/api.md is its contract.
package live
