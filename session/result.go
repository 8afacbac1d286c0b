package session

// Match says how Resolve found (or made) a request's session.
type Match uint8

const (
	// MatchDisabled: the Table is disabled; the Result is empty.
	MatchDisabled Match = iota
	// MatchCreated: no session matched; a new one was created (see
	// Result.Fragmented).
	MatchCreated
	// MatchExact: the original algorithm found the session.
	MatchExact
	// MatchReply: fuzzy rule F1, the request's last model message is a
	// reply recorded for the session.
	MatchReply
	// MatchTail: fuzzy rule F2, the request's history ends like the
	// session's last state, in normal form.
	MatchTail
	// MatchExternal: the session id came from the request header.
	MatchExternal
	// MatchResponse: previous_response_id named a response of the session.
	MatchResponse
	// MatchPeer: another instance knew the session (Config.Peers).
	MatchPeer
)

var matchNames = [...]string{"disabled", "created", "exact", "fuzzy-reply", "fuzzy-tail", "external", "response", "peer"}

func (m Match) String() string {
	if int(m) < len(matchNames) {
		return matchNames[m]
	}
	return "unknown"
}

// Fuzzy reports a match made by a rule the original does not have.
func (m Match) Fuzzy() bool { return m == MatchReply || m == MatchTail }

// inlineID is the longest session id a Result or slot stores inline; longer
// external ids live in an immutable heap copy.
const inlineID = 64

// Result is the outcome of Table.Resolve for one request.
type Result struct {
	// New says the request starts a session: emit session.start. True for
	// fragmented sessions too, like the original's is_session_start.
	New bool

	// Fragmented says the session was created although the request looked
	// like a continuation (the original's is_fragmented): the history it
	// carries belonged to a session that could not be found.
	Fragmented bool

	// TieBreak says the exact algorithm had several equally good sessions
	// and the recorded replies (fuzzy rule F0) chose among them.
	TieBreak bool

	// Match says how the session was found.
	Match Match

	// Processed is the session's last processed index before this request
	// (the original's last_processed_index): how many messages of its
	// conversation had already been turned into events. 0 for a new
	// session.
	Processed int

	// FirstNew is the index of the first message of this request that is
	// new to the session, i.e. that events should be built from:
	// Messages[FirstNew:]. It is min(Processed, len(Messages)) for exact
	// and external matches (the original's slice
	// all_messages[last_processed_index:]), the index of the last model
	// message for fuzzy matches (whose history may have been trimmed, so
	// that the processed index no longer lines up), and 0 for new sessions
	// and previous_response_id continuations (the whole input is new).
	// Resolve itself advances the session's processed index to
	// len(Messages), as the original's middleware does once the events are
	// built.
	FirstNew int

	h     handle
	idLen uint8
	id    [inlineID]byte
	long  []byte
}

// ID returns the session id: a UUID4 string for detected sessions, the
// header value verbatim for external ones. The slice aliases r (or an
// immutable copy) and is valid as long as r is; it is empty when Match is
// MatchDisabled.
func (r *Result) ID() []byte {
	if r.long != nil {
		return r.long
	}
	return r.id[:r.idLen]
}

// setID copies id into r.
func (r *Result) setID(id []byte, long []byte) {
	if long != nil {
		r.long = long
		r.idLen = 0
		return
	}
	r.long = nil
	r.idLen = uint8(copy(r.id[:], id))
}
