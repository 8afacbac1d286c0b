// Package content applies storage.content to events in the sink pipeline,
// after detection (which reads the original text) and before any writer:
// the stores, the file recorders and the OpenTelemetry export all get the
// same, already reduced, events.
//
//   - full: events as captured (credentials are still masked by
//     sink/files.RedactEvents, which runs after this step in every mode).
//   - masked: every string in an event's attributes (message texts,
//     system prompts, tool definitions, arguments and results, answers,
//     finding evidence), the error message column and, for the
//     http_recorder, the recorded bodies and query string, have each
//     personal datum and secret package detect finds replaced by a typed
//     placeholder: "[PII:email]", "[PII:credit_card]", "[SECRET:aws-access-key]".
//     Masking looks for more than detection reports (it keeps findings down
//     to confidence 0.2, so documentation and test values are masked too).
//   - metadata: no message text at all. Every string value is replaced by
//     "[len=N sha256=H]" (its length in bytes and the first 16 hex digits
//     of its SHA-256) unless its member names a structural field (role,
//     type, model, ids, finish reasons, vendor, host, tool.name, finding
//     rule and severity, …: metadataKeys), wherever it appears (a tool
//     argument named "role" keeps its value too); numbers and booleans
//     (usage, sizes, flags) are kept, so the shape of every object stays.
//     Tool names are kept in tool.name and the tool_name column, not
//     inside message lists ("name" members are hashed). The
//     error message column keeps only what the proxy wrote itself; the
//     http_recorder keeps headers (credentials already redacted), sizes
//     and statuses, not bodies.
//
// Limits: masking finds what detect recognises; a streamed answer recorded
// raw by the http_recorder is masked event by event, so a value split
// across two stream events is not recognised there (the llm.call.finish
// event holds the joined answer and is masked whole). A SHA-256 of a short
// or guessable value (a phone number) can be found by trying candidates:
// metadata hides text from readers, not from someone who already has a
// list of candidates.
package content
