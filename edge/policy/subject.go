package policy

import "github.com/cylestio/perimeter/session"

// Subject is who a call is made for: what policies and limits match on.
// Its slices alias the request and are read only while it lives.
type Subject struct {
	// Agent is x-cylestio-agent-id, else the prompt agent id of the
	// system prompt ("prompt-…", session.PromptAgentID).
	Agent []byte
	// Workflow is the id of the /agent-workflow/{id}/ route.
	Workflow []byte
	// Session is x-cylestio-session-id, else a key of the conversation's
	// start (see the package documentation).
	Session []byte
	Tags    []session.Tag
}
