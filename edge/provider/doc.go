// Package provider reads the wire formats of the LLM APIs the proxy sits in
// front of — OpenAI Chat Completions, OpenAI Responses and Anthropic
// Messages — without decoding them: which format a request speaks
// (Detect), what a request body says (Request.Parse), what an answer says
// (Response.Parse) and what a streamed answer says, event by event as the
// stream tap sees it pass (StreamParser).
//
// It never does HTTP or I/O, never writes or re-encodes a body, and knows
// nothing of sessions or events: it reports facts (model, messages and
// their text, system prompt, tools, tool calls and results, usage, finish
// reason, errors) that the session and event code build on. It never
// panics on any input; every parser has a fuzz target.
//
// # JSON
//
// The project's JSON scanner (internal/jsonscan) makes one forward pass
// over a body, validating every byte exactly as encoding/json.Valid does
// (the fuzz targets check the two agree) while the parsers pick the
// members they need with its primitives; everything else is skipped. Nothing is decoded unless asked:
// strings come back as Str, the bytes between the quotes plus a flag
// saying whether they hold escape sequences, found with a word-at-a-time
// search for quotes and backslashes. Objects, arrays and numbers that a
// caller may want verbatim (message objects, tool inputs, content, params)
// come back as their JSON bytes.
//
// A large body parses at about 1 GB/s, 10–20× encoding/json, with no
// allocation once the pooled objects are warm (provider_timing_test.go;
// docs/jsonscan.md has the measurements and the libraries compared).
//
// # Ownership
//
// Every Str and []byte a parser returns aliases either its input or a
// buffer the parser object owns; none is ever written to by this package.
//
//   - Request.Parse(kind, body): fields alias body — valid while body is
//     (for fasthttp, until the handler returns or the request is released)
//     — or the Request's scratch buffer (texts joined from several blocks,
//     Python reprs), valid until the Request's next Parse, Reset or
//     ReleaseRequest.
//   - Response.Parse(kind, status, body): the same, for the Response.
//   - StreamParser.Event(ev) reads ev only during the call (the tap's
//     buffer is reused); whatever it keeps it copies into buffers the
//     parser owns and reuses. StreamParser.Result returns a Response owned
//     by the parser, valid until its next Event, Reset or
//     ReleaseStreamParser.
//
// Request, Response and StreamParser are reusable and pooled
// (Acquire…/Release…); once their slices have grown to the traffic's size
// they allocate nothing (allocation_test.go). A StreamParser keeps at
// most MaxText bytes of text and of each tool call's arguments (1 MiB by
// default), 128 tool calls and 64 KiB of ids, names and reasons, so memory
// per open stream is bounded whatever the upstream sends.
//
// # Text
//
// Message.Text, ToolResult.Text and Response.Text turn a content value
// into text the same way everywhere:
//
//   - a string: that string;
//   - a list: the concatenation, in order and with no separator, of the
//     "text" member of every block whose type is "text", "input_text" or
//     "output_text" and whose text is a string. Images, audio, files,
//     refusals, thinking, tool_use and tool_result blocks add nothing
//     (a tool_result's own text is in its ToolResult), nor do list
//     elements that are not objects. A list with no such block has no text;
//   - null or absent: no text (Str.Present false);
//   - anything else (an object, a number, a bool): Python's str() of it,
//     e.g. "{'type': 'text', 'text': 'hi'}", "42", "True" — what the
//     original's content_text produces.
//
// This is the original's content_text with one
// deliberate difference: it counts Responses "input_text" and
// "output_text" parts, which the original saw as empty — so all Responses
// user turns hashed alike there. Joined texts keep their escapes (the
// concatenation of escaped strings is the escape of the concatenation), so
// Str.Escaped may be true for a joined text; a single string is never
// copied. No other normalisation happens here: no trimming, no Unicode
// normalisation, no truncation (the session package applies its own).
//
// # System prompt
//
// Request.System is the text (rules above) of, in this order: the first
// message with role "system" (Chat messages, Responses input), else the
// first with role "developer", else — Responses only — a non-null
// "instructions", else — Anthropic only — a truthy "system" (a non-empty
// string, whitespace kept, or a non-empty list of text blocks).
// SystemSource says which; SystemRaw is the JSON it came from. The
// message also stays in Messages. A system prompt may be present and empty
// (an OpenAI system message ""; HasSystem tells); without one the
// original uses "default-system" (DefaultSystemPrompt).
//
// The original ignored developer messages (so every o-series agent got the
// agent id of "default-system"); perimeter takes one only when there is no
// system message, and SystemSource lets a caller that wants the original's
// ids ignore it. Request.AppendSystemPrompt gives the exact string the
// original's _extract_system_prompt returns — Python's str() of a list,
// "None" for null — whose md5 is the original's agent id
// ("prompt-" + 12 hex digits: prompt-7077bd40d00f for none,
// prompt-d41d8cd98f00 for ""). AppendPyStr is that str() of any JSON
// value.
//
// # Tools
//
// Request.Tools lists the tools offered (Chat function.name, Responses
// and Anthropic name; built-ins keep their type, maybe no name).
// Request.ToolCalls lists the calls in the history: Chat assistant
// tool_calls (and the legacy function_call, without id), Anthropic
// tool_use blocks, Responses function_call items. Request.ToolResults
// lists the results sent back: Chat role "tool" (and legacy "function")
// messages, Anthropic tool_result blocks (several per message possible,
// with is_error), Responses function_call_output items. A result's Name is
// its own name member, else the name of the latest earlier call with its
// id (Call indexes that call); the original fell back to "unknown".
// ToolCall.Arguments is JSON text either way: OpenAI's arguments string
// (escaped) or Anthropic's input object verbatim.
//
// Every element of a messages or input list is one Message (objects or
// not), so Message indexes are positions in the body and the event
// builder's "new messages since index N" slice is Messages[N:], with
// ToolCalls and ToolResults filtered by their Message index. A plain-string
// Responses input is one user Message (Raw nil).
//
// # Answers
//
// Response.Parse recognises members by name whatever the kind. Usage maps
// prompt_tokens/input_tokens, completion_tokens/output_tokens,
// total_tokens, prompt_tokens_details/input_tokens_details.cached_tokens
// and Anthropic's cache_read_input_tokens to CachedTokens,
// cache_creation_input_tokens (of which cache_creation.ephemeral_1h_input_tokens
// went to the 1-hour cache), and reasoning_tokens; Usage.Has says which
// were reported. IsError follows the original's HEAD rules — HTTP ≥ 400,
// an "error" member, Anthropic "type":"error" — except that "error": null
// (present in every successful Responses object) is not an error, and a
// Responses status "failed" is. Response.Content lists what the original
// puts in llm.response.content (Chat choice messages, Anthropic blocks,
// Responses output items) as JSON; the Responses API is understood fully
// (text, tool calls, usage), which the original did not do.
//
// A StreamParser assembles the same Response from: Chat chunks (choice 0
// text; tool_calls merged by choice and index — id and name overwrite,
// arguments append; finish_reason; the include_usage final chunk; "data:
// {"error":…}"; [DONE]), Anthropic events (message_start id, model and
// usage; text and tool_use blocks; input_json_delta pieces; message_delta
// stop reason, stop sequence and usage, merged over message_start's
// rather than replacing it as the original did; message_stop; "event:
// error"), and Responses events (output_text deltas; function_call items
// and argument deltas, replaced by the .done arguments; the final
// response.completed, .incomplete or .failed object for status, usage and
// error; "error" events). An event whose data is not JSON changes nothing
// and is counted. Result may be asked at any time: for a stream cut short,
// Complete is false and everything seen so far is there. Blocks, output
// items and tool calls are read by the same code in a stream as in a whole
// answer, so both report them alike (custom tools and arguments sent as
// JSON rather than a string included).
//
// # For the session package
//
// session.Conversation takes, per Message: Role.Raw (nil when absent),
// Type.Raw, Text.Raw as Content with Text.Escaped as Escaped, CallID.Raw;
// and System.Raw, System.Escaped, HasSystem() and PreviousResponseID.Raw.
// All alias the body, so resolving a session costs no copy.
package provider
