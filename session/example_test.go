package session_test

import (
	"fmt"

	"github.com/cylestio/perimeter/session"
)

// A provider adapter fills a (pooled) Conversation with slices of the
// request body, resolves it, builds events from the new messages, and
// tells the table about the reply once the upstream has answered.
func Example() {
	table := session.New(session.DefaultConfig())
	var conv session.Conversation

	// Request 1: {"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}
	conv.Reset()
	conv.System, conv.HasSystem = []byte("Be brief."), true
	m := conv.Add()
	m.Role, m.Content = []byte("system"), []byte("Be brief.")
	m = conv.Add()
	m.Role, m.Content = []byte("user"), []byte("Hi")
	r1 := table.Resolve(&conv)
	fmt.Println("new:", r1.New, "events from message", r1.FirstNew)
	fmt.Println("agent:", string(table.AgentID(nil, &conv)))
	table.Reply(&r1, &session.Message{Role: []byte("assistant"), Content: []byte("Hello!")}, nil)

	// Request 2 carries the reply and a new question (escaped, as in the body).
	m = conv.Add()
	m.Role, m.Content = []byte("assistant"), []byte("Hello!")
	m = conv.Add()
	m.Role, m.Content, m.Escaped = []byte("user"), []byte(`Say \"bye\"`), true
	r2 := table.Resolve(&conv)
	fmt.Println("same session:", string(r2.ID()) == string(r1.ID()), "new:", r2.New, "events from message", r2.FirstNew)

	// Output:
	// new: true events from message 0
	// agent: prompt-6a06167ecf87
	// same session: true new: false events from message 2
}
