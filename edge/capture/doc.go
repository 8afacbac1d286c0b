// Package capture turns the model calls that pass the proxy into events:
// session.start, tool.result, llm.call.start, llm.call.finish or
// llm.call.error and tool.execution with the original's names and
// attributes, plus, with RecordHTTP, one raw exchange per call for the
// http_recorder.
//
// The proxy (edge) hands each finished call to Submit as a Call: bytes it
// already holds (request headers and body, the upstream's answer or the
// stream tap's parser). Capture parses the request and a buffered answer
// in place (edge/provider) unless the guard already did, resolves the
// session, and builds every event of the call in two heap allocations,
// however many events there are: one array of sink.Event and one block
// holding all their strings and attribute objects (arena.go); scratch
// memory comes from a pool. TestAllocsCapture pins this. The configured
// key is masked in everything published (mask.go). Publish never blocks.
//
// What it promises:
//   - Every call submitted is captured exactly once, in the order Submit
//     saw the calls, whichever way they ended: one FIFO carries buffered,
//     streamed and failed calls alike to one loop goroutine, the only one
//     that reads it. A full queue makes Submit wait for room; nothing is
//     skipped.
//   - It never delays an answer: Submit only queues, and the proxy submits
//     after the answer is written (a stream after its last byte).
//   - The Call and the memory it points to are handed back through
//     Call.Done once capture no longer reads them.
//   - The loop has a lifetime: Close(ctx) captures everything submitted
//     before it and ends the loop and its thread; a call submitted after
//     Close is captured by Submit itself. Close it after the proxy's
//     server and before the sink pipeline.
//   - Flush captures what is queued at once, for a peer instance's session
//     lookup (flush.go), bounded in time.
//
// The loop polls its queue every 10 ms on a low-priority thread instead of
// being woken per call, and sleeps once idle (loop.go), so that capture
// work neither wakes a thread per call nor competes with requests for the
// CPU.
package capture
