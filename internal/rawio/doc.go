// Package rawio gives TCP connections reads and writes that enter the
// kernel without telling Go's scheduler (syscall.RawSyscall), for the
// proxy's client and upstream connections.
//
// A read or write on a socket of Go's net package never blocks in the
// kernel (the socket is non-blocking; when it would block, the goroutine
// waits in the runtime's poller), so the scheduler's bookkeeping around an
// ordinary system call buys nothing there, and it costs: a system call
// that lasts more than 20 µs — a write to a loopback peer often does —
// lets the runtime hand the goroutine's processor to another thread, and
// the call then waits to get one back. Wrap's connection skips that; a
// wait still parks in the poller, and deadlines, Close and the errors
// (*net.OpError, io.EOF, os.ErrDeadlineExceeded, net.ErrClosed) are those
// of the connection it wraps.
//
// A Conn's Read must not be called concurrently with itself, nor its Write
// (each is serialised by a mutex); Read and Write may run at once. Raw
// I/O is built for Linux; elsewhere Wrap returns the connection as it is.
// Under the race detector the calls go through package syscall, whose
// annotations let the detector see the ordering a socket gives (data
// written before a write happens before what the reader does after the
// read); with raw calls it would report races that cannot happen.
// Peek looks at a socket without reading or waiting, the same way.
package rawio
