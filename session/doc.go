// Package session tells which conversation an LLM request belongs to,
// without help from the client: it owns the fingerprints, the bounded
// session table, the detection algorithm of the original Python gateway
// (cylestio-perimeter, seed-anatomy §3) and the fuzzy rules that go beyond
// it, external ids and agent ids, and the session metrics.
//
// It never sees HTTP or JSON. A provider adapter pulls the conversation out
// of a request body and hands it over as a Conversation whose byte slices
// point into the body (JSON string bodies may stay escaped, see
// Message.Escaped), so resolving a request needs no decoding and no
// allocation.
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
// byte and a 64-bit fingerprint, values lists of up to 64 slot handles.
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
// The exact algorithm runs first and unchanged, so every request it
// resolves is resolved as the original would; the fuzzy rules only decide
// among sessions the original considered equally good (F0), or rescue
// requests the original would have put into a new session although they
// carry history — at least one model message (F1, F2). Requests without a
// model message are never matched fuzzily: a new conversation stays new,
// even when it repeats an earlier one word for word.
//
// Normal form. The fuzzy fingerprint of a text is the xxhash of the first
// 100 code points of its normal form: the text's first 400 code points
// (at most ContentReadLimit bytes), NFKC-normalised, with zero-width
// space, joiners, word joiner, byte order mark and soft hyphen removed,
// every run of white space replaced by one space and none left at either
// end. A message's fuzzy fingerprint combines its role class — model
// (assistant, function_call), tool result (tool, function_call_output, a
// user message carrying tool results), system (system, developer), user,
// or the role itself — with its CallID and its normal-form text, except a
// tool result with a CallID, which is its class and CallID alone: a tool
// result rewritten by the client is still the answer to the same call.
// The system prompt's fuzzy fingerprint is that of its text.
//
// Every request records, for its session: the fuzzy fingerprints of its
// last 16 messages (the ring), and its tail key — the system fingerprint
// with those of its last two messages — in the tail index. Table.Reply
// records the reply's anchor — the system fingerprint with the reply
// message's fuzzy fingerprint — in the reply index.
//
// F0, tie-break. When several sessions sit at the previous state (identical
// starts, run concurrently), the original takes the oldest. If one of
// them has, as its latest recorded reply, the anchor of this request's
// last model message, that one is taken instead: it is the session that
// actually received that reply. Only the choice among equals changes.
//
// F1, reply anchor. When the exact algorithm finds no session, the anchor
// of the request's last model message is looked up in the reply index:
// the oldest session whose latest reply it is wins, else the one listed
// last. This keeps a conversation together however its client trimmed,
// re-encoded or rewrote the history before that message.
//
// F2, normal-form tail. Else, when the request has a previous state, its
// tail key — computed over the previous state in normal form — is looked
// up in the tail index. A listed session qualifies when more than half of
// the previous state's last (up to 16) fuzzy fingerprints appear in its
// ring; the oldest qualifying session still at that tail wins, else the
// most recent one that moved on. This catches re-sent histories whose
// text differs only by white space or Unicode normalisation, whose old
// tool results were rewritten, or whose oldest messages were dropped to
// fit a context window — without any reply having been recorded.
//
// A fuzzy match continues the session (not new, not fragmented), counts
// in Stats.FuzzyMatches, and sets Result.FirstNew to the index of the
// request's last model message, since a trimmed history no longer lines
// up with the processed index; the index then restarts from the request.
// The system prompt must agree in normal form: agents never merge.
//
// # Cost
//
// Resolve hashes at most 100 code points per message (an ASCII fast path
// slices without copying), reads one index list, locks one session, and
// appends to one or two index lists; fuzzy fingerprints are computed only
// for the new messages of a request (a full recomputation happens after
// fuzzy matches). Nothing is allocated on the request path (see the
// allocation test and the *_timing_test.go benchmarks).
package session
