// Package nstest runs a package's privileged tests in a throwaway world:
// a mount namespace and a network namespace of their own, with fresh
// tmpfs mounts over /run (so /run/netns and netyard's state directory) and
// /etc/netns. Whatever the tests create, sweep or delete there (named
// namespaces, TAP devices, veth pairs, state files, resolv.conf
// directories) is invisible to the host and vanishes with the test
// process, so no test, and no bug in the code under test, can touch the
// host's own objects.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { nstest.Main(m) }
//
// As root, Main runs the test binary again inside the new namespaces and
// exits with its status; the tests then run there. Without root it simply
// runs the tests, whose privileged ones skip.
package nstest
