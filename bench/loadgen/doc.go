// Package loadgen drives HTTP/1.1 load at a server on the loopback interface
// and measures what a client sees. It is benchmark infrastructure: the
// product never imports it.
//
// Two modes:
//
//   - Open loop (OpenLoop): requests are due on a fixed-rate Schedule and
//     each one's latency is measured from the moment it was due, not from the
//     moment a connection was free to send it. A server that stalls therefore
//     shows the stall in every request queued behind it instead of hiding it
//     (no coordinated omission).
//   - Closed loop (ClosedLoop): N connections each send the next request as
//     soon as the previous answer is complete, which measures the maximum
//     throughput.
//
// HoldStreams opens many slow SSE streams in steps and holds them, so a
// caller can sample the server's memory at each step.
//
// The client is a minimal keep-alive HTTP/1.1 implementation on net.Conn
// (Conn): requests are pre-built byte slices, answers are parsed in place
// (Content-Length and chunked bodies), nothing is allocated per request. For
// text/event-stream answers it timestamps the first response byte and the
// end of every SSE event as read from the socket, so time to first byte and
// the gaps between events are what an agent would observe.
//
// Latencies go into Histograms: log-linear buckets (256 per power of two, so
// a percentile is within 0.4 % of the true value) that are safe for
// concurrent recording and can be merged across runs.
//
// Every loop is bounded by a deadline and by a request count.
package loadgen
