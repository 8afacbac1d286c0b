// Package provider reads the wire formats of the LLM APIs the proxy sits in
// front of — OpenAI Chat Completions, OpenAI Responses and Anthropic
// Messages — without decoding them: which format a request speaks
// (Detect), what a request body says (Request.Parse), what an answer says
// (Response.Parse) and what a streamed answer says, event by event as the
// stream tap sees it pass (StreamParser).
//
// It reports facts — model, messages and their text, system prompt
// (Request.System, SystemSource), tools offered, tool calls and results,
// usage, finish reason, errors — that the session and event code build on.
// It never does HTTP or I/O, never writes or re-encodes a body, and knows
// nothing of sessions or events. It never panics on any input; every
// parser has a fuzz target. Bodies are validated as encoding/json.Valid
// does and read in one pass by internal/jsonscan; strings come back as
// Str, still escaped, and values a caller may want verbatim as their JSON
// bytes.
//
// Ownership: every Str and []byte a parser returns aliases either its
// input or a buffer the parser object owns, and this package never writes
// to either. Request.Parse and Response.Parse results are valid while the
// body is and until the object's next Parse, Reset or Release.
// StreamParser.Event reads its event only during the call, and
// StreamParser.Result is owned by the parser until its next Event, Reset
// or ReleaseStreamParser.
//
// Request, Response and StreamParser are pooled (Acquire…/Release…); once
// their slices have grown to the traffic's size they allocate nothing
// (allocation_test.go). A StreamParser keeps at most MaxText bytes of text
// and of each tool call's arguments, 128 tool calls and 64 KiB of ids,
// names and reasons, so memory per open stream is bounded whatever the
// upstream sends. A stream cut short still yields everything seen so far
// (Response.Complete false).
//
// docs/providers.md has the rules in full (how content becomes text, where
// the system prompt comes from, how calls and results are found, what a
// stream is assembled from) and where they differ from the Python
// original; docs/jsonscan.md has the parser's measurements.
package provider
