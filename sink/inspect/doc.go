// Package inspect runs security detection over captured events inside the sink
// pipeline, off the request path: it reads the text an event carries
// (request messages, tool results, model answers, tool-call arguments),
// scans it with package detect, sets the event's RiskScore and adds one
// security.finding event per finding.
//
// It keeps small, bounded per-session state (token and tool-call counters for
// the consumption and agency checks, the system prompt for the leakage
// check) and a fixed-size memo of the findings of request-side inputs: an
// input seen before (a call sent again, the history of a conversation
// capture could not place in its session) gets the findings its scan
// gave, without being decoded or scanned again.
// It never does I/O.
//
// It reads the attribute objects with the project's JSON scanner
// (internal/jsonscan), in place, decoding only the strings detection reads.
package inspect
