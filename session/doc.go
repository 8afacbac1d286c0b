// Package session tells which conversation an LLM request belongs to,
// without help from the client: it owns the fingerprints, the bounded
// session table, the detection algorithm of the original Python gateway
// (cylestio-perimeter) and the fuzzy rules that go beyond
// it, external ids and agent ids, and the session metrics.
//
// It never sees HTTP or request bodies. A provider adapter pulls the
// conversation out of a request body and hands it over as a Conversation
// whose byte slices point into the body (JSON string bodies may stay
// escaped, see Message.Escaped), so resolving a request needs no decoding
// and no allocation. (A message text that is itself JSON, such as a tool
// result, is fingerprinted by its structure: see "Canonical form".)
//
// # Use
//
//	r := table.Resolve(&conv)          // session id, is it new, which messages are new
//	agent := table.AgentID(buf, &conv) // "prompt-…" or the header
//	... build events from conv.Messages[r.FirstNew:], forward, read the response ...
//	table.Reply(&r, &replyMsg, responseID)
//
// # The original algorithm (Config.Fuzzy false)
//
// A request's signature covers the system prompt (its first 100
// characters) and, for every message, its role and the first 100
// characters of its text, stripped of surrounding white space — the
// original's parts "system:{prompt[:100]}" and
// "{role}:{text[:100].strip()}", characters being Unicode code points.
// Fingerprints are xxhash64 values chained part by part, not md5 hex
// strings: two requests get equal signatures exactly when the original's
// would be equal (up to 64-bit collisions), which is all the algorithm
// uses. Then, for each request (detect_session):
//
//   - The previous state is the request's messages before its last model
//     message (role "assistant" or a function_call item); none when there
//     is at most one message or the first message is the last model
//     message.
//   - Every session is listed under every signature it ever had. Of the
//     sessions listed under the previous state's signature, the oldest
//     whose latest signature still is that one wins ("at state first");
//     else the one listed last ("then progressed"). The winner takes the
//     request's signature, and is listed under it.
//   - If none, a session is created. It is fragmented unless the request
//     looks like a first message: at most one message, or at most one
//     client message (user, tool, function_call_output) besides system
//     ones. A fragmented session is new all the same.
//
// Session ids are random UUID4 strings, like the original's. A session's
// last processed index counts the messages already turned into events;
// see Result.FirstNew for the slice to build events from.
//
// # Storage
//
// Sessions live in a fixed array of Config.MaxSessions slots; each slot
// has its own mutex, and candidate scans read atomics only. The signature
// lists — and every other index below — live in freecache: keys are a kind
// byte and a 64-bit fingerprint, values lists of up to 64 slot handles
// (the oldest dropped first) or a single handle.
// freecache bounds the index to Config.MemoryMB (minus the slots), forgets
// least recently used entries first when full, and drops entries
// Config.TTL after their last write. An index entry that outlives its
// session is harmless: handles carry a generation and stale ones are
// skipped and pruned.
//
// A session idle for longer than Config.TTL is gone for every lookup. When
// all slots are taken, creating a session reclaims one: the clock hand
// inspects 16 consecutive slots and takes the least recently used, an
// expired one if any — a sampled approximation of the original's exact LRU
// that needs no lock shared by all requests.
//
// # External ids, agent ids, response ids
//
// A non-empty x-cylestio-session-id (alias x-cylestio-conversation-id) is
// the session id verbatim; its first request is new, later ones resume the
// processed index; detection is skipped. The agent id is
// x-cylestio-agent-id (alias x-cylestio-prompt-id) when present, else
// "prompt-" and 12 hex digits of the md5 of the system prompt (see
// PromptAgentID for block lists). A Responses API request whose
// previous_response_id names a response recorded with Table.Reply
// continues that response's session, every input message being new; an
// unknown id falls back to detection, as in the original.
//
// # Fuzzy matching (Config.Fuzzy true)
//
// The exact algorithm runs first and resolves every request it can as the
// original would; a message's part of the signature also covers its
// CallID, and among sessions at the same state the one known to have
// received the request's last reply is taken (F0). The fuzzy rules then
// rescue a request the original would put into a new session although it
// carries history (at least one model message): its last model message's
// reply anchor (F1), or the canonical tail of its history (F2), must name
// one session whose recorded state agrees with the request's. Canonical
// fingerprints ignore white space, punctuation, quotes, Markdown and
// Unicode forms, and JSON texts are fingerprinted by structure, so
// trimmed, summarised, re-rendered or rewritten histories stay together;
// requests without a model message are never matched fuzzily, and agents
// (system prompts) never merge. A fuzzy match sets Result.FirstNew to the
// request's last model message. TestAccuracy and TestBehaviours hold the
// assignment quality to floors; docs/sessions.md has the rules in detail
// and the figures.
//
// # Several instances
//
// With Config.Peers set, a request with history that no local session
// continues is described to the peers by a Probe — its fingerprints,
// never its texts — before a session is created; a peer's Table.Answer
// advances the session it finds and returns its id and processed index,
// which the asking Table installs (MatchPeer). Without peers, Resolve
// never leaves the process and does no extra work. session/peer carries
// probes over HTTP.
//
// # Cost
//
// Resolve hashes at most 100 code points per message, reads one index
// list, locks one session and writes one index list; the request path
// allocates nothing (allocation_test.go). docs/sessions.md has the figures.
package session
