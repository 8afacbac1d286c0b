package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cylestio/perimeter/sink"
)

// Sessions writes n sessions to st, in batches of 5,000 events, and fails
// tb on a write error. Session i is "s%05d" of agent "agent-<i mod 7>" in
// workflow workflows[i mod len(workflows)] and starts at first plus i
// seconds; fill adds its events through add, each a millisecond after the
// one before, and may set fields of the event add returns.
func Sessions(tb testing.TB, ctx context.Context, st interface {
	WriteBatch(context.Context, []*sink.Event) error
}, n int, first time.Time, workflows []string, fill func(i int, wf string, add func(name, attrs string) *sink.Event)) {
	tb.Helper()
	var batch []*sink.Event
	flush := func() {
		if err := st.WriteBatch(ctx, batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		sid, agent := fmt.Sprintf("s%05d", i), fmt.Sprintf("agent-%d", i%7)
		at := first.Add(time.Duration(i) * time.Second)
		fill(i, workflows[i%len(workflows)], func(name, attrs string) *sink.Event {
			at = at.Add(time.Millisecond)
			e := &sink.Event{ID: sink.NewID(), Time: at, Name: name, Level: sink.LevelInfo, SessionID: sid, AgentID: agent,
				Attributes: json.RawMessage(attrs)}
			batch = append(batch, e)
			return e
		})
		if len(batch) >= 5000 {
			flush()
		}
	}
	flush()
}
