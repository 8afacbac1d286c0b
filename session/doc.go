// Package session tells which conversation an LLM request belongs to,
// without help from the client: it owns the fingerprints, the bounded
// session table, the session detection algorithm of the original gateway
// and the fuzzy rules that go beyond it, external ids and agent ids, and
// the session metrics.
//
// It never sees HTTP or request bodies. A provider adapter pulls the
// conversation out of a request body and hands it over as a Conversation
// whose byte slices point into the body (JSON string bodies may stay
// escaped, see Message.Escaped), so resolving a request needs no decoding.
//
//	r := table.Resolve(&conv)          // session id, is it new, which messages are new
//	agent := table.AgentID(buf, &conv) // "prompt-…" or the header
//	... build events from conv.Messages[r.FirstNew:], forward, read the response ...
//	table.Reply(&r, &replyMsg, responseID)
//
// What callers may rely on:
//   - With Config.Fuzzy false, requests are grouped exactly as the original
//     algorithm groups them (up to 64-bit hash collisions): a signature of
//     the system prompt and every message's role and first 100 characters.
//     With Config.Fuzzy true, every request the original resolves is
//     resolved the same way, and the fuzzy rules only rescue requests that
//     carry history (a model message) the original would put into a new
//     session; agents (system prompts) never merge.
//   - A non-empty x-cylestio-session-id (or x-cylestio-conversation-id) is
//     the session id verbatim; x-cylestio-agent-id (or x-cylestio-prompt-id)
//     is the agent id, else "prompt-" and 12 hex digits of the system
//     prompt's md5. A previous_response_id recorded with Table.Reply
//     continues that response's session.
//   - Session ids are random UUID4 strings. Result.FirstNew names the first
//     message not yet turned into events.
//   - Memory is bounded: Config.MaxSessions slots and Config.MemoryMB for
//     the indexes; a session idle for Config.TTL is gone, and when the
//     slots are full the least recently used of a sampled few is reclaimed.
//   - With Config.Peers set, a request no local session continues is
//     described to the peers by a Probe — fingerprints, never texts —
//     before a session is created (session/peer carries probes over HTTP).
//     Without peers, Resolve never leaves the process.
//   - Table is safe for concurrent use; the request path allocates nothing
//     (allocation_test.go), and TestAccuracy and TestBehaviours hold the
//     assignment quality to floors.
//
// docs/sessions.md has the algorithms in detail (the original's, the fuzzy
// rules, storage, several instances), the accuracy figures and the cost.
package session
