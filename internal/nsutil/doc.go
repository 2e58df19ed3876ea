// Package nsutil runs code inside Linux network namespaces safely.
//
// A network namespace belongs to an OS thread, not to a goroutine. Do runs a
// function on a fresh goroutine locked to its thread, switches that thread
// into the namespace, and switches it back before unlocking; if it cannot
// switch back, the goroutine exits still locked, so the Go runtime throws the
// thread away instead of reusing it in the wrong namespace. Every namespace
// switch in netyard goes through here (docs/design.md; house style rule 19).
package nsutil
