// Package tap is a switch port backed by a Linux TAP device: real frames
// from a real kernel, in and out of netyard's switch.
//
// Open creates the device under a name netyard chooses, exclusively
// (IFF_TAP|IFF_NO_PI|IFF_TUN_EXCL: a name that exists is refused with
// ErrExists, never taken over), marks it with an alias (Options.Alias, the
// mark a cleanup checks), moves it into a target network namespace
// (the open file keeps working there), renames it, sets its MAC and MTU and
// brings it up. Run starts one reader goroutine (runPort) that hands every
// frame the kernel transmits to a receive function, typically a switch
// port's Input; Send writes a frame to the device, so the kernel receives
// it. Close stops the reader, and closing the last file descriptor removes
// the device, wherever it is: a crashed process leaves no TAP behind.
//
// # Errors
//
// Setup errors are *OpError values. On the data path nothing panics: a read
// error (the device or its namespace deleted under us) is counted, reported
// through Options.Logf and ends the reader; write errors are counted and
// returned to the caller, which counts a tx-error drop. With an egress
// queue (Options.Queue) Send returns once the frame is queued: a full
// queue is ErrQueueFull (Stats.TxQueueFull), a later write error is
// counted by the writer, and once the device is gone Send fails. The rest of the
// switch keeps forwarding.
//
// # Concurrency
//
// Send may be called from several goroutines at once: each frame is one
// write(2), which the kernel keeps whole; with a queue, Send copies the
// frame and the device's writer goroutine writes it. The reader reuses one buffer; the
// receive function must not keep the frame after it returns (the rule of
// package link).
package tap
