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
// The exact algorithm runs first, and resolves every request it can as
// the original would, with two refinements: a message's part of the
// signature also covers its CallID (tool loops whose calls and results
// carry no text are otherwise states the original confuses across
// conversations), and rule F0 below chooses among equals. The other fuzzy
// rules rescue a request the original would put into a new session
// although it carries history — at least one model message (F1, F2).
// Requests without a model message are never matched fuzzily: a new
// conversation stays new, even when it repeats an earlier one word for
// word.
//
// Canonical form. The fuzzy fingerprint of a text is the xxhash of its
// canonical form: the letters and digits (Unicode L and N) of its first
// ContentReadLimit bytes, each compatibility-decomposed (NFKD, Hangul
// syllables into jamo) and lower-cased, the first 100 of them. White
// space, line endings, punctuation, quotes of any shape, Markdown markup,
// combining marks and invisible format characters are not part of it, so
// a client that re-renders a text it sent before (curly or straight
// quotes, CRLF, re-wrapped paragraphs, other list and emphasis markers,
// full-width forms) still sends the same canonical text. A text that is a
// JSON object or array (tool results, arguments) is fingerprinted by its
// structure instead: an object is the sum of its members' fingerprints, so
// key order and spacing do not count. A message's fuzzy fingerprint
// combines its role class — model (assistant, function_call), tool result
// (tool, function_call_output, a user message carrying tool results),
// system (system, developer), user, or the role itself — with its CallID
// and its canonical text, except a tool call or tool result with a CallID,
// which is its class and CallID alone: whatever a client made of the text
// beside a call or of a result, it still is that call. The system prompt's
// fuzzy fingerprint is that of the first 64 code points of the normal form
// (NFKC, invisible characters removed, white space collapsed) of its first
// 100 code points, so that agents are told apart by the same window as in
// the exact signature.
//
// What is recorded. Each request leaves, in its session: the ring, the
// fuzzy fingerprints of the request's last 16 messages (its latest
// state); and, in the tail index, two keys of that state — its tail key
// (system fingerprint and its last two messages) and its last key (system
// fingerprint and its last message) — each naming the one session at that
// tail, or marked ambiguous when another live session sits there too
// (identical starts, a shared few-shot template; see tails.go). Table.Reply
// records the reply's anchor — system fingerprint and the reply message's
// fingerprint — as the session's latest reply, with the state it answers,
// and lists the session under it in the reply index.
//
// Agreement. A request's previous state (its messages before the last
// model message, as in the exact algorithm) agrees with a session when,
// aligning the previous state's last fingerprints (up to 16) with the
// session's ring at their ends, the longest common suffix is non-empty and
// longer than half of the shorter of the two. Trimmed histories (the
// oldest messages gone), a sliding window, re-rendered texts and rewritten
// tool results keep the whole window in agreement; conversations that
// merely share stock phrases ("continue", "Done.") do not, in order. The
// previous state is evidence when it holds more than system messages. A
// model message is distinctive when it is a tool call or its canonical
// text has at least 32 letters and digits; a client message, when it is a
// tool result with a CallID or its text is that long.
//
// F0, tie-break. When several sessions sit at the previous state (identical
// starts run concurrently), the original takes the oldest. If one of them
// has as its latest reply the anchor of this request's last model message,
// that one is taken instead: it is the session that received that reply.
// Failing that, the oldest whose reply to this state was not recorded is
// preferred to sessions known to have received another. Only the choice
// among equals changes; Result.TieBreak and Stats.TieBreaks report when
// the choice differs from the original's.
//
// F1, reply anchor. When the exact algorithm finds no session, the anchor
// of the request's last model message is looked up in the reply index.
// Among the sessions whose latest reply it is, the one that agrees with the
// previous state best (longest common suffix; the oldest on a tie) wins.
// Else the anchor must designate one session alone: without evidence, one
// session has it as its latest reply; against evidence that does not
// agree — a summary in place of the history, a window that moved past
// everything the session saw — the reply is moreover distinctive and no
// other live session ever received it (Stats.MatchedBy.ReplyAlone). This
// keeps a conversation together however its client trimmed, summarised,
// re-rendered or rewrote the history before that message — even when only
// the reply itself is left.
//
// F2, canonical tail. Else, when the previous state is evidence, its tail
// key names the one session at that tail; it wins if it agrees with the
// previous state. Failing that, when the previous state's last message is
// distinctive and not a system message, its last key names the one
// session whose latest state ends with that message
// (Stats.MatchedBy.TailAlone). This covers the same client behaviours when
// no reply was recorded (a streamed answer the edge could not parse, a
// proxy restart).
//
// A fuzzy match continues the session (not new, not fragmented), counts in
// Stats.FuzzyMatches and Stats.MatchedBy, and sets Result.FirstNew to the
// index of the request's last model message, since a trimmed history no
// longer lines up with the processed index; the index then restarts from
// the request. The system prompt must agree in normal form: agents never
// merge.
//
// Accuracy. accuracy_test.go generates interleaved traffic of eight agents
// in three request formats — plain chats, long tool loops, groups of
// identical concurrent starts, trimming clients, re-encoding clients, tool
// result rewriting, previous_response_id chains, repetitive "continue"
// loops — and scores session assignment against the ground truth
// (pairwise precision and recall, fragmentation); behaviour_test.go adds
// sliding windows, summaries, re-rendering clients (quotes, white space,
// Markdown, stored answers, re-serialised tool JSON), shared few-shot
// templates and all of them at once, over several seeds. TestAccuracy and
// TestBehaviours hold the figures to floors; docs/sessions.md has the
// table.
//
// # Several instances
//
// A Table knows the requests its own process resolved. Behind a load
// balancer that does not route a conversation to one instance, each turn
// would start a session wherever it lands. With Config.Peers set, a
// request that carries history (a model message, or a
// previous_response_id) and that no local session continues is described
// to the peers by a Probe — its fingerprints, never its texts — before a
// session is created; a peer's Table.Answer runs the same rules on it,
// never creating a session, advances the session it finds (so the next
// turn finds it there too) and returns its id and processed index, which
// the asking Table installs as its own (MatchPeer). An external session id
// this instance has not seen, on a request with history, is looked up the
// same way, for the processed index. A peer answers only
// strong matches, and with peers the asking Table also treats its own
// weak ones as doubtful and asks first: an exact match on a session that
// moved on, or (fuzzy) that is not known to have received the reply the
// request carries; a fuzzy tail match against a contradicting recorded
// reply; a fuzzy match whose history agrees only in part. Identical
// starts spread over the instances look alike locally but for their
// replies. When no peer knows better, the local choice stands, as on one
// instance; when no peer answers, a session is created. Without peers
// (nil), Resolve never leaves the process and does no extra work.
// session/peer carries probes over HTTP; docs/sessions.md has the design
// and the measurements.
//
// # Cost
//
// Resolve hashes at most 100 code points per message (plain ASCII is
// sliced and checked a word at a time, never copied; escaped text is
// decoded in runs), reads one index list, locks one session, and writes
// one index list (plus two tail entries with fuzzy matching); fuzzy
// fingerprints are computed only for the new messages of a request (for
// the last 16 after a fuzzy match, or to look for one). The request path
// allocates nothing (allocation_test.go), except when a continuation
// reaches a state that other sessions already share, where freecache
// copies the shared list once; freecache also grows its own tables now and
// then as the index fills. resolve_timing_test.go measures a 20-message
// continuation at about 1.3-2 µs of CPU (plain text, exact or fuzzy) and
// 2.3-3 µs (escaped text), and a fuzzy rescue of a re-rendered 20-message
// history at about 5 µs, on a shared 2-core VM; docs/sessions.md has the
// figures.
package session
