// Package files holds the file interceptors of cylestio-perimeter as sink
// writers, in the original's formats and with its options:
//
//   - MessageLogger (message_logger): one JSONL file of conversation
//     entries (request, response, error) built from llm.call.start,
//     llm.call.finish and llm.call.error, credentials redacted.
//   - EventRecorder (event_recorder): one file per session holding every
//     event in the original's JSON envelope (AppendEnvelope), as JSONL
//     with a _metadata first line or as one JSON document.
//   - HTTPRecorder (http_recorder): raw request/response pairs in
//     recording_NNN.jsonl files, rotated by record count, for replay
//     (ReadRecordings reads them back).
//
// The writers run on the sink pipeline's goroutines, never on the request
// path; what the pipeline retries must not show up twice, so a failed
// write is rolled back (files are truncated to their previous size) before
// the error is returned. A session file that no retry can write (a directory in
// its place, say) costs only that session's events: they are dropped and
// reported as a sink.RejectedError, which the pipeline counts and logs. Directories are created with mode 0700 and files
// with mode 0600, as the original.
//
// The proxy publishes one raw-exchange event (internal/httprec names it
// and its credential mask) per model call for HTTPRecorder only when it
// is enabled; Except keeps those events (large, raw bytes) away from
// every other writer and SkipProcess away from detection.
//
// Nothing here ever writes a credential: request headers arrive redacted
// from the proxy (HTTPRecorder redacts them again by name), and the
// message logger runs the original's credential patterns over every string
// value, plus a rule for members named like a secret (api_key, password, …).
package files
